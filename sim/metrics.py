"""The run's tables, as pandas DataFrames: transactions, messages (client arrivals), per-region timelines, faults,
AWS requests, Lambda functions, timeout-job runs and dead letters."""

from __future__ import annotations

import json
import re
from array import array
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from engine.ledger import Status

STATUSES = tuple(status.value for status in Status)
TERMINAL = tuple(status.value for status in Status if status.is_terminal)
_GROUP_STATUS = re.compile(rb"GrpSts>([A-Z]{4})<")


@dataclass(frozen=True, slots=True)
class Facts:
    """What the checks and tables need of one ledger record, read once (the records themselves are not kept: a
    simulated hour holds hundreds of thousands)."""

    status: str
    version: int
    statuses: tuple[str, ...]  # the history's statuses, in order
    history_times: bytes  # the history's times, the engine clock's virtual seconds, as array("d") bytes (one small object)
    deadline_s: float
    reason_code: str | None  # of the decision, once terminal
    payments: tuple[str, ...]  # the decision's payment statuses
    group_status: str | None  # what the pacs.002 must say (engine.replies.group_status)
    payload_key: str | None  # kept only when the payload is missing or not the bytes received
    payload_ok: bool | None  # the archive holds the payload's bytes (None: no payload key)
    reply_key: str | None  # kept only when no reply is stored
    reply: str | None  # terminal: stored | rebuildable | missing
    reply_written: str | None  # the group status written in the stored pacs.002
    epoch: int = 1  # 1 + the take-overs it went through (each one increments the version without a history entry)

    @property
    def times(self) -> array:
        times = array("d")
        times.frombytes(self.history_times)
        return times

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def history(self) -> tuple[tuple[str, float], ...]:
        return tuple(zip(self.statuses, self.times))

    def trail(self) -> str:
        return " ".join(f"{status}@{at:.3f}" for status, at in zip(self.statuses, self.times))

    def with_history(self, history) -> "Facts":
        """A copy with another history (for tests that tamper with a run's facts)."""
        from dataclasses import replace

        return replace(self, statuses=tuple(s for s, _ in history), history_times=array("d", (t for _, t in history)).tobytes())


@dataclass
class Snapshot:
    """The backend's final state, read once without latency or faults."""

    facts: dict[str, Facts]


def snapshot(world) -> Snapshot:
    from engine.replies import group_status, status_report
    from engine.steps.handoff import digest

    facts: dict[str, Facts] = {}
    shared: dict[Any, Any] = {}  # one object for each distinct status sequence, payment statuses and reason code
    for transaction_id, info in world.transactions.items():
        region = world.regions[info.region]
        ledger, archive, _ = region.inner
        record = ledger.get(transaction_id)
        if record is None:
            continue
        epoch = region.clock.epoch
        payload = archive.get(record.payload_key) if record.payload_key is not None else None
        reply = written = None
        if record.status.is_terminal:
            stored = archive.get(record.reply_key) if record.reply_key else None
            if stored is not None:
                reply = "stored"
                match = _GROUP_STATUS.search(stored)
                written = match.group(1).decode() if match else None
            else:
                try:
                    status_report(record, payload, region.settings.max_message_bytes)
                    reply = "rebuildable"
                except Exception:
                    reply = "missing"
        decision = record.decision
        statuses = tuple(entry.status.value for entry in record.history)
        payments = tuple(outcome.status for outcome in decision.payments) if decision is not None else ()
        reason_code = decision.reason_code if decision is not None and record.status.is_terminal else None
        payload_ok = None if record.payload_key is None else payload is not None and digest(payload) == record.payload_sha256
        facts[transaction_id] = Facts(
            status=record.status.value,
            version=record.version,
            statuses=shared.setdefault(statuses, statuses),
            history_times=array("d", ((entry.at - epoch).total_seconds() for entry in record.history)).tobytes(),
            deadline_s=(record.deadline - epoch).total_seconds(),
            reason_code=shared.setdefault(reason_code, reason_code),
            payments=shared.setdefault(payments, payments),
            group_status=group_status(record) if decision is not None else None,
            payload_key=record.payload_key if payload_ok is False else None,
            payload_ok=payload_ok,
            reply_key=record.reply_key if reply not in (None, "stored") else None,
            reply=reply,
            reply_written=_STATUS_CODES.get(written, written),
            epoch=record.epoch,
        )
    return Snapshot(facts)


_STATUS_CODES = {status.value: status.value for status in Status} | {"PART": "PART"}  # one string object each


def transactions_frame(world, snap: Snapshot) -> pd.DataFrame:
    clients = world.clients
    touched: dict[str, list[str]] = {}
    for state in world.faults.states:
        for transaction_id in resolved(world, state)[0]:
            touched.setdefault(transaction_id, []).append(str(state.spec.index))
    dead: dict[str, int] = {}
    for region in world.regions.values():
        for letter in region.dead_letters:
            dead[letter.group] = dead.get(letter.group, 0) + 1
    count = len(world.transactions)
    floats = {name: np.full(count, np.nan) for name in _FLOAT_COLUMNS}
    ints = {name: np.zeros(count, dtype=np.int64) for name in _INT_COLUMNS}
    nullable = {name: np.zeros(count, dtype=np.int64) for name in ("message_index", "payments")}
    present = np.zeros(count, dtype=bool)
    flags = {name: np.zeros(count, dtype=bool) for name in ("invalid_by_design", "client_gave_up")}
    objects = {name: np.empty(count, dtype=object) for name in _OBJECT_COLUMNS}
    first_columns = [(status, floats[f"t_{status}"]) for status in STATUSES]
    for row, (transaction_id, info) in enumerate(world.transactions.items()):
        facts = snap.facts.get(transaction_id)
        client = clients[info.message] if info.message is not None else None
        first_at: dict[str, float] = {}
        terminal_entries = 0
        if facts is not None:
            for status, at in zip(facts.statuses, facts.times):
                if status not in first_at:
                    first_at[status] = at
                terminal_entries += status in TERMINAL
        terminal_at = min((first_at[s] for s in TERMINAL if s in first_at), default=None)
        objects["transaction_id"][row] = transaction_id
        objects["region"][row] = info.region
        objects["kind"][row] = (client.kind or "valid") if client else "orphan"
        objects["faults_touched"][row] = ";".join(touched.get(transaction_id, ()))
        if client is not None:
            present[row] = True
            nullable["message_index"][row] = client.index
            nullable["payments"][row] = client.payments
            objects["client"][row] = client.client
            objects["expected_reason"][row] = client.expected_reason
            objects["client_reply_status"][row] = client.reply_status
            flags["invalid_by_design"][row] = client.kind is not None
            flags["client_gave_up"][row] = client.gave_up
            ints["client_retries"][row] = client.retries
            if client.reply_s is not None:
                floats["client_reply_s"][row] = client.reply_s
        floats["opened_s"][row] = info.opened_s
        for status, column in first_columns:
            if status in first_at:
                column[row] = first_at[status]
        if facts is not None:
            objects["final_status"][row] = facts.status
            objects["reason_code"][row] = facts.reason_code
            ints["history_entries"][row] = len(facts.statuses)
        if info.terminal_s is not None:
            floats["terminal_s"][row] = info.terminal_s
        if terminal_at is not None and "ACCP" in first_at:
            floats["time_to_terminal_s"][row] = terminal_at - first_at["ACCP"]
        ints["terminal_entries"][row] = terminal_entries
        ints["redeliveries"][row] = info.redeliveries
        ints["dlq_messages"][row] = dead.get(transaction_id, 0)
    data: dict[str, Any] = {**floats, **ints, **flags, **objects}
    for name, values in nullable.items():
        data[name] = pd.arrays.IntegerArray(values, ~present)
    return pd.DataFrame({name: data[name] for name in _TRANSACTION_COLUMNS}, copy=False)


_TRANSACTION_COLUMNS = (
    ["transaction_id", "region", "message_index", "client", "kind", "invalid_by_design", "expected_reason", "payments", "opened_s"]
    + [f"t_{status}" for status in STATUSES]
    + ["final_status", "reason_code", "terminal_s", "time_to_terminal_s", "history_entries", "terminal_entries", "client_retries",
       "redeliveries", "dlq_messages", "client_reply_status", "client_reply_s", "client_gave_up", "faults_touched"]
)
_FLOAT_COLUMNS = ["opened_s"] + [f"t_{status}" for status in STATUSES] + ["terminal_s", "time_to_terminal_s", "client_reply_s"]
_INT_COLUMNS = ["history_entries", "terminal_entries", "client_retries", "redeliveries", "dlq_messages"]
_OBJECT_COLUMNS = ["transaction_id", "region", "client", "kind", "expected_reason", "final_status", "reason_code",
                   "client_reply_status", "faults_touched"]


def messages_frame(world) -> pd.DataFrame:
    clients = world.clients

    def column(getter, dtype=object):
        return np.fromiter((getter(c) for c in clients), dtype=dtype, count=len(clients))

    def nullable(getter):
        values = [getter(c) for c in clients]
        mask = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
        data = np.fromiter((0 if v is None else v for v in values), dtype=np.int64, count=len(values))
        return pd.arrays.IntegerArray(data, mask)

    data = {
        "message_index": column(lambda c: c.index, np.int64),
        "client": column(lambda c: c.client),
        "region": column(lambda c: c.region),
        "arrived_s": column(lambda c: c.arrived_s, float),
        "kind": column(lambda c: c.kind or "valid"),
        "expected_reason": column(lambda c: c.expected_reason),
        "payments": column(lambda c: c.payments, np.int64),
        "transaction_id": column(lambda c: c.transaction_id),
        "open_attempts": column(lambda c: c.open_attempts, np.int64),
        "open_status": nullable(lambda c: c.open_status),
        "post_attempts": column(lambda c: c.post_attempts, np.int64),
        "post_status": nullable(lambda c: c.post_status),
        "polls": column(lambda c: c.polls, np.int64),
        "reply_status": column(lambda c: c.reply_status),
        "reply_s": column(lambda c: np.nan if c.reply_s is None else c.reply_s, float),
        "gave_up": column(lambda c: c.gave_up, bool),
    }
    return pd.DataFrame(data, columns=_MESSAGE_COLUMNS, copy=False)


_MESSAGE_COLUMNS = ["message_index", "client", "region", "arrived_s", "kind", "expected_reason", "payments", "transaction_id",
                    "open_attempts", "open_status", "post_attempts", "post_status", "polls", "reply_status", "reply_s", "gave_up"]


def timeline_frame(world, transactions: pd.DataFrame, end_s: float) -> pd.DataFrame:
    bucket = world.scenario.bucket_s
    buckets = max(1, int(np.ceil(end_s / bucket)))
    edges = np.arange(buckets + 1) * bucket
    frames = []
    samples_by_region: dict[str, dict[int, dict[str, float]]] = {}
    for sample in world.samples:
        samples_by_region.setdefault(sample.region, {})[int(round(sample.t / bucket)) - 1] = sample.values
    sample_columns = sorted({key for sample in world.samples for key in sample.values})
    for region in world.regions:
        frame = pd.DataFrame({"bucket_start_s": edges[:-1], "region": region})
        arrivals = np.array([c.arrived_s for c in world.clients if c.region == region], dtype=float)
        frame["arrivals"] = np.histogram(arrivals, bins=edges)[0]
        mine = transactions[transactions["region"] == region]
        opened = mine["opened_s"].to_numpy(dtype=float)
        frame["opened"] = np.histogram(opened, bins=edges)[0]
        terminal = mine["terminal_s"].to_numpy(dtype=float, na_value=np.nan)
        for status in TERMINAL:
            at = mine.loc[mine["final_status"] == status, "terminal_s"].to_numpy(dtype=float, na_value=np.nan)
            frame[f"terminal_{status}"] = np.histogram(at[~np.isnan(at)], bins=edges)[0]
        ends = edges[1:]
        opened_by_end = np.searchsorted(np.sort(opened), ends, side="right")
        done = np.sort(terminal[~np.isnan(terminal)])
        frame["in_flight"] = opened_by_end - np.searchsorted(done, ends, side="right")
        region_samples = samples_by_region.get(region, {})
        for column in sample_columns:
            frame[column] = [region_samples.get(n, {}).get(column, np.nan) for n in range(buckets)]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def resolved(world, state) -> tuple[list[str], list[int]]:
    from sim.world import touched

    cache = world.__dict__.setdefault("_resolved_touches", {})
    if state.spec.index not in cache:
        cache[state.spec.index] = touched(world, state)
    return cache[state.spec.index]


def faults_frame(world) -> pd.DataFrame:
    rows = []
    for state in world.faults.states:
        spec = state.spec
        transactions, arrivals = resolved(world, state)
        rows.append({
            "index": spec.index, "action": spec.action, "region": spec.region, "start_s": spec.start_s, "duration_s": spec.duration_s,
            "parameters": json.dumps({k: list(v) if isinstance(v, tuple) else v for k, v in spec.params}, sort_keys=True),
            "fired": state.hits > 0, "hits": state.hits, "first_fired_s": state.first_fired_s, "last_fired_s": state.last_fired_s,
            "transactions_touched": len(transactions), "arrivals_touched_without_transaction": len(arrivals),
        })
    return pd.DataFrame(rows, columns=["index", "action", "region", "start_s", "duration_s", "parameters", "fired", "hits",
                                       "first_fired_s", "last_fired_s", "transactions_touched", "arrivals_touched_without_transaction"])


def requests_frame(world) -> pd.DataFrame:
    rows = []
    for name, region in world.regions.items():
        for (service, operation) in sorted(set(region.io.requests) | set(region.io.errors)):
            rows.append({"region": name, "service": service, "operation": operation,
                         "requests": region.io.requests.get((service, operation), 0),
                         "failed_calls": region.io.errors.get((service, operation), 0)})
    return pd.DataFrame(rows, columns=["region", "service", "operation", "requests", "failed_calls"])


def functions_frame(world) -> pd.DataFrame:
    memory_gb = world.scenario.engine.lambda_memory_mb / 1024.0
    rows = []
    for name, region in world.regions.items():
        for function, pool in region.pools.items():
            stats = pool.stats
            rows.append({"region": name, "function": function, "invocations": stats.invocations, "cold_starts": stats.cold_starts,
                         "throttles": stats.throttles, "failed_invocations": stats.errors, "crashes": stats.crashes,
                         "timeouts": stats.timeouts, "record_failures": stats.record_failures, "billed_ms": stats.billed_ms,
                         "gb_seconds": stats.billed_ms / 1000.0 * memory_gb})
    return pd.DataFrame(rows, columns=["region", "function", "invocations", "cold_starts", "throttles", "failed_invocations", "crashes",
                                       "timeouts", "record_failures", "billed_ms", "gb_seconds"])


def job_runs_frame(world) -> pd.DataFrame:
    rows = [
        {"region": run.region, "scheduled_s": run.scheduled_s, "started_s": run.started_s, "ended_s": run.ended_s, "attempt": run.attempt,
         "outcome": run.outcome, "expired": run.expired, "skewed": run.skewed, "delayed": run.delayed, "clean": run.clean,
         "faults": ";".join(run.faults)}
        for run in world.job_runs
    ]
    return pd.DataFrame(rows, columns=["region", "scheduled_s", "started_s", "ended_s", "attempt", "outcome", "expired", "skewed",
                                       "delayed", "clean", "faults"])


def dead_letters_frame(world) -> pd.DataFrame:
    touched_by: dict[str, list[str]] = {}
    for state in world.faults.states:
        for transaction_id in resolved(world, state)[0]:
            touched_by.setdefault(transaction_id, []).append(state.spec.label)
    rows = [
        {"queue": letter.queue, "transaction_id": letter.group, "message_id": letter.message_id, "receive_count": letter.receive_count,
         "moved_at_s": letter.moved_at, "explained_by": ";".join(touched_by.get(letter.group, ()))}
        for region in world.regions.values() for letter in region.dead_letters
    ]
    return pd.DataFrame(rows, columns=["queue", "transaction_id", "message_id", "receive_count", "moved_at_s", "explained_by"])


def fault_touches_frame(world) -> pd.DataFrame:
    """Which transactions each fault touched, in the order it first touched them; then the arrivals it touched
    whose client never got a transaction (message_index set, transaction_id empty)."""
    rows = []
    for state in world.faults.states:
        transactions, arrivals = resolved(world, state)
        rows += [{"fault": state.spec.index, "action": state.spec.action, "transaction_id": tid, "message_index": None}
                 for tid in transactions]
        rows += [{"fault": state.spec.index, "action": state.spec.action, "transaction_id": None, "message_index": index}
                 for index in arrivals]
    frame = pd.DataFrame(rows, columns=["fault", "action", "transaction_id", "message_index"])
    frame["message_index"] = frame["message_index"].astype("Int64")
    return frame
