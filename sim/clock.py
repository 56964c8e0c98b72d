"""The engine's clock in the simulator: SimPy's virtual time, plus the latency spent so far in the current call."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Callable

import simpy


class VirtualClock:
    """now() = epoch + env.now seconds + skew (+ the latency the running invocation has accumulated so far).

    ``offset`` is a callable returning extra seconds; the world passes one that reads the running invocation's
    accumulated latency and any active clock-skew fault of the region.
    """

    def __init__(self, env: simpy.Environment, epoch: datetime, skew: float = 0.0, offset: Callable[[], float] | None = None) -> None:
        if epoch.tzinfo is None:
            raise ValueError(f"naive epoch {epoch!r}: the simulator's clock is timezone-aware UTC")
        self.env = env
        self.epoch = epoch.astimezone(timezone.utc)
        self.skew = skew
        self._offset = offset

    def seconds(self) -> float:
        extra = self._offset() if self._offset is not None else 0.0
        return self.env.now + self.skew + extra

    def now(self) -> datetime:
        return self.epoch + timedelta(seconds=self.seconds())

    def at(self, virtual_seconds: float) -> datetime:
        return self.epoch + timedelta(seconds=virtual_seconds)

    def virtual_seconds(self, moment: datetime) -> float:
        """Seconds since the epoch for a datetime read from this clock (history timestamps)."""
        return (moment - self.epoch).total_seconds()


class SeededIds:
    """Transaction ids (lowercase UUIDv4) from a seeded stream; tells the world which id an invocation drew."""

    def __init__(self, stream, on_new: Callable[[str], None] | None = None) -> None:
        from sim.rng import uuid4_from

        self._draw = lambda: uuid4_from(stream)
        self._on_new = on_new

    def transaction_id(self) -> str:
        transaction_id = self._draw()
        if self._on_new is not None:
            self._on_new(transaction_id)
        return transaction_id
