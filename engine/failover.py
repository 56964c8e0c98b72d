"""Failure detection with hysteresis: one region's view of its peer, updated by each probe of the recover job."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime


@dataclass(frozen=True)
class PeerView:
    observer: str
    peer: str
    consecutive_failures: int = 0
    consecutive_successes: int = 0
    down: bool = False
    changed_at: datetime | None = None

    def after_probe(self, healthy: bool, at: datetime, *, down_after: int, up_after: int) -> "PeerView":
        """Down after ``down_after`` consecutive failed probes; up again only after ``up_after`` good ones."""
        if healthy:
            view = replace(self, consecutive_failures=0, consecutive_successes=self.consecutive_successes + 1)
            if view.down and view.consecutive_successes >= up_after:
                view = replace(view, down=False, changed_at=at)
            return view
        view = replace(self, consecutive_failures=self.consecutive_failures + 1, consecutive_successes=0)
        if not view.down and view.consecutive_failures >= down_after:
            view = replace(view, down=True, changed_at=at)
        return view


@dataclass(frozen=True)
class RegionState:
    region: str
    up: bool
    changed_at: datetime | None = None
    declared_by: str | None = None
