"""Seeded randomness: one run seed, split into named, independent child streams.

A child stream is seeded from ``(seed, name)`` only, so drawing more (or fewer) numbers from one stream never
shifts another: adding a fault does not change the arrival times or the messages of the load.
"""

from __future__ import annotations

import random
import uuid


class Streams:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._streams: dict[str, random.Random] = {}

    def __call__(self, name: str) -> random.Random:
        stream = self._streams.get(name)
        if stream is None:
            # str seeds are hashed with SHA-512 by random.seed (version 2): stable across runs and hosts,
            # independent of PYTHONHASHSEED
            stream = self._streams[name] = random.Random(f"rp2-sim/{self.seed}/{name}")
        return stream


def uuid4_from(stream: random.Random) -> str:
    """A lowercase UUIDv4 string drawn from a seeded stream."""
    return str(uuid.UUID(int=stream.getrandbits(128), version=4))
