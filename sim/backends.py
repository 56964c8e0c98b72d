"""The state under the sim adapters: memory (the engine's in-process adapters) or moto (the AWS adapters over
moto in-process, with faults injected at botocore's before-call hook).

On both backends the Queues port is the simulator's FIFO queues (sim/sqs.py): moto's SQS timers follow the wall
clock. The ledger, the archive and the notifier are the backend's; peer health is scripted (no HTTP probes).
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import replace
from typing import Any

BACKENDS = ("memory", "moto")

_FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_CONFIG_FILE": "/nonexistent/rp2-sim-aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/rp2-sim-aws-credentials",
}


class MemoryBackend:
    name = "memory"
    botocore_faults = False

    def __enter__(self) -> "MemoryBackend":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def region_ports(self, settings, io, clock, ids) -> Any:
        from engine.adapters.memory import MemoryArchive, MemoryLedger, ScriptedPeerHealth
        from engine.wiring import memory_ports

        # compact storage: a simulated hour at 100 TPS is 360,000 transactions
        return replace(memory_ports(settings, clock=clock, ids=ids), ledger=MemoryLedger(compact=True),
                       archive=MemoryArchive(compress=True), peer_health=ScriptedPeerHealth())


class MotoBackend:
    name = "moto"
    botocore_faults = True

    def __init__(self) -> None:
        self._stack = ExitStack()

    def __enter__(self) -> "MotoBackend":
        from unittest import mock

        from moto import mock_aws

        self._stack.enter_context(mock.patch.dict(os.environ, _FAKE_AWS))
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
            os.environ.pop(name, None)  # restored with the rest of the environment on exit
        self._stack.enter_context(mock_aws())
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stack.close()

    def region_ports(self, settings, io, clock, ids) -> Any:
        import boto3
        import botocore.session

        from engine.adapters.aws import aws_ports
        from engine.adapters.aws.provision import provision
        from engine.adapters.memory import ScriptedPeerHealth
        from sim import botocore_faults

        session = boto3.Session(botocore_session=botocore.session.Session(), region_name=settings.region)

        def decide(service: str, operation: str) -> str | None:
            armed = io.armed
            if armed is None:
                return None
            io.armed = None
            return armed[0]

        botocore_faults.install(session, decide)
        provision(settings, session)
        return replace(aws_ports(settings, session, clock=clock, ids=ids), peer_health=ScriptedPeerHealth())


def make_backend(name: str):
    if name == "memory":
        return MemoryBackend()
    if name == "moto":
        return MotoBackend()
    raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {name!r}")
