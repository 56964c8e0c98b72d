"""The report of a run: counts, percentiles, rates, dead letters, AWS requests and cost, faults, invariants and
expectations; as a dict (report.json) and as text (report.txt)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from sim import pricing
from sim.invariants import TIMEOUT_REASONS, Verdict


def _round(value: float | None, digits: int = 6) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), digits)


def compute_metrics(result) -> dict[str, Any]:
    tx: pd.DataFrame = result.transactions
    messages: pd.DataFrame = result.messages
    functions: pd.DataFrame = result.functions
    requests: pd.DataFrame = result.requests
    world = result.world
    with_message = tx[tx["kind"] != "orphan"]
    valid = with_message[~with_message["invalid_by_design"]]
    invalid = with_message[with_message["invalid_by_design"]]
    times = tx["time_to_terminal_s"].dropna().to_numpy(dtype=float)

    def pct(q: float) -> float | None:
        return _round(float(np.percentile(times, q))) if len(times) else None

    rejected_valid = int((valid["final_status"] == "RJCT").sum())
    rejected_invalid = int((invalid["final_status"] == "RJCT").sum())
    timeouts = int(((tx["final_status"] == "RJCT") & tx["reason_code"].isin(sorted(TIMEOUT_REASONS))).sum())
    lambda_requests = int(functions["invocations"].sum())
    gb_seconds = float(functions["gb_seconds"].sum())
    api_requests = int(messages["open_attempts"].sum() + messages["post_attempts"].sum() + messages["polls"].sum())
    schedule_invocations = sum(1 for run in world.job_runs if run.attempt == 0 and run.outcome != "skipped-outage")
    request_counts: dict[tuple[str, str], int] = {}
    failed_calls: dict[tuple[str, str], int] = {}
    for r in requests.itertuples():  # one row per region, service and operation: summed over the regions
        request_counts[r.service, r.operation] = request_counts.get((r.service, r.operation), 0) + int(r.requests)
        failed_calls[r.service, r.operation] = failed_calls.get((r.service, r.operation), 0) + int(r.failed_calls)
    capacity: dict[str, float] = {}
    for region in world.regions.values():
        for key, value in region.io.capacity.items():
            capacity[key] = capacity.get(key, 0.0) + value
    idle_polls = pricing.ESM_POLLERS * len(world.regions) * 3 * result.end_s / pricing.LONG_POLL_S
    cost = pricing.estimate(request_counts, capacity, lambda_requests, gb_seconds, api_requests, schedule_invocations, idle_polls)
    total_cost = sum(cost.values())
    count = len(tx)
    by_status = tx.groupby(["final_status", tx["reason_code"].fillna("")], dropna=False).size()
    status_reason = {}
    for (status, reason), n in sorted(by_status.items(), key=lambda item: (str(item[0][0]), str(item[0][1]))):
        status_reason[f"{status} {reason}".strip()] = int(n)
    return {
        "transactions": count,
        "messages": len(messages),
        "valid_messages": int((messages["kind"] == "valid").sum()),
        "invalid_messages": int((messages["kind"] != "valid").sum()),
        "orphan_transactions": int((tx["kind"] == "orphan").sum()),
        "settled": int((tx["final_status"] == "ACSC").sum()),
        "rejected": int((tx["final_status"] == "RJCT").sum()),
        "cancelled": int((tx["final_status"] == "CANC").sum()),
        "failed": int((tx["final_status"] == "FAIL").sum()),
        "not_terminal": int((~tx["final_status"].isin(["ACSC", "RJCT", "CANC", "FAIL"])).sum()),
        "final_status_reason": status_reason,
        "timeouts": timeouts,
        "p50_time_to_terminal_s": pct(50),
        "p95_time_to_terminal_s": pct(95),
        "p99_time_to_terminal_s": pct(99),
        "max_time_to_terminal_s": _round(float(times.max())) if len(times) else None,
        "rejection_rate": _round(rejected_valid / len(valid)) if len(valid) else 0.0,
        "rejected_valid": rejected_valid,
        "invalid_rejection_rate": _round(rejected_invalid / len(invalid)) if len(invalid) else None,
        "rejected_invalid": rejected_invalid,
        "settled_share": _round(int((valid["final_status"] == "ACSC").sum()) / len(valid)) if len(valid) else None,
        "dlq_messages": int(len(result.dead_letters)),
        "redeliveries": int(tx["redeliveries"].sum()),
        "client_give_ups": int(messages["gave_up"].sum()),
        "failed_opens": int((messages["open_status"].fillna(0) != 200).sum()),
        "client_retries": int(tx["client_retries"].sum()),
        "cold_starts": int(functions["cold_starts"].sum()),
        "throttled_invocations": int(functions["throttles"].sum()),
        "failed_invocations": int(functions["failed_invocations"].sum()),
        "lambda_invocations": lambda_requests,
        "lambda_gb_seconds": _round(gb_seconds),
        "api_requests": api_requests,
        "aws_requests": {f"{service}.{operation}": n for (service, operation), n in sorted(request_counts.items())},
        "aws_requests_failed": {f"{service}.{operation}": n for (service, operation), n in sorted(failed_calls.items()) if n},
        "dynamodb_capacity_units": {k: _round(v) for k, v in sorted(capacity.items())},
        "sqs_idle_polls_estimated": _round(idle_polls, 1),
        "cost_usd": {k: _round(v, 8) for k, v in cost.items()},
        "cost_total_usd": _round(total_cost, 8),
        "cost_per_million_usd": _round(total_cost / count * 1e6, 2) if count else None,
        "errors": {f"{function} {kind}": n for (function, kind), n in sorted(world.errors.items())},
        **_multi_region(world),
    }


MULTI_REGION_METRICS = ("detection_time_s", "takeover_time_s", "in_flight_at_failure", "redriven", "cancelled_by_takeover", "adopted",
                        "fenced", "lww_conflicts", "lww_disagreements", "claim_conflicts", "split_brain_transactions",
                        "stranded_transactions", "declared_down")


def _multi_region(world) -> dict[str, Any]:
    if getattr(world, "hub", None) is None:
        return {}
    from sim.multiregion import summary

    found = summary(world)
    return {**{key: found[key] for key in MULTI_REGION_METRICS}, "multi_region": found}


def expectation_verdicts(scenario, metrics: dict[str, Any]) -> list[Verdict]:
    verdicts = []
    for expectation in scenario.expect:
        observed = metrics.get(expectation.metric)
        ok = expectation.holds(observed)
        shown = "n/a" if observed is None else f"{observed:g}"
        verdicts.append(Verdict(expectation.key, ok, f"{expectation.text()} (observed {shown})"))
    return verdicts


def build(result) -> dict[str, Any]:
    metrics = result.metrics
    scenario = result.scenario
    return {
        "scenario": scenario.name,
        "scenario_file": scenario.source,
        "description": scenario.description,
        "seed": result.seed,
        "backend": result.backend,
        "load_duration_s": scenario.duration_s,
        "ended_at_s": _round(result.end_s),
        "drained": result.drained,
        "metrics": metrics,
        "faults": [
            {"index": row.index, "action": row.action, "region": row.region, "start_s": row.start_s, "duration_s": row.duration_s,
             "fired": bool(row.fired), "hits": int(row.hits), "first_fired_s": _round(row.first_fired_s),
             "transactions_touched": int(row.transactions_touched),
             "arrivals_touched_without_transaction": int(row.arrivals_touched_without_transaction)}
            for row in result.faults.itertuples()
        ],
        "invariants": [{"name": v.name, "ok": v.ok, "detail": v.detail} for v in result.invariants],
        "expectations": [{"name": v.name, "ok": v.ok, "detail": v.detail} for v in result.expectations],
        "price_table": f"{pricing.PRICE_REGION} list prices as of {pricing.PRICE_DATE}",
        "ok": result.ok,
    }


def text(report: dict[str, Any], functions: pd.DataFrame) -> str:
    m = report["metrics"]
    lines = [
        f"rp2 simulate: {report['scenario']} (seed {report['seed']}, backend {report['backend']})",
        f"scenario file: {report['scenario_file']}",
    ]
    if report["description"]:
        lines.append(f"  {report['description']}")
    lines += [
        f"virtual time: {report['load_duration_s']:g} s of load, world stopped at {report['ended_at_s']:.1f} s "
        f"({'drained' if report['drained'] else 'NOT drained'})",
        "",
        f"messages: {m['messages']} ({m['valid_messages']} valid, {m['invalid_messages']} invalid by design); "
        f"transactions opened: {m['transactions']} ({m['orphan_transactions']} without a message)",
        f"clients: {m['failed_opens']} could not open a transaction, {m['client_give_ups']} gave up before an answer, "
        f"{m['client_retries']} retried requests",
        "final status:",
    ]
    for key, n in m["final_status_reason"].items():
        lines.append(f"  {key:<12} {n:>9}")
    def fmt(value):
        return "n/a" if value is None else f"{value:.3f}"
    lines += [
        f"time to terminal (s): p50 {fmt(m['p50_time_to_terminal_s'])}  p95 {fmt(m['p95_time_to_terminal_s'])}  "
        f"p99 {fmt(m['p99_time_to_terminal_s'])}  max {fmt(m['max_time_to_terminal_s'])}",
        f"rejection rate: valid messages {m['rejection_rate']:.4f} ({m['rejected_valid']} rejected, {m['timeouts']} timeouts in all); "
        + (f"invalid by design {m['invalid_rejection_rate']:.4f} ({m['rejected_invalid']} of {m['invalid_messages']})"
           if m["invalid_rejection_rate"] is not None else "no invalid messages"),
        f"dead-letter queues: {m['dlq_messages']} message(s); redeliveries: {m['redeliveries']}",
        "",
        "Lambda:     function  invocations  cold  failed  throttled  crashes  timeouts   GB-s",
    ]
    for row in functions.itertuples():
        lines.append(f"  {row.region:<10} {row.function:<8} {row.invocations:>11} {row.cold_starts:>5} {row.failed_invocations:>7} "
                     f"{row.throttles:>10} {row.crashes:>8} {row.timeouts:>9} {row.gb_seconds:>7.1f}")
    lines.append(f"AWS requests (counted at the sim adapters; {m['api_requests']} API Gateway requests):")
    for key, n in m["aws_requests"].items():
        failed = m["aws_requests_failed"].get(key)
        lines.append(f"  {key:<28} {n:>10}" + (f"  ({failed} calls failed after SDK retries)" if failed else ""))
    lines.append(f"estimated AWS cost, {report['price_table']}: ${m['cost_per_million_usd']:.2f} per million transactions"
                 if m["cost_per_million_usd"] is not None else "estimated AWS cost: no transactions")
    for service, dollars in m["cost_usd"].items():
        per_million = dollars / m["transactions"] * 1e6 if m["transactions"] else 0.0
        lines.append(f"  {service:<12} ${per_million:>9.2f}")
    lines.append(f"  (not included: {pricing.NOT_INCLUDED})")
    if m["errors"]:
        lines.append("errors raised by steps (records reported as batch item failures):")
        for key, n in m["errors"].items():
            lines.append(f"  {key:<40} {n:>8}")
    if "multi_region" in m:
        lines += ["", *_multi_region_lines(m["multi_region"])]
    lines += ["", "faults:"]
    if not report["faults"]:
        lines.append("  none")
    for fault in report["faults"]:
        fired = f"fired {fault['hits']} time(s) from {fault['first_fired_s']:.3f} s" if fault["fired"] else "NEVER FIRED"
        lines.append(f"  #{fault['index']} {fault['action']} {fault['region']} {fault['start_s']:g}-{fault['start_s'] + fault['duration_s']:g} s: "
                     f"{fired}, touched {fault['transactions_touched']} transaction(s)"
                     + (f" and {fault['arrivals_touched_without_transaction']} arrival(s) that never got one"
                        if fault["arrivals_touched_without_transaction"] else ""))
    lines += ["", "invariants:"]
    lines += [f"  {'PASS' if v['ok'] else 'FAIL'} {v['name']}: {v['detail']}" for v in report["invariants"]]
    lines += ["expectations:"]
    lines += [f"  {'PASS' if v['ok'] else 'FAIL'} {v['detail']}" for v in report["expectations"]] or ["  none"]
    lines += ["", f"verdict: {'PASS' if report['ok'] else 'FAIL'}"]
    return "\n".join(lines) + "\n"


def _multi_region_lines(mr: dict[str, Any]) -> list[str]:
    lines = [
        f"multi-region ({mr['consistency']}{', witness ' + mr['witness'] if mr['witness'] else ''}): detection bound {mr['detection_bound_s']:g} s, "
        f"terminal bound {mr['terminal_bound_s']:g} s; declared down {mr['declared_down']} time(s), up {mr['declared_up']}; "
        f"{mr['recover_runs_failed']} recover run(s) failed",
    ]
    for row in mr["failures"]:
        detected = (f"detected in {row['detection_time_s']:g} s, taken over by {row['takeover_time_s']:g} s" if row["detected"]
                    else "not declared down")
        lines.append(f"  fault #{row['fault']} {row['action']} {row['region']} at {row['start_s']:g} s for {row['duration_s']:g} s: {detected}; "
                     f"in flight {row['in_flight_at_failure']}: re-driven {row['redriven']}, cancelled {row['cancelled']}, "
                     f"adopted {row['adopted']}, finished by its region {row['finished_by_owner']}, stranded {row['stranded']}"
                     + (f" ({row['unseen']} not yet replicated to the peer when it failed)" if row["unseen"] else "")
                     + (f", timed out after a take-over its recover run failed to finish {row['expired']}" if row["expired"] else ""))
    lines.append(f"  take-overs in all: re-driven {mr['redriven']}, cancelled {mr['cancelled_by_takeover']}, adopted {mr['adopted']}; "
                 f"duplicates prevented by fencing: {mr['fenced']} {mr['fenced_by_step'] or ''}")
    lines.append(f"  last writer wins: {mr['lww_conflicts']} conflict(s) resolved, {mr['lww_disagreements']} where the regions had decided "
                 f"differently; {mr['claim_conflicts']} claim conflict(s); split-brain transactions {mr['split_brain_transactions']}; "
                 f"stranded {mr['stranded_transactions']}; {mr['items_replicated']} item(s) replicated")
    if mr["lww_disagreements"]:
        worth = lambda value: ", ".join(f"{currency} {amount}" for currency, amount in value.items()) or "nothing"  # noqa: E731
        lines.append(f"  what last writer wins cost: payments decided differently worth {worth(mr['lww_disagreement_value'])}; "
                     f"{mr['lww_settlements_overwritten']} settlement(s) overwritten by a region that had not seen them "
                     f"(the ledger no longer shows money that moved), worth {worth(mr['lww_settlements_overwritten_value'])}")
    for example in mr["lww_disagreement_examples"]:
        lines.append(f"    {example}")
    return lines
