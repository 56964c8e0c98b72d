"""Latency distributions: lognormal, parameterised by the median and the 99th percentile a team measures."""

from __future__ import annotations

import math
import random

Z99 = 2.3263478740408408  # the standard normal's 99th percentile


def lognormal_params(p50_ms: float, p99_ms: float) -> tuple[float, float]:
    """(mu, sigma) of ln(seconds) for a lognormal with these quantiles."""
    if p50_ms <= 0 or p99_ms < p50_ms:
        raise ValueError(f"need 0 < p50 <= p99, got p50={p50_ms} ms, p99={p99_ms} ms")
    return math.log(p50_ms / 1000.0), math.log(p99_ms / p50_ms) / Z99


def lognormal_seconds(stream: random.Random, p50_ms: float, p99_ms: float) -> float:
    mu, sigma = lognormal_params(p50_ms, p99_ms)
    return math.exp(mu + sigma * stream.gauss(0.0, 1.0))


class Latency:
    """One service's latency in one region, drawn from its own stream."""

    __slots__ = ("_mu", "_sigma", "_gauss")

    def __init__(self, stream: random.Random, p50_ms: float, p99_ms: float) -> None:
        self._mu, self._sigma = lognormal_params(p50_ms, p99_ms)
        self._gauss = stream.gauss

    def __call__(self) -> float:
        return math.exp(self._mu + self._sigma * self._gauss(0.0, 1.0))
