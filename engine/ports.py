"""The interfaces the steps use. Adapters implement them; steps never import boto3."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, Sequence

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
