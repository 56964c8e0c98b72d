"""Invariants checked after every run. Each one either holds or fails with a message naming transaction ids."""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.metrics import TERMINAL
from engine.steps.process import DUPLICATE_REASON
from engine.steps.deadline import CLEARING_TIMEOUT, SETTLEMENT_TIMEOUT
from engine.steps.recover import CLEARING_ABORTED, SETTLEMENT_ABORTED

TIMEOUT_REASONS = frozenset({CLEARING_TIMEOUT, SETTLEMENT_TIMEOUT})
TAKEOVER_REASONS = frozenset({CLEARING_ABORTED, SETTLEMENT_ABORTED})
SHOWN = 5  # transaction ids quoted per failed invariant


@dataclass(frozen=True)
class Verdict:
    name: str
    ok: bool
    detail: str
    transaction_ids: tuple[str, ...] = field(default=())

    def line(self) -> str:
        return f"{'PASS' if self.ok else 'FAIL'} {self.name}: {self.detail}"


def _verdict(name: str, rule: str, offenders: list[tuple[str, str]]) -> Verdict:
    """offenders: (transaction id, what is wrong with it), in a deterministic order."""
    if not offenders:
        return Verdict(name, True, rule)
    shown = "; ".join(f"{tid}: {why}" for tid, why in offenders[:SHOWN])
    more = f" (and {len(offenders) - SHOWN} more)" if len(offenders) > SHOWN else ""
    return Verdict(name, False, f"{rule} -- violated by {len(offenders)} transaction(s): {shown}{more}",
                   tuple(tid for tid, _ in offenders))



def check_all(world, snap, drained: bool, end_s: float) -> list[Verdict]:
    verdicts = _single_region_checks(world, snap, drained, end_s)
    if getattr(world, "hub", None) is None:
        return verdicts
    return accept_tradeoffs(world, verdicts + multi_region_checks(world, end_s))


def _single_region_checks(world, snap, drained: bool, end_s: float) -> list[Verdict]:
    return [
        one_terminal_status(world, snap),
        terminal_never_changes(world, snap),
        payload_archived(snap),
        reply_available(snap),
        no_overdue_in_flight(world, snap, end_s),
        decisions_match_messages(world, snap),
        no_double_settlement(world, snap),
        dlq_explained(world),
        run_drained(world, snap, drained, end_s),
        faults_fired(world),
    ]


def one_terminal_status(world, snap) -> Verdict:
    offenders = []
    for tid in world.transactions:
        facts = snap.facts.get(tid)
        if facts is None:
            offenders.append((tid, "opened but missing from the ledger"))
            continue
        terminal = sum(1 for status, _ in facts.history if status in TERMINAL)
        if terminal != 1 or not facts.terminal:
            offenders.append((tid, f"{terminal} terminal statuses, now {facts.status} [{facts.trail()}]"))
    return _verdict("one_terminal_status", "every transaction that got ACCP reaches exactly one terminal status", offenders)


def terminal_never_changes(world, snap) -> Verdict:
    offenders = []
    for tid in world.transactions:
        facts = snap.facts.get(tid)
        if facts is None:
            continue
        history = facts.history
        first = next((n for n, (status, _) in enumerate(history) if status in TERMINAL), None)
        if first is not None and (first != len(history) - 1 or facts.status != history[first][0]):
            offenders.append((tid, f"terminal {history[first][0]} changed [{facts.trail()}]"))
            continue
        if facts.version != len(history) + facts.epoch - 1:
            offenders.append((tid, f"version {facts.version} but {len(history)} history entries and {facts.epoch - 1} take-over(s) [{facts.trail()}]"))
            continue
        info = world.transactions[tid]
        client = world.clients[info.message] if info.message is not None else None
        if client is not None and client.reply_status is not None and client.reply_status != facts.status:
            offenders.append((tid, f"the client read {client.reply_status} from /outbox but the ledger ends {facts.status}"))
            continue
        if facts.reply_written is not None and facts.group_status is not None and facts.reply_written != facts.group_status:
            offenders.append((tid, f"the stored pacs.002 says {facts.reply_written} but the ledger ends {facts.group_status}"))
    return _verdict("terminal_never_changes", "a terminal status never changes (history, ledger, client's reply and stored pacs.002 agree)", offenders)


def payload_archived(snap) -> Verdict:
    offenders = []
    for tid, facts in snap.facts.items():
        if not any(status == "ACTC" for status, _ in facts.history):
            continue
        if facts.payload_ok is None:
            offenders.append((tid, "ACTC without a payload key"))
        elif not facts.payload_ok:
            offenders.append((tid, f"payload {facts.payload_key} missing from the archive or not the bytes received"))
    return _verdict("payload_archived", "every accepted message (ACTC) has its payload archived, byte for byte", offenders)


def reply_available(snap) -> Verdict:
    offenders = [(tid, f"no pacs.002 at {facts.reply_key} and none can be built")
                 for tid, facts in snap.facts.items() if facts.reply == "missing"]
    rebuilt = sum(1 for facts in snap.facts.values() if facts.reply == "rebuildable")
    rule = "every terminal transaction has its pacs.002 in the outbox"
    if rebuilt:
        rule += f" ({rebuilt} not stored yet, built by /outbox on first read)"
    return _verdict("reply_available", rule, offenders)


def no_overdue_in_flight(world, snap, end_s: float) -> Verdict:
    engine = world.scenario.engine
    cold_p99 = world.scenario.latency["lambda_cold_start"].p99_ms / 1000.0
    tolerance = engine.function_timeout_s + 3 * cold_p99
    allowance = engine.timeout_cadence_s + tolerance
    unclean = [run for run in world.job_runs if not run.clean]
    offenders = []
    explained = 0
    for tid, info in world.transactions.items():
        facts = snap.facts.get(tid)
        if facts is None:
            continue
        deadline = facts.deadline_s
        done = info.terminal_s if info.terminal_s is not None else end_s
        if done <= deadline + allowance:
            continue
        if any(run.region == info.region and deadline - tolerance <= run.scheduled_s <= done for run in unclean):
            explained += 1
            continue
        state = facts.status if info.terminal_s is None else f"terminal only at {done:.3f} s"
        offenders.append((tid, f"deadline {deadline:.3f} s, {state}, with every timeout-job run in between clean"))
    rule = (f"nothing stays in flight past its deadline + the timeout cadence ({engine.timeout_cadence_s:g} s) + "
            f"{tolerance:g} s for the job's run (function timeout + 3 x cold-start p99)")
    if explained:
        rule += f"; {explained} late transaction(s) explained by failed, delayed or skewed timeout-job runs"
    return _verdict("no_overdue_in_flight", rule, offenders)


def decisions_match_messages(world, snap) -> Verdict:
    """Valid messages settle (or time out); invalid-by-design ones are rejected with their reason (or time out);
    a transaction without a message (the client lost its id) times out. Of a UETR pair (duplicate_uetr), at most
    one settles and the other is rejected AM05."""
    duplicated_originals = {c.duplicate_of for c in world.clients if c.kind == "duplicate_uetr"}
    # a take-over cancels (AB02/AB04) what it cannot re-drive: a legitimate end for any message. The recover runs
    # record their cancellations, except a run that failed after cancelling; the ledger shows those: taken over
    # (epoch > 1) and cancelled with a take-over reason
    taken_over_cancelled = {tid for run in getattr(world, "recover_runs", ()) for tid in run.cancelled}
    taken_over_cancelled |= {tid for tid, facts in snap.facts.items()
                             if facts.epoch > 1 and facts.status == "CANC" and facts.reason_code in TAKEOVER_REASONS}
    offenders = []
    for tid, info in world.transactions.items():
        facts = snap.facts.get(tid)
        if facts is None or not facts.terminal:
            continue
        reason, status = facts.reason_code, facts.status
        timed_out = (status == "RJCT" and reason in TIMEOUT_REASONS) or (status == "CANC" and tid in taken_over_cancelled)
        ended = f"{status} {reason or ''}".strip()
        if info.message is None:
            if not timed_out:
                offenders.append((tid, f"no message was posted, yet it ended {ended}"))
            continue
        client = world.clients[info.message]
        if client.kind is None:
            ok = status == "ACSC" or timed_out or (status == "RJCT" and reason == DUPLICATE_REASON and client.index in duplicated_originals)
            if not ok:
                offenders.append((tid, f"valid message #{client.index} ended {ended}"))
        elif client.kind == "duplicate_uetr":
            original = _final_of_message(world, snap, client.duplicate_of)
            ok = (status == "RJCT" and reason == DUPLICATE_REASON) or timed_out or (status == "ACSC" and original != "ACSC")
            if not ok:
                offenders.append((tid, f"duplicate_uetr message #{client.index} ended {ended} while its original ended {original}"))
        else:
            ok = (status == "RJCT" and reason == client.expected_reason) or timed_out
            if not ok:
                offenders.append((tid, f"{client.kind} message #{client.index} ended {ended}, expected RJCT {client.expected_reason}"))
    return _verdict("decisions_match_messages", "valid messages settle, invalid ones are rejected with their ISO reason (timeouts excepted)", offenders)


def _final_of_message(world, snap, index: int | None) -> str | None:
    if index is None:
        return None
    tid = world.clients[index].transaction_id
    facts = snap.facts.get(tid) if tid else None
    return facts.status if facts is not None else None


def no_double_settlement(world, snap) -> Verdict:
    settled_by: dict[str, str] = {}
    offenders = []
    for tid, info in world.transactions.items():
        facts = snap.facts.get(tid)
        if facts is None or facts.status != "ACSC" or info.message is None:
            continue
        client = world.clients[info.message]
        for uetr, outcome in zip(client.uetrs, facts.payments):
            if outcome != "ACSC":
                continue
            other = settled_by.setdefault(uetr, tid)
            if other != tid:
                offenders.append((tid, f"UETR {uetr} settled again; first settled by {other}"))
    return _verdict("no_double_settlement", "no payment (UETR) settles twice", offenders)


def dlq_explained(world) -> Verdict:
    """A message in a dead-letter queue is explained only by a fault that touched its transaction. An invalid
    message is never a reason: the engine must reject bad input with a pacs.002, not by failing on it."""
    from sim.metrics import resolved

    touched = {tid for state in world.faults.states for tid in resolved(world, state)[0]}
    offenders = []
    total = 0
    for region in world.regions.values():
        for letter in region.dead_letters:
            total += 1
            if letter.group not in touched:
                info = world.transactions.get(letter.group)
                client = world.clients[info.message] if info is not None and info.message is not None else None
                kind = f" ({client.kind or 'valid'} message #{client.index})" if client else ""
                offenders.append((letter.group, f"{letter.queue} message {letter.message_id}{kind} after {letter.receive_count} receives, no fault touched it"))
    rule = "no message sits in a dead-letter queue unless a fault touched its transaction"
    if total and not offenders:
        rule += f" ({total} dead letter(s), all explained)"
    return _verdict("dlq_explained", rule, offenders)


def run_drained(world, snap, drained: bool, end_s: float) -> Verdict:
    if drained:
        return Verdict("drained", True, f"after the load, the world ran until every transaction was terminal and the queues empty (at {end_s:.1f} s)")
    offenders = [(tid, f"still {snap.facts[tid].status if tid in snap.facts else 'missing'}")
                 for tid, info in world.transactions.items() if info.terminal_s is None]
    waiting = sum(q.visible + q.in_flight for r in world.regions.values() for q in r.queues.values())
    detail = (f"the world did not drain within drain_limit_s = {world.scenario.drain_limit_s:g} s after the load "
              f"({waiting} queue message(s), {world.active_clients} client(s) still active)")
    if not offenders:
        return Verdict("drained", False, detail)
    return _verdict("drained", detail, offenders)


def faults_fired(world) -> Verdict:
    from sim.metrics import resolved

    lines, vacuous = [], []
    for state in world.faults.states:
        label = f"{state.spec.label} {state.spec.start_s:g}-{state.spec.end_s:g} s"
        transactions, arrivals = resolved(world, state)
        if state.hits == 0:
            vacuous.append(f"{label} never fired")
        elif not transactions and not arrivals:
            vacuous.append(f"{label} fired {state.hits} time(s) but touched no transaction")
        else:
            more = f" and {len(arrivals)} arrival(s) that never got one" if arrivals else ""
            lines.append(f"{label}: {len(transactions)} transaction(s){more}")
    if vacuous:
        return Verdict("faults_fired", False, "every fault must touch at least one transaction, or the scenario proves nothing -- " + "; ".join(vacuous))
    if not world.faults.states:
        return Verdict("faults_fired", True, "no faults in this scenario")
    return Verdict("faults_fired", True, "every fault touched transactions: " + "; ".join(lines))


# -- two regions -----------------------------------------------------------------------------------------------------
def multi_region_checks(world, end_s: float) -> list[Verdict]:
    from sim.multiregion import failovers, split_brain

    rows = failovers(world)
    return [no_split_brain(world, split_brain(world)), terminal_within_bound(world, end_s), failures_detected(world, rows),
            in_flight_taken_over(world, rows)]


def no_split_brain(world, brain: dict[str, str]) -> Verdict:
    offenders = sorted(brain.items())
    return _verdict("no_split_brain", "no transaction settled in both regions or decided differently by them (terminal writes, "
                    "and the replicas after the final flush)", offenders)


def terminal_within_bound(world, end_s: float) -> Verdict:
    from sim.multiregion import terminal_bound_s

    scenario = world.scenario
    bound = terminal_bound_s(scenario)
    f = scenario.failover
    offenders = []
    for tid, info in world.transactions.items():
        done = info.terminal_s if info.terminal_s is not None else end_s
        if done - info.opened_s > bound:
            offenders.append((tid, f"opened at {info.opened_s:.3f} s in {info.region}, "
                                   + (f"terminal only at {done:.3f} s" if info.terminal_s is not None else "never terminal")))
    rule = (f"every transaction is terminal within SLA + detection bound = {scenario.engine.sla_seconds} + "
            f"({f.down_after_probes} x {f.recover_cadence_s:g} + {f.probe_timeout_s}) + timeout cadence {scenario.engine.timeout_cadence_s:g} "
            f"+ the job's run {bound - scenario.engine.sla_seconds - f.detection_bound_s() - scenario.engine.timeout_cadence_s:g} = {bound:g} s "
            "after its opening")
    return _verdict("terminal_within_bound", rule, offenders)


def failures_detected(world, rows) -> Verdict:
    """The peer declares a failure down by its N-th recover run that probed during it. Runs of the peer lost during
    the failure (the peer itself down or without quorum, the job throttled, failed or crashed by a fault) probe
    nothing: each one adds a cadence to that failure's bound, and a failure that ends within its bound may go
    undetected (it ended before the peer could probe N times)."""
    from sim.multiregion import detection_bound_s

    f = world.scenario.failover
    bound = detection_bound_s(world.scenario)
    problems = []
    for row in rows:
        own = row["detection_bound_s"]
        lost = f" ({row['observer_runs_lost']} of the peer's recover runs lost: bound {own:g} s)" if row["observer_runs_lost"] else ""
        if row["duration_s"] <= own:
            continue  # may end before N probes failed: nothing to detect
        if not row["detected"]:
            problems.append(f"fault #{row['fault']} ({row['action']} of {row['region']} for {row['duration_s']:g} s) never declared down{lost}")
        elif row["detection_time_s"] > own:
            problems.append(f"fault #{row['fault']} declared down after {row['detection_time_s']:g} s{lost}")
    rule = (f"a failure is declared down by the peer within N x recover cadence + probe timeout = {f.down_after_probes} x "
            f"{f.recover_cadence_s:g} + {f.probe_timeout_s:g} = {bound:g} s, plus {f.recover_cadence_s:g} s for each recover run "
            "of the peer lost during it (the peer down or without quorum, its job throttled or failed); a failure shorter "
            "than that bound needs no detection")
    if problems:
        return Verdict("failures_detected", False, rule + " -- " + "; ".join(problems))
    shown = ", ".join(f"#{row['fault']} in {row['detection_time_s']:g} s" + (f" (bound {row['detection_bound_s']:g} s)" if row["observer_runs_lost"] else "")
                      for row in rows if row["detected"])
    return Verdict("failures_detected", True, rule + (f" (detected: {shown})" if shown else ""))


def in_flight_taken_over(world, rows) -> Verdict:
    """A transaction is named once, at the first failure that left it behind (a take-over in a recover run that
    failed is not in the world's ownership record, so a later failure of the same region may list it again)."""
    offenders, named = [], set()
    for row in rows:
        unseen = set(row.get("unseen", ()))
        left = [(tid, "its record had not reached the peer's replica when the failure began (eventual replication): the peer "
                      "took it over only once the failure had ended" if tid in unseen else
                      "declared down, yet neither re-driven, cancelled nor adopted by the peer") for tid in row["stranded"]]
        left += list(row.get("redrive_lost", {}).items())
        for tid, why in left:
            if tid not in named:
                named.add(tid)
                offenders.append((tid, f"in flight in {row['region']} at fault #{row['fault']} ({row['start_s']:g} s), {why}"))
    summary = "; ".join(f"#{row['fault']}: {row['in_flight_at_failure']} in flight, {row['redriven']} re-driven, {row['cancelled']} cancelled, "
                        f"{row['adopted']} adopted, {row['expired']} timed out after a take-over its recover run failed to finish, "
                        f"{row['finished_by_owner']} finished by their region" for row in rows if row["detected"])
    rule = ("every transaction in flight in a region declared down is re-driven, cancelled or adopted by the peer (or, taken "
            "over by a recover run that failed before re-driving it and with no later run before its deadline, rejected "
            "by the timeout job)")
    return _verdict("in_flight_taken_over", rule + (f" ({summary})" if summary else ""), offenders)


TRADEOFF_OF = {"no_split_brain": "split_brain", "in_flight_taken_over": "stranded"}


def accept_tradeoffs(world, verdicts: list[Verdict]) -> list[Verdict]:
    """Eventual mode: a violation that is the mode's declared, measured price (replication.accepted_tradeoffs) is
    reported as such, not failed. Another invariant that fails only on those same transactions is accepted too."""
    accepted = world.scenario.replication.accepted_tradeoffs
    if not accepted:
        return verdicts
    covered: set[str] = set()
    out = []
    for verdict in verdicts:
        kind = TRADEOFF_OF.get(verdict.name)
        if kind in accepted and not verdict.ok:
            covered.update(verdict.transaction_ids)
    for verdict in verdicts:
        kind = TRADEOFF_OF.get(verdict.name)
        if not verdict.ok and verdict.transaction_ids and (kind in accepted or set(verdict.transaction_ids) <= covered):
            why = f"accepted trade-off {kind}" if kind in accepted else "only transactions of an accepted trade-off"
            out.append(Verdict(verdict.name, True, f"[{why}, eventual mode] {verdict.detail}", verdict.transaction_ids))
        else:
            out.append(verdict)
    return out
