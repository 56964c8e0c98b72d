"""Duplicates: same UETR, or same MsgId from the same sender. An exact resend or a PssblDplct message gets the
original's status back and creates nothing; a different message reusing an identifier is rejected AM05 (DUPL
under the fednow profile). Nothing is settled twice."""

from __future__ import annotations

from dataclasses import replace

from lxml import etree

from engine.iso20022 import validate_document
from engine.local_runtime import LocalRuntime
from engine.settings import Settings
from engine.wiring import RandomIds, memory_ports
from tests.conftest import sample

CLIENT = "client-a"
SINGLE = sample("own_pacs008_v08_single.xml")
ENVELOPE = sample("own_pacs008_v08_bah_envelope.xml")
MULTI = sample("own_pacs008_v08_multi3_sct.xml")


def post(runtime: LocalRuntime, payload: bytes, identity: str = CLIENT) -> str:
    opened = runtime.call("GET", "/uuid", identity=identity, headers={"X-Message-Type": "pacs.008"})
    transaction_id = opened.body["transaction_id"]
    answer = runtime.call("POST", "/inbox", identity=identity,
                          headers={"X-Transaction-Id": transaction_id, "X-Message-Type": "pacs.008"}, body=payload)
    assert answer.status == 200, answer.body
    return transaction_id


def reply(runtime: LocalRuntime, transaction_id: str, identity: str = CLIENT) -> etree._Element:
    answer = runtime.call("POST", "/outbox", identity=identity, headers={"X-Transaction-Id": transaction_id})
    assert answer.status == 200, answer.body
    body = answer.body["message"].encode("utf-8")
    assert validate_document(body, "pacs.002.001.10") == []
    return etree.fromstring(body)


def texts(root: etree._Element, name: str) -> list[str]:
    return root.xpath(f"//*[local-name()='{name}']/text()")


def reasons(root: etree._Element) -> list[str]:
    return root.xpath("//*[local-name()='StsRsnInf']/*[local-name()='Rsn']/*[local-name()='Cd']/text()")


def final(runtime: LocalRuntime, transaction_id: str) -> str:
    return runtime.ports.ledger.get(transaction_id).status.value


def settled_count(runtime: LocalRuntime, uetr: str) -> int:
    """How many transactions settled a payment with this UETR (read back from the archived payloads)."""
    count = 0
    for transaction_id in list(runtime.ports.ledger._records) if hasattr(runtime.ports.ledger, "_records") else []:
        record = runtime.ports.ledger.get(transaction_id)
        if record.status.value != "ACSC" or record.payload_key is None:
            continue
        payload = runtime.ports.archive.get(record.payload_key)
        statuses = [o.status for o in record.decision.payments]
        if uetr.encode() in payload and "ACSC" in statuses:
            count += 1
    return count


def test_exact_resend_after_settlement_gets_the_original_status_and_settles_nothing(runtime: LocalRuntime):
    original = post(runtime, SINGLE)
    runtime.drain()
    resend = post(runtime, SINGLE)
    runtime.drain()

    assert final(runtime, original) == "ACSC"
    assert final(runtime, resend) == "RJCT"  # never executed
    record = runtime.ports.ledger.get(resend)
    assert record.decision.info == f"resend of transaction {original}: its status is reported, nothing is executed again"
    assert record.decision.reason_code is None
    answer = reply(runtime, resend)
    assert texts(answer, "GrpSts") == ["ACSC"]
    assert texts(answer, "TxSts") == ["ACSC"]
    assert texts(answer, "OrgnlUETR") == ["a9521f99-12a6-4d6e-ad7e-c624e0dd0055"]
    assert f"resend of transaction {original}" in record.warnings


def test_nothing_is_settled_twice_on_memory(clock):
    ports = memory_ports(Settings(), clock=clock, ids=RandomIds())
    runtime = LocalRuntime(ports, ports.queues)
    for _ in range(3):
        post(runtime, SINGLE)
    runtime.drain()

    assert settled_count(runtime, "a9521f99-12a6-4d6e-ad7e-c624e0dd0055") == 1


def test_resend_creates_no_new_claim(clock):
    ports = memory_ports(Settings(), clock=clock, ids=RandomIds())
    runtime = LocalRuntime(ports, ports.queues)
    post(runtime, SINGLE)
    runtime.drain()
    claims = dict(ports.ledger._claims)

    post(runtime, SINGLE)
    runtime.drain()

    assert ports.ledger._claims == claims


def test_resend_while_the_original_is_in_flight_reports_acsp(runtime: LocalRuntime):
    original = post(runtime, SINGLE)
    runtime.run_worker_once("inbox")
    runtime.run_worker_once("process")  # ACSP, not released
    resend = post(runtime, SINGLE)
    runtime.run_worker_once("inbox")
    runtime.run_worker_once("process")
    runtime.drain()

    assert final(runtime, original) == "ACSC"
    assert texts(reply(runtime, resend), "TxSts") == ["ACSP"]


def test_possible_duplicate_flag_gets_the_original_status(runtime: LocalRuntime):
    original = post(runtime, ENVELOPE)
    runtime.drain()
    flagged = ENVELOPE.replace(b"<CreDt>", b"<PssblDplct>true</PssblDplct><CreDt>").replace(
        b"PO 88213 refractory bricks", b"PO 88213 refractory bricks (resent)")

    resend = post(runtime, flagged)
    runtime.drain()

    assert final(runtime, original) == "ACSC"
    assert final(runtime, resend) == "RJCT"
    assert texts(reply(runtime, resend), "TxSts") == ["ACSC"]


def test_a_different_message_reusing_a_msgid_is_am05(runtime: LocalRuntime):
    post(runtime, SINGLE)
    runtime.drain()
    other = SINGLE.replace(b"a9521f99-12a6-4d6e-ad7e-c624e0dd0055", b"0b5b8a6e-8c9e-4e0a-9f0a-2d7c6b5a4e3f").replace(b"1250.00", b"1251.00")

    duplicate = post(runtime, other)
    runtime.drain()

    assert final(runtime, duplicate) == "RJCT"
    answer = reply(runtime, duplicate)
    assert set(reasons(answer)) == {"AM05"}
    assert "MsgId NOVAGB2L-20250314-000001 from NOVAGB2LXXX is already used by transaction" in texts(answer, "AddtlInf")[0]


def test_a_different_message_reusing_a_uetr_is_am05_for_that_payment(runtime: LocalRuntime):
    post(runtime, SINGLE)
    runtime.drain()
    other = SINGLE.replace(b"NOVAGB2L-20250314-000001", b"NOVAGB2L-20250314-000777")

    duplicate = post(runtime, other)
    runtime.drain()

    answer = reply(runtime, duplicate)
    assert texts(answer, "TxSts") == ["RJCT"]
    assert set(reasons(answer)) == {"AM05"}


def test_the_same_msgid_from_another_sender_is_not_a_duplicate(runtime: LocalRuntime):
    post(runtime, SINGLE)
    runtime.drain()
    other = SINGLE.replace(b"NOVAGB2LXXX", b"QUILUS33XXX").replace(b"a9521f99-12a6-4d6e-ad7e-c624e0dd0055", b"0b5b8a6e-8c9e-4e0a-9f0a-2d7c6b5a4e3f")

    transaction = post(runtime, other)
    runtime.drain()

    assert final(runtime, transaction) == "ACSC"


def test_one_duplicate_payment_in_a_batch_rejects_only_itself(runtime: LocalRuntime):
    first = MULTI.replace(b"<TxId>NOVA-TX-900002</TxId>", b"<TxId>NOVA-TX-900002</TxId><UETR>7d1c9c2e-3b7a-4f6e-9b1a-5c2d3e4f5a6b</UETR>")
    post(runtime, SINGLE.replace(b"a9521f99-12a6-4d6e-ad7e-c624e0dd0055", b"7d1c9c2e-3b7a-4f6e-9b1a-5c2d3e4f5a6b"))
    runtime.drain()

    batch = post(runtime, first)
    runtime.drain()

    assert final(runtime, batch) == "ACSC"
    answer = reply(runtime, batch)
    assert texts(answer, "GrpSts") == ["PART"]
    assert texts(answer, "TxSts") == ["ACSC", "RJCT", "ACSC"]
    assert reasons(answer) == ["AM05"]


def test_fednow_profile_answers_dupl(clock):
    base = memory_ports(Settings(profile="fednow"), clock=clock, ids=RandomIds())
    runtime = LocalRuntime(base, base.queues)
    payment = ENVELOPE.replace(b"<ChrgBr>DEBT</ChrgBr>", b"<ChrgBr>SLEV</ChrgBr>")
    clock.current = clock.current.replace(year=2025, month=3, day=14, hour=8)
    post(runtime, payment)
    runtime.drain()
    other = payment.replace(b"48210.55", b"48210.56")

    duplicate = post(runtime, other)
    runtime.drain()

    assert set(reasons(reply(runtime, duplicate))) == {"DUPL"}
    assert replace(base.settings).profile == "fednow"
