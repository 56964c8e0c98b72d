"""Two regions: the links between them, the global table in its two modes, the archive's cross-region copy, and the
peer health probes of the recover job.

``strong`` (multi-Region strong consistency): one linearizable table; a region that cannot reach a majority of
{region A, region B, witness} fails every call fast with ``Unavailable`` (what the AWS adapter raises for the 5xx
DynamoDB answers), the majority side carries on. ``eventual``: each region reads and writes its own replica; every
write is copied, whole item, to the other replica after a lag drawn from the scenario's distribution, queued while
the link is down (region outage, cross-region cut, replication paused) and flushed after; last writer wins per item
by write timestamp, and each conflict that rule resolves is recorded. The archive (``inbox/`` and ``outbox/``
objects) is copied across regions in both modes, with its own lag. The engine is unchanged: the regions' ports are
these stores, wrapped around the backend's (memory adapters, or the AWS adapters over moto, which replicates nothing
itself): the replication is this module's process on both backends, writing copies through the adapters'
``put_replica*`` (engine.ports, replication).
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Callable

from lxml import etree

from engine.ledger import Transaction
from engine.ports import Unavailable
from sim.adapters import transaction_of_key
from sim.latency import lognormal_seconds

STAMP_STEP_S = 1e-5  # a region's next write is stamped at least this much after its previous one
CUT = "aws:network:route-table-disrupt-cross-region-connectivity"
PAUSE = "aws:dynamodb:global-table-pause-replication"
LAG = "rp2:replication-lag"
BLOCKED_RETRY_S = 1.0
PROBE_RTT_S = 0.07  # a cross-region HTTPS health probe that answers


class Links:
    """Who reaches whom at a moment. The witness region never fails (scenarios target only the world's regions)."""

    def __init__(self, faults) -> None:
        self.faults = faults
        self.cuts = faults.of(CUT)
        self.pauses = faults.of(PAUSE)
        self.lags = faults.of(LAG)

    def down(self, region: str, now: float):
        return self.faults.region_down(region, now)

    def cut(self, a: str, b: str, now: float):
        for state in self.cuts:
            if state.start <= now < state.end and state.region in (a, b):
                return state
        return None

    def unreachable(self, a: str, b: str, now: float):
        """The fault that keeps a from reaching b (None: reachable)."""
        return self.down(a, now) or self.down(b, now) or self.cut(a, b, now)

    def replication_blocked(self, src: str, dst: str, now: float):
        blocked = self.unreachable(src, dst, now)
        if blocked is not None:
            return blocked
        for state in self.pauses:
            if state.start <= now < state.end and state.region in (src, dst):
                return state
        return None

    def added_lag(self, src: str, now: float, tid: str | None) -> float:
        extra = 0.0
        for state in self.lags:
            if state.active(src, now):
                extra += lognormal_seconds(state.stream, state.params["added_p50_ms"], state.params["added_p99_ms"])
                state.hit(now, (tid,) if tid else ())
        return extra


@dataclass(frozen=True)
class Conflict:
    """Two regions wrote one item without seeing each other's write; last writer wins kept one."""

    transaction_id: str
    at_s: float
    kept: str  # status kept
    lost: str  # status overwritten
    kept_region: str
    lost_region: str
    value: tuple[tuple[str, Decimal], ...] = ()  # the payments' amounts by currency, where the regions disagreed

    @property
    def disagreement(self) -> bool:
        """What last writer wins cost: the regions had decided differently (one of them terminal)."""
        return self.kept != self.lost and (self.kept in _TERMINAL or self.lost in _TERMINAL)


_TERMINAL = frozenset({"ACSC", "RJCT", "CANC", "FAIL"})


def _descends(incoming: Transaction, current: Transaction) -> bool:
    """incoming was written by a region that had seen current."""
    return (incoming.version > current.version and incoming.epoch >= current.epoch
            and incoming.history[: len(current.history)] == current.history)


class Hub:
    """The cross-region machinery of one run: links, replication queues (one per direction), quorum checks.

    The stores are the backend's (memory adapters or the AWS adapters over moto), wrapped per region: in strong mode
    one ledger and routing store both regions use (``QuorumLedger``, ``QuorumRouting``); in eventual mode each region's
    own, stamped, replicated by ``send`` and ``_apply`` through the adapters' ``put_replica*`` (``ReplicaLedger``,
    ``ReplicaRouting``); the archive in both modes (``ReplicatedArchive``)."""

    def __init__(self, world, regions: tuple[str, str], witness: str | None, spec) -> None:
        self.world = world
        self.env = world.env
        self.regions = regions
        self.witness = witness
        self.spec = spec
        self.strong = spec.consistency == "strong"
        self.links = Links(world.faults)
        self._lag = world.streams("replication/lag")
        self._seq = itertools.count()
        self._queues: dict[tuple[str, str], list] = {(a, b): [] for a in regions for b in regions if a != b}
        self._wake = {key: self.env.event() for key in self._queues}
        self.replicas: dict[str, dict[str, Any]] = {}  # region -> {"ledger", "routing", "archive"}
        self.conflicts: list[Conflict] = []
        self.claim_conflicts = 0
        self.replicated = 0
        self._last_stamp: dict[str, float] = {}

    def peer(self, region: str) -> str:
        return next(r for r in self.regions if r != region)

    def now(self, region: str) -> float:
        return self.world.regions[region].io.now() if region in self.world.regions else self.env.now

    # -- stores of one region ---------------------------------------------------------------------------------
    @property
    def shared_ledger_region(self) -> str | None:
        """Strong mode: the region whose table both regions use (one linearizable table); eventual: None."""
        return self.regions[0] if self.strong else None

    def stamper(self, region: str, clock) -> Callable[[], tuple[float, str]]:
        """The stamp of a write made now in a region: its clock (skew included) and its name, never earlier than the
        region's previous stamp. Two invocations running at one virtual moment each read the clock at their own point
        in their run, so a write that saw another could read an earlier time; the table's own clock stamps a region's
        writes in the order it applies them, and so does this."""
        def issue() -> tuple[float, str]:
            stamp = max(clock.now().timestamp(), self._last_stamp.get(region, 0.0) + STAMP_STEP_S)
            self._last_stamp[region] = stamp
            return stamp, region

        return issue

    def stores(self, region: str, ledger, routing, archive) -> tuple[Any, Any, Any]:
        """Wrap a region's backend stores (stamped ones where they replicate, the shared ones in strong mode)."""
        archive = ReplicatedArchive(self, region, archive)
        if self.strong:
            ledger = QuorumLedger(self, region, ledger)
            routing = QuorumRouting(self, region, routing)
        else:
            ledger = ReplicaLedger(self, region, ledger)
            routing = ReplicaRouting(self, region, routing)
        self.replicas[region] = {"ledger": ledger, "routing": routing, "archive": archive}
        return ledger, routing, archive

    def start(self) -> None:
        for key in self._queues:
            self.env.process(self._pump(*key))

    # -- strong: the quorum --------------------------------------------------------------------------------------
    def require_quorum(self, region: str, tid: str | None) -> None:
        io = self.world.regions[region].io
        if io.armed is not None:
            return  # moto: the fault layer already failed this call; the SDK raises it before any replica is reached
        now = self.now(region)
        members = [r for r in (*self.regions, self.witness) if r is not None]
        reachable, blockers = 0, []
        for member in members:
            if member == region:
                blocked = self.links.down(region, now)
            else:
                blocked = self.links.unreachable(region, member, now)
            if blocked is None:
                reachable += 1
            else:
                blockers.append(blocked)
        if reachable * 2 <= len(members):
            for state in blockers[:1]:
                state.hit(now, (tid,) if tid else ())
            raise Unavailable(f"dynamodb: {region} reaches {reachable} of {len(members)} replicas: 503 no quorum ({blockers[0].spec.label})")
        current = io.current
        if current is not None and self.spec.strong_write_ms:
            current.elapsed += self.spec.strong_write_ms / 1000.0

    def has_quorum(self, region: str, now: float) -> bool:
        members = [r for r in (*self.regions, self.witness) if r is not None]
        reachable = sum(1 for m in members if (self.links.down(region, now) if m == region else self.links.unreachable(region, m, now)) is None)
        return reachable * 2 > len(members)

    # -- replication ---------------------------------------------------------------------------------------------
    def send(self, src: str, kind: str, key: str, value: Any, tid: str | None) -> None:
        """Queue a write made in ``src`` for the other region; its stamp is the one the store recorded with it (every
        send follows the stamped write it copies, with nothing in between)."""
        dst = self.peer(src)
        now = self.now(src)
        stamp = (self._last_stamp[src], src)
        if kind == "object":
            lag = lognormal_seconds(self._lag, self.spec.archive_lag_p50_ms, self.spec.archive_lag_p99_ms)
        else:
            lag = lognormal_seconds(self._lag, self.spec.lag_p50_ms, self.spec.lag_p99_ms)
        lag += self.links.added_lag(src, now, tid)
        blocked = self.links.replication_blocked(src, dst, now)
        if blocked is not None:
            blocked.hit(now, (tid,) if tid else ())
        queue = self._queues[(src, dst)]
        heapq.heappush(queue, (now + lag, next(self._seq), kind, key, value, stamp, tid))
        wake = self._wake[(src, dst)]
        if not wake.triggered:
            wake.succeed()

    def pending(self) -> int:
        return sum(len(q) for q in self._queues.values())

    def _pump(self, src: str, dst: str):
        env, queue = self.env, self._queues[(src, dst)]
        while True:
            if not queue:
                self._wake[(src, dst)] = env.event()
                yield self._wake[(src, dst)]
                continue
            due = queue[0][0]
            if due > env.now:
                self._wake[(src, dst)] = env.event()
                yield env.timeout(due - env.now) | self._wake[(src, dst)]
                continue
            blocked = self.links.replication_blocked(src, dst, env.now)
            if blocked is not None:
                blocked.hit(env.now, (queue[0][6],) if queue[0][6] else ())
                yield env.timeout(BLOCKED_RETRY_S)
                continue
            while queue and queue[0][0] <= env.now:
                self._apply(dst, heapq.heappop(queue))

    def flush(self) -> None:
        """After the run: what is still queued arrives (the faults are over). Where the backend's stores are gone once
        the run is over (moto's mock), each replica keeps its final records for the checks made afterwards."""
        for key, queue in self._queues.items():
            while queue:
                self._apply(key[1], heapq.heappop(queue))
        if not self.strong and not getattr(self.world.backend, "keeps_state", True):
            for stores in self.replicas.values():
                stores["ledger"].freeze(self.world.transactions)

    def _apply(self, dst: str, item) -> None:
        _, _, kind, key, value, stamp, tid = item
        self.replicated += 1
        replica = self.replicas[dst]
        if kind == "object":
            replica["archive"].apply_remote(key, value, stamp)
        elif kind == "item":
            replica["ledger"].apply_remote(value, stamp)
        elif kind == "claim":
            replica["ledger"].apply_remote_claim(key, value, stamp)
        elif kind in ("state", "view"):
            replica["routing"].apply_remote(kind, key, value, stamp)


class QuorumLedger:
    """A region's endpoint of the strongly consistent global table: the one table both regions use (``shared``, through
    this region's client), behind the quorum check."""

    def __init__(self, hub: Hub, region: str, shared) -> None:
        self.hub, self.region, self.shared = hub, region, shared

    def open(self, record):
        self.hub.require_quorum(self.region, record.id)
        return self.shared.open(record)

    def get(self, transaction_id):
        self.hub.require_quorum(self.region, transaction_id)
        return self.shared.get(transaction_id)

    def transition(self, transaction_id, change):
        self.hub.require_quorum(self.region, transaction_id)
        return self.shared.transition(transaction_id, change)

    def take_over(self, transaction_id, takeover):
        self.hub.require_quorum(self.region, transaction_id)
        return self.shared.take_over(transaction_id, takeover)

    def in_flight(self, region, deadline_before, limit):
        self.hub.require_quorum(self.region, None)
        return self.shared.in_flight(region, deadline_before, limit)

    def claim(self, key, transaction_id, expires_at):
        self.hub.require_quorum(self.region, transaction_id)
        return self.shared.claim(key, transaction_id, expires_at)

    def check(self):
        self.hub.require_quorum(self.region, None)
        return self.shared.check()

    def read(self, transaction_id):
        """The final state, without quorum or latency (metrics)."""
        return self.shared.get(transaction_id)


class QuorumRouting:
    def __init__(self, hub: Hub, region: str, shared) -> None:
        self.hub, self.region, self.shared = hub, region, shared

    def region_states(self):
        self.hub.require_quorum(self.region, None)
        return self.shared.region_states()

    def declare(self, state):
        self.hub.require_quorum(self.region, None)
        self.shared.declare(state)

    def peer_view(self, observer, peer):
        self.hub.require_quorum(self.region, None)
        return self.shared.peer_view(observer, peer)

    def save_peer_view(self, view):
        self.hub.require_quorum(self.region, None)
        self.shared.save_peer_view(view)

    def states(self):
        return self.shared.region_states()


class ReplicaLedger:
    """One region's replica of the eventually consistent global table: the region's own ledger store (``inner``, which
    stamps its writes); every write is sent whole to the other region, and copies from it are applied by the store's
    conditional ``put_replica`` (last writer wins), each conflict that rule resolves recorded."""

    def __init__(self, hub: Hub, region: str, inner) -> None:
        self.hub, self.region, self.inner = hub, region, inner
        self._claimed: set[str] = set()  # claim keys this replica holds (claimed here, or copied from the peer)
        self._final: dict[str, Transaction | None] | None = None

    def _sent(self, record: Transaction) -> None:
        self.hub.send(self.region, "item", record.id, record, record.id)

    def open(self, record):
        opened = self.inner.open(record)
        if opened:
            self._sent(record)
        return opened

    def get(self, transaction_id):
        return self.inner.get(transaction_id)

    def transition(self, transaction_id, change):
        updated = self.inner.transition(transaction_id, change)
        self._sent(updated)
        return updated

    def take_over(self, transaction_id, takeover):
        updated = self.inner.take_over(transaction_id, takeover)
        self._sent(updated)
        return updated

    def in_flight(self, region, deadline_before, limit):
        return self.inner.in_flight(region, deadline_before, limit)

    def claim(self, key, transaction_id, expires_at):
        holder = self.inner.claim(key, transaction_id, expires_at)
        if holder == transaction_id and key not in self._claimed:  # the claim was written now
            self._claimed.add(key)
            self.hub.send(self.region, "claim", key, (transaction_id, expires_at), transaction_id)
        return holder

    def check(self):
        return self.inner.check()

    def read(self, transaction_id):
        """The replica's record (after the run: its final one), without latency or faults."""
        if self._final is not None:
            return self._final.get(transaction_id)
        return self.inner.get(transaction_id)

    def freeze(self, transaction_ids) -> None:
        self._final = {tid: self.inner.get(tid) for tid in transaction_ids}

    def apply_remote(self, record: Transaction, stamp) -> None:
        write = self.inner.put_replica(record, stamp)
        current = write.previous
        if current is None or current == record:
            return
        if not _descends(record, current) and not _descends(current, record):
            kept, lost = (record, current) if write.written else (current, record)
            kept_region = stamp[1] if write.written else (write.previous_stamp or (0.0, ""))[1]
            conflict = Conflict(record.id, self.hub.env.now, kept.status.value, lost.status.value, kept_region, self.hub.peer(kept_region))
            if conflict.disagreement:
                conflict = replace(conflict, value=self._value(record.payload_key or current.payload_key))
            self.hub.conflicts.append(conflict)

    def _value(self, payload_key: str | None) -> tuple[tuple[str, Decimal], ...]:
        """What the disagreement is worth: the message's settlement amounts by currency, read from either bucket."""
        for region in self.hub.regions:
            body = self.hub.replicas[region]["archive"].inner.get(payload_key) if payload_key else None
            if body is not None:
                return settlement_amounts(body)
        return ()

    def apply_remote_claim(self, key: str, value: tuple[str, int], stamp) -> None:
        transaction_id, expires_at = value
        write = self.inner.put_replica_claim(key, transaction_id, expires_at, stamp)
        self._claimed.add(key)
        if write.previous is not None and write.previous != transaction_id:
            self.hub.claim_conflicts += 1


class ReplicaRouting:
    """A region's routing store in eventual mode: each declaration and detector view is sent to the other region."""

    def __init__(self, hub: Hub, region: str, inner) -> None:
        self.hub, self.region, self.inner = hub, region, inner

    def region_states(self):
        return self.inner.region_states()

    def declare(self, state):
        self.inner.declare(state)
        self.hub.send(self.region, "state", state.region, state, None)

    def peer_view(self, observer, peer):
        return self.inner.peer_view(observer, peer)

    def save_peer_view(self, view):
        self.inner.save_peer_view(view)
        self.hub.send(self.region, "view", (view.observer, view.peer), view, None)

    def apply_remote(self, kind: str, key, value, stamp) -> None:
        if kind == "state":
            self.inner.put_replica_state(value, stamp)
        else:
            self.inner.put_replica_view(value, stamp)

    def states(self):
        return self.inner.region_states()


class ReplicatedArchive:
    """A region's bucket; every object is copied to the peer's bucket (S3 cross-region replication)."""

    def __init__(self, hub: Hub, region: str, inner) -> None:
        self.hub, self.region, self.inner = hub, region, inner

    def put(self, key, body):
        self.inner.put(key, body)
        self.hub.send(self.region, "object", key, bytes(body), transaction_of_key(key))

    def get(self, key):
        return self.inner.get(key)

    def check(self):
        return self.inner.check()

    def apply_remote(self, key: str, body: bytes, stamp) -> None:
        self.inner.put_replica(key, body, stamp)


class SimPeerHealth:
    """The recover job's probe of the peer's GET /: fails (after the probe timeout) when the peer is down, the link is
    cut, or the peer's health check answers 503 (strong mode, the peer cut off from the quorum)."""

    def __init__(self, hub: Hub, observer: str, timeout_s: float) -> None:
        self.hub, self.observer, self.timeout_s = hub, observer, timeout_s
        self.probes = 0
        self.failures = 0

    def probe(self, region: str) -> bool:
        hub = self.hub
        io = hub.world.regions[self.observer].io
        now = io.now()
        self.probes += 1
        blocked = hub.links.unreachable(self.observer, region, now)
        healthy = blocked is None and (not hub.strong or hub.has_quorum(region, now))
        if io.current is not None:
            io.current.elapsed += PROBE_RTT_S if healthy else (self.timeout_s if blocked is not None else PROBE_RTT_S)
        if not healthy:
            self.failures += 1
        return healthy


# -- after the run: what the failovers did --------------------------------------------------------------------------
def detection_bound_s(scenario) -> float:
    return scenario.failover.detection_bound_s()


def terminal_bound_s(scenario) -> float:
    """SLA + detection (N x recover cadence + probe timeout) + timeout cadence + the job's own run (function timeout +
    3 x cold-start p99): how long any transaction may take from its opening to its terminal status."""
    engine = scenario.engine
    tolerance = engine.function_timeout_s + 3 * scenario.latency["lambda_cold_start"].p99_ms / 1000.0
    return engine.sla_seconds + detection_bound_s(scenario) + engine.timeout_cadence_s + tolerance


@dataclass(frozen=True)
class RecoverAt:
    started_s: float
    ended_s: float


def settlement_amounts(payload: bytes) -> tuple[tuple[str, Decimal], ...]:
    """The interbank settlement amounts of a pacs.008, summed by currency (the group total is not counted)."""
    root = etree.fromstring(payload, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False))
    totals: dict[str, Decimal] = {}
    for amount in root.iter("{*}IntrBkSttlmAmt"):
        currency = amount.get("Ccy", "")
        totals[currency] = totals.get(currency, Decimal(0)) + Decimal(amount.text.strip())
    return tuple(sorted(totals.items()))


def _total_value(values: dict[str, tuple[tuple[str, Decimal], ...]]) -> dict[str, str]:
    """One value per transaction, summed by currency (a decimal string per currency, for the JSON report)."""
    totals: dict[str, Decimal] = {}
    for amounts in values.values():
        for currency, amount in amounts:
            totals[currency] = totals.get(currency, Decimal(0)) + amount
    return {currency: str(total) for currency, total in sorted(totals.items())}


def split_brain(world) -> dict[str, str]:
    """Transactions two regions decided differently, or both settled: from the terminal writes each region made and
    from the replicas after the final flush."""
    found: dict[str, str] = {}
    for tid, writes in world.terminal_writes.items():
        regions = {region for region, _ in writes}
        statuses = {status for _, status in writes}
        settled_in = {region for region, status in writes if status == "ACSC"}
        if len(statuses) > 1 or len(settled_in) > 1:
            found[tid] = " and ".join(f"{status} in {region}" for region, status in writes)
    hub = world.hub
    if not hub.strong:
        a, b = hub.regions
        for tid in world.transactions:
            first, second = hub.replicas[a]["ledger"].read(tid), hub.replicas[b]["ledger"].read(tid)
            if first is not None and second is not None and first.status != second.status:
                found.setdefault(tid, f"replicas disagree after the flush: {first.status.value} in {a}, {second.status.value} in {b}")
    return found


NOT_RUN = frozenset({"skipped-outage", "throttled", "outage"})  # recover runs that never reached the job


def _completed(run) -> bool:
    """The recover run probed the peer and returned what it saw. A run that failed (outage, throttled, error, crash,
    timeout) is recorded without its work, though it may have done part of it (probe, declaration, take-overs)."""
    return run.outcome == "ok" and run.peer_down is not None


def failovers(world) -> list[dict[str, Any]]:
    """Per failure (region outage, cross-region cut): detection, take-over, and what became of its in-flight work.

    Detection is owed by the peer's recover runs: a failure is declared down by the N-th run that probed during it.
    Every run of the peer lost during the failure before the declaration (the peer itself down or cut off from the
    quorum, the job throttled, failed or crashed by a fault) probes nothing, so the failure's detection bound is
    N x cadence + probe timeout plus one cadence per lost run; a failure shorter than its bound may end undetected.
    A declaration made by a run that failed afterwards is seen in the next completed run (``peer_down``)."""
    scenario = world.scenario
    bound = detection_bound_s(scenario)
    cadence = scenario.failover.recover_cadence_s
    rows = []
    for failure in world.failures:
        peer = world.hub.peer(failure.region)
        observer = sorted((run for run in world.recover_runs if run.region == peer), key=lambda run: run.started_s)
        runs = [run for run in observer if run.started_s >= failure.start_s]
        # the peer's view when the failure began: what its latest run that ran the job saw (a run that failed after
        # running may have changed it unseen: then the first completed run during the failure tells)
        before = [run for run in observer if run.started_s <= failure.start_s and run.outcome not in NOT_RUN]
        already_down = bool(before) and _completed(before[-1]) and before[-1].peer_down
        declared, lost = None, 0
        if already_down:  # an earlier failure left the region declared down: nothing new to detect
            declared = RecoverAt(failure.start_s, failure.start_s)
        else:
            for run in runs:
                if run.started_s > failure.end_s + bound + lost * cadence:
                    break
                if run.declared == "down" or (_completed(run) and run.peer_down):
                    declared = run
                    break
                if not _completed(run) and run.started_s < failure.end_s:
                    lost += 1
        taken: dict[str, str] = {}
        unseen: set[str] = set()  # eventual: taken over only once the failure ended (the record reached the peer then)
        for run in runs:
            if declared is None or run.started_s < declared.started_s:
                continue
            for kind, tids in (("redriven", run.redriven), ("cancelled", run.cancelled), ("adopted", run.adopted)):
                for tid in tids:
                    if tid not in taken and not world.hub.strong and run.started_s >= failure.end_s:
                        unseen.add(tid)
                    taken.setdefault(tid, kind)
        declared_at = declared.started_s if declared is not None else None
        finished_before = set()
        stranded = []
        lost_redrives: dict[str, str] = {}
        for tid in failure.in_flight:
            info = world.transactions[tid]
            if tid in unseen:
                stranded.append(tid)
                continue
            if tid in taken:
                continue
            if declared is not None:
                kind, why = _unrecorded_takeover(world, peer, tid, failure.start_s)
                if kind is not None:
                    taken[tid] = kind
                    continue
                if why is not None:
                    lost_redrives[tid] = why
                    continue
            if info.terminal_s is not None and (declared_at is None or info.terminal_s <= declared.ended_s):
                finished_before.add(tid)
                continue
            if declared is not None:
                stranded.append(tid)
        counts = {kind: sum(1 for tid in failure.in_flight if taken.get(tid) == kind and tid not in unseen)
                  for kind in ("redriven", "cancelled", "adopted", "expired")}
        rows.append({
            "fault": failure.fault, "action": failure.action, "region": failure.region, "start_s": failure.start_s,
            "duration_s": failure.end_s - failure.start_s, "detected": declared is not None,
            "detection_time_s": round(declared_at - failure.start_s, 6) if declared is not None else None,
            "takeover_time_s": round(declared.ended_s - failure.start_s, 6) if declared is not None else None,
            "observer_runs_lost": lost, "detection_bound_s": bound + lost * cadence,
            "in_flight_at_failure": len(failure.in_flight), **counts,
            "taken_over_total": len(taken), "finished_by_owner": len(finished_before), "stranded": stranded,
            "redrive_lost": lost_redrives, "unseen": sorted(unseen & set(failure.in_flight)),
        })
    return rows


def _unrecorded_takeover(world, peer: str, tid: str, failed_at: float) -> tuple[str | None, str | None]:
    """A transaction the peer took over in a recover run that failed before returning (its work is not in the run's
    record), read from the ledger: moved to the peer (epoch > 1). Cancelled (AB02/AB04) or adopted (it never got past
    ACCP) as a completed run would have done; re-driven if a step wrote to it after the failure began (only the peer
    can write then). Otherwise the timeout job ended it with no step writing after the failure: "expired" when no
    recover run of the peer completed between the last failed one and its deadline (nothing could resume it in
    time), else its re-drive was lost (a completed run should have resumed it). (kind, None), (None, why the re-drive
    was lost), or (None, None) when the ledger shows no take-over by the peer."""
    from engine.ledger import Status
    from engine.steps.recover import CLEARING_ABORTED, SETTLEMENT_ABORTED

    record = world.hub.replicas[peer]["ledger"].read(tid)
    if record is None or record.region != peer or record.epoch <= 1:
        return None, None
    if record.status is Status.CANC and record.decision is not None and record.decision.reason_code in (CLEARING_ABORTED, SETTLEMENT_ABORTED):
        return "cancelled", None
    before_end = [entry for entry in record.history if not entry.status.is_terminal]
    if all(entry.status is Status.ACCP for entry in before_end):
        return "adopted", None
    last, was = record.history[-1], before_end[-1]
    clock = world.regions[peer].clock
    # history times are the writer's clock: a clock behind by s seconds dates a write s seconds early
    behind = max((-state.params["skew_s"] for state in world.faults.of("rp2:clock-skew")), default=0.0)
    if record.status.is_terminal and last.note == "timeout" and clock.virtual_seconds(was.at) + max(behind, 0.0) < failed_at:
        deadline = clock.virtual_seconds(record.deadline)
        runs = [run for run in world.recover_runs if run.region == peer and failed_at <= run.started_s < deadline]
        failed = [run.started_s for run in runs if run.outcome not in NOT_RUN and not _completed(run)]
        resumers = [run for run in runs if failed and _completed(run) and run.started_s > max(failed) and run.ended_s < deadline]
        if not resumers:
            return "expired", None
        return None, (f"taken over by {peer} (epoch {record.epoch}) in a recover run that failed before recording its work; "
                      f"the run at {resumers[0].started_s:g} s, before its deadline ({deadline:.3f} s), did not resume it; "
                      f"no step wrote to it after its {was.status.value}@{clock.virtual_seconds(was.at):.3f}, the timeout job "
                      f"rejected it ({record.status.value} {last.reason_code}) at {clock.virtual_seconds(last.at):.3f} s: its re-drive was lost")
    return "redriven", None


def summary(world) -> dict[str, Any]:
    hub = world.hub
    rows = failovers(world)
    detected = [row for row in rows if row["detected"]]
    conflicts = hub.conflicts
    taken = {kind: sum(len(getattr(run, kind)) for run in world.recover_runs) for kind in ("redriven", "cancelled", "adopted")}
    brain = split_brain(world)
    return {
        "consistency": hub.spec.consistency,
        "witness": hub.witness,
        "detection_bound_s": detection_bound_s(world.scenario),
        "terminal_bound_s": round(terminal_bound_s(world.scenario), 6),
        "failures": [{**row, "stranded": len(row["stranded"]), "redrive_lost": len(row["redrive_lost"]), "unseen": len(row["unseen"])}
                     for row in rows],
        "detection_time_s": max((row["detection_time_s"] for row in detected), default=0.0),
        "takeover_time_s": max((row["takeover_time_s"] for row in detected), default=0.0),
        "in_flight_at_failure": sum(row["in_flight_at_failure"] for row in rows),
        "redriven": taken["redriven"],
        "cancelled_by_takeover": taken["cancelled"],
        "adopted": taken["adopted"],
        "fenced": sum(world.fenced.values()),
        "fenced_by_step": {f"{region} {step}": n for (region, step), n in sorted(world.fenced.items())},
        "declared_down": sum(1 for run in world.recover_runs if run.declared == "down"),
        "declared_up": sum(1 for run in world.recover_runs if run.declared == "up"),
        "recover_runs_failed": sum(1 for run in world.recover_runs if run.outcome not in ("ok", "skipped-outage")),
        "lww_conflicts": len(conflicts),
        "lww_disagreements": sum(1 for c in conflicts if c.disagreement),
        "lww_disagreement_examples": [f"{c.transaction_id}: kept {c.kept} ({c.kept_region}) over {c.lost} ({c.lost_region})"
                                      for c in conflicts if c.disagreement][:5],
        "lww_disagreement_value": _total_value({c.transaction_id: c.value for c in conflicts if c.disagreement}),
        "lww_settlements_overwritten": len({c.transaction_id for c in conflicts if c.lost == "ACSC" and c.kept != "ACSC"}),
        "lww_settlements_overwritten_value": _total_value({c.transaction_id: c.value for c in conflicts if c.lost == "ACSC" and c.kept != "ACSC"}),
        "claim_conflicts": hub.claim_conflicts,
        "split_brain_transactions": len(brain),
        "stranded_transactions": sum(len(row["stranded"]) for row in rows),
        "redrives_lost": sum(len(row["redrive_lost"]) for row in rows),
        "items_replicated": hub.replicated,
    }
