"""The state under the sim adapters: memory (the engine's in-process adapters) or moto (the AWS adapters over
moto in-process, with faults injected at botocore's before-call hook).

On both backends the Queues port is the simulator's FIFO queues (sim/sqs.py): moto's SQS timers follow the wall
clock. The ledger, the archive and the notifier are the backend's; peer health is scripted (no HTTP probes).

Two-region worlds (sim/multiregion.py) ask each region's stores with ``stamp`` (a callable: the replication stamp of a
write made now) and ``shared_ledger``:
- eventual mode (``shared_ledger`` None): each region's own ledger table (routing items included) and bucket, every
  write stamped; the hub copies them to the other region through the adapters' ``put_replica*``. On moto: one table
  and one bucket per region (moto keeps one backend per region), as a global table's replicas.
- strong mode (``shared_ledger`` names a region): the ledger and routing of both regions are one store, unstamped
  (memory: one instance; moto: that region's table, reached through each region's own session, so that each
  region's faults stay its own); the hub puts the quorum check in front. The archive is still per region, stamped.
"""

from __future__ import annotations

import os
from collections import deque
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
    keeps_state = True  # its stores can be read after the run's ``with`` block

    def __init__(self) -> None:
        self._shared: dict[str, tuple[Any, Any]] = {}  # region -> the ledger and routing both regions use

    def __enter__(self) -> "MemoryBackend":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def region_ports(self, settings, io, clock, ids, *, stamp=None, shared_ledger: str | None = None) -> Any:
        from engine.adapters.memory import MemoryArchive, MemoryLedger, MemoryNotifier, MemoryRouting, ScriptedPeerHealth
        from engine.wiring import memory_ports

        if shared_ledger is not None:
            if shared_ledger not in self._shared:
                self._shared[shared_ledger] = (MemoryLedger(compact=True), MemoryRouting())
            ledger, routing = self._shared[shared_ledger]
        else:
            # compact storage: a simulated hour at 100 TPS is 360,000 transactions
            ledger, routing = MemoryLedger(compact=True, stamp=stamp), MemoryRouting(stamp=stamp)
        return replace(memory_ports(settings, clock=clock, ids=ids), ledger=ledger, routing=routing,
                       archive=MemoryArchive(compress=True, stamp=stamp), peer_health=ScriptedPeerHealth(),
                       notifier=MemoryNotifier(deque(maxlen=1000)))  # the run counts its Publish requests itself


class MotoBackend:
    name = "moto"
    botocore_faults = True
    keeps_state = False  # moto's mock, and every table and bucket in it, is gone after the ``with`` block

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

    def region_ports(self, settings, io, clock, ids, *, stamp=None, shared_ledger: str | None = None) -> Any:
        import boto3
        import botocore.session

        from engine.adapters.aws import aws_ports
        from engine.adapters.aws.archive import S3Archive
        from engine.adapters.aws.clients import aws_client
        from engine.adapters.aws.ledger import DynamoLedger
        from engine.adapters.aws.provision import provision
        from engine.adapters.aws.routing import DynamoRouting
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
        ports = replace(aws_ports(settings, session, clock=clock, ids=ids), peer_health=ScriptedPeerHealth())
        if stamp is None and shared_ledger is None:
            return ports
        table = settings.ledger_table
        if shared_ledger is not None:
            home = settings
            if shared_ledger != settings.region:
                home = replace(settings, region=shared_ledger, peer_region=settings.region)
                provision(home, session)  # idempotent: the first region made it already
            dynamodb = aws_client(session, "dynamodb", home)  # this region's session: its faults, the one table
            ledger, routing = DynamoLedger(dynamodb, table), DynamoRouting(dynamodb, table)
        else:
            dynamodb = aws_client(session, "dynamodb", settings)
            ledger, routing = DynamoLedger(dynamodb, table, stamp=stamp), DynamoRouting(dynamodb, table, stamp=stamp)
        archive = S3Archive(aws_client(session, "s3", settings), settings.archive_bucket, stamp=stamp)
        return replace(ports, ledger=ledger, routing=routing, archive=archive)


def make_backend(name: str):
    if name == "memory":
        return MemoryBackend()
    if name == "moto":
        return MotoBackend()
    raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {name!r}")
