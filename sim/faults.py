"""Faults as data: the catalogue of actions, their parameters, and the run-time layer that applies them.

Names follow AWS Fault Injection Service actions where one exists, so a scenario reads like the game-day a team
later runs on real AWS; ``rp2:*`` actions have no FIS equivalent. Each fault records when it fired and which
transactions it touched; a scenario whose faults touched nothing fails (see invariants).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from sim.schema import Field

SERVICES = ("dynamodb", "s3", "sqs", "sns")
FUNCTIONS = ("api", "inbox", "process", "release", "timeout")
QUEUE_STEPS = ("inbox", "process", "release")

# The AWS operations each port call issues (what the AWS adapters send), by service.
OPERATIONS = {
    "dynamodb": ("PutItem", "GetItem", "UpdateItem", "Query", "DescribeTable"),
    "s3": ("PutObject", "GetObject", "HeadBucket"),
    "sqs": ("SendMessage", "ReceiveMessage", "DeleteMessageBatch", "GetQueueAttributes"),
    "sns": ("Publish",),
}
ALL_OPERATIONS = tuple(sorted({op for ops in OPERATIONS.values() for op in ops}))

# what the SDK does before the adapter sees a failure: the engine's boto3 clients use standard retries,
# max_attempts=3, connect_timeout=2 s (engine/adapters/aws/clients.py)
SDK_ATTEMPTS = 3
SDK_CONNECT_TIMEOUT_S = 2.0

ERROR_KINDS = ("unavailable", "throttle", "internal", "connectivity")

_PERCENT = dict(low=0.0, high=100.0, low_open=True)
_FUNCTION = Field("str", default="all", choices=FUNCTIONS + ("all",), doc="the Lambda function targeted")

ACTIONS: dict[str, dict[str, Field]] = {
    "aws:fis:inject-api-unavailable-error": {
        "service": Field("str", choices=SERVICES, doc="the AWS service whose API answers 503 ServiceUnavailable"),
        "operations": Field("list[str]", default=(), choices=ALL_OPERATIONS, doc="API operations; empty: all"),
        "percentage": Field("float", **_PERCENT, doc="share of API requests (each SDK attempt) that fail"),
    },
    "aws:fis:inject-api-throttle-error": {
        "service": Field("str", choices=SERVICES, doc="the AWS service whose API answers 400 ThrottlingException"),
        "operations": Field("list[str]", default=(), choices=ALL_OPERATIONS, doc="API operations; empty: all"),
        "percentage": Field("float", **_PERCENT, doc="share of API requests (each SDK attempt) throttled"),
    },
    "aws:fis:inject-api-internal-error": {
        "service": Field("str", choices=SERVICES, doc="the AWS service whose API answers 500 InternalError"),
        "operations": Field("list[str]", default=(), choices=ALL_OPERATIONS, doc="API operations; empty: all"),
        "percentage": Field("float", **_PERCENT, doc="share of API requests (each SDK attempt) that fail"),
    },
    "rp2:api-latency": {
        "service": Field("str", choices=SERVICES, doc="the AWS service whose API slows down"),
        "operations": Field("list[str]", default=(), choices=ALL_OPERATIONS, doc="API operations; empty: all"),
        "percentage": Field("float", default=100.0, **_PERCENT, doc="share of requests delayed"),
        "added_p50_ms": Field("float", low=0.0, low_open=True, doc="median added latency"),
        "added_p99_ms": Field("float", low=0.0, low_open=True, doc="99th percentile of the added latency"),
    },
    "aws:lambda:invocation-add-delay": {
        "function": _FUNCTION,
        "startupDelayMilliseconds": Field("int", low=1, high=900_000, doc="delay before the handler starts"),
        "invocationPercentage": Field("float", default=100.0, **_PERCENT, doc="share of invocations delayed"),
    },
    "aws:lambda:invocation-error": {
        "function": _FUNCTION,
        "invocationPercentage": Field("float", default=100.0, **_PERCENT, doc="share of invocations failed"),
        "preventExecution": Field("bool", default=False, doc="true: the handler does not run at all"),
    },
    "rp2:lambda-throttle": {
        "function": _FUNCTION,
        "concurrency": Field("int", low=0, doc="reserved concurrency while the fault lasts (0: every invocation throttled)"),
    },
    "aws:network:disrupt-connectivity": {
        "scope": Field("str", default="all", choices=("all", "dynamodb", "s3"), doc="traffic denied from the region's functions"),
    },
    "rp2:region-outage": {},
    "rp2:worker-crash-after-calls": {
        "function": _FUNCTION,
        "after_calls": Field("int", low=1, doc="the k-th I/O call of an invocation kills it; calls 1..k-1 took effect"),
        "percentage": Field("float", default=100.0, **_PERCENT, doc="share of invocations that crash"),
    },
    "rp2:duplicate-delivery": {
        "queue": Field("str", default="all", choices=QUEUE_STEPS + ("all",), doc="the FIFO queue whose deletes are lost"),
        "percentage": Field("float", **_PERCENT, doc="share of processed messages delivered again"),
        "redeliver_after_s": Field("float", default=0.0, low=0.0, doc="0: after the visibility timeout; else this long after processing"),
    },
    "rp2:clock-skew": {
        "skew_s": Field("float", doc="seconds added to the region's engine clock (negative: behind)"),
    },
    "aws:dynamodb:global-table-pause-replication": {},
    "aws:network:route-table-disrupt-cross-region-connectivity": {},
    "rp2:replication-lag": {
        "added_p50_ms": Field("float", low=0.0, low_open=True, doc="median lag added to replication out of the region"),
        "added_p99_ms": Field("float", low=0.0, low_open=True, doc="99th percentile of the added lag"),
    },
}

# replication pause: the region's replica neither sends nor receives; cross-region cut: the region reaches no other
# region (peer, witness), so probes fail both ways and replication queues; replication lag: added to what it sends
MULTI_REGION_ONLY = {"aws:dynamodb:global-table-pause-replication", "aws:network:route-table-disrupt-cross-region-connectivity",
                     "rp2:replication-lag"}

LAMBDA_ACTIONS = frozenset({"aws:lambda:invocation-add-delay", "aws:lambda:invocation-error", "rp2:worker-crash-after-calls"})

API_ERROR_ACTIONS = {
    "aws:fis:inject-api-unavailable-error": "unavailable",
    "aws:fis:inject-api-throttle-error": "throttle",
    "aws:fis:inject-api-internal-error": "internal",
}


@dataclass(frozen=True)
class FaultSpec:
    index: int
    action: str
    start_s: float
    duration_s: float
    region: str
    params: tuple[tuple[str, Any], ...]

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s

    def param(self, name: str) -> Any:
        return dict(self.params)[name]

    @property
    def label(self) -> str:
        return f"#{self.index} {self.action}"

    def as_dict(self) -> dict[str, Any]:
        params = {k: list(v) if isinstance(v, tuple) else v for k, v in self.params}
        return {"index": self.index, "action": self.action, "start_s": self.start_s, "duration_s": self.duration_s, "region": self.region, **params}


@dataclass
class FaultState:
    """Bookkeeping of one fault during a run."""

    spec: FaultSpec
    stream: random.Random
    hits: int = 0
    first_fired_s: float | None = None
    last_fired_s: float | None = None
    # insertion-ordered set of transaction ids; "#<n>" stands for client arrival n before it had a transaction id
    touched: dict[str, None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        params = dict(self.spec.params)
        self.params = params
        self.start = self.spec.start_s
        self.end = self.spec.end_s
        self.region = self.spec.region
        self.operations = frozenset(params.get("operations") or ())
        self.function = params.get("function", "all")

    def active(self, region: str, now: float) -> bool:
        return self.start <= now < self.end and self.region == region

    def targets_function(self, function: str) -> bool:
        return self.function == "all" or self.function == function

    def draw(self, percentage: float) -> bool:
        return self.stream.random() * 100.0 < percentage

    def hit(self, now: float, transaction_ids=()) -> None:
        self.hits += 1
        if self.first_fired_s is None:
            self.first_fired_s = now
        self.last_fired_s = now
        for transaction_id in transaction_ids:
            if transaction_id:
                self.touched[transaction_id] = None


@dataclass(frozen=True, slots=True)
class CallOutcome:
    latency_s: float
    attempts: int
    error: str | None = None  # one of ERROR_KINDS
    fault: FaultState | None = None


class FaultLayer:
    """Answers, for a moment, a region and a target, which faults apply. Decisions draw from each fault's own
    stream, so a fault's draws never shift the load's or the latency's."""

    def __init__(self, specs: list[FaultSpec], streams) -> None:
        self.states = [FaultState(spec, streams(f"fault/{spec.index}/{spec.action}")) for spec in specs]
        by_action: dict[str, list[FaultState]] = {}
        for state in self.states:
            by_action.setdefault(state.spec.action, []).append(state)
        self._by_action = by_action
        self._api = [s for s in self.states if s.spec.action in API_ERROR_ACTIONS]
        self._latency = by_action.get("rp2:api-latency", [])
        self._cuts = by_action.get("aws:network:disrupt-connectivity", [])
        self._outages = by_action.get("rp2:region-outage", [])
        self.call_faults = bool(self._api or self._latency or self._cuts or self._outages)
        self.lambda_faults = any(s.spec.action in LAMBDA_ACTIONS for s in self.states)
        self.windows = sorted({s.start for s in self.states} | {s.end for s in self.states})

    def of(self, action: str) -> list[FaultState]:
        return self._by_action.get(action, [])

    # -- region-wide -------------------------------------------------------------------------------------
    def region_down(self, region: str, now: float) -> FaultState | None:
        for state in self._outages:
            if state.active(region, now):
                return state
        return None

    def skew(self, region: str, now: float) -> tuple[float, FaultState | None]:
        for state in self.of("rp2:clock-skew"):
            if state.active(region, now):
                return state.params["skew_s"], state
        return 0.0, None

    # -- AWS API calls -----------------------------------------------------------------------------------
    def api_call(self, region: str, service: str, operation: str, now: float, base_latency, touched: tuple[str, ...]) -> CallOutcome:
        """One port call as the SDK makes it: up to SDK_ATTEMPTS attempts when an attempt fails, with the
        SDK's backoff, in virtual time. ``base_latency`` draws one attempt's normal latency."""
        if not self.call_faults:
            return CallOutcome(base_latency(), 1)
        for state in self._outages:
            if state.active(region, now):
                state.hit(now, touched)
                return CallOutcome(self._connect_failure_latency(state), SDK_ATTEMPTS, "connectivity", state)
        for state in self._cuts:
            if state.active(region, now) and state.params["scope"] in ("all", service):
                state.hit(now, touched)
                return CallOutcome(self._connect_failure_latency(state), SDK_ATTEMPTS, "connectivity", state)
        extra = 0.0
        for state in self._latency:
            if state.active(region, now) and state.params["service"] == service and (not state.operations or operation in state.operations):
                if state.draw(state.params["percentage"]):
                    extra += _lognormal(state.stream, state.params["added_p50_ms"], state.params["added_p99_ms"])
                    state.hit(now, touched)
        failing = [
            s for s in self._api
            if s.active(region, now) and s.params["service"] == service and (not s.operations or operation in s.operations)
        ]
        latency = extra
        if not failing:
            return CallOutcome(latency + base_latency(), 1)
        for attempt in range(1, SDK_ATTEMPTS + 1):
            latency += base_latency()
            failed_by = next((s for s in failing if s.draw(s.params["percentage"])), None)
            if failed_by is None:
                return CallOutcome(latency, attempt)
            failed_by.hit(now, touched)
            if attempt == SDK_ATTEMPTS:
                return CallOutcome(latency, attempt, API_ERROR_ACTIONS[failed_by.spec.action], failed_by)
            latency += failed_by.stream.random() * (2 ** (attempt - 1))  # standard-mode backoff: rand * 2^n, capped 20 s
        raise AssertionError("unreachable")

    @staticmethod
    def _connect_failure_latency(state: FaultState) -> float:
        backoff = sum(state.stream.random() * (2 ** n) for n in range(SDK_ATTEMPTS - 1))
        return SDK_ATTEMPTS * SDK_CONNECT_TIMEOUT_S + backoff

    # -- Lambda --------------------------------------------------------------------------------------------
    def invocation_delay(self, region: str, function: str, now: float) -> tuple[float, FaultState | None]:
        for state in self.of("aws:lambda:invocation-add-delay"):
            if state.active(region, now) and state.targets_function(function) and state.draw(state.params["invocationPercentage"]):
                return state.params["startupDelayMilliseconds"] / 1000.0, state
        return 0.0, None

    def invocation_error(self, region: str, function: str, now: float) -> FaultState | None:
        for state in self.of("aws:lambda:invocation-error"):
            if state.active(region, now) and state.targets_function(function) and state.draw(state.params["invocationPercentage"]):
                return state
        return None

    def crash_after(self, region: str, function: str, now: float) -> tuple[int | None, FaultState | None]:
        for state in self.of("rp2:worker-crash-after-calls"):
            if state.active(region, now) and state.targets_function(function) and state.draw(state.params["percentage"]):
                return state.params["after_calls"], state
        return None, None

    def concurrency_limit(self, region: str, function: str, now: float) -> tuple[int | None, FaultState | None]:
        for state in self.of("rp2:lambda-throttle"):
            if state.active(region, now) and state.targets_function(function):
                return state.params["concurrency"], state
        return None, None

    # -- SQS -----------------------------------------------------------------------------------------------
    def lost_delete(self, region: str, step: str, now: float) -> FaultState | None:
        for state in self.of("rp2:duplicate-delivery"):
            if state.active(region, now) and state.params["queue"] in ("all", step) and state.draw(state.params["percentage"]):
                return state
        return None


def _lognormal(stream: random.Random, p50_ms: float, p99_ms: float) -> float:
    from sim.latency import lognormal_seconds

    return lognormal_seconds(stream, p50_ms, p99_ms)
