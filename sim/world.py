"""The simulated world: a SimPy environment whose virtual time is the engine's clock, and per region the API
front door, the three FIFO queues, the Lambda functions and their event source mappings, and the timeout job.

The engine steps run unchanged on ports whose ledger, archive and notifier are the backend's, wrapped by the sim
adapters (latency, faults, request counting), and whose queues are the simulator's FIFO queues.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any, Callable

import simpy

from engine.ledger import Transaction
from engine.settings import Settings
from engine.steps import inbox, process, release
from engine.steps.inbox import submit
from engine.steps.outbox import fetch_reply
from engine.steps.recover import recover
from engine.steps.timeout import BATCH_LIMIT, expire_overdue
from engine.steps.transaction import open_transaction
from engine.wiring import Ports
from sim.adapters import RegionIO, SimArchive, SimLedger, SimNotifier, SimQueues
from sim.clock import SeededIds, VirtualClock
from sim.faults import FaultLayer
from sim.lambdas import ASYNC_RETRY_DELAYS_S, ESM_ERROR_BACKOFF_S, FunctionPool, Runner
from sim.latency import Latency
from sim.load import arrival_times
from sim.messages import MessageFactory
from sim.rng import Streams
from sim.router import Router
from sim.scenario import Scenario
from sim.sqs import DeadLetter, FifoQueue

STEPS = {"inbox": inbox.receive, "process": process.process, "release": release.release}
FUNCTIONS = ("api", "inbox", "process", "release", "timeout")
MESSAGE_TYPE = "pacs.008"
RETRYABLE = frozenset({None, 429, 500, 502, 503, 504})
DRAIN_CHECK_S = 1.0
FAILOVER_AFTER_FAILURES = 3  # a polling client asks the global endpoint again after this many failed polls in a row


class TxInfo:
    """What the simulator observed of one transaction (the ledger keeps the rest)."""

    __slots__ = ("id", "region", "opened_s", "terminal_s", "message", "redeliveries")

    def __init__(self, transaction_id: str, region: str, opened_s: float) -> None:
        self.id = transaction_id
        self.region = region
        self.opened_s = opened_s
        self.terminal_s: float | None = None
        self.message: int | None = None  # index of the client message posted for it
        self.redeliveries = 0


class ClientRecord:
    """One arrival: a client with one message, from opening a transaction to reading its reply."""

    __slots__ = (
        "index", "client", "region", "arrived_s", "kind", "expected_reason", "uetrs", "duplicate_of", "payments",
        "transaction_id", "open_attempts", "open_status", "post_attempts", "post_status", "polls", "reply_status",
        "reply_s", "gave_up", "drawn_ids",
    )

    def __init__(self, index: int, client: str, region: str, arrived_s: float, generated) -> None:
        self.index = index
        self.client = client
        self.region = region
        self.arrived_s = arrived_s
        self.kind = generated.kind
        self.expected_reason = generated.expected_reason
        self.uetrs = generated.uetrs
        self.duplicate_of = generated.duplicate_of
        self.payments = len(generated.uetrs)
        self.transaction_id: str | None = None
        self.open_attempts = 0
        self.open_status: int | None = None
        self.post_attempts = 0
        self.post_status: int | None = None
        self.polls = 0
        self.reply_status: str | None = None
        self.reply_s: float | None = None
        self.gave_up = False
        # transaction ids its GET /uuid attempts drew; once it is done opening, only those never opened
        self.drawn_ids: list[str] | tuple[str, ...] = []

    @property
    def retries(self) -> int:
        return max(0, self.open_attempts - 1) + max(0, self.post_attempts - 1)


@dataclass(frozen=True)
class JobRun:
    region: str
    scheduled_s: float
    started_s: float
    ended_s: float
    attempt: int
    outcome: str  # ok, error, crash, timeout, outage, skipped-outage, throttled
    expired: int
    skewed: bool
    delayed: bool
    faults: tuple[str, ...]  # faults active in the region while it ran (for the report)

    @property
    def clean(self) -> bool:
        """A run that did the whole job in time: it ran, started without an injected delay, read an unskewed
        clock, and fetched less than a full batch."""
        return self.outcome == "ok" and self.expired < BATCH_LIMIT and not self.skewed and not self.delayed


@dataclass
class Region:
    name: str
    settings: Settings
    io: RegionIO
    clock: VirtualClock
    latency: dict[str, Latency]
    queues: dict[str, FifoQueue]
    pools: dict[str, FunctionPool]
    dead_letters: list[DeadLetter]
    inner: tuple[Any, Any, Any]  # the backend's ledger, archive, notifier (no latency, no faults)
    ports: Ports | None = None
    runner: Runner | None = None


@dataclass
class Sample:
    t: float
    region: str
    values: dict[str, float]


@dataclass
class WorldState:
    """What a run leaves behind for metrics, invariants and the report."""

    end_s: float
    drained: bool
    transactions: dict[str, TxInfo]
    clients: list[ClientRecord]
    job_runs: list[JobRun]
    samples: list[Sample]
    errors: Counter
    error_examples: dict[tuple[str, str], str]


class World:
    def __init__(self, scenario: Scenario, seed: int, backend, progress: Callable[[float, float], None] | None = None) -> None:
        self.scenario = scenario
        self.seed = seed
        self.backend = backend
        self.progress = progress
        self.env = simpy.Environment()
        self.streams = Streams(seed)
        self.faults = FaultLayer(list(scenario.faults), self.streams)
        self.hub = None
        if scenario.multi_region:
            from sim.multiregion import Hub

            self.hub = Hub(self, scenario.regions, scenario.witness, scenario.replication)
        self.router = Router(scenario.regions, states=self._routing_states if self.hub is not None else None)
        self.recover_runs: list[RecoverRecord] = []
        self.terminal_writes: dict[str, list[tuple[str, str]]] = {}
        self.fenced: Counter = Counter()  # (region, step) -> step outcomes "fenced: ..."
        self.owner: dict[str, str] = {}  # transaction id -> the region that owns it (opened it, or took it over)
        self.failures: list[FailureRecord] = []  # region outages and cross-region cuts, with what was in flight
        self.transactions: dict[str, TxInfo] = {}
        self.clients: list[ClientRecord] = []
        self.job_runs: list[JobRun] = []
        self.samples: list[Sample] = []
        self.errors: Counter = Counter()
        self.error_examples: dict[tuple[str, str], str] = {}
        self.non_terminal = 0
        self.active_clients = 0
        self.load_done = False
        self.regions: dict[str, Region] = {}
        self._drawing: list[str] | None = None  # where the ids drawn by the running GET /uuid go
        self._backoff = self.streams("clients/backoff")
        self._poll_jitter = self.streams("clients/poll")
        for name in scenario.regions:
            self.regions[name] = self._region(name)

    # -- construction --------------------------------------------------------------------------------------
    def _region(self, name: str) -> Region:
        scenario, env = self.scenario, self.env
        engine = scenario.engine
        others = [r for r in scenario.regions if r != name]
        peer = others[0] if others else next((r for r in ("us-west-2", "us-east-1", "eu-west-1") if r != name), "us-west-2")
        failover = scenario.failover
        settings = Settings(region=name, peer_region=peer, deployment_id="sim", sla_seconds=engine.sla_seconds,
                            max_message_bytes=engine.max_message_bytes, consistency=scenario.replication.consistency,
                            probe_timeout_seconds=failover.probe_timeout_s, down_after_probes=failover.down_after_probes,
                            up_after_probes=failover.up_after_probes)
        latency = {service: Latency(self.streams(f"latency/{name}/{service}"), spec.p50_ms, spec.p99_ms)
                   for service, spec in scenario.latency.items()}
        io = RegionIO(env, name, self.faults, latency, botocore_faults=self.backend.botocore_faults)
        has_skew = bool(self.faults.of("rp2:clock-skew"))
        faults = self.faults

        def offset() -> float:
            current = io.current
            elapsed = current.elapsed if current is not None else 0.0
            if has_skew:
                elapsed += faults.skew(name, env.now + elapsed)[0]
            return elapsed

        if has_skew:
            def skew_touch(transaction_id: str) -> None:
                now = io.now()
                _, state = faults.skew(name, now)
                if state is not None:
                    state.hit(now, (transaction_id,))

            io.skew_touch = skew_touch
        clock = VirtualClock(env, scenario.epoch, offset=offset)
        dead_letters: list[DeadLetter] = []
        queues = {
            step: FifoQueue(env, f"{name}/{step}", visibility_timeout_s=engine.visibility_timeout_s,
                            max_receive_count=engine.max_receive_count, dead_letters=dead_letters,
                            on_redelivery=self._redelivered)
            for step in STEPS
        }
        limits = engine.concurrency
        pools = {fn: FunctionPool(env, name, fn, getattr(limits, fn), engine.idle_eviction_s, self.faults) for fn in FUNCTIONS}
        if self.hub is not None:
            pools["recover"] = FunctionPool(env, name, "recover", limits.timeout, engine.idle_eviction_s, self.faults)
        def new_id(transaction_id: str) -> None:
            if io.current is not None:
                io.current.transaction_ids = (transaction_id,)
            if self._drawing is not None:
                self._drawing.append(transaction_id)

        ids = SeededIds(self.streams(f"ids/{name}"), on_new=new_id)
        if self.hub is None:
            base = self.backend.region_ports(settings, io, clock, ids)
        else:
            from sim.multiregion import SimPeerHealth

            # the backend's stores, stamped for the hub's replication (strong mode: one ledger both regions use)
            base = self.backend.region_ports(settings, io, clock, ids, stamp=self.hub.stamper(name, clock),
                                             shared_ledger=self.hub.shared_ledger_region)
            ledger, routing, archive = self.hub.stores(name, base.ledger, base.routing, base.archive)
            base = replace(base, ledger=ledger, archive=archive, routing=routing,
                           peer_health=SimPeerHealth(self.hub, name, failover.probe_timeout_s))
        inner = (base.ledger, base.archive, base.notifier)
        region = Region(name, settings, io, clock, latency, queues, pools, dead_letters, inner)
        region.ports = replace(
            base,
            ledger=SimLedger(base.ledger, io, on_open=lambda record: self._opened(region, record),
                             on_terminal=lambda record: self._terminal(record, name)),
            archive=SimArchive(base.archive, io),
            queues=SimQueues(queues, io),
            notifier=SimNotifier(base.notifier, io),
        )
        region.runner = Runner(self, region)
        return region

    # -- bookkeeping callbacks -----------------------------------------------------------------------------
    def _opened(self, region: Region, record: Transaction) -> None:
        self.transactions[record.id] = TxInfo(record.id, region.name, region.io.now())
        if self.hub is not None:
            self.owner[record.id] = region.name
        self.non_terminal += 1

    def _terminal(self, record: Transaction, region: str | None = None) -> None:
        if self.hub is not None:
            self.terminal_writes.setdefault(record.id, []).append((region, record.status.value))
        info = self.transactions.get(record.id)
        if info is not None and info.terminal_s is None:
            info.terminal_s = self.regions[info.region].io.now()
            self.non_terminal -= 1

    def _redelivered(self, queue: str, message) -> None:
        info = self.transactions.get(message.group)
        if info is not None:
            info.redeliveries += 1

    def record_error(self, region: str, function: str, transaction_id: str | None, error: BaseException) -> None:
        key = (function, type(error).__name__)
        self.errors[key] += 1
        self.error_examples.setdefault(key, f"{transaction_id or '-'}: {error}"[:300])

    # -- the run -------------------------------------------------------------------------------------------
    def run(self) -> WorldState:
        env = self.env
        engine_logger = logging.getLogger("engine")
        level = engine_logger.level
        engine_logger.setLevel(logging.ERROR)  # the simulator reports what happened; per-record logs would swamp it
        try:
            for region in self.regions.values():
                for step in STEPS:
                    env.process(self._dispatcher(region, step))
                env.process(self._timeout_schedule(region))
                if self.hub is not None:
                    env.process(self._recover_schedule(region))
            if self.hub is not None:
                self.hub.start()
                from sim.multiregion import CUT

                for state in self.faults.states:
                    if state.spec.action in ("rp2:region-outage", CUT):
                        env.process(self._failure_watch(state))
            env.process(self._load())
            env.process(self._sampler())
            stop = env.event()
            env.process(self._drain_watch(stop))
            if self.progress is not None:
                env.process(self._progress())
            env.run(until=stop)
        finally:
            engine_logger.setLevel(level)
        if self.hub is not None:
            self.hub.flush()
        return WorldState(
            end_s=env.now, drained=stop.value, transactions=self.transactions, clients=self.clients,
            job_runs=self.job_runs, samples=self.samples, errors=self.errors, error_examples=self.error_examples,
        )

    def _progress(self):
        step = max(1.0, self.scenario.duration_s / 200.0)
        while True:
            yield self.env.timeout(step)
            self.progress(self.env.now, self.scenario.duration_s)

    def _drain_watch(self, stop: simpy.Event):
        env, scenario = self.env, self.scenario
        yield env.timeout(scenario.duration_s)
        limit = scenario.duration_s + scenario.drain_limit_s
        while True:
            if self._quiet():
                stop.succeed(True)
                return
            if env.now >= limit:
                stop.succeed(False)
                return
            yield env.timeout(DRAIN_CHECK_S)

    def _quiet(self) -> bool:
        if not self.load_done or self.active_clients or self.non_terminal:
            return False
        if self.hub is not None and self.hub.pending():
            return False
        for region in self.regions.values():
            if any(not queue.is_empty() for queue in region.queues.values()):
                return False
            if any(pool.busy for pool in region.pools.values()):
                return False
        return True

    def _sampler(self):
        env, bucket = self.env, self.scenario.bucket_s
        while True:
            yield env.timeout(bucket)
            for region in self.regions.values():
                values: dict[str, float] = {}
                for step, queue in region.queues.items():
                    values[f"queue_visible_{step}"] = queue.visible
                    values[f"queue_in_flight_{step}"] = queue.in_flight
                dlq = Counter(letter.queue.rsplit("/", 1)[1] for letter in region.dead_letters)
                for step in region.queues:
                    values[f"dlq_{step}"] = dlq.get(step, 0)
                for fn, pool in region.pools.items():
                    values[f"busy_{fn}"] = pool.busy
                self.samples.append(Sample(env.now, region.name, values))

    # -- load and clients ------------------------------------------------------------------------------------
    def _load(self):
        env, scenario = self.env, self.scenario
        load = scenario.load
        factory = MessageFactory(self.streams("load/messages"), invalid_share=load.invalid_share, invalid_kinds=load.invalid_kinds,
                                 max_payments=load.max_payments, bah_share=load.bah_share)
        who = self.streams("load/clients")
        names = [f"client-{n:03d}" for n in range(load.clients)]
        clock = next(iter(self.regions.values())).clock
        for at in arrival_times(load, scenario.duration_s, self.streams("load/arrivals")):
            yield env.timeout(at - env.now)
            generated = factory.next(clock.at(at))
            client = names[who.randrange(load.clients)]
            region = self.router.region_for(client)
            record = ClientRecord(len(self.clients), client, region, at, generated)
            self.clients.append(record)
            self.active_clients += 1
            env.process(self._client(record, generated.payload))
        self.load_done = True

    def _client(self, record: ClientRecord, payload: bytes):
        """A client as real ones behave: open, post with retries, poll the outbox until an answer or give-up."""
        env, spec = self.env, self.scenario.client
        give_up_at = record.arrived_s + spec.give_up_s
        owner = record.client
        try:
            def open_action(ports: Ports):
                self._drawing = record.drawn_ids
                try:
                    opened = open_transaction(ports, owner=owner, message_type=MESSAGE_TYPE)
                finally:
                    self._drawing = None
                if opened.transaction is None:
                    return (400 if opened.error.startswith("X-Message-Type") else 503), opened.error
                return 200, opened.transaction.id

            status, value, attempts = yield from self._with_failover(open_action, None, give_up_at, record)
            record.open_attempts, record.open_status = attempts, status
            record.drawn_ids = tuple(drawn for drawn in record.drawn_ids if drawn not in self.transactions)
            if status != 200:
                record.gave_up = True
                return
            transaction_id = record.transaction_id = value
            info = self.transactions.get(transaction_id)
            if info is not None:
                info.message = record.index

            def post_action(ports: Ports):
                submitted = submit(ports, transaction_id=transaction_id, owner=owner, message_type=MESSAGE_TYPE, payload=payload)
                return submitted.http_status, submitted.message

            status, _, attempts = yield from self._with_failover(post_action, transaction_id, give_up_at, record)
            record.post_attempts, record.post_status = attempts, status
            if status != 200 and status in RETRYABLE:
                record.gave_up = True  # the transaction stays ACCP; the timeout job rejects it
                return

            def outbox_action(ports: Ports):
                reply = fetch_reply(ports, transaction_id=transaction_id, owner=owner)
                return reply.http_status, reply.status

            opened_in = record.region
            failures = 0
            while True:
                wait = spec.poll_interval_s * (0.9 + 0.2 * self._poll_jitter.random())
                if env.now + wait > give_up_at:
                    record.gave_up = True
                    return
                yield env.timeout(wait)
                status, value = yield from self._request(record.region, outbox_action, transaction_id, record)
                record.polls += 1
                if status == 200:
                    record.reply_status, record.reply_s = value, env.now
                    return
                if status == 404 and record.region == opened_in:
                    record.gave_up = True
                    return
                if self.hub is not None:
                    # the other region's replica may not hold the transaction yet (404): keep polling; after repeated
                    # failures, ask the global endpoint again
                    failures = failures + 1 if status in RETRYABLE else 0
                    if failures >= FAILOVER_AFTER_FAILURES:
                        failures = 0
                        record.region = self.router.region_for(record.client)
        finally:
            self.active_clients -= 1

    def _with_failover(self, action, transaction_id: str | None, give_up_at: float, client: ClientRecord):
        """Retries at the client's region; with two regions, on 421 (owned elsewhere) or when the retries ran out on
        errors, ask the global endpoint again and go on there."""
        total = 0
        while True:
            status, value, attempts = yield from self._with_retries(client.region, action, transaction_id, give_up_at, client)
            total += attempts
            if self.hub is None or self.env.now >= give_up_at or (status not in RETRYABLE and status != 421):
                return status, value, total
            routed = self.router.region_for(client.client)
            if status == 421 and routed == client.region:
                routed = next(r for r in self.scenario.regions if r != client.region)
            if routed == client.region:
                return status, value, total
            client.region = routed

    def _with_retries(self, region: str, action, transaction_id: str | None, give_up_at: float, client: ClientRecord):
        env, spec = self.env, self.scenario.client
        attempt = 0
        while True:
            attempt += 1
            status, value = yield from self._request(region, action, transaction_id, client)
            if status not in RETRYABLE or attempt >= spec.max_attempts:
                return status, value, attempt
            ceiling = min(spec.backoff_cap_s, spec.backoff_base_s * 2 ** (attempt - 1))
            wait = self._backoff.uniform(0.0, ceiling)  # exponential back-off with full jitter
            if env.now + wait >= give_up_at:
                return status, value, attempt
            yield env.timeout(wait)

    def _request(self, region_name: str, action, transaction_id: str | None, client: ClientRecord):
        """One HTTPS request to the region's API: (status or None when the connection failed, value)."""
        env = self.env
        outage = self.faults.region_down(region_name, env.now)
        if outage is not None:
            outage.hit(env.now, (transaction_id if transaction_id else f"#{client.index}",))
            yield env.timeout(self.scenario.client.connect_timeout_s)
            return None, None
        region = self.regions[region_name]
        result = yield from region.runner.api_invocation(region.pools["api"], action, transaction_id, client.index)
        return result

    # -- queues and workers ----------------------------------------------------------------------------------
    def _dispatcher(self, region: Region, step_name: str):
        """The SQS event source mapping of one queue: polls while the function has capacity, one batch per invocation."""
        env, faults = self.env, self.faults
        queue = region.queues[step_name]
        pool = region.pools[step_name]
        step = STEPS[step_name]
        if self.hub is not None:
            step = self._fence_counting(region.name, step_name, step)
        runner = region.runner
        io = region.io
        batch_size = self.scenario.engine.batch_size
        sqs_latency = region.latency["sqs"]
        while True:
            if not queue.has_ready():
                yield queue.ready()
                continue
            if faults.region_down(region.name, env.now) is not None:
                yield env.timeout(ESM_ERROR_BACKOFF_S)
                continue
            if not pool.has_slot():
                pool.throttled()
                if pool.limit_now() == 0 or pool.busy == 0:
                    yield env.timeout(ESM_ERROR_BACKOFF_S)
                else:
                    yield pool.slot_freed()
                continue
            if faults.call_faults:
                outcome = faults.api_call(region.name, "sqs", "ReceiveMessage", env.now, sqs_latency, ())
                io.requests[("sqs", "ReceiveMessage")] += outcome.attempts
                if outcome.error is not None:
                    io.errors[("sqs", "ReceiveMessage")] += 1
                    yield env.timeout(outcome.latency_s + ESM_ERROR_BACKOFF_S)
                    continue
                receive_s = outcome.latency_s
            else:
                io.requests[("sqs", "ReceiveMessage")] += 1
                receive_s = sqs_latency()
            deliveries = queue.receive(batch_size)
            if deliveries:
                cold = pool.acquire()  # now, so that the next poll sees the slot taken
                env.process(runner.worker_invocation(pool, queue, step, deliveries, cold, receive_s))

    def acknowledge(self, region: Region, queue: FifoQueue, deliveries: list) -> None:
        """The event source mapping deletes the records the handler processed (DeleteMessageBatch, 10 a call)."""
        env, faults, io = self.env, self.faults, region.io
        step = queue.name.rsplit("/", 1)[1]
        latency = region.latency["sqs"]
        for start in range(0, len(deliveries), 10):
            chunk = deliveries[start : start + 10]
            if faults.call_faults:
                tids = tuple(d.message.group for d in chunk)
                outcome = faults.api_call(region.name, "sqs", "DeleteMessageBatch", env.now, latency, tids)
                io.requests[("sqs", "DeleteMessageBatch")] += outcome.attempts
                if outcome.error is not None:
                    io.errors[("sqs", "DeleteMessageBatch")] += 1
                    continue  # not deleted: the messages come back after their visibility timeout
            else:
                io.requests[("sqs", "DeleteMessageBatch")] += 1
            for delivery in chunk:
                lost = faults.lost_delete(region.name, step, env.now)
                if lost is not None:
                    lost.hit(env.now, (delivery.message.group,))
                    after = lost.params["redeliver_after_s"]
                    if after > 0:
                        queue.extend_visibility(delivery, after)
                    continue
                queue.delete(delivery)

    # -- multi-region: routing, the recover job, fencing -------------------------------------------------------
    def _routing_states(self) -> dict[str, bool]:
        """What the global endpoint reads: a region is up unless a replica the endpoint can read (one in a region
        that is up) says it was declared down."""
        up = {name: True for name in self.regions}
        now = self.env.now
        for name, stores in self.hub.replicas.items():
            if self.faults.region_down(name, now) is not None:
                continue
            for region, state in stores["routing"].states().items():
                if not state.up and region in up:
                    up[region] = False
        return up

    def _fence_counting(self, region: str, step_name: str, step):
        fenced = self.fenced

        def counted(ports, handoff):
            outcome = step(ports, handoff)
            if isinstance(outcome, str) and outcome.startswith("fenced:"):
                fenced[(region, step_name)] += 1
            return outcome

        return counted

    def _recover_schedule(self, region: Region):
        env = self.env
        cadence = self.scenario.failover.recover_cadence_s
        tick = 1
        while True:
            yield env.timeout(tick * cadence - env.now)
            env.process(self._recover_run(region))
            tick += 1

    def _recover_run(self, region: Region):
        env = self.env
        started = env.now
        peer = region.settings.peer_region
        if self.faults.region_down(region.name, started) is not None:
            self.recover_runs.append(RecoverRecord(region.name, peer, started, started, "skipped-outage", None, None, None, (), (), ()))
            return
        pool = region.pools["recover"]
        if not pool.has_slot():
            pool.throttled()
            self.recover_runs.append(RecoverRecord(region.name, peer, started, started, "throttled", None, None, None, (), (), ()))
            return
        outcome, run, _ = yield from region.runner.job_invocation(pool, recover)
        if run is None:
            self.recover_runs.append(RecoverRecord(region.name, peer, started, env.now, outcome, None, None, None, (), (), ()))
            return
        self.recover_runs.append(RecoverRecord(region.name, peer, started, env.now, outcome, run.healthy, run.peer_down, run.declared,
                                               tuple(run.redriven), tuple(run.cancelled), tuple(run.adopted)))
        for tid in (*run.redriven, *run.cancelled, *run.adopted, *run.resumed):
            self.owner[tid] = region.name

    def _failure_watch(self, state):
        """At a failure's start: which transactions the failed region owned and had not finished."""
        yield self.env.timeout(state.spec.start_s - self.env.now)
        name = state.spec.region
        in_flight = tuple(tid for tid, info in self.transactions.items() if info.terminal_s is None and self.owner.get(tid) == name)
        self.failures.append(FailureRecord(state.spec.index, state.spec.action, name, state.spec.start_s, state.spec.end_s, in_flight))

    # -- the timeout job ---------------------------------------------------------------------------------------
    def _timeout_schedule(self, region: Region):
        env = self.env
        cadence = self.scenario.engine.timeout_cadence_s
        tick = 1
        while True:
            yield env.timeout(tick * cadence - env.now)
            env.process(self._timeout_run(region, tick * cadence, 0))
            tick += 1

    def _timeout_run(self, region: Region, scheduled_s: float, attempt: int):
        env, faults = self.env, self.faults
        started = env.now
        active = tuple(state.spec.label for state in faults.states if state.active(region.name, started))
        skewed = faults.skew(region.name, started)[1] is not None
        pool = region.pools["timeout"]
        outage = faults.region_down(region.name, started)
        if outage is not None:
            # EventBridge Scheduler is down with the region: the tick is lost
            outage.hit(started, ())
            self.job_runs.append(JobRun(region.name, scheduled_s, started, started, attempt, "skipped-outage", 0, skewed, False, active))
            return
        if not pool.has_slot():
            pool.throttled()
            outcome = "throttled"
            self.job_runs.append(JobRun(region.name, scheduled_s, started, started, attempt, outcome, 0, skewed, False, active))
        else:
            outcome, expired, delayed = yield from region.runner.job_invocation(pool, expire_overdue)
            skewed = skewed or faults.skew(region.name, env.now)[1] is not None
            self.job_runs.append(JobRun(region.name, scheduled_s, started, env.now, attempt, outcome, len(expired or ()), skewed, delayed, active))
        if outcome != "ok" and self.scenario.engine.timeout_schedule == "eventbridge" and attempt < len(ASYNC_RETRY_DELAYS_S):
            # an asynchronous invocation that failed is retried by Lambda, twice
            yield env.timeout(ASYNC_RETRY_DELAYS_S[attempt])
            env.process(self._timeout_run(region, scheduled_s, attempt + 1))


@dataclass(frozen=True)
class FailureRecord:
    fault: int
    action: str
    region: str
    start_s: float
    end_s: float
    in_flight: tuple[str, ...]


@dataclass(frozen=True)
class RecoverRecord:
    region: str
    peer: str
    started_s: float
    ended_s: float
    outcome: str
    healthy: bool | None
    peer_down: bool | None
    declared: str | None
    redriven: tuple[str, ...]
    cancelled: tuple[str, ...]
    adopted: tuple[str, ...]


def touched(world: World, state) -> tuple[list[str], list[int]]:
    """What a fault touched: transactions (a failed GET /uuid attempt counts for the transaction its client opened
    next), and arrivals whose client never got a transaction. In the order first touched."""
    alias: dict[str, str | int] = {}
    for client in world.clients:
        for drawn in client.drawn_ids:
            if drawn not in world.transactions:
                alias[drawn] = client.transaction_id if client.transaction_id is not None else client.index
    transactions: dict[str, None] = {}
    arrivals: dict[int, None] = {}
    for raw in state.touched:
        if raw in world.transactions:
            target: str | int | None = raw
        elif raw.startswith("#"):
            client = world.clients[int(raw[1:])]
            target = client.transaction_id if client.transaction_id in world.transactions else client.index
        else:
            target = alias.get(raw)
        if isinstance(target, str):
            transactions[target] = None
        elif isinstance(target, int):
            arrivals[target] = None
    return list(transactions), list(arrivals)
