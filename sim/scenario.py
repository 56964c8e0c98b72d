"""Scenario files (``scenarios/*.toml``): parsed strictly into a frozen Scenario.

Every key is known, typed and bounded; a mistake stops the run with the file, the key path and what was expected.
The README documents every key; the defaults below are the documented ones.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sim.faults import ACTIONS, MULTI_REGION_ONLY, FaultSpec
from sim.messages import INVALID_KINDS
from sim.schema import Field, ScenarioError, read_table

REGION_PATTERN = r"[a-z]{2}(-[a-z]+)+-\d"
DEFAULT_EPOCH = datetime(2026, 1, 5, 9, 0, 0, tzinfo=timezone.utc)

METRICS = (
    "transactions",
    "settled",
    "rejected",
    "timeouts",
    "p50_time_to_terminal_s",
    "p95_time_to_terminal_s",
    "p99_time_to_terminal_s",
    "max_time_to_terminal_s",
    "rejection_rate",
    "invalid_rejection_rate",
    "settled_share",
    "dlq_messages",
    "redeliveries",
    "client_give_ups",
    "failed_opens",
    "client_retries",
    "cold_starts",
    "throttled_invocations",
    "failed_invocations",
    "cost_per_million_usd",
    # multi-region worlds only
    "detection_time_s",
    "takeover_time_s",
    "in_flight_at_failure",
    "redriven",
    "cancelled_by_takeover",
    "adopted",
    "fenced",
    "lww_conflicts",
    "lww_disagreements",
    "claim_conflicts",
    "split_brain_transactions",
    "stranded_transactions",
    "declared_down",
)

LATENCY_SERVICES = ("dynamodb", "s3", "sqs", "sns", "apigw", "lambda_cold_start", "lambda_warm", "compute")
DEFAULT_LATENCY = {
    # same-region medians and tails for small items; teams replace them with their own measurements
    "dynamodb": (5.0, 25.0),
    "s3": (18.0, 90.0),
    "sqs": (6.0, 30.0),
    "sns": (12.0, 60.0),
    "apigw": (10.0, 40.0),
    "lambda_cold_start": (450.0, 1500.0),  # python3.12 + lxml + powertools, 512 MB
    "lambda_warm": (1.0, 8.0),  # Lambda's own invoke overhead on a warm environment
    "compute": (4.0, 20.0),  # CPU time of one record in the handler (parsing, XSD, reply building)
}


def _latency_spec(service: str) -> dict[str, Field]:
    p50, p99 = DEFAULT_LATENCY[service]
    return {
        "p50_ms": Field("float", default=p50, low=0.0, low_open=True, doc="median, ms"),
        "p99_ms": Field("float", default=p99, low=0.0, low_open=True, doc="99th percentile, ms"),
    }


SPEC: dict[str, Any] = {
    "name": Field("str", default=None, pattern=r"[a-z0-9][a-z0-9_-]*", pattern_text="of lowercase letters, digits, - and _"),
    "description": Field("str", default=""),
    "duration_s": Field("float", low=0.0, low_open=True, high=7 * 86_400, doc="virtual seconds of load"),
    "drain_limit_s": Field("float", default=900.0, low=0.0, low_open=True, doc="bound on the drain after the load"),
    "seeds": Field("list[int]", default=(1,), low=0, non_empty=True),
    "slow": Field("bool", default=False),
    "world": {
        "regions": Field("list[str]", default=("us-east-1",), pattern=REGION_PATTERN, pattern_text="such as us-east-1", non_empty=True),
        "epoch": Field("datetime", default=DEFAULT_EPOCH),
        "witness": Field("str", default=None, pattern=REGION_PATTERN, pattern_text="such as us-east-2",
                         doc="strong mode: the witness region of the global table (third member of the quorum)"),
    },
    "replication": {
        "consistency": Field("str", default="eventual", choices=("eventual", "strong"), doc="RP2_CONSISTENCY of both regions"),
        "lag_p50_ms": Field("float", default=800.0, low=0.0, low_open=True, doc="eventual: ledger replication lag, median"),
        "lag_p99_ms": Field("float", default=2500.0, low=0.0, low_open=True, doc="eventual: ledger replication lag, p99"),
        "archive_lag_p50_ms": Field("float", default=3000.0, low=0.0, low_open=True, doc="S3 cross-region copy lag, median"),
        "archive_lag_p99_ms": Field("float", default=15000.0, low=0.0, low_open=True, doc="S3 cross-region copy lag, p99"),
        "strong_write_ms": Field("float", default=40.0, low=0.0, doc="strong: added latency of a write or read (quorum round trip)"),
        "accepted_tradeoffs": Field("list[str]", default=(), choices=("split_brain", "stranded"),
                                    doc="eventual only: invariant violations that are this mode's measured price, reported not failed"),
    },
    "failover": {
        "recover_schedule": Field("str", default="eventbridge", choices=("eventbridge", "loop")),
        "recover_cadence_s": Field("float", default=60.0, low=0.0, low_open=True),
        "down_after_probes": Field("int", default=3, low=1),
        "up_after_probes": Field("int", default=2, low=1),
        "probe_timeout_s": Field("int", default=2, low=1),
    },
    "engine": {
        "sla_seconds": Field("int", default=30, low=1),
        "timeout_schedule": Field("str", default="eventbridge", choices=("eventbridge", "loop")),
        "timeout_cadence_s": Field("float", default=60.0, low=0.0, low_open=True),
        "visibility_timeout_s": Field("float", default=30.0, low=0.0, high=43_200),
        "max_receive_count": Field("int", default=5, low=1, high=1000),
        "batch_size": Field("int", default=10, low=1, high=10),
        "function_timeout_s": Field("float", default=15.0, low=1.0, high=900.0),
        "lambda_memory_mb": Field("int", default=512, low=128, high=10_240),
        "idle_eviction_s": Field("float", default=420.0, low=0.0, low_open=True),
        "max_message_bytes": Field("int", default=184_320, low=1024),
        "concurrency": {
            "api": Field("int", default=200, low=1),
            "inbox": Field("int", default=50, low=1),
            "process": Field("int", default=50, low=1),
            "release": Field("int", default=50, low=1),
            "timeout": Field("int", default=5, low=1),
        },
    },
    "latency": {service: _latency_spec(service) for service in LATENCY_SERVICES},
    "load": {
        "rate_tps": Field("float", default=10.0, low=0.0),
        "clients": Field("int", default=25, low=1),
        "invalid_share": Field("float", default=0.0, low=0.0, high=1.0),
        "invalid_kinds": Field("table[float]", default=None, low=0.0, choices=INVALID_KINDS, non_empty=True),
        "max_payments": Field("int", default=1, low=1, high=10),
        "bah_share": Field("float", default=0.2, low=0.0, high=1.0),
    },
    "client": {
        "poll_interval_s": Field("float", default=1.0, low=0.0, low_open=True),
        "give_up_s": Field("float", default=120.0, low=0.0, low_open=True),
        "max_attempts": Field("int", default=5, low=1),
        "backoff_base_s": Field("float", default=0.2, low=0.0, low_open=True),
        "backoff_cap_s": Field("float", default=5.0, low=0.0, low_open=True),
        "connect_timeout_s": Field("float", default=3.0, low=0.0, low_open=True),
    },
    "metrics": {
        "bucket_s": Field("float", default=1.0, low=0.0, low_open=True),
    },
}

_STEP_SPEC = {"at_s": Field("float", low=0.0), "rate_tps": Field("float", low=0.0)}
_BURST_SPEC = {
    "start_s": Field("float", low=0.0),
    "duration_s": Field("float", low=0.0, low_open=True),
    "rate_tps": Field("float", low=0.0, low_open=True, doc="added to the base rate while the burst lasts"),
}
_FAULT_SPEC = {
    "action": Field("str", choices=tuple(ACTIONS)),
    "start_s": Field("float", low=0.0),
    "duration_s": Field("float", low=0.0, low_open=True),
    "region": Field("str", default=None, pattern=REGION_PATTERN, pattern_text="such as us-east-1"),
}
_EXPECT_KEY = re.compile(r"(max|min)_(.+)")


@dataclass(frozen=True)
class LatencySpec:
    p50_ms: float
    p99_ms: float


@dataclass(frozen=True)
class Concurrency:
    api: int
    inbox: int
    process: int
    release: int
    timeout: int


@dataclass(frozen=True)
class EngineSpec:
    sla_seconds: int
    timeout_schedule: str
    timeout_cadence_s: float
    visibility_timeout_s: float
    max_receive_count: int
    batch_size: int
    function_timeout_s: float
    lambda_memory_mb: int
    idle_eviction_s: float
    max_message_bytes: int
    concurrency: Concurrency


@dataclass(frozen=True)
class RateStep:
    at_s: float
    rate_tps: float


@dataclass(frozen=True)
class Burst:
    start_s: float
    duration_s: float
    rate_tps: float


@dataclass(frozen=True)
class LoadSpec:
    rate_tps: float
    steps: tuple[RateStep, ...]
    bursts: tuple[Burst, ...]
    clients: int
    invalid_share: float
    invalid_kinds: tuple[tuple[str, float], ...]
    max_payments: int
    bah_share: float


@dataclass(frozen=True)
class ClientSpec:
    poll_interval_s: float
    give_up_s: float
    max_attempts: int
    backoff_base_s: float
    backoff_cap_s: float
    connect_timeout_s: float


@dataclass(frozen=True)
class Expectation:
    key: str
    bound: str  # "max" or "min"
    metric: str
    value: float

    def holds(self, observed: float | None) -> bool:
        if observed is None:
            return False
        return observed <= self.value if self.bound == "max" else observed >= self.value

    def text(self) -> str:
        return f"{self.metric} {'<=' if self.bound == 'max' else '>='} {self.value:g}"


@dataclass(frozen=True)
class ReplicationSpec:
    consistency: str
    lag_p50_ms: float
    lag_p99_ms: float
    archive_lag_p50_ms: float
    archive_lag_p99_ms: float
    strong_write_ms: float
    accepted_tradeoffs: tuple[str, ...] = ()


@dataclass(frozen=True)
class FailoverSpec:
    recover_schedule: str
    recover_cadence_s: float
    down_after_probes: int
    up_after_probes: int
    probe_timeout_s: int

    def detection_bound_s(self) -> float:
        """Worst case from a peer's failure to its declaration: N probes at the cadence, the last one timing out."""
        return self.down_after_probes * self.recover_cadence_s + self.probe_timeout_s


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    duration_s: float
    drain_limit_s: float
    seeds: tuple[int, ...]
    slow: bool
    regions: tuple[str, ...]
    epoch: datetime
    engine: EngineSpec
    latency: dict[str, LatencySpec]
    load: LoadSpec
    client: ClientSpec
    bucket_s: float
    faults: tuple[FaultSpec, ...]
    expect: tuple[Expectation, ...]
    source: str = "<scenario>"
    witness: str | None = None
    replication: ReplicationSpec | None = None
    failover: FailoverSpec | None = None

    @property
    def multi_region(self) -> bool:
        return len(self.regions) > 1

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["epoch"] = self.epoch.isoformat()
        data["faults"] = [fault.as_dict() for fault in self.faults]
        data["expect"] = {e.key: e.value for e in self.expect}
        data["load"]["invalid_kinds"] = dict(self.load.invalid_kinds)
        data.pop("source")
        return json.loads(json.dumps(data))


def load_scenario(path: str | Path) -> Scenario:
    path = Path(path)
    source = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(source, "", "no such file") from None
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(source, "", f"not valid TOML: {error}") from None
    return parse_scenario(raw, source=source, default_name=path.stem)


def parse_scenario(raw: dict[str, Any], *, source: str = "<scenario>", default_name: str = "scenario") -> Scenario:
    top = _read_top(source, raw)
    world, engine, load = top["world"], top["engine"], top["load"]
    regions = world["regions"]
    if len(set(regions)) != len(regions):
        raise ScenarioError(source, "world.regions", f"expected distinct regions, got {list(regions)!r}")
    if len(regions) > 2:
        raise ScenarioError(source, "world.regions", f"expected one or two regions, got {list(regions)!r}")
    replication, failover, witness = top["replication"], top["failover"], world["witness"]
    if witness is not None and (len(regions) != 2 or witness in regions):
        raise ScenarioError(source, "world.witness", f"expected a third region besides the two of world.regions {list(regions)!r}, got {witness!r}")
    if len(regions) == 2 and replication["consistency"] == "strong" and witness is None:
        raise ScenarioError(source, "world.witness", "strong consistency over two regions needs a witness region (a quorum of three)")
    if failover["recover_schedule"] == "eventbridge" and (failover["recover_cadence_s"] < 60 or failover["recover_cadence_s"] % 60):
        raise ScenarioError(source, "failover.recover_cadence_s",
                            f"expected a whole number of minutes (EventBridge Scheduler), got {failover['recover_cadence_s']:g}; "
                            "use recover_schedule = \"loop\" for a sub-minute cadence")
    if replication["accepted_tradeoffs"] and replication["consistency"] != "eventual":
        raise ScenarioError(source, "replication.accepted_tradeoffs", "strong consistency accepts no trade-off: it must prevent them")
    for low, high in (("lag_p50_ms", "lag_p99_ms"), ("archive_lag_p50_ms", "archive_lag_p99_ms")):
        if replication[high] < replication[low]:
            raise ScenarioError(source, f"replication.{high}", f"expected a number >= {low} ({replication[low]:g}), got {replication[high]:g}")
    if engine["timeout_schedule"] == "eventbridge" and (engine["timeout_cadence_s"] < 60 or engine["timeout_cadence_s"] % 60):
        raise ScenarioError(
            source, "engine.timeout_cadence_s",
            f"expected a whole number of minutes (EventBridge Scheduler's rate is at least 1 minute), got {engine['timeout_cadence_s']:g}; "
            "use timeout_schedule = \"loop\" for a sub-minute cadence",
        )
    latency = {}
    for service in LATENCY_SERVICES:
        spec = top["latency"][service]
        if spec["p99_ms"] < spec["p50_ms"]:
            raise ScenarioError(source, f"latency.{service}.p99_ms", f"expected a number >= p50_ms ({spec['p50_ms']:g}), got {spec['p99_ms']:g}")
        latency[service] = LatencySpec(spec["p50_ms"], spec["p99_ms"])
    duration = top["duration_s"]
    steps = tuple(RateStep(**_read_list_item(source, "load.steps", n, item, _STEP_SPEC)) for n, item in enumerate(_list_of_tables(source, "load.steps", raw.get("load", {}).get("steps", []))))
    for n in range(1, len(steps)):
        if steps[n].at_s <= steps[n - 1].at_s:
            raise ScenarioError(source, f"load.steps[{n}].at_s", f"expected a time after the previous step's {steps[n - 1].at_s:g}, got {steps[n].at_s:g}")
    bursts = tuple(Burst(**_read_list_item(source, "load.bursts", n, item, _BURST_SPEC)) for n, item in enumerate(_list_of_tables(source, "load.bursts", raw.get("load", {}).get("bursts", []))))
    kinds = load["invalid_kinds"]
    if kinds is None:
        kinds = {kind: 1.0 for kind in INVALID_KINDS}
    elif sum(kinds.values()) <= 0:
        raise ScenarioError(source, "load.invalid_kinds", f"expected at least one positive weight, got {kinds!r}")
    faults = tuple(_fault(source, n, item, regions, duration) for n, item in enumerate(_list_of_tables(source, "faults", raw.get("faults", []))))
    expect = _expectations(source, raw.get("expect", {}))
    return Scenario(
        name=top["name"] or default_name,
        description=top["description"],
        duration_s=duration,
        drain_limit_s=top["drain_limit_s"],
        seeds=top["seeds"],
        slow=top["slow"],
        regions=regions,
        epoch=world["epoch"].astimezone(timezone.utc),
        engine=EngineSpec(**{k: v for k, v in engine.items() if k != "concurrency"}, concurrency=Concurrency(**engine["concurrency"])),
        latency=latency,
        load=LoadSpec(
            rate_tps=load["rate_tps"], steps=steps, bursts=bursts, clients=load["clients"], invalid_share=load["invalid_share"],
            invalid_kinds=tuple((kind, kinds[kind]) for kind in INVALID_KINDS if kind in kinds),
            max_payments=load["max_payments"], bah_share=load["bah_share"],
        ),
        client=ClientSpec(**top["client"]),
        bucket_s=top["metrics"]["bucket_s"],
        faults=faults,
        expect=expect,
        source=source,
        witness=witness,
        replication=ReplicationSpec(**replication),
        failover=FailoverSpec(**failover),
    )


def _read_top(source: str, raw: dict[str, Any]) -> dict[str, Any]:
    spec = SPEC
    load_spec = SPEC["load"]
    known = set(spec) | {"faults", "expect"}
    for key in raw:
        if key not in known:
            raise ScenarioError(source, key, f"unknown key; expected one of: {', '.join(sorted(known))}")
    load_raw = raw.get("load", {})
    if not isinstance(load_raw, dict):
        raise ScenarioError(source, "load", f"expected a table, got {load_raw!r}")
    trimmed = {k: v for k, v in raw.items() if k not in ("faults", "expect")}
    trimmed["load"] = {k: v for k, v in load_raw.items() if k not in ("steps", "bursts")}
    for key in load_raw:
        if key not in load_spec and key not in ("steps", "bursts"):
            raise ScenarioError(source, f"load.{key}", f"unknown key; expected one of: {', '.join(sorted(set(load_spec) | {'steps', 'bursts'}))}")
    return read_table(source, "", trimmed, spec)


def _list_of_tables(source: str, path: str, value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ScenarioError(source, path, f"expected a list of tables ([[{path}]]), got {value!r}")
    return value


def _read_list_item(source: str, path: str, n: int, item: Any, spec: dict[str, Field]) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ScenarioError(source, f"{path}[{n}]", f"expected a table, got {item!r}")
    return read_table(source, f"{path}[{n}]", item, spec)


def _fault(source: str, n: int, item: dict[str, Any], regions: tuple[str, ...], duration: float) -> FaultSpec:
    path = f"faults[{n}]"
    action = item.get("action")
    if action not in ACTIONS:
        if action is None:
            raise ScenarioError(source, f"{path}.action", f"missing; expected one of: {', '.join(ACTIONS)}")
        raise ScenarioError(source, f"{path}.action", f"expected one of: {', '.join(ACTIONS)}; got {action!r}")
    if action in MULTI_REGION_ONLY and len(regions) < 2:
        raise ScenarioError(source, f"{path}.action", f"{action} needs a multi-region world (replication arrives with the multi-region issue)")
    spec = {**_FAULT_SPEC, **ACTIONS[action]}
    values = read_table(source, path, item, spec)
    region = values["region"] or regions[0]
    if region not in regions:
        raise ScenarioError(source, f"{path}.region", f"expected one of the world's regions {list(regions)!r}, got {region!r}")
    if values["start_s"] >= duration:
        raise ScenarioError(source, f"{path}.start_s", f"expected a start before the end of the load (duration_s = {duration:g}), got {values['start_s']:g}")
    if action == "rp2:api-latency" and values["added_p99_ms"] < values["added_p50_ms"]:
        raise ScenarioError(source, f"{path}.added_p99_ms", f"expected a number >= added_p50_ms ({values['added_p50_ms']:g}), got {values['added_p99_ms']:g}")
    if "operations" in values and "service" in values:
        from sim.faults import OPERATIONS

        wrong = [op for op in values["operations"] if op not in OPERATIONS[values["service"]]]
        if wrong:
            raise ScenarioError(source, f"{path}.operations", f"expected operations of {values['service']} ({', '.join(OPERATIONS[values['service']])}), got {wrong!r}")
    if action == "rp2:clock-skew" and values["skew_s"] == 0:
        raise ScenarioError(source, f"{path}.skew_s", "expected a non-zero number of seconds, got 0")
    params = tuple((key, values[key]) for key in ACTIONS[action])
    return FaultSpec(index=n, action=action, start_s=values["start_s"], duration_s=values["duration_s"], region=region, params=params)


def _expectations(source: str, raw: Any) -> tuple[Expectation, ...]:
    if not isinstance(raw, dict):
        raise ScenarioError(source, "expect", f"expected a table, got {raw!r}")
    found = []
    for key, value in raw.items():
        match = _EXPECT_KEY.fullmatch(key)
        if match is None or match.group(2) not in METRICS:
            raise ScenarioError(source, f"expect.{key}", f"unknown expectation; expected max_<metric> or min_<metric> with a metric among: {', '.join(METRICS)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ScenarioError(source, f"expect.{key}", f"expected a number, got {value!r}")
        found.append(Expectation(key, match.group(1), match.group(2), float(value)))
    return tuple(found)


__all__ = ["METRICS", "Scenario", "ScenarioError", "load_scenario", "parse_scenario"]
