"""Untrusted input: every way a message can be unreadable is one MessageError FF01 with a precise narrative."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.iso20022 import MessageError, read_message

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
LIMIT = 1_000_000
SINGLE = (SAMPLES / "own_pacs008_v08_single.xml").read_bytes()
UPSTREAM = (SAMPLES / "upstream_pacs.008.xml").read_bytes()
DOCTYPE_REFUSED = "DOCTYPE is not allowed: DTDs and entity declarations are refused"
BODY = SINGLE.split(b"?>", 1)[1]  # the sample without its XML declaration


def rejection(raw: bytes, max_bytes: int = LIMIT) -> MessageError:
    with pytest.raises(MessageError) as raised:
        read_message(raw, max_bytes=max_bytes)
    assert raised.value.reason_code == "FF01"
    assert len(raised.value.narrative) <= 105
    return raised.value


def peak_memory_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def test_oversized_message_is_rejected_before_parsing():
    error = rejection(b"<" * 1001, max_bytes=1000)

    assert error.narrative == "message is 1001 bytes, limit is 1000"


def test_message_of_exactly_the_limit_is_parsed():
    assert read_message(SINGLE, max_bytes=len(SINGLE)).msg_id == "NOVAGB2L-20250314-000001"


def test_truncated_message_names_the_parser_position():
    error = rejection(SINGLE[: SINGLE.index(b"</PmtId>")])

    assert error.narrative == "XML not well-formed at line 18, column 7: Premature end of data in tag PmtId line 14"


def test_mismatched_tags_name_the_parser_position():
    error = rejection(SINGLE.replace(b"</MsgId>", b"</MsgID>"))

    assert error.narrative == (
        "XML not well-formed at line 6, column 46: Opening and ending tag mismatch: MsgId line 6 and MsgID"
    )


def test_empty_input():
    assert rejection(b"").narrative == "XML not well-formed at line 1, column 1: Document is empty"


def test_doctype_without_entities_is_refused():
    raw = b'<?xml version="1.0"?>\n<!DOCTYPE Document>' + BODY

    assert rejection(raw).narrative == DOCTYPE_REFUSED


def test_external_dtd_is_refused_and_not_fetched():
    raw = b'<?xml version="1.0"?>\n<!DOCTYPE Document SYSTEM "http://127.0.0.1:9/evil.dtd">' + BODY

    assert rejection(raw).narrative == DOCTYPE_REFUSED


def test_external_entity_is_refused_and_not_resolved():
    raw = (
        b'<?xml version="1.0"?>\n<!DOCTYPE Document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        + BODY.replace(b"<MsgId>NOVAGB2L-20250314-000001</MsgId>", b"<MsgId>&xxe;</MsgId>")
    )

    error = rejection(raw)

    assert error.narrative == DOCTYPE_REFUSED
    assert "root" not in str(error)


def test_parameter_entity_is_refused():
    raw = b'<!DOCTYPE Document [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>' + BODY

    assert rejection(raw).narrative == DOCTYPE_REFUSED


def billion_laughs(where: bytes) -> bytes:
    declarations = b'<!ENTITY lol0 "lol">' + b"".join(
        b'<!ENTITY lol%d "%s">' % (level, b"&lol%d;" % (level - 1) * 10) for level in range(1, 10)
    )
    return b'<?xml version="1.0"?>\n<!DOCTYPE Document [' + declarations + b"]>" + where


@pytest.mark.parametrize(
    "bomb",
    [
        billion_laughs(b"<Document>&lol9;</Document>"),
        billion_laughs(b'<Document a="&lol9;"/>'),
        billion_laughs(BODY.replace(b"<MsgId>NOVAGB2L-20250314-000001</MsgId>", b"<MsgId>&lol9;</MsgId>")),
    ],
    ids=["element content", "attribute value", "inside a real message"],
)
def test_billion_laughs_is_refused_without_expanding(bomb):
    before = peak_memory_kib()

    assert rejection(bomb).narrative == DOCTYPE_REFUSED
    assert peak_memory_kib() - before < 64 * 1024


def test_quadratic_blowup_is_refused_without_expanding():
    entity = b"x" * 50_000
    raw = (
        b'<!DOCTYPE Document [<!ENTITY big "' + entity + b'">]>'
        + b'<Document a="' + b"&big;" * 2_000 + b'">' + b"&big;" * 2_000 + b"</Document>"
    )
    before = peak_memory_kib()

    assert rejection(raw).narrative == DOCTYPE_REFUSED
    assert peak_memory_kib() - before < 64 * 1024


def test_doctype_in_utf16_input_is_refused():
    text = '<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE Document [<!ENTITY x "y">]>' + BODY.decode("utf-8")

    assert rejection(text.encode("utf-16")).narrative == DOCTYPE_REFUSED
    assert rejection(text.encode("utf-16-be")).narrative == DOCTYPE_REFUSED


def test_doctype_after_a_long_comment_is_refused():
    raw = b"<!--" + b"c" * 100_000 + b"-->\n<!DOCTYPE Document>" + BODY

    assert rejection(raw).narrative == DOCTYPE_REFUSED


def test_xinclude_is_not_expanded():
    raw = SINGLE.replace(
        b"<FIToFICstmrCdtTrf>",
        b'<FIToFICstmrCdtTrf><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd"/>',
    )

    assert rejection(raw).narrative == (
        "/Document/FIToFICstmrCdtTrf/include: This element is not expected. Expected is ( GrpHdr )."
    )


def test_unknown_document_namespace_is_named():
    raw = SINGLE.replace(b"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08", b"urn:example:payments")

    assert rejection(raw).narrative == "unknown Document namespace urn:example:payments"


def test_iso_version_without_shipped_schema_is_named():
    assert rejection((SAMPLES / "prowide-iso20022_iso20022-core_test_pacs.008.001.07.xml").read_bytes()).narrative == (
        "no schema shipped for pacs.008.001.07"
    )


def test_namespace_cannot_reach_outside_the_schema_folder():
    raw = SINGLE.replace(b"pacs.008.001.08", b"../../../../etc/passwd")

    assert rejection(raw).narrative == "no schema shipped for ../../../../etc/passwd"


@pytest.mark.parametrize(
    ("name", "narrative"),
    [
        ("rust_iso20022_tests-data_pacs.002.001.10.xml", "pacs.002.001.10 is not accepted on this route"),
        ("own_camt056_v08_cancel_request.xml", "camt.056.001.08 is not accepted on this route"),
    ],
)
def test_other_message_families_are_not_accepted(name, narrative):
    assert rejection((SAMPLES / name).read_bytes()).narrative == narrative


def test_wrapper_without_any_iso_document():
    assert rejection(b"<Envelope><Payload>hello</Payload></Envelope>").narrative == (
        "no ISO 20022 Document found in <Envelope>"
    )


def test_schema_violation_names_the_element_path_and_problem():
    raw = SINGLE.replace(b"<NbOfTxs>1</NbOfTxs>", b"<NbOfTxs>one</NbOfTxs>")

    assert rejection(raw).narrative == (
        "/Document/FIToFICstmrCdtTrf/GrpHdr/NbOfTxs: The value 'one' is not accepted by the pattern '[0-9]{1,15}'."
    )


def test_schema_violation_in_a_repeated_element_names_its_position_and_is_trimmed():
    raw = (SAMPLES / "own_pacs008_v08_multi3_sct.xml").read_bytes().replace(b">990.10<", b">-990.10<")

    error = rejection(raw)

    assert error.narrative == (
        "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[2]/IntrBkSttlmAmt: The value '-990.10' is less than the minimu..."
    )
    assert len(error.narrative) == 105


def test_schema_violation_in_the_inferred_upstream_document():
    raw = UPSTREAM.replace(b"<EndToEndId>ejLBXejVX0MCdA4r</EndToEndId>", b"")

    assert rejection(raw).narrative == (
        "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf/PmtId/UETR: This element is not expected. Expected is ( EndToE..."
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400) | st.text(max_size=200).map(str.encode))
def test_garbage_only_ever_raises_message_error(raw):
    try:
        read_message(raw, max_bytes=LIMIT)
    except MessageError as error:
        assert error.reason_code == "FF01"


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from([SINGLE, UPSTREAM]),
    st.integers(min_value=0, max_value=len(UPSTREAM)),
    st.binary(max_size=3),
)
def test_truncated_or_altered_samples_only_ever_raise_message_error(raw, cut, insert):
    altered = raw[:cut] + insert + raw[cut + len(insert) :] if insert else raw[:cut]
    try:
        read_message(altered, max_bytes=LIMIT)
    except MessageError as error:
        assert error.reason_code in {"FF01", "DT01"}
