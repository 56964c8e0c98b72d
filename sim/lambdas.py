"""Lambda in virtual time: execution environments with a concurrency limit, cold and warm starts, the function
timeout, SQS event source mappings (batches, partial batch failures) and the timeout job's schedule."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable

import simpy

from engine.ports import Unavailable
from engine.steps.handoff import Handoff
from sim.adapters import Invocation, InvocationTimedOut, SimulatedCrash
from sim.sqs import Delivery, FifoQueue

ESM_ERROR_BACKOFF_S = 1.0
ASYNC_RETRY_DELAYS_S = (60.0, 120.0)  # Lambda retries a failed asynchronous invocation twice: after 1, then 2 minutes


@dataclass
class FunctionStats:
    invocations: int = 0
    cold_starts: int = 0
    throttles: int = 0
    errors: int = 0  # invocations that failed as a whole (error, crash, timeout, outage)
    crashes: int = 0
    timeouts: int = 0
    record_failures: int = 0
    billed_ms: int = 0


class FunctionPool:
    """One function in one region: its execution environments and its concurrency limit."""

    def __init__(self, env: simpy.Environment, region: str, name: str, limit: int, idle_eviction_s: float, faults) -> None:
        self.env = env
        self.region = region
        self.name = name
        self.limit = limit
        self.idle_eviction_s = idle_eviction_s
        self.faults = faults
        self.busy = 0
        self._idle: deque[float] = deque()  # last-used times of idle environments, oldest first
        self._slot_event: simpy.Event | None = None
        self.stats = FunctionStats()

    def limit_now(self) -> int:
        override, state = self.faults.concurrency_limit(self.region, self.name, self.env.now)
        return self.limit if override is None else min(self.limit, override)

    def has_slot(self) -> bool:
        return self.busy < self.limit_now()

    def acquire(self) -> bool:
        """Take a slot; True when the invocation starts a new (cold) execution environment."""
        self.busy += 1
        self.stats.invocations += 1
        now = self.env.now
        idle = self._idle
        while idle and now - idle[0] > self.idle_eviction_s:
            idle.popleft()
        if idle:
            idle.pop()
            return False
        self.stats.cold_starts += 1
        return True

    def release(self, reusable: bool) -> None:
        self.busy -= 1
        if reusable:
            self._idle.append(self.env.now)
        event = self._slot_event
        if event is not None and not event.triggered:
            event.succeed()

    def slot_freed(self) -> simpy.Event:
        if self._slot_event is None or self._slot_event.triggered:
            self._slot_event = self.env.event()
        return self._slot_event

    def throttled(self, state_touched=()) -> None:
        self.stats.throttles += 1
        _, state = self.faults.concurrency_limit(self.region, self.name, self.env.now)
        if state is not None:
            state.hit(self.env.now, state_touched)


class Runner:
    """Runs invocations of one region's functions: startup, faults, the handler body, billing."""

    def __init__(self, world: Any, region: Any) -> None:
        self.world = world
        self.region = region
        self.env = world.env
        self.faults = world.faults
        scenario = world.scenario
        self.function_timeout_s = scenario.engine.function_timeout_s
        self.cold = region.latency["lambda_cold_start"]
        self.warm = region.latency["lambda_warm"]
        self.compute = region.latency["compute"]

    def start(self, pool: FunctionPool, transaction_ids: tuple[str, ...], cold: bool | None = None) -> tuple[float, Invocation, Any]:
        """Prepare an invocation: (startup seconds, the invocation, the error fault that applies). Takes a slot of
        the pool unless the caller already did (``cold`` is then what its acquire answered)."""
        now = self.env.now
        region = self.region.name
        if cold is None:
            cold = pool.acquire()
        startup = self.cold() if cold else self.warm()
        if not self.faults.lambda_faults:
            invocation = Invocation(pool.name, self.function_timeout_s)
            invocation.transaction_ids = transaction_ids
            return startup, invocation, None
        delay, delay_fault = self.faults.invocation_delay(region, pool.name, now)
        if delay_fault is not None:
            delay_fault.hit(now, transaction_ids)
        crash_at, crash_fault = self.faults.crash_after(region, pool.name, now)
        invocation = Invocation(pool.name, self.function_timeout_s - delay, crash_at, crash_fault)
        invocation.transaction_ids = transaction_ids
        invocation.delayed = delay_fault is not None
        return startup + delay, invocation, self.faults.invocation_error(region, pool.name, now)

    def bill(self, pool: FunctionPool, seconds: float) -> None:
        pool.stats.billed_ms += max(1, math.ceil(seconds * 1000.0))

    # -- one invocation of a queue worker ------------------------------------------------------------------
    def worker_invocation(self, pool: FunctionPool, queue: FifoQueue, step: Callable, deliveries: list[Delivery], cold: bool, receive_s: float):
        """One invocation by the event source mapping, which took the slot (``cold``) when it received the batch."""
        env = self.env
        region = self.region
        tids = tuple(d.message.group for d in deliveries)
        startup, inv, error_fault = self.start(pool, tids, cold)
        startup += receive_s
        yield env.timeout(startup)
        outcome, failed = "ok", []
        outage = self.faults.region_down(region.name, env.now)
        if outage is not None:
            outage.hit(env.now, tids)
            outcome = "outage"
        elif error_fault is not None and error_fault.params["preventExecution"]:
            error_fault.hit(env.now, tids)
            outcome = "error"
        else:
            outcome, failed = self._run_records(inv, step, deliveries)
            if outcome == "ok" and error_fault is not None:
                error_fault.hit(env.now, tids)
                outcome = "error"
        if outcome == "ok" and inv.elapsed > inv.budget:
            outcome = "timeout"
        run_time = min(inv.elapsed, inv.budget)
        yield env.timeout(run_time)
        self.bill(pool, startup + run_time)
        stats = pool.stats
        if outcome == "ok":
            stats.record_failures += len(failed)
            failed_ids = {id(d) for d in failed}
            self.world.acknowledge(region, queue, [d for d in deliveries if id(d) not in failed_ids])
        else:
            stats.errors += 1
            stats.crashes += outcome == "crash"
            stats.timeouts += outcome == "timeout"
        pool.release(reusable=outcome not in ("crash", "timeout"))

    def _run_records(self, inv: Invocation, step: Callable, deliveries: list[Delivery]) -> tuple[str, list[Delivery]]:
        io = self.region.io
        ports = self.region.ports
        compute = self.compute
        failed: list[Delivery] = []
        failed_groups: set[str] = set()
        io.current = inv
        try:
            for delivery in deliveries:
                group = delivery.message.group
                if group in failed_groups:
                    failed.append(delivery)
                    continue
                inv.elapsed += compute()
                try:
                    step(ports, Handoff.from_json(delivery.message.body))
                except Exception as error:  # the handler reports the record as a batch item failure
                    failed.append(delivery)
                    failed_groups.add(group)
                    self.world.record_error(self.region.name, inv.function, group, error)
        except SimulatedCrash:
            return "crash", failed
        except InvocationTimedOut:
            return "timeout", failed
        finally:
            io.current = None
        return "ok", failed

    # -- one API request (API Gateway -> the API function) ---------------------------------------------
    def api_invocation(self, pool: FunctionPool, action: Callable[[Any], tuple[int, Any]], transaction_id: str | None, arrival: int):
        """Generator; returns (HTTP status, value). A request without a transaction id yet (GET /uuid) is
        attributed to its client's arrival (``#<index>``) in the faults' bookkeeping."""
        env = self.env
        region = self.region
        tids = (transaction_id,) if transaction_id else (f"#{arrival}",)
        gateway = region.latency["apigw"]()
        if not pool.has_slot():
            pool.throttled(tids)
            yield env.timeout(gateway)
            return 429, None
        startup, inv, error_fault = self.start(pool, tids)
        status, value, killed = 200, None, False
        if error_fault is not None and error_fault.params["preventExecution"]:
            error_fault.hit(env.now, tids)
            status = 502
        else:
            region.io.current = inv
            try:
                status, value = action(region.ports)
            except Unavailable as error:
                status = 502
                self.world.record_error(region.name, "api", transaction_id, error)
            except Exception as error:
                status = 502
                self.world.record_error(region.name, "api", transaction_id, error)
            except SimulatedCrash:
                status, killed = 502, True
            except InvocationTimedOut:
                status, killed = 504, True
            finally:
                region.io.current = None
            if status < 500 and error_fault is not None:
                error_fault.hit(env.now, tids)
                status = 502
            if inv.elapsed > inv.budget:
                status, killed = 504, True
        run_time = min(inv.elapsed, inv.budget)
        yield env.timeout(gateway + startup + run_time)
        self.bill(pool, startup + run_time)
        if status >= 500:
            pool.stats.errors += 1
            pool.stats.crashes += killed and status == 502
            pool.stats.timeouts += status == 504
        pool.release(reusable=not killed)
        return status, value

    # -- one run of a scheduled job ---------------------------------------------------------------------
    def job_invocation(self, pool: FunctionPool, job: Callable[[Any], Any]):
        """Generator; returns (outcome, value, whether a fault delayed its start)."""
        env = self.env
        region = self.region
        startup, inv, error_fault = self.start(pool, ())
        yield env.timeout(startup)
        value = None
        outage = self.faults.region_down(region.name, env.now)
        if outage is not None:
            outage.hit(env.now, ())
            outcome = "outage"
        elif error_fault is not None and error_fault.params["preventExecution"]:
            error_fault.hit(env.now, ())
            outcome = "error"
        else:
            region.io.current = inv
            outcome = "ok"
            try:
                value = job(region.ports)
            except Exception as error:
                outcome = "error"
                self.world.record_error(region.name, pool.name, None, error)
            except SimulatedCrash:
                outcome = "crash"
            except InvocationTimedOut:
                outcome = "timeout"
            finally:
                region.io.current = None
            if outcome == "ok" and error_fault is not None:
                error_fault.hit(env.now, ())
                outcome = "error"
            if outcome == "ok" and inv.elapsed > inv.budget:
                outcome = "timeout"
        run_time = min(inv.elapsed, inv.budget)
        yield env.timeout(run_time)
        self.bill(pool, startup + run_time)
        if outcome != "ok":
            pool.stats.errors += 1
            pool.stats.crashes += outcome == "crash"
            pool.stats.timeouts += outcome == "timeout"
        pool.release(reusable=outcome not in ("crash", "timeout"))
        return outcome, value, inv.delayed
