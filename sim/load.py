"""Poisson arrivals with a piecewise-constant rate: a base rate, rate steps, and bursts added on top."""

from __future__ import annotations

import random
from typing import Iterator

from sim.scenario import LoadSpec


def rate_segments(load: LoadSpec, duration_s: float) -> list[tuple[float, float, float]]:
    """(start, end, rate) segments covering [0, duration_s)."""
    cuts = {0.0, duration_s}
    cuts.update(step.at_s for step in load.steps if step.at_s < duration_s)
    for burst in load.bursts:
        cuts.update(t for t in (burst.start_s, burst.start_s + burst.duration_s) if t < duration_s)
    points = sorted(cuts)
    segments = []
    for start, end in zip(points, points[1:]):
        rate = load.rate_tps
        for step in load.steps:
            if step.at_s <= start:
                rate = step.rate_tps
        for burst in load.bursts:
            if burst.start_s <= start < burst.start_s + burst.duration_s:
                rate += burst.rate_tps
        segments.append((start, end, rate))
    return segments


def arrival_times(load: LoadSpec, duration_s: float, stream: random.Random) -> Iterator[float]:
    """Arrival instants of a Poisson process with this rate; at a rate change the process restarts at the
    boundary, which is exact for a Poisson process (it has no memory)."""
    for start, end, rate in rate_segments(load, duration_s):
        if rate <= 0:
            continue
        t = start
        while True:
            t += stream.expovariate(rate)
            if t >= end:
                break
            yield t


def expected_arrivals(load: LoadSpec, duration_s: float) -> float:
    return sum((end - start) * rate for start, end, rate in rate_segments(load, duration_s))
