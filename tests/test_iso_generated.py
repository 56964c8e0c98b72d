"""Generated pacs.008 messages: every valid one is accepted; every mutation of one is accepted or rejected
with an ISO reason code and a schema-valid pacs.002, never an exception.

About 100 examples per property in the default suite; the ``slow`` ones run 2,000 and more (make test-all).
"""

from __future__ import annotations

import codecs
import random
import re
from datetime import datetime, timezone
from decimal import Decimal
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from engine.iso20022 import build_status_report, evaluate, profile_named, reason_definition, reply_definition, validate_document

VERSIONS = ("pacs.008.001.08", "pacs.008.001.10", "pacs.008.001.12", "pacs.008.001.13")
NOW = datetime(2026, 12, 3, 9, 30, tzinfo=timezone.utc)  # a Thursday
SETTLEMENT_DATE = "2026-12-03"
MINOR_UNITS = {"EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "JPY": 0, "BHD": 3, "KWD": 3, "SEK": 2, "CLF": 4}
IBAN_SHAPES = {"DE": "n18", "GB": "a4n14", "NL": "a4n10", "FR": "n23", "BE": "n12"}
COUNTRIES = ("DE", "GB", "NL", "FR", "BE", "US", "JP", "CH", "BH", "CA")
GENERIC = profile_named("generic")
MAX_BYTES = 1_000_000
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
TEXT = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .,-'&/éüß", min_size=1, max_size=35).map(str.strip).filter(bool)
IDENTIFIER = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=35)


def iban(country: str, rng: random.Random) -> str:
    bban = ""
    for kind, count in re.findall(r"([an])(\d+)", IBAN_SHAPES[country]):
        count = int(count)
        bban += "".join(rng.choice(LETTERS if kind == "a" else "0123456789") for _ in range(count))
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


@st.composite
def bics(draw) -> str:
    bank = draw(st.text(alphabet=LETTERS, min_size=4, max_size=4))
    location = draw(st.text(alphabet=LETTERS + "23456789", min_size=2, max_size=2))
    branch = draw(st.sampled_from(["", "XXX", "100"]))
    return bank + draw(st.sampled_from(COUNTRIES)) + location + branch


@st.composite
def amounts(draw, currency: str) -> Decimal:
    units = MINOR_UNITS[currency]
    cents = draw(st.integers(min_value=1, max_value=10**12))
    return Decimal(cents).scaleb(-units)


def party(name: str, country: str | None) -> str:
    address = f"<PstlAdr><TwnNm>Town</TwnNm><Ctry>{country}</Ctry></PstlAdr>" if country else ""
    return f"<Nm>{escape(name)}</Nm>{address}"


def agent(bic: str) -> str:
    return f"<FinInstnId><BICFI>{bic}</BICFI></FinInstnId>"


@st.composite
def pacs008(draw, version: str | None = None, max_payments: int = 50) -> tuple[str, bytes]:
    """A valid pacs.008 of a shipped version: 1..max_payments transactions, random parties, amounts, currencies."""
    version = version or draw(st.sampled_from(VERSIONS))
    rng = random.Random(draw(st.integers(0, 2**32)))
    count = draw(st.integers(1, max_payments))
    single_currency = draw(st.booleans())
    group_currency = draw(st.sampled_from(sorted(MINOR_UNITS)))
    transactions, total = [], Decimal(0)
    for number in range(count):
        currency = group_currency if single_currency else draw(st.sampled_from(sorted(MINOR_UNITS)))
        amount = draw(amounts(currency))
        total += amount
        uetr = draw(st.uuids(version=4)) if draw(st.booleans()) else None
        debtor_account = iban(draw(st.sampled_from(sorted(IBAN_SHAPES))), rng) if draw(st.booleans()) else None
        creditor_account = iban(draw(st.sampled_from(sorted(IBAN_SHAPES))), rng)
        instr = draw(IDENTIFIER.filter(lambda v: not v.startswith("/") and not v.endswith("/") and "//" not in v))
        transactions.append(
            "<CdtTrfTxInf>"
            f"<PmtId><InstrId>{instr}</InstrId><EndToEndId>{draw(IDENTIFIER)}</EndToEndId><TxId>TX{number}</TxId>"
            + (f"<UETR>{uetr}</UETR>" if uetr else "") + "</PmtId>"
            f'<IntrBkSttlmAmt Ccy="{currency}">{amount}</IntrBkSttlmAmt>'
            f"<IntrBkSttlmDt>{SETTLEMENT_DATE}</IntrBkSttlmDt>"
            f"<ChrgBr>{draw(st.sampled_from(['SHAR', 'DEBT', 'CRED', 'SLEV']))}</ChrgBr>"
            f"<Dbtr>{party(draw(TEXT), draw(st.sampled_from(COUNTRIES + (None,))))}</Dbtr>"
            + (f"<DbtrAcct><Id><IBAN>{debtor_account}</IBAN></Id></DbtrAcct>" if debtor_account else "")
            + f"<DbtrAgt>{agent(draw(bics()))}</DbtrAgt>"
            f"<CdtrAgt>{agent(draw(bics()))}</CdtrAgt>"
            f"<Cdtr>{party(draw(TEXT), draw(st.sampled_from(COUNTRIES + (None,))))}</Cdtr>"
            f"<CdtrAcct><Id><IBAN>{creditor_account}</IBAN></Id></CdtrAcct>"
            + (f"<RmtInf><Ustrd>{escape(draw(TEXT))}</Ustrd></RmtInf>" if draw(st.booleans()) else "")
            + "</CdtTrfTxInf>"
        )
    total_element = f'<TtlIntrBkSttlmAmt Ccy="{group_currency}">{total}</TtlIntrBkSttlmAmt>' if single_currency else ""
    document = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:{version}">'
        "<FIToFICstmrCdtTrf><GrpHdr>"
        f"<MsgId>{draw(IDENTIFIER)}</MsgId><CreDtTm>2026-12-03T09:{draw(st.integers(0, 59)):02d}:00+01:00</CreDtTm>"
        f"<NbOfTxs>{count}</NbOfTxs>{total_element}"
        "<SttlmInf><SttlmMtd>INDA</SttlmMtd></SttlmInf>"
        f"</GrpHdr>{''.join(transactions)}</FIToFICstmrCdtTrf></Document>"
    )
    return version, document.encode("utf-8")


def judge(raw: bytes):
    return evaluate(raw, profile=GENERIC, now=NOW, max_bytes=MAX_BYTES)


def reply_validates(evaluation) -> None:
    """The pacs.002 the engine sends for the evaluation is valid against its XSD and carries an ISO code."""
    message = evaluation.message if evaluation.message is not None and hasattr(evaluation.message, "payments") else None
    reason = evaluation.reason
    statuses = dict(enumerate(evaluation.payment_status)) if message is not None else {}
    group = "ACSP" if evaluation.accepted else ("PART" if any(s == "ACSP" for s, _, _ in statuses.values()) else "RJCT")
    reply = build_status_report(
        message, group_status=group, payment_status=statuses, report_id="RP2GEN", created_at=NOW,
        original_reference="generated", original_definition=message.definition if message else "pacs.008.001.08",
        group_reason=reason if reason is not None and (message is None or evaluation.group_rejection is not None) else None,
    )
    definition = reply_definition(message.definition if message else None)
    assert validate_document(reply, definition) == []
    if not evaluation.accepted:
        assert reason is not None and reason_definition(reason[0])
        assert len(reason[1]) <= 105


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(pacs008())
def test_generated_messages_are_all_accepted(generated):
    version, raw = generated

    evaluation = judge(raw)

    assert evaluation.accepted, evaluation.reason
    assert evaluation.message.definition == version
    reply_validates(evaluation)


def drop_element(raw: bytes, position: int) -> bytes:
    root = etree.fromstring(raw)
    elements = list(root.iter())[1:]
    victim = elements[position % len(elements)]
    victim.getparent().remove(victim)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def duplicate_element(raw: bytes, position: int) -> bytes:
    root = etree.fromstring(raw)
    elements = list(root.iter())[1:]
    victim = elements[position % len(elements)]
    victim.addnext(etree.fromstring(etree.tostring(victim)))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def change_digit(raw: bytes, position: int) -> bytes:
    digits = [i for i, b in enumerate(raw) if 48 <= b <= 57]
    at = digits[position % len(digits)]
    return raw[:at] + bytes([48 + (raw[at] - 47) % 10]) + raw[at + 1:]


def truncate(raw: bytes, position: int) -> bytes:
    return raw[: position % len(raw)]


def re_encode(raw: bytes, position: int) -> bytes:
    encoding = ("utf-16", "latin-1", "utf-16-be", "cp1252", "utf-8-sig")[position % 5]
    text = raw.decode("utf-8")
    if position % 2:
        text = text.replace('encoding="UTF-8"', f'encoding="{codecs.lookup(encoding).name}"')
    return text.encode(encoding, errors="replace")


def inject_doctype(raw: bytes, position: int) -> bytes:
    doctypes = (b"<!DOCTYPE Document>", b'<!DOCTYPE Document [<!ENTITY x "y">]>', b'<!DOCTYPE Document SYSTEM "http://127.0.0.1:9/x.dtd">')
    head, _, body = raw.partition(b"?>")
    return head + b"?>" + doctypes[position % 3] + body


MUTATIONS = (drop_element, duplicate_element, change_digit, truncate, re_encode, inject_doctype)


def mutated_is_answered(generated, mutation, position) -> None:
    _, raw = generated
    altered = mutation(raw, position)

    evaluation = judge(altered)  # never raises

    if evaluation.error is not None:
        assert evaluation.error.reason_code in {"FF01", "DT01"}
    if mutation is inject_doctype:
        assert evaluation.reason[0] == "FF01"
    reply_validates(evaluation)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(pacs008(max_payments=5), st.sampled_from(MUTATIONS), st.integers(0, 10**6))
def test_mutations_are_accepted_or_rejected_with_a_reason_code(generated, mutation, position):
    mutated_is_answered(generated, mutation, position)


@pytest.mark.slow
@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(pacs008())
def test_generated_messages_are_all_accepted_at_length(generated):
    evaluation = judge(generated[1])
    assert evaluation.accepted, evaluation.reason
    reply_validates(evaluation)


@pytest.mark.slow
@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(pacs008(max_payments=20), st.sampled_from(MUTATIONS), st.integers(0, 10**6))
def test_mutations_at_length(generated, mutation, position):
    mutated_is_answered(generated, mutation, position)


@pytest.mark.parametrize("version", VERSIONS)
def test_each_version_with_fifty_transactions_is_accepted(version):
    rng = random.Random(7)
    transactions = "".join(
        "<CdtTrfTxInf><PmtId><EndToEndId>E2E-%d</EndToEndId></PmtId>"
        '<IntrBkSttlmAmt Ccy="EUR">%d.%02d</IntrBkSttlmAmt><ChrgBr>SLEV</ChrgBr>'
        "<Dbtr><Nm>Debtor %d</Nm></Dbtr><DbtrAgt>%s</DbtrAgt><CdtrAgt>%s</CdtrAgt><Cdtr><Nm>Creditor</Nm></Cdtr>"
        "<CdtrAcct><Id><IBAN>%s</IBAN></Id></CdtrAcct></CdtTrfTxInf>"
        % (n, n + 1, n, n, agent("NOVADEFFXXX"), agent("ZEPHFRPPXXX"), iban("FR", rng))
        for n in range(50)
    )
    raw = (
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:{version}"><FIToFICstmrCdtTrf><GrpHdr><MsgId>M50</MsgId>'
        "<CreDtTm>2026-12-03T09:00:00Z</CreDtTm><NbOfTxs>50</NbOfTxs><SttlmInf><SttlmMtd>CLRG</SttlmMtd></SttlmInf>"
        f"</GrpHdr>{transactions}</FIToFICstmrCdtTrf></Document>"
    ).encode()

    evaluation = judge(raw)

    assert evaluation.accepted, evaluation.reason
    assert len(evaluation.payment_status) == 50
    reply_validates(evaluation)
