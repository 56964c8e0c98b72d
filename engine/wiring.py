"""The set of ports a step runs with, and the system clock and id source used outside the simulator."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from engine.ports import Archive, Clock, Ids, Ledger, Notifier, PeerHealth, Queues, Routing
from engine.settings import Settings


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class RandomIds:
    def transaction_id(self) -> str:
        return str(uuid.uuid4())


@dataclass(frozen=True)
class Ports:
    settings: Settings
    ledger: Ledger
    archive: Archive
    queues: Queues
    notifier: Notifier
    clock: Clock
    ids: Ids
    routing: Routing
    peer_health: PeerHealth


def memory_ports(settings: Settings, clock: Clock | None = None, ids: Ids | None = None) -> Ports:
    from engine.adapters.memory import (
        MemoryArchive,
        MemoryLedger,
        MemoryNotifier,
        MemoryQueues,
        MemoryRouting,
        ScriptedPeerHealth,
    )

    return Ports(
        settings=settings,
        ledger=MemoryLedger(),
        archive=MemoryArchive(),
        queues=MemoryQueues(),
        notifier=MemoryNotifier(),
        clock=clock or SystemClock(),
        ids=ids or RandomIds(),
        routing=MemoryRouting(),
        peer_health=ScriptedPeerHealth(),
    )
