"""Scheduled handlers (EventBridge Scheduler)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.lambdas.environment import deployed_ports, logger
from engine.steps.recover import recover
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


class RecoverJob:
    def __init__(self, ports: Callable[[], Ports]) -> None:
        self._ports = ports

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        run = recover(self._ports())
        logger.info(
            "recover run", peer=run.peer, healthy=run.healthy, peer_down=run.peer_down, declared=run.declared,
            redriven=len(run.redriven), cancelled=len(run.cancelled), adopted=len(run.adopted),
        )
        return {"peer_down": run.peer_down, "redriven": run.redriven, "cancelled": run.cancelled, "adopted": run.adopted}


recover_handler = RecoverJob(deployed_ports)
