"""In-process adapters: fast, for unit tests and big simulations. Same contract as the AWS adapters."""

from __future__ import annotations

import heapq
import itertools
import pickle
import zlib
from array import array
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, MutableMapping, MutableSequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from functools import cache
from typing import Sequence

from engine.failover import PeerView, RegionState
from engine.ledger import Change, Decision, HistoryEntry, PaymentOutcome, StaleTransition, Status, Takeover, Transaction
from engine.ports import ReplicaWrite, Stamp, StampSource

_UNSTAMPED: Stamp = (float("-inf"), "")  # older than every stamp


class MemoryLedger:
    """``compact=True`` keeps terminal records pickled in a ``PackedObjects`` (sealed blocks deflated against a
    preset dictionary), for simulations of hundreds of thousands of transactions; reads unpack them.

    ``stamp``: record each write's replication stamp (see engine.ports, replication)."""

    def __init__(self, *, compact: bool = False, stamp: StampSource | None = None) -> None:
        self._records: dict[str, Transaction] = {}  # all of them, or with compact=True those in flight
        self._terminal: PackedObjects | None = PackedObjects(_ledger_dictionary()) if compact else None
        self._claims: dict[str, str] = {}
        # per region, a heap of (deadline, id); entries of terminal or moved records are dropped lazily
        self._by_deadline: dict[str, list[tuple[datetime, str]]] = {}
        self._stamp = stamp
        self._stamps: dict[str, Stamp] = {}  # transaction id -> stamp of its last write
        self._claim_stamps: dict[str, Stamp] = {}

    def open(self, record: Transaction) -> bool:
        if record.id in self._records or (self._terminal is not None and record.id in self._terminal):
            return False
        self._store(record)
        self._index(record)
        self._stamped(record.id)
        return True

    def _stamped(self, transaction_id: str) -> None:
        if self._stamp is not None:
            self._stamps[transaction_id] = self._stamp()

    def _index(self, record: Transaction) -> None:
        heapq.heappush(self._by_deadline.setdefault(record.region, []), (record.deadline, record.id))

    def _store(self, record: Transaction) -> None:
        if self._terminal is not None and record.status.is_terminal:
            self._records.pop(record.id, None)
            self._terminal[record.id] = pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)
        else:
            self._records[record.id] = record

    def _load(self, transaction_id: str) -> Transaction | None:
        record = self._records.get(transaction_id)
        if record is not None or self._terminal is None:
            return record
        packed = self._terminal.get(transaction_id)
        return None if packed is None else pickle.loads(packed)

    def get(self, transaction_id: str) -> Transaction | None:
        return self._load(transaction_id)

    def transition(self, transaction_id: str, change: Change) -> Transaction:
        current = self._load(transaction_id)
        if (
            current is None
            or current.status != change.expected_status
            or current.version != change.expected_version
            or (change.deadline_not_passed_at is not None and current.deadline < change.deadline_not_passed_at)
        ):
            raise StaleTransition(transaction_id, current)
        updated = change.apply(current)
        self._store(updated)
        self._stamped(transaction_id)
        return updated

    def take_over(self, transaction_id: str, takeover: Takeover) -> Transaction:
        current = self._load(transaction_id)
        if (
            current is None
            or current.status.is_terminal
            or current.region != takeover.expected_region
            or current.version != takeover.expected_version
        ):
            raise StaleTransition(transaction_id, current)
        updated = takeover.apply(current)
        self._store(updated)
        if updated.region != current.region:
            self._index(updated)
        self._stamped(transaction_id)
        return updated

    def in_flight(self, region: str, deadline_before: datetime, limit: int) -> Sequence[Transaction]:
        """Walks the region's heap in (deadline, id) order without sorting it: O((found + skipped) log n)."""
        heap = self._by_deadline.get(region)
        records = self._records

        def current(entry: tuple[datetime, str]) -> Transaction | None:
            record = records.get(entry[1])  # absent: terminal, in the compact store
            return None if record is None or record.status.is_terminal or record.region != region else record

        while heap and current(heap[0]) is None:
            heapq.heappop(heap)
        found: list[Transaction] = []
        if not heap or limit < 1:
            return found
        frontier = [(heap[0], 0)]  # the smallest entries not yet visited, with their heap positions
        last = None
        while frontier and len(found) < limit:
            entry, position = heapq.heappop(frontier)
            if entry[0] >= deadline_before:
                break
            record = current(entry)
            if record is not None and entry[1] != last:  # an entry twice: taken over away and back
                found.append(record)
                last = entry[1]
            for child in (2 * position + 1, 2 * position + 2):
                if child < len(heap):
                    heapq.heappush(frontier, (heap[child], child))
        return found

    def claim(self, key: str, transaction_id: str, expires_at: int) -> str:
        holder = self._claims.get(key)
        if holder is not None:
            return holder
        record = self._records.get(transaction_id)
        self._claims[key] = transaction_id if record is None else record.id  # the one string the ledger holds already
        if self._stamp is not None:
            self._claim_stamps[key] = self._stamp()
        return transaction_id

    def check(self) -> None:
        return None

    def put_replica(self, record: Transaction, stamp: Stamp) -> ReplicaWrite:
        current = self._load(record.id)
        stored = self._stamps.get(record.id)
        if current is not None and stamp <= (stored or _UNSTAMPED):
            return ReplicaWrite(False, current, stored)
        self._store(record)
        self._stamps[record.id] = stamp
        if current is None or record.region != current.region or (current.status.is_terminal and not record.status.is_terminal):
            self._index(record)  # in flight again here (a terminal record leaves the index), as in the GSI
        return ReplicaWrite(True, current, stored)

    def put_replica_claim(self, key: str, holder: str, expires_at: int, stamp: Stamp) -> ReplicaWrite:
        current = self._claims.get(key)
        stored = self._claim_stamps.get(key)
        if current is not None and stamp <= (stored or _UNSTAMPED):
            return ReplicaWrite(False, current, stored)
        self._claims[key] = holder
        self._claim_stamps[key] = stamp
        return ReplicaWrite(True, current, stored)

    def records(self) -> list[Transaction]:
        """Every record, in no set order (as a table scan would give them)."""
        terminal = [] if self._terminal is None else [pickle.loads(packed) for packed in self._terminal.values()]
        return list(self._records.values()) + terminal


class MemoryArchive:
    """``compress=True`` keeps objects in a ``PackedObjects`` (about an eighth of their size); ``objects`` then is
    that mapping. ``stamp``: record each write's replication stamp (see engine.ports, replication)."""

    def __init__(self, *, compress: bool = False, stamp: StampSource | None = None) -> None:
        self.objects: MutableMapping[str, bytes] = PackedObjects(_archive_dictionary()) if compress else {}
        self._stamp = stamp
        self._stamps: dict[str, Stamp] = {}

    def put(self, key: str, body: bytes) -> None:
        self.objects[key] = bytes(body)
        if self._stamp is not None:
            self._stamps[key] = self._stamp()

    def put_replica(self, key: str, body: bytes, stamp: Stamp) -> bool:
        if key in self.objects and stamp <= self._stamps.get(key, _UNSTAMPED):
            return False
        self.objects[key] = bytes(body)
        self._stamps[key] = stamp
        return True

    def get(self, key: str) -> bytes | None:
        return self.objects.get(key)

    def check(self) -> None:
        return None


class PackedObjects(MutableMapping[str, bytes]):
    """A mapping of keys to bytes (archive objects, pickled ledger records) for simulations of hundreds of
    thousands of payments.

    The newest ``recent`` objects are kept as they are (the workflow reads an object soon after writing it).
    Older ones are sealed ``block`` at a time, with their keys, into one zlib stream against the preset
    ``dictionary``: consecutive payment messages share most of their text, so a block of 64 deflates to an
    eighth of its size, where one message alone deflates to about a quarter. The index is an open-addressing hash table
    in two flat arrays (``hash(key)``, and the object's place plus one: block number times ``block`` plus its
    slot), about 30 bytes an object where a dict of ints takes 100; the key stored in the block confirms a hash
    match. A sealed object written again lives in the recent part, and its sealed copy leaves the index."""

    def __init__(self, dictionary: bytes, *, recent: int = 2048, block: int = 64,
                 key_hash: Callable[[str], int] = hash) -> None:
        self._dictionary = dictionary
        self._hash = key_hash
        self._recent_limit = recent
        self._block = block
        self._recent: dict[str, bytes] = {}
        self._blocks: list[bytes] = []
        self._decoded: OrderedDict[int, tuple[tuple[str, bytes], ...]] = OrderedDict()  # the last few blocks decoded
        self._hashes = array("q", bytes(8 * 8))
        self._marks = array("i", bytes(4 * 8))  # per slot: place + 1, _FREE, or _DROPPED
        self._sealed = 0  # live sealed objects
        self._taken = 0  # slots not free (live or dropped)

    def get(self, key: str, default: bytes | None = None) -> bytes | None:
        body = self._recent.get(key)
        if body is not None:
            return body
        slot = self._slot(key)
        return default if slot is None else self._entry(self._marks[slot] - 1)[1]

    def __getitem__(self, key: str) -> bytes:
        body = self.get(key)
        if body is None:
            raise KeyError(key)
        return body

    def __contains__(self, key: object) -> bool:
        return key in self._recent or (isinstance(key, str) and self._slot(key) is not None)

    def __setitem__(self, key: str, body: bytes) -> None:
        self._unindex(key)
        self._recent[key] = body
        if len(self._recent) > self._recent_limit:
            self._seal()

    def __delitem__(self, key: str) -> None:
        if self._recent.pop(key, None) is None and not self._unindex(key):
            raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        for place in sorted(mark - 1 for mark in self._marks if mark > 0):
            yield self._entry(place)[0]
        yield from list(self._recent)

    def __len__(self) -> int:
        return len(self._recent) + self._sealed

    def _slot(self, key: str) -> int | None:
        hashed = self._hash(key)
        mask = len(self._marks) - 1
        slot = hashed & mask
        while (mark := self._marks[slot]) != _FREE:
            if mark > 0 and self._hashes[slot] == hashed and self._entry(mark - 1)[0] == key:
                return slot
            slot = (slot + 1) & mask
        return None

    def _unindex(self, key: str) -> bool:
        slot = self._slot(key)
        if slot is None:
            return False
        self._marks[slot] = _DROPPED
        self._sealed -= 1
        return True

    def _index(self, hashed: int, place: int) -> None:
        if 2 * (self._taken + 1) > len(self._marks):
            self._rebuild_index()
        mask = len(self._marks) - 1
        slot = hashed & mask
        while self._marks[slot] > 0:
            slot = (slot + 1) & mask
        self._taken += self._marks[slot] == _FREE
        self._hashes[slot] = hashed
        self._marks[slot] = place + 1
        self._sealed += 1

    def _rebuild_index(self) -> None:
        live = [(hashed, mark) for hashed, mark in zip(self._hashes, self._marks) if mark > 0]
        size = 8
        while size < 4 * (len(live) + 1):
            size *= 2
        self._hashes, self._marks = array("q", bytes(8 * size)), array("i", bytes(4 * size))
        self._sealed = self._taken = 0
        for hashed, mark in live:
            self._index(hashed, mark - 1)

    def _seal(self) -> None:
        entries = tuple((key, self._recent.pop(key)) for key in list(itertools.islice(self._recent, self._block)))
        number = len(self._blocks)
        self._blocks.append(_deflate(pickle.dumps(entries, protocol=pickle.HIGHEST_PROTOCOL), self._dictionary))
        for slot, (key, _) in enumerate(entries):
            self._index(self._hash(key), number * self._block + slot)

    def _entry(self, place: int) -> tuple[str, bytes]:
        number, slot = divmod(place, self._block)
        return self._read(number)[slot]

    def _read(self, number: int) -> tuple[tuple[str, bytes], ...]:
        entries = self._decoded.get(number)
        if entries is None:
            entries = pickle.loads(_inflate(self._blocks[number], self._dictionary))
            self._decoded[number] = entries
            if len(self._decoded) > 4:
                self._decoded.popitem(last=False)
        return entries


_FREE, _DROPPED = 0, -1


# -- compact storage -----------------------------------------------------------------------------------------
# A block's first objects have no earlier ones to borrow from; a preset dictionary holding what they have in
# common (pickle opcodes and field names of a Transaction; the element structure of pacs.008 and pacs.002) does.


def _deflate(data: bytes, dictionary: bytes) -> bytes:
    compressor = zlib.compressobj(6, zdict=dictionary)
    return compressor.compress(data) + compressor.flush()


def _inflate(data: bytes, dictionary: bytes) -> bytes:
    decompressor = zlib.decompressobj(zdict=dictionary)
    return decompressor.decompress(data) + decompressor.flush()


@cache
def _ledger_dictionary() -> bytes:
    at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    transaction_id = "00000000-0000-4000-8000-000000000000"
    record = Transaction.opened(id=transaction_id, region="us-east-1", owner="client-000", message_type="pacs.008",
                                at=at, sla_seconds=30, retention_days=30)
    folder = "us-east-1/2026/01/01/00/00/00"
    record = replace(
        record,
        status=Status.ACSC,
        version=4,
        history=tuple(HistoryEntry(status, at) for status in (Status.ACCP, Status.ACTC, Status.ACSP, Status.ACSC)),
        payload_key=f"inbox/{folder}/{transaction_id}-pacs.008.xml",
        payload_sha256="0" * 64,
        reply_key=f"outbox/{folder}/{transaction_id}-pacs.002.xml",
        decision=Decision(Status.ACSC, at, payments=(PaymentOutcome("ACSC"), PaymentOutcome("RJCT", "AM05", "duplicate"))),
    )
    return pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)


_AGENT = "<FinInstnId><BICFI></BICFI></FinInstnId>"
_PACS_008 = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Envelope><AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02">'
    f"<Fr><FIId>{_AGENT}</FIId></Fr><To><FIId>{_AGENT}</FIId></To><BizMsgIdr></BizMsgIdr><MsgDefIdr>pacs.008.001.08"
    "</MsgDefIdr><BizSvc></BizSvc><CreDt></CreDt></AppHdr>"
    '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"><FIToFICstmrCdtTrf><GrpHdr><MsgId></MsgId>'
    "<CreDtTm></CreDtTm><NbOfTxs>1</NbOfTxs><TtlIntrBkSttlmAmt Ccy=\"EUR\"></TtlIntrBkSttlmAmt><SttlmInf><SttlmMtd>"
    "INDA</SttlmMtd></SttlmInf></GrpHdr><CdtTrfTxInf><PmtId><InstrId></InstrId><EndToEndId></EndToEndId><TxId></TxId>"
    "<UETR></UETR></PmtId><PmtTpInf><SvcLvl><Cd></Cd></SvcLvl></PmtTpInf><IntrBkSttlmAmt Ccy=\"USD\"></IntrBkSttlmAmt>"
    "<IntrBkSttlmDt></IntrBkSttlmDt><InstdAmt Ccy=\"EUR\"></InstdAmt><ChrgBr>SHAR</ChrgBr>"
    f"<InstgAgt>{_AGENT}</InstgAgt><InstdAgt>{_AGENT}</InstdAgt><Dbtr><Nm></Nm><PstlAdr><PstCd></PstCd><TwnNm></TwnNm>"
    f"<Ctry></Ctry></PstlAdr></Dbtr><DbtrAcct><Id><IBAN></IBAN></Id></DbtrAcct><DbtrAgt>{_AGENT}</DbtrAgt>"
    f"<CdtrAgt>{_AGENT}</CdtrAgt><Cdtr><Nm></Nm></Cdtr><CdtrAcct><Id><Othr><Id></Id></Othr></Id></CdtrAcct>"
    "<CdtrAcct><Id><IBAN></IBAN></Id></CdtrAcct><RmtInf><Ustrd></Ustrd></RmtInf></CdtTrfTxInf></FIToFICstmrCdtTrf>"
    "</Document></Envelope>"
)
_PACS_002 = (
    "<?xml version='1.0' encoding='UTF-8'?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10\">"
    f"<FIToFIPmtStsRpt><GrpHdr><MsgId>RP2</MsgId><CreDtTm></CreDtTm><InstgAgt>{_AGENT}</InstgAgt><InstdAgt>{_AGENT}"
    "</InstdAgt></GrpHdr><OrgnlGrpInfAndSts><OrgnlMsgId></OrgnlMsgId><OrgnlMsgNmId>pacs.008.001.08</OrgnlMsgNmId>"
    "<OrgnlCreDtTm></OrgnlCreDtTm><OrgnlNbOfTxs>1</OrgnlNbOfTxs><GrpSts>RJCT</GrpSts><StsRsnInf><Rsn><Cd></Cd></Rsn>"
    "<AddtlInf></AddtlInf></StsRsnInf></OrgnlGrpInfAndSts><TxInfAndSts><OrgnlInstrId></OrgnlInstrId><OrgnlEndToEndId>"
    f"</OrgnlEndToEndId><OrgnlUETR></OrgnlUETR><TxSts>ACSC</TxSts><InstgAgt>{_AGENT}</InstgAgt><InstdAgt>{_AGENT}"
    "</InstdAgt><OrgnlTxRef><IntrBkSttlmAmt Ccy=\"EUR\"></IntrBkSttlmAmt><IntrBkSttlmDt></IntrBkSttlmDt><SttlmInf>"
    "<SttlmMtd>INDA</SttlmMtd></SttlmInf><RmtInf><Ustrd></Ustrd></RmtInf><Dbtr><Pty><Nm></Nm></Pty></Dbtr><DbtrAcct>"
    f"<Id><IBAN></IBAN></Id></DbtrAcct><DbtrAgt>{_AGENT}</DbtrAgt><CdtrAgt>{_AGENT}</CdtrAgt><Cdtr><Pty><Nm></Nm>"
    "</Pty></Cdtr><CdtrAcct><Id><IBAN></IBAN></Id></CdtrAcct></OrgnlTxRef></TxInfAndSts></FIToFIPmtStsRpt></Document>"
)


@cache
def _archive_dictionary() -> bytes:
    return (_PACS_008 + _PACS_002).encode("utf-8")


@dataclass
class QueuedMessage:
    message_id: str
    body: str
    group: str
    receive_count: int = 0
    receipt: str = ""


@dataclass
class MemoryQueues:
    """FIFO queues as SQS keeps them: deduplication ids, and a message group waits while one of its
    messages is in flight (received, neither acknowledged nor released)."""

    steps: tuple[str, ...] = ("inbox", "process", "release")
    _queues: dict[str, deque[QueuedMessage]] = field(default_factory=dict)
    _in_flight: dict[str, dict[str, QueuedMessage]] = field(default_factory=dict)
    _seen: dict[str, set[str]] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        for step in self.steps:
            self._queues[step] = deque()
            self._in_flight[step] = {}
            self._seen[step] = set()

    def send(self, step: str, body: str, *, group: str, deduplication: str) -> None:
        if deduplication in self._seen[step]:
            return
        self._seen[step].add(deduplication)
        self._queues[step].append(QueuedMessage(f"m-{next(self._ids)}", body, group))

    def receive(self, step: str, max_messages: int) -> list[QueuedMessage]:
        """Copies of the received messages, so that a later receive does not change what a caller holds."""
        queue, in_flight = self._queues[step], self._in_flight[step]
        waiting_groups = {message.group for message in in_flight.values()}
        batch: list[QueuedMessage] = []
        skipped: list[QueuedMessage] = []
        while queue and len(batch) < max_messages:
            message = queue.popleft()
            if message.group in waiting_groups:
                skipped.append(message)
                continue
            message.receive_count += 1
            in_flight[message.message_id] = message
            batch.append(replace(message, receipt=f"{message.message_id}/{message.receive_count}"))
        queue.extendleft(reversed(skipped))
        return batch

    def acknowledge(self, step: str, messages: Sequence[QueuedMessage]) -> None:
        for message in messages:
            self._in_flight[step].pop(message.message_id, None)

    def release_unprocessed(self, step: str, messages: Sequence[QueuedMessage]) -> None:
        """Make failed messages visible again, as an expired visibility timeout does."""
        in_flight = self._in_flight[step]
        released = [in_flight.pop(message.message_id) for message in messages if message.message_id in in_flight]
        self._queues[step].extendleft(reversed(released))

    def depth(self, step: str) -> int:
        return len(self._queues[step])

    def check(self) -> None:
        return None


@dataclass
class MemoryNotifier:
    """``published``: the notifications so far, oldest first; a bounded deque keeps only the latest."""

    published: MutableSequence[tuple[str, str, str]] = field(default_factory=list)

    def publish(self, transaction_id: str, owner: str, status: str) -> None:
        self.published.append((transaction_id, owner, status))


class MemoryRouting:
    """``stamp``: record each write's replication stamp (see engine.ports, replication); a region's state and a
    detector view are replicated each on its own, as the AWS adapter's map entries and items are."""

    def __init__(self, *, stamp: StampSource | None = None) -> None:
        self._states: dict[str, RegionState] = {}
        self._views: dict[tuple[str, str], PeerView] = {}
        self._stamp = stamp
        self._stamps: dict[tuple[str, object], Stamp] = {}

    def region_states(self) -> dict[str, RegionState]:
        return dict(self._states)

    def declare(self, state: RegionState) -> None:
        self._states[state.region] = state
        if self._stamp is not None:
            self._stamps[("state", state.region)] = self._stamp()

    def peer_view(self, observer: str, peer: str) -> PeerView:
        return self._views.get((observer, peer), PeerView(observer, peer))

    def save_peer_view(self, view: PeerView) -> None:
        self._views[(view.observer, view.peer)] = view
        if self._stamp is not None:
            self._stamps[("view", (view.observer, view.peer))] = self._stamp()

    def put_replica_state(self, state: RegionState, stamp: Stamp) -> bool:
        key = ("state", state.region)
        if state.region in self._states and stamp <= self._stamps.get(key, _UNSTAMPED):
            return False
        self._states[state.region] = state
        self._stamps[key] = stamp
        return True

    def put_replica_view(self, view: PeerView, stamp: Stamp) -> bool:
        pair = (view.observer, view.peer)
        key = ("view", pair)
        if pair in self._views and stamp <= self._stamps.get(key, _UNSTAMPED):
            return False
        self._views[pair] = view
        self._stamps[key] = stamp
        return True


@dataclass
class ScriptedPeerHealth:
    """Probe answers set by the caller: what a test or the simulator decides the peer looks like."""

    healthy: dict[str, bool] = field(default_factory=dict)

    def probe(self, region: str) -> bool:
        return self.healthy.get(region, True)
