"""pyproject.toml: metadata the pinned build backend reads without a deprecation warning."""

from __future__ import annotations

import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def test_the_license_is_an_spdx_expression_and_setuptools_is_pinned_to_a_version_that_reads_it():
    document = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))

    assert document["project"]["license"] == "MIT"
    assert document["build-system"]["requires"] == ["setuptools>=77"]
