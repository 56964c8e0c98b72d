from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from engine.local_runtime import LocalRuntime
from engine.settings import Settings
from engine.wiring import RandomIds, memory_ports

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"


class SteppingClock:
    """A clock the test moves by hand; every reading is timezone-aware UTC."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    """A moto server on a free port of 127.0.0.1, for clients that reach AWS by endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock(datetime(2026, 12, 3, 9, 30, 0, tzinfo=timezone.utc))


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(params=["memory", "moto"])
def runtime(request: pytest.FixtureRequest, clock: SteppingClock, aws_credentials: None) -> LocalRuntime:
    settings = Settings()
    if request.param == "memory":
        ports = memory_ports(settings, clock=clock, ids=RandomIds())
        yield LocalRuntime(ports, ports.queues)
        return
    import boto3
    from moto import mock_aws

    from engine.adapters.aws import aws_ports
    from engine.adapters.aws.provision import provision

    with mock_aws():
        provision(settings, boto3.Session(region_name=settings.region))
        ports = aws_ports(settings, clock=clock)
        yield LocalRuntime(ports, ports.queues)


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()
