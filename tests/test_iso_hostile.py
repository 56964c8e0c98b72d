"""Hostile and broken input through the whole judgement (read, rules, reply): every case is RJCT with an ISO
reason code, an AddtlInf of at most 105 characters naming where, a schema-valid pacs.002, bounded memory, and
no effect on the other messages of a batch. Timings are never asserted."""

from __future__ import annotations

import resource
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

import pytest
from lxml import etree

from engine.iso20022 import MessageError, build_status_report, evaluate, profile_named, validate_document
from engine.iso20022.parsing import parse_untrusted
from engine.local_runtime import LocalRuntime
from tests.conftest import sample

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
SINGLE = (SAMPLES / "own_pacs008_v08_single.xml").read_bytes()
ENVELOPE = (SAMPLES / "own_pacs008_v08_bah_envelope.xml").read_bytes()
BODY = SINGLE.split(b"?>", 1)[1]
LIMIT = 184_320  # the engine's default RP2_MAX_MESSAGE_BYTES
NOW = datetime(2025, 3, 14, 8, 0, tzinfo=timezone.utc)


def billion_laughs() -> bytes:
    entities = b'<!ENTITY l0 "lol">' + b"".join(b'<!ENTITY l%d "%s">' % (n, b"&l%d;" % (n - 1) * 10) for n in range(1, 10))
    return b"<?xml version=\"1.0\"?><!DOCTYPE Document [" + entities + b"]>" + BODY.replace(b"<MsgId>NOVAGB2L-20250314-000001</MsgId>", b"<MsgId>&l9;</MsgId>")


def nested(depth: int) -> bytes:
    inner = b"<Ustrd>x</Ustrd>"
    return SINGLE.replace(b"<Ustrd>Invoice INV-2025-0042 glazes and kiln parts</Ustrd>", b"<RmtInf>" * depth + inner + b"</RmtInf>" * depth)


HOSTILE = {
    "ten megabytes": (b"<Document>" + b"A" * 10_000_000 + b"</Document>", "message is 10000021 bytes, limit is 184320"),
    "billion laughs": (billion_laughs(), "DOCTYPE is not allowed: DTDs and entity declarations are refused"),
    "internal entity": (b'<!DOCTYPE Document [<!ENTITY x "y">]>' + BODY, "DOCTYPE is not allowed: DTDs and entity declarations are refused"),
    "external entity": (b'<!DOCTYPE Document [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + BODY.replace(b"<MsgId>NOVAGB2L-20250314-000001", b"<MsgId>&x;"), "DOCTYPE is not allowed: DTDs and entity declarations are refused"),
    "deep nesting": (nested(5000), "XML not well-formed at line"),
    "nesting the schema refuses": (nested(3), "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf/RmtInf/RmtInf: This element is not expected"),
    "two roots": (SINGLE + b"<Document/>", "XML not well-formed at line"),
    "truncated": (SINGLE[:700], "XML not well-formed at line"),
    "not UTF-8": (SINGLE.replace(b"Mira Feldmann", b"Mira F\xe9ldmann"), "XML not well-formed at line"),
    "unknown root": (b"<Payment><Amount>1</Amount></Payment>", "no ISO 20022 Document found in <Payment>"),
    "unknown namespace": (SINGLE.replace(b"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08", b"urn:example:pay"), "unknown Document namespace urn:example:pay"),
    "version without schema": ((SAMPLES / "prowide-iso20022_iso20022-core_test_pacs.008.001.07.xml").read_bytes(), "no schema shipped for pacs.008.001.07"),
    "wrong version in the header": (ENVELOPE.replace(b"<MsgDefIdr>pacs.008.001.08</MsgDefIdr>", b"<MsgDefIdr>pacs.008.001.13</MsgDefIdr>"), "/AppHdr/MsgDefIdr: MsgDefIdr pacs.008.001.13 but the Document is pacs.008.001.08"),
    "reply family sent as a payment": ((SAMPLES / "own_pacs002_v10_acsc_reply.xml").read_bytes(), "pacs.002.001.10 is not accepted on this route"),
    "empty": (b"", "XML not well-formed at line 1, column 1: Document is empty"),
}


def judged(raw: bytes):
    return evaluate(raw, profile=profile_named("generic"), now=NOW, max_bytes=LIMIT)


def group_reply(evaluation) -> bytes:
    message = evaluation.message
    code, info = evaluation.reason
    return build_status_report(
        message, group_status="RJCT", payment_status={i: s for i, s in enumerate(evaluation.payment_status)} if message else {},
        report_id="RP2HOSTILE", created_at=NOW, original_reference="hostile", original_definition="pacs.008.001.08",
        group_reason=(code, info),
    )


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_input_is_rejected_ff01_with_a_short_narrative_and_a_valid_reply(name):
    raw, narrative = HOSTILE[name]

    evaluation = judged(raw)

    assert not evaluation.accepted
    code, info = evaluation.reason
    assert code == "FF01"
    assert info.startswith(narrative), info
    assert len(info) <= 105
    reply = group_reply(evaluation)
    assert validate_document(reply, "pacs.002.001.10") == []
    additional = etree.fromstring(reply).xpath("//*[local-name()='AddtlInf']/text()")
    assert additional and all(len(text) <= 105 for text in additional)


def test_ten_megabytes_are_refused_before_parsing_with_bounded_memory():
    raw = b"<Document>" + b"<a>x</a>" * 1_250_000 + b"</Document>"
    tracemalloc.start()
    try:
        evaluation = judged(raw)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert evaluation.reason == ("FF01", f"message is {len(raw)} bytes, limit is {LIMIT}")
    assert peak < 256 * 1024  # nothing of the 10 MB was copied or parsed


def test_billion_laughs_stays_within_bounded_memory():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    try:
        evaluation = judged(billion_laughs())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert evaluation.reason[0] == "FF01"
    assert peak < 1024 * 1024
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 64 * 1024  # KiB: libxml2 never expanded it


def test_deep_nesting_is_bounded_by_the_parser_depth_limit():
    tracemalloc.start()
    try:
        evaluation = judged(b"<a>" * 20_000 + b"</a>" * 20_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert evaluation.reason[0] == "FF01"
    assert evaluation.reason[1] == "XML not well-formed at line 1, column 771: the XML is nested more than 256 levels deep"
    assert peak < 1024 * 1024


@pytest.mark.parametrize(
    ("raw", "column"),
    [(b"<a>" + b"x" * 10_000_001 + b"</a>", 10_000_005), (b'<a b="' + b"x" * 10_000_001 + b'"/>', 10_000_002)],
    ids=["text", "attribute"],
)
def test_a_value_over_the_parser_limit_is_explained_in_rp2s_words(raw, column):
    with pytest.raises(MessageError) as refused:
        parse_untrusted(raw, max_bytes=len(raw))

    assert (refused.value.reason_code, refused.value.narrative) == (
        "FF01", f"XML not well-formed at line 1, column {column}: a name, text or attribute value is over 10000000 bytes"
    )


def test_a_utf8_bom_is_accepted():
    assert judged(b"\xef\xbb\xbf" + SINGLE).accepted


def test_a_utf16_message_with_its_declaration_is_accepted():
    text = SINGLE.decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')

    assert judged(text.encode("utf-16")).accepted


def test_schema_errors_name_the_element_path():
    evaluation = judged(SINGLE.replace(b"<ChrgBr>SHAR</ChrgBr>", b"<ChrgBr>NONE</ChrgBr>"))

    assert evaluation.reason[1].startswith("/Document/FIToFICstmrCdtTrf/CdtTrfTxInf/ChrgBr: [facet 'enumeration']") or \
        evaluation.reason[1].startswith("/Document/FIToFICstmrCdtTrf/CdtTrfTxInf/ChrgBr: The value 'NONE'")


def test_hostile_messages_do_not_block_the_others_of_a_batch(runtime: LocalRuntime):
    payloads = [raw for raw, _ in HOSTILE.values() if len(raw) <= LIMIT] + [sample("own_pacs008_v08_single.xml")]
    ids = []
    for payload in payloads:
        opened = runtime.call("GET", "/uuid", identity="client-h", headers={"X-Message-Type": "pacs.008"})
        transaction_id = opened.body["transaction_id"]
        answer = runtime.call("POST", "/inbox", identity="client-h",
                              headers={"X-Transaction-Id": transaction_id, "X-Message-Type": "pacs.008"}, body=payload)
        if answer.status == 200:
            ids.append(transaction_id)
    runtime.drain()

    statuses = [runtime.ports.ledger.get(i).status.value for i in ids]
    assert statuses[-1] == "ACSC"
    assert set(statuses[:-1]) == {"RJCT"}
    for transaction_id in ids[:-1]:
        assert runtime.ports.ledger.get(transaction_id).decision.reason_code == "FF01"
