"""camt.056 cancellation requests: in flight -> CANC and camt.029 CNCL; settled -> pacs.004 + camt.029 (or
RJCR LEGL where the profile forbids returns); unknown -> camt.029 RJCR NOOR. And the race: whatever the order
in which the payment's steps and the cancellation's steps run, a payment whose cancellation was accepted
before settlement never reaches ACSC, and a settled one is returned at most once."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from lxml import etree

from engine.iso20022 import validate_document
from engine.ledger import Status
from engine.local_runtime import LocalRuntime, sqs_event
from engine.settings import Settings
from engine.wiring import RandomIds, memory_ports
from tests.conftest import sample

CLIENT = "client-a"
PAYMENT = sample("own_pacs008_v08_single.xml")
CANCELLATION = sample("own_camt056_v08_cancel_request.xml")
UNKNOWN = CANCELLATION.replace(b"a9521f99-12a6-4d6e-ad7e-c624e0dd0055", b"0f0e0d0c-0b0a-4909-8807-060504030201")


def post(runtime: LocalRuntime, message_type: str, payload: bytes, identity: str = CLIENT) -> str:
    opened = runtime.call("GET", "/uuid", identity=identity, headers={"X-Message-Type": message_type})
    assert opened.status == 200, opened.body
    transaction_id = opened.body["transaction_id"]
    answer = runtime.call("POST", "/inbox", identity=identity,
                          headers={"X-Transaction-Id": transaction_id, "X-Message-Type": message_type}, body=payload)
    assert answer.status == 200, answer.body
    return transaction_id


def reply(runtime: LocalRuntime, transaction_id: str, reply_type: str | None = None) -> etree._Element | None:
    headers = {"X-Transaction-Id": transaction_id}
    if reply_type:
        headers["X-Message-Type"] = reply_type
    answer = runtime.call("POST", "/outbox", identity=CLIENT, headers=headers)
    if answer.status != 200:
        return None
    body = answer.body["message"].encode("utf-8")
    root = etree.fromstring(body)
    definition = root.nsmap[None].rsplit(":", 1)[1]
    assert validate_document(body, definition) == [], definition
    return root


def texts(root: etree._Element, name: str) -> list[str]:
    return root.xpath(f"//*[local-name()='{name}']/text()")


def history(runtime: LocalRuntime, transaction_id: str) -> list[str]:
    return [e.status.value for e in runtime.ports.ledger.get(transaction_id).history]


def test_in_flight_payment_is_cancelled_and_never_settles(runtime: LocalRuntime):
    payment = post(runtime, "pacs.008", PAYMENT)
    runtime.run_worker_once("inbox")
    runtime.run_worker_once("process")  # the payment is ACSP, its release is queued
    cancellation = post(runtime, "camt.056", CANCELLATION)
    runtime.run_worker_once("inbox")
    runtime.run_worker_once("process")
    runtime.drain()

    assert history(runtime, payment) == ["ACCP", "ACTC", "ACSP", "CANC"]
    assert history(runtime, cancellation) == ["ACCP", "ACTC", "ACSP", "ACSC"]
    resolution = reply(runtime, cancellation)
    assert texts(resolution, "Conf") == ["CNCL"]
    assert texts(resolution, "TxCxlSts") == ["ACCR"]
    assert texts(resolution, "OrgnlUETR") == ["a9521f99-12a6-4d6e-ad7e-c624e0dd0055"]
    assert reply(runtime, cancellation, "pacs.004") is None
    status = reply(runtime, payment)
    assert texts(status, "TxSts") == ["RJCT"]
    assert set(texts(status, "Cd")) == {"DS02"}


def test_settled_payment_is_returned_with_a_pacs004(runtime: LocalRuntime):
    payment = post(runtime, "pacs.008", PAYMENT)
    runtime.drain()
    cancellation = post(runtime, "camt.056", CANCELLATION)
    runtime.drain()

    assert history(runtime, payment) == ["ACCP", "ACTC", "ACSP", "ACSC"]
    resolution = reply(runtime, cancellation)
    assert texts(resolution, "Conf") == ["CNCL"]
    assert texts(resolution, "TxCxlSts") == ["ACCR"]
    payment_return = reply(runtime, cancellation, "pacs.004")
    assert payment_return.nsmap[None].endswith("pacs.004.001.09")
    assert texts(payment_return, "OrgnlUETR") == ["a9521f99-12a6-4d6e-ad7e-c624e0dd0055"]
    assert texts(payment_return, "RtrdIntrBkSttlmAmt") == ["1250.00"]
    assert texts(payment_return, "Cd") == ["FOCR"]
    assert texts(payment_return, "OrgnlMsgId") == ["NOVAGB2L-20250314-000001"]

    second = post(runtime, "camt.056", CANCELLATION.replace(b"NOVA-CXL-20250314-0003", b"NOVA-CXL-20250314-0004"))
    runtime.drain()
    again = reply(runtime, second)
    assert texts(again, "Conf") == ["RJCR"]
    assert texts(again, "Cd") == ["ARDT"]
    assert reply(runtime, second, "pacs.004") is None


def test_unknown_payment_gets_noor(runtime: LocalRuntime):
    cancellation = post(runtime, "camt.056", UNKNOWN)
    runtime.drain()

    resolution = reply(runtime, cancellation)
    assert texts(resolution, "Conf") == ["RJCR"]
    assert texts(resolution, "TxCxlSts") == ["RJCR"]
    assert texts(resolution, "Cd") == ["NOOR"]


def test_a_payment_arriving_after_its_noor_cancellation_settles_normally(runtime: LocalRuntime):
    early = post(runtime, "camt.056", CANCELLATION)
    runtime.drain()
    payment = post(runtime, "pacs.008", PAYMENT)
    runtime.drain()

    assert texts(reply(runtime, early), "Cd") == ["NOOR"]
    assert history(runtime, payment) == ["ACCP", "ACTC", "ACSP", "ACSC"]
    duplicate = post(runtime, "pacs.008", PAYMENT.replace(b"NOVAGB2L-20250314-000001", b"NOVAGB2L-20250314-000099"))
    runtime.drain()
    assert set(texts(reply(runtime, duplicate), "Cd")) == {"AM05"}  # the UETR is still one payment's only


def test_cancellation_is_found_by_original_msgid_without_uetr(runtime: LocalRuntime):
    payment = post(runtime, "pacs.008", PAYMENT.replace(b"<InstgAgt>", b"<InstgAgt>", 1))
    runtime.drain()
    request = CANCELLATION.replace(b"<OrgnlUETR>a9521f99-12a6-4d6e-ad7e-c624e0dd0055</OrgnlUETR>", b"")
    cancellation = post(runtime, "camt.056", request)
    runtime.drain()

    assert history(runtime, payment)[-1] == "ACSC"
    assert texts(reply(runtime, cancellation), "TxCxlSts") == ["ACCR"]
    assert reply(runtime, cancellation, "pacs.004") is not None


def with_header(document: bytes, sender: str, receiver: str, identifier: str, definition: str) -> bytes:
    """The Document in an <Envelope> with a head.001.001.02 AppHdr."""
    body = document.split(b"?>", 1)[1]
    header = (
        '<AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02">'
        f"<Fr><FIId><FinInstnId><BICFI>{sender}</BICFI></FinInstnId></FIId></Fr>"
        f"<To><FIId><FinInstnId><BICFI>{receiver}</BICFI></FinInstnId></FIId></To>"
        f"<BizMsgIdr>{identifier}</BizMsgIdr><MsgDefIdr>{definition}</MsgDefIdr>"
        "<CreDt>2025-03-14T11:02:10+00:00</CreDt></AppHdr>"
    )
    return b"<Envelope>" + header.encode() + body + b"</Envelope>"


def test_fednow_profile_refuses_returns_with_legl(clock):
    ledger_and_archive = memory_ports(Settings(), clock=clock, ids=RandomIds())
    generic = LocalRuntime(ledger_and_archive, ledger_and_archive.queues)
    original = post(generic, "pacs.008", PAYMENT)  # settled under the generic rules (it is EUR, not a FedNow payment)
    generic.drain()
    fednow_ports = replace(ledger_and_archive, settings=Settings(profile="fednow"))
    fednow = LocalRuntime(fednow_ports, fednow_ports.queues)
    request = with_header(CANCELLATION, "NOVAGB2LXXX", "ZEPHDEFFXXX", "NOVA-CXL-20250314-0003", "camt.056.001.08")

    cancellation = post(fednow, "camt.056", request)
    fednow.drain()

    assert history(fednow, original)[-1] == "ACSC"
    resolution = reply(fednow, cancellation)
    assert texts(resolution, "Conf") == ["RJCR"]
    assert texts(resolution, "Cd") == ["LEGL"]
    assert reply(fednow, cancellation, "pacs.004") is None


def test_a_cancellation_whose_header_contradicts_it_is_rejected(runtime: LocalRuntime):
    request = with_header(CANCELLATION, "QUILUS33XXX", "ZEPHDEFFXXX", "NOVA-CXL-20250314-0003", "camt.056.001.08")

    cancellation = post(runtime, "camt.056", request)
    runtime.drain()

    status = reply(runtime, cancellation)
    assert texts(status, "GrpSts") == ["RJCT"]
    assert texts(status, "Cd") == ["AGNT"]


def test_cancellation_of_an_unreadable_request_is_a_group_only_pacs002(runtime: LocalRuntime):
    cancellation = post(runtime, "camt.056", sample("rust_iso20022_tests-data_camt.056.001.09.xml"))
    runtime.drain()

    status = reply(runtime, cancellation)
    assert texts(status, "GrpSts") == ["RJCT"]
    assert texts(status, "Cd") == ["FF01"]
    assert texts(status, "AddtlInf") == ["no schema shipped for camt.056.001.09"]


def test_a_payment_sent_on_a_cancellation_transaction_is_refused(runtime: LocalRuntime):
    transaction = post(runtime, "camt.056", PAYMENT)
    runtime.drain()

    assert texts(reply(runtime, transaction), "AddtlInf") == ["pacs.008.001.08 is not accepted on this route"]


# -- the race ---------------------------------------------------------------------------------------------------


class Driver:
    """Runs one step of one transaction at a time, through the real queue workers."""

    def __init__(self, runtime: LocalRuntime) -> None:
        self.runtime = runtime

    def step(self, step: str, transaction_id: str) -> bool:
        queues = self.runtime.queues
        batch = queues.receive(step, 10)
        mine = [m for m in batch if m.group == transaction_id]
        others = [m for m in batch if m.group != transaction_id]
        queues.release_unprocessed(step, others)
        if not mine:
            return False
        result = self.runtime.workers[step](sqs_event(step, "us-east-1", mine), None)
        assert result == {"batchItemFailures": []}
        queues.acknowledge(step, mine)
        return True


def open_both(runtime: LocalRuntime) -> tuple[str, str]:
    payment = post(runtime, "pacs.008", PAYMENT)
    cancellation = post(runtime, "camt.056", CANCELLATION)
    return payment, cancellation


STEPS = ("inbox", "process", "release")
ORDERS = sorted({order for order in itertools.permutations("PPPCCC")})


def check_outcome(runtime: LocalRuntime, payment: str, cancellation: str) -> str:
    payment_history = history(runtime, payment)
    assert runtime.ports.ledger.get(payment).status.is_terminal
    assert runtime.ports.ledger.get(cancellation).status is Status.ACSC
    resolution = reply(runtime, cancellation)
    item = texts(resolution, "TxCxlSts")
    payment_return = reply(runtime, cancellation, "pacs.004")
    if "CANC" in payment_history:
        assert "ACSC" not in payment_history
        assert item == ["ACCR"] and payment_return is None
        return "cancelled"
    assert payment_history[-1] == "ACSC"
    if item == ["ACCR"]:
        assert payment_return is not None  # settled first: returned, once
        return "returned"
    assert texts(resolution, "Cd") == ["NOOR"]  # the request was processed before the payment was
    return "never received"


@pytest.mark.parametrize("order", ORDERS, ids=["".join(o) for o in ORDERS])
def test_every_interleaving_of_payment_and_cancellation_steps(order, clock):
    ports = memory_ports(Settings(), clock=clock, ids=RandomIds())
    runtime = LocalRuntime(ports, ports.queues)
    payment, cancellation = open_both(runtime)
    driver = Driver(runtime)
    progress = {"P": 0, "C": 0}
    for who in order:
        transaction = payment if who == "P" else cancellation
        driver.step(STEPS[progress[who]], transaction)
        progress[who] += 1
    runtime.drain()

    outcome = check_outcome(runtime, payment, cancellation)
    position = {who: [i for i, w in enumerate(order) if w == who] for who in "PC"}
    if position["C"][1] < position["P"][1]:
        assert outcome == "never received"  # cancellation processed before the payment was
    elif position["C"][1] > position["P"][2]:
        assert outcome == "returned"  # cancellation processed after settlement
    else:
        assert outcome == "cancelled"  # processed while the payment was in flight


class RacingLedger:
    """Lets release settle the payment between the cancellation's read and its conditional CANC write."""

    def __init__(self, inner, before_cancel) -> None:
        self._inner = inner
        self._before_cancel = before_cancel

    def transition(self, transaction_id, change):
        if change.target is Status.CANC and self._before_cancel is not None:
            hook, self._before_cancel = self._before_cancel, None
            hook()
        return self._inner.transition(transaction_id, change)

    def __getattr__(self, name):
        return getattr(self._inner, name)


def test_release_winning_the_race_inside_the_cancellation_leads_to_a_return(clock):
    base = memory_ports(Settings(), clock=clock, ids=RandomIds())
    holder: dict = {}
    ports = replace(base, ledger=RacingLedger(base.ledger, lambda: holder["driver"].step("release", holder["payment"])))
    runtime = LocalRuntime(ports, ports.queues)
    payment, cancellation = open_both(runtime)
    driver = Driver(runtime)
    holder.update(driver=driver, payment=payment)
    driver.step("inbox", payment)
    driver.step("process", payment)  # ACSP: release queued, not yet run
    driver.step("inbox", cancellation)
    driver.step("process", cancellation)  # reads ACSP; release settles; the CANC write fails; it re-reads ACSC
    runtime.drain()

    assert history(runtime, payment) == ["ACCP", "ACTC", "ACSP", "ACSC"]
    assert check_outcome(runtime, payment, cancellation) == "returned"


def test_cancellation_winning_the_race_keeps_release_from_settling(clock):
    ports = memory_ports(Settings(), clock=clock, ids=RandomIds())
    runtime = LocalRuntime(ports, ports.queues)
    payment, cancellation = open_both(runtime)
    driver = Driver(runtime)
    driver.step("inbox", payment)
    driver.step("process", payment)
    driver.step("inbox", cancellation)
    driver.step("process", cancellation)  # CANC written first
    assert driver.step("release", payment)  # release's conditional ACSP -> ACSC write fails: nothing settles
    runtime.drain()

    assert history(runtime, payment) == ["ACCP", "ACTC", "ACSP", "CANC"]
    assert check_outcome(runtime, payment, cancellation) == "cancelled"
