"""Scheduled handlers (EventBridge Scheduler)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.lambdas.environment import deployed_ports, logger
from engine.steps.timeout import expire_overdue
from engine.wiring import Ports


class TimeoutJob:
    def __init__(self, ports: Callable[[], Ports]) -> None:
        self._ports = ports

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        expired = expire_overdue(self._ports())
        logger.info("timeout run", expired=len(expired))
        return {"expired": expired}


timeout_handler = TimeoutJob(deployed_ports)
