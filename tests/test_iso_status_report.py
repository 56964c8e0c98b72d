from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from lxml import etree

from engine.iso20022 import build_status_report, read_message, reply_definition, validate_document

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
PACS_002 = "urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"
NS = {"p": PACS_002}
CREATED_AT = datetime(2026, 12, 3, 9, 30, 5, tzinfo=timezone.utc)


def read(name: str):
    return read_message((SAMPLES / name).read_bytes(), max_bytes=1_000_000)


def report(message, payment_status, **overrides) -> bytes:
    arguments = dict(
        group_status="ACSC",
        payment_status=payment_status,
        report_id="RP2-REPORT-0001",
        created_at=CREATED_AT,
        original_reference="TX-1",
        original_definition="pacs.008.001.08",
    )
    arguments.update(overrides)
    return build_status_report(message, **arguments)


def texts(xml: bytes, path: str) -> list[str]:
    """Text at path, with p: the namespace of the report (pacs.002.001.10 or .12, by the original's generation)."""
    root = etree.fromstring(xml)
    return root.xpath(f"{path}/text()", namespaces={"p": root.nsmap[None]})


def test_settled_reply_to_the_upstream_sample():
    xml = report(read("upstream_pacs.008.xml"), {0: ("ACSC", None, None)})

    assert validate_document(xml, "pacs.002.001.10") == []
    group = "/p:Document/p:FIToFIPmtStsRpt/p:GrpHdr"
    assert texts(xml, f"{group}/p:MsgId") == ["RP2-REPORT-0001"]
    assert texts(xml, f"{group}/p:CreDtTm") == ["2026-12-03T09:30:05+00:00"]
    assert texts(xml, f"{group}/p:InstgAgt/p:FinInstnId/p:BICFI") == ["DAIKCAGK"]
    assert texts(xml, f"{group}/p:InstdAgt/p:FinInstnId/p:BICFI") == ["FVTOUSWX"]
    original = "/p:Document/p:FIToFIPmtStsRpt/p:OrgnlGrpInfAndSts"
    assert texts(xml, f"{original}/p:OrgnlMsgId") == ["qE5yVJIHAPxNoLiC"]
    assert texts(xml, f"{original}/p:OrgnlMsgNmId") == ["pacs.008.001.08"]
    assert texts(xml, f"{original}/p:OrgnlCreDtTm") == ["2023-05-05T16:20:45.837-04:00"]
    assert texts(xml, f"{original}/p:GrpSts") == ["ACSC"]
    transaction = "/p:Document/p:FIToFIPmtStsRpt/p:TxInfAndSts"
    assert texts(xml, f"{transaction}/p:OrgnlInstrId") == ["og1D9i5LDuwpCEM5"]
    assert texts(xml, f"{transaction}/p:OrgnlEndToEndId") == ["ejLBXejVX0MCdA4r"]
    assert texts(xml, f"{transaction}/p:OrgnlUETR") == ["b94458f8-1f27-40e9-bf74-b07cbb339439"]
    assert texts(xml, f"{transaction}/p:TxSts") == ["ACSC"]
    assert texts(xml, f"{transaction}/p:StsRsnInf") == []
    assert texts(xml, f"{transaction}/p:InstgAgt/p:FinInstnId/p:BICFI") == ["DAIKCAGK"]
    assert texts(xml, f"{transaction}/p:InstdAgt/p:FinInstnId/p:BICFI") == ["FVTOUSWX"]


def test_reply_carries_the_original_transaction_reference():
    xml = report(read("upstream_pacs.008.xml"), {0: ("ACSC", None, None)})
    reference = "/p:Document/p:FIToFIPmtStsRpt/p:TxInfAndSts/p:OrgnlTxRef"

    assert texts(xml, f"{reference}/p:IntrBkSttlmAmt") == ["92406.00"]
    assert etree.fromstring(xml).xpath(f"{reference}/p:IntrBkSttlmAmt/@Ccy", namespaces=NS) == ["USD"]
    assert texts(xml, f"{reference}/p:IntrBkSttlmDt") == ["2023-05-05"]
    assert texts(xml, f"{reference}/p:SttlmInf/p:SttlmMtd") == ["INDA"]
    assert texts(xml, f"{reference}/p:Dbtr/p:Pty/p:Nm") == [
        "AMERICAN BEACON FUNDS - American Beacon SIM High Yield Opportunities Fund"
    ]
    assert texts(xml, f"{reference}/p:DbtrAgt/p:FinInstnId/p:BICFI") == ["WYHWUSSB"]
    assert texts(xml, f"{reference}/p:CdtrAgt/p:FinInstnId/p:BICFI") == ["DKBVCAVR"]
    assert texts(xml, f"{reference}/p:Cdtr/p:Pty/p:PstlAdr/p:TwnNm") == ["Mississauga"]
    assert texts(xml, f"{reference}/p:CdtrAcct/p:Id/p:Othr/p:Id") == ["468924248622"]
    assert texts(xml, f"{reference}/p:Purp/p:Cd") == ["COMC"]
    assert [etree.QName(e).localname for e in etree.fromstring(xml).xpath(f"{reference}/*", namespaces=NS)] == [
        "IntrBkSttlmAmt", "IntrBkSttlmDt", "SttlmInf", "Dbtr", "DbtrAgt", "CdtrAgt", "Cdtr", "CdtrAcct", "Purp",
    ]


def test_rejection_carries_the_reason_and_its_information():
    info = "IntrBkSttlmAmt is 0.00 USD; it must be greater than zero. This sentence goes on and on, well past the ISO limit."
    xml = report(
        read("upstream_pacs.008.xml"),
        {0: ("RJCT", "AM01", info)},
        group_status="RJCT",
        group_reason=("AM01", None),
    )

    assert validate_document(xml, "pacs.002.001.10") == []
    transaction = "/p:Document/p:FIToFIPmtStsRpt/p:TxInfAndSts"
    assert texts(xml, f"{transaction}/p:TxSts") == ["RJCT"]
    assert texts(xml, f"{transaction}/p:StsRsnInf/p:Rsn/p:Cd") == ["AM01"]
    assert len(info) > 105
    assert texts(xml, f"{transaction}/p:StsRsnInf/p:AddtlInf") == [info[:102] + "..."]
    original = "/p:Document/p:FIToFIPmtStsRpt/p:OrgnlGrpInfAndSts"
    assert texts(xml, f"{original}/p:GrpSts") == ["RJCT"]
    assert texts(xml, f"{original}/p:StsRsnInf/p:Rsn/p:Cd") == ["AM01"]
    assert texts(xml, f"{original}/p:StsRsnInf/p:AddtlInf") == []


def test_report_without_the_original_message_is_group_only():
    xml = report(
        None,
        {},
        group_status="RJCT",
        original_reference="urn:uuid:" + "7" * 40,
        original_definition="pacs.008.001.08",
        group_reason=("FF01", "XML not well-formed at line 1, column 1: Document is empty"),
    )

    assert validate_document(xml, "pacs.002.001.10") == []
    original = "/p:Document/p:FIToFIPmtStsRpt/p:OrgnlGrpInfAndSts"
    assert texts(xml, f"{original}/p:OrgnlMsgId") == [("urn:uuid:" + "7" * 40)[:35]]
    assert texts(xml, f"{original}/p:OrgnlMsgNmId") == ["pacs.008.001.08"]
    assert texts(xml, f"{original}/p:GrpSts") == ["RJCT"]
    assert texts(xml, f"{original}/p:StsRsnInf/p:Rsn/p:Cd") == ["FF01"]
    assert texts(xml, f"{original}/p:StsRsnInf/p:AddtlInf") == ["XML not well-formed at line 1, column 1: Document is empty"]
    assert texts(xml, "/p:Document/p:FIToFIPmtStsRpt/p:TxInfAndSts") == []
    assert texts(xml, "/p:Document/p:FIToFIPmtStsRpt/p:GrpHdr/p:InstgAgt") == []


def test_multi_payment_reply_has_one_entry_per_payment_with_group_agents():
    statuses = {0: ("ACSC", None, None), 1: ("RJCT", "AC01", "IBAN unknown"), 2: ("ACSC", None, None)}

    xml = report(read("own_pacs008_v08_multi3_sct.xml"), statuses, group_status="PART")

    assert validate_document(xml, "pacs.002.001.10") == []
    transaction = "/p:Document/p:FIToFIPmtStsRpt/p:TxInfAndSts"
    assert texts(xml, f"{transaction}/p:OrgnlEndToEndId") == ["RENT-2025-03", "NOTPROVIDED", "DON-7781"]
    assert texts(xml, f"{transaction}/p:OrgnlTxId") == ["NOVA-TX-900001", "NOVA-TX-900002", "NOVA-TX-900003"]
    assert texts(xml, f"{transaction}/p:TxSts") == ["ACSC", "RJCT", "ACSC"]
    assert texts(xml, f"{transaction}/p:StsRsnInf/p:Rsn/p:Cd") == ["AC01"]
    assert texts(xml, f"{transaction}/p:OrgnlTxRef/p:IntrBkSttlmAmt") == ["125.00", "990.10", "4.90"]
    assert texts(xml, f"{transaction}/p:OrgnlTxRef/p:IntrBkSttlmDt") == ["2025-03-17"] * 3
    assert texts(xml, f"{transaction}/p:OrgnlTxRef/p:PmtTpInf/p:SvcLvl/p:Cd") == []
    group = "/p:Document/p:FIToFIPmtStsRpt/p:GrpHdr"
    assert texts(xml, f"{group}/p:InstgAgt/p:FinInstnId/p:BICFI") == ["CSMXDEFFXXX"]
    assert texts(xml, f"{group}/p:InstdAgt/p:FinInstnId/p:BICFI") == ["NOVADEFFXXX"]
    assert texts(xml, f"{transaction}/p:InstgAgt") == []
    assert texts(xml, "/p:Document/p:FIToFIPmtStsRpt/p:OrgnlGrpInfAndSts/p:OrgnlNbOfTxs") == ["3"]


def test_reply_reports_only_the_payments_given():
    xml = report(read("own_pacs008_v08_multi3_sct.xml"), {2: ("ACSP", None, None)}, group_status="ACSP")

    assert texts(xml, "/p:Document/p:FIToFIPmtStsRpt/p:TxInfAndSts/p:OrgnlEndToEndId") == ["DON-7781"]


@pytest.mark.parametrize(
    "name",
    [
        "own_pacs008_v08_single.xml",
        "own_pacs008_v08_bah_envelope.xml",
        "pypi_pacs008-0.0.15_pacs.008.001.10.xml",
        "pypi_pacs008-0.0.15_pacs.008.001.12.xml",
        "pypi_pacs008-0.0.15_pacs.008.001.13.xml",
        "moov-io_rtp20022_pkg-rtp-test-testdata_pacs008.xml",
    ],
)
def test_replies_to_every_accepted_sample_are_schema_valid(name):
    message = read(name)

    xml = report(message, {p.index: ("ACSC", None, None) for p in message.payments})

    assert validate_document(xml, reply_definition(message.definition)) == []
    assert etree.fromstring(xml).nsmap[None] == f"urn:iso:std:iso:20022:tech:xsd:{reply_definition(message.definition)}"


@pytest.mark.parametrize(
    ("original", "reply"),
    [("pacs.008.001.08", "pacs.002.001.10"), ("pacs.008.001.10", "pacs.002.001.12"),
     ("pacs.008.001.12", "pacs.002.001.12"), ("pacs.008.001.13", "pacs.002.001.12")],
)
def test_reply_generation_follows_the_original(original, reply):
    assert reply_definition(original) == reply


def test_parties_of_another_iso_type_are_left_out_and_agents_keep_their_bic():
    message = read("pypi_pacs008-0.0.15_pacs.008.001.13.xml")

    xml = report(message, {0: ("ACSC", None, None)})

    reference = "/p:Document/p:FIToFIPmtStsRpt/p:TxInfAndSts/p:OrgnlTxRef"
    assert texts(xml, f"{reference}/p:Dbtr") == []
    assert texts(xml, f"{reference}/p:DbtrAgt/p:FinInstnId/p:BICFI") == ["DEUTDEFF"]
    assert texts(xml, f"{reference}/p:CdtrAgt/p:FinInstnId/p:BICFI") == ["COBADEFF"]


def test_same_iso_types_are_copied_whole_from_a_newer_version():
    message = read("pypi_pacs008-0.0.15_pacs.008.001.10.xml")

    xml = report(message, {0: ("ACSC", None, None)})

    reference = "/p:Document/p:FIToFIPmtStsRpt/p:TxInfAndSts/p:OrgnlTxRef"
    assert texts(xml, f"{reference}/p:Dbtr/p:Pty/p:Nm") == ["Debtor Corp"]
    assert texts(xml, f"{reference}/p:Cdtr/p:Pty/p:Nm") == ["Creditor Ltd"]


def test_creation_time_is_written_in_utc():
    eastern = timezone(timedelta(hours=-5))

    xml = report(None, {}, created_at=datetime(2026, 12, 3, 4, 30, 5, 250000, tzinfo=eastern))

    assert texts(xml, "/p:Document/p:FIToFIPmtStsRpt/p:GrpHdr/p:CreDtTm") == ["2026-12-03T09:30:05.250000+00:00"]


def test_naive_creation_time_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        report(None, {}, created_at=datetime(2026, 12, 3, 9, 30))


def test_unknown_reason_code_is_refused():
    with pytest.raises(ValueError, match="'XX99' is not an ISO ExternalStatusReason1Code"):
        report(read("own_pacs008_v08_single.xml"), {0: ("RJCT", "XX99", None)}, group_status="RJCT")


def test_payment_index_not_in_the_message_is_refused():
    with pytest.raises(ValueError, match=r"no payment with index \[5\]"):
        report(read("own_pacs008_v08_single.xml"), {5: ("ACSC", None, None)})


def test_payment_statuses_without_the_message_are_refused():
    with pytest.raises(ValueError, match="without the original message"):
        report(None, {0: ("ACSC", None, None)})


def test_report_that_would_break_the_schema_is_refused():
    with pytest.raises(ValueError, match=r"^status report would not be valid pacs.002.001.10: .*/MsgId"):
        report(None, {}, report_id="R" * 36)
