"""GET /: probe the ledger, the archive and the queues. It says nothing about any transaction."""

from __future__ import annotations

from engine.ports import Unavailable
from engine.wiring import Ports


def probe(ports: Ports) -> dict[str, str]:
    results = {}
    for name, component in (("ledger", ports.ledger), ("archive", ports.archive), ("queues", ports.queues)):
        try:
            component.check()
        except Unavailable as error:
            results[name] = f"unavailable: {error}"
        else:
            results[name] = "ok"
    return results


def is_healthy(results: dict[str, str]) -> bool:
    return all(value == "ok" for value in results.values())
