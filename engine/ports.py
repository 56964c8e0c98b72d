"""The interfaces the steps use. Adapters implement them; steps never import boto3."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Protocol, Sequence

from engine.failover import PeerView, RegionState
from engine.ledger import Change, Takeover, Transaction


class Unavailable(Exception):
    """An infrastructure dependency did not answer; the step must not forward anything and will be retried."""


class Ledger(Protocol):
    def open(self, record: Transaction) -> bool:
        """Create the record unless its id exists; False when it does."""

    def get(self, transaction_id: str) -> Transaction | None: ...

    def transition(self, transaction_id: str, change: Change) -> Transaction:
        """Apply the change in one conditional write; raises StaleTransition when the expected state is gone."""

    def take_over(self, transaction_id: str, takeover: Takeover) -> Transaction:
        """Move an in-flight transaction to another region in one conditional write; raises StaleTransition."""

    def in_flight(self, region: str, deadline_before: datetime, limit: int) -> Sequence[Transaction]:
        """Non-terminal transactions of a region whose deadline is before the given time, oldest first."""

    def claim(self, key: str, transaction_id: str, expires_at: int) -> str:
        """Claim a unique business key (a UETR, a sender's MsgId) for a transaction; returns the holder's id."""

    def check(self) -> None:
        """Raise Unavailable when the ledger cannot be reached."""


class Archive(Protocol):
    def put(self, key: str, body: bytes) -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def check(self) -> None: ...


class Queues(Protocol):
    def send(self, step: str, body: str, *, group: str, deduplication: str) -> None:
        """Send to the FIFO queue that feeds a step (inbox, process, release)."""

    def check(self) -> None: ...


class Notifier(Protocol):
    def publish(self, transaction_id: str, owner: str, status: str) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware UTC."""


class Ids(Protocol):
    def transaction_id(self) -> str:
        """A new lowercase UUIDv4."""


class PeerHealth(Protocol):
    def probe(self, region: str) -> bool:
        """One health probe of a region's API, bounded by the probe timeout; a timeout, an error or a 5xx is False."""


class Routing(Protocol):
    """Where new transactions go, and each region's failure detector; readable by every region."""

    def region_states(self) -> dict[str, RegionState]: ...

    def declare(self, state: RegionState) -> None: ...

    def peer_view(self, observer: str, peer: str) -> PeerView: ...

    def save_peer_view(self, view: PeerView) -> None: ...


# -- replication ---------------------------------------------------------------------------------------------------
# On AWS the ledger's global table and the archive's cross-region replication copy every write to the other region
# themselves. Where the service does not (the simulator's two-region worlds on the memory adapters and on moto), rp2's
# own replication process does it through these capabilities: adapters built with a ``stamp`` source record each
# write's stamp with the item, and ``put_replica`` writes a copy from the other region in one conditional write unless
# the stored item carries a later stamp (last writer wins).

Stamp = tuple[float, str]
"""A write's replication stamp: the writer's clock (epoch seconds) and the writer's region; compared as a tuple."""

StampSource = Callable[[], Stamp]


@dataclass(frozen=True)
class ReplicaWrite:
    """What applying a replicated item found, and whether the copy replaced it."""

    written: bool
    previous: Any = None  # what was stored before: a Transaction (ledger items), a holder's id (claims), None
    previous_stamp: Stamp | None = None  # its stamp (None: nothing stored, or stored without a stamp)


class LedgerReplica(Protocol):
    def put_replica(self, record: Transaction, stamp: Stamp) -> ReplicaWrite:
        """Store a transaction copied whole from another region unless the stored one has a later stamp."""

    def put_replica_claim(self, key: str, holder: str, expires_at: int, stamp: Stamp) -> ReplicaWrite:
        """Store a claim copied from another region unless the stored one has a later stamp."""


class RoutingReplica(Protocol):
    def put_replica_state(self, state: RegionState, stamp: Stamp) -> bool:
        """Store a region's routing state copied from another region unless the stored one has a later stamp."""

    def put_replica_view(self, view: PeerView, stamp: Stamp) -> bool: ...


class ArchiveReplica(Protocol):
    def put_replica(self, key: str, body: bytes, stamp: Stamp) -> bool:
        """Store an object copied from another region's bucket unless the stored one has a later stamp."""
