"""Small scenarios for the simulator's tests, built in code."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from sim.scenario import Scenario, parse_scenario


def scenario(raw: dict[str, Any] | None = None, **top: Any) -> Scenario:
    """A scenario from a dict like a parsed TOML file; ``top`` overrides top-level keys."""
    data = copy.deepcopy(raw or {})
    data.update(top)
    data.setdefault("duration_s", 10)
    data.setdefault("load", {"rate_tps": 10})
    return parse_scenario(data, source="<test>", default_name="test")


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No real AWS: fake credentials and no profile, for the moto backend."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
