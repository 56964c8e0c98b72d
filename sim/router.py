"""The global endpoint: which region a client should call.

With one region it answers that region. With two, clients are spread over both (active-active: a client's home
region is fixed by its name), and a region that the routing state (the Routing port, replicated like the ledger and
driven by the recover jobs' declarations) says is down gets no new transactions while the other is up.
"""

from __future__ import annotations

import zlib
from typing import Callable


class Router:
    def __init__(self, regions: tuple[str, ...], states: Callable[[], dict[str, bool]] | None = None) -> None:
        if not regions:
            raise ValueError("a router needs at least one region")
        self.regions = tuple(regions)
        self.healthy = {region: True for region in self.regions}
        self._states = states

    def home(self, client: str) -> str:
        return self.regions[zlib.crc32(client.encode("utf-8")) % len(self.regions)]

    def region_for(self, client: str) -> str:
        """The client's home region if it is up, else the first region up; the home region when none is."""
        home = self.home(client)
        up = dict(self.healthy)
        if self._states is not None:
            for region, state in self._states().items():
                up[region] = up.get(region, True) and state
        for region in (home, *self.regions):
            if up[region]:
                return region
        return home

    def mark(self, region: str, healthy: bool) -> None:
        if region not in self.healthy:
            raise KeyError(f"{region} is not routed by this endpoint")
        self.healthy[region] = healthy
