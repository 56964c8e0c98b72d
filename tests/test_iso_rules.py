from __future__ import annotations

from pathlib import Path

import pytest

from engine.iso20022 import STRUCTURAL_RULES, Finding, check, read_message, reason_definition
from engine.iso20022 import codes
from engine.iso20022.rules import (
    number_of_transactions_matches,
    settlement_amounts_are_positive,
    total_settlement_amount_matches,
)

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
MULTI = (SAMPLES / "own_pacs008_v08_multi3_sct.xml").read_bytes()
SINGLE = (SAMPLES / "own_pacs008_v08_single.xml").read_bytes()


def read(raw: bytes):
    return read_message(raw, max_bytes=1_000_000)


def test_reason_definitions_come_from_the_iso_code_list():
    assert reason_definition("FF01") == "File Format incomplete or invalid"
    assert reason_definition("NARR") == (
        "Reason is provided as narrative information in the additional reason information."
    )


def test_unknown_reason_code_is_a_key_error():
    with pytest.raises(KeyError, match="'ZZ99' is not an ISO ExternalStatusReason1Code"):
        reason_definition("ZZ99")


@pytest.mark.parametrize(
    ("code", "definition"),
    [
        (codes.FILE_FORMAT_INVALID, "File Format incomplete or invalid"),
        (codes.INVALID_DATE, "Invalid date (eg, wrong or missing settlement date)"),
        (codes.ZERO_AMOUNT, "Specified message amount is equal to zero"),
        (codes.GROUP_CONTROL_SUM_INVALID, "Control Sum at the Group level is invalid"),
        (codes.GROUP_NUMBER_OF_TRANSACTIONS_INVALID, "Number of transactions at the Group level is invalid or missing"),
    ],
)
def test_every_code_this_package_reports_means_what_it_is_used_for(code, definition):
    assert reason_definition(code) == definition


def test_structural_rules_in_order():
    assert STRUCTURAL_RULES == (
        number_of_transactions_matches,
        total_settlement_amount_matches,
        settlement_amounts_are_positive,
    )


@pytest.mark.parametrize(
    "name",
    ["own_pacs008_v08_multi3_sct.xml", "own_pacs008_v08_single.xml", "upstream_pacs.008.xml",
     "pypi_pacs008-0.0.15_pacs.008.001.13.xml", "moov-io_rtp20022_pkg-rtp-test-testdata_pacs008.xml"],
)
def test_valid_samples_pass_every_rule(name):
    assert check(read((SAMPLES / name).read_bytes())) == ()


def test_number_of_transactions_passes():
    assert list(number_of_transactions_matches(read(MULTI))) == []


def test_number_of_transactions_mismatch_is_a_group_finding():
    message = read(MULTI.replace(b"<NbOfTxs>3</NbOfTxs>", b"<NbOfTxs>4</NbOfTxs>"))

    assert list(number_of_transactions_matches(message)) == [
        Finding("AM19", "/Document/FIToFICstmrCdtTrf/GrpHdr/NbOfTxs",
                "/Document/FIToFICstmrCdtTrf/GrpHdr/NbOfTxs: 4 but the message has 3 CdtTrfTxInf", None)
    ]


def test_number_of_transactions_with_leading_zeros_is_read_as_a_number():
    message = read(MULTI.replace(b"<NbOfTxs>3</NbOfTxs>", b"<NbOfTxs>003</NbOfTxs>"))

    assert list(number_of_transactions_matches(message)) == []


def test_total_settlement_amount_passes_with_exact_decimal_sum():
    message = read(MULTI.replace(b">1120.00<", b">1120.0<"))

    assert list(total_settlement_amount_matches(message)) == []


def test_total_settlement_amount_is_not_checked_when_absent():
    assert list(total_settlement_amount_matches(read(SINGLE))) == []


def test_total_settlement_amount_off_by_one_cent_is_a_group_finding():
    message = read(MULTI.replace(b">1120.00<", b">1120.01<"))

    assert list(total_settlement_amount_matches(message)) == [
        Finding(
            "AM16",
            "/Document/FIToFICstmrCdtTrf/GrpHdr/TtlIntrBkSttlmAmt",
            "/Document/FIToFICstmrCdtTrf/GrpHdr/TtlIntrBkSttlmAmt: 1120.01 EUR, the sum is 1120.00",
            None,
        )
    ]


def test_total_settlement_amount_in_another_currency_is_a_group_finding():
    message = read(MULTI.replace(b'<IntrBkSttlmAmt Ccy="EUR">990.10', b'<IntrBkSttlmAmt Ccy="USD">990.10'))

    assert list(total_settlement_amount_matches(message)) == [
        Finding(
            "AM16",
            "/Document/FIToFICstmrCdtTrf/GrpHdr/TtlIntrBkSttlmAmt",
            "/Document/FIToFICstmrCdtTrf/GrpHdr/TtlIntrBkSttlmAmt: in EUR but CdtTrfTxInf 2 settles in USD",
            None,
        )
    ]


def test_positive_amounts_pass():
    assert list(settlement_amounts_are_positive(read(MULTI))) == []


def test_zero_amount_is_a_payment_finding():
    message = read(MULTI.replace(b">990.10<", b">0.00<").replace(b">1120.00<", b">129.90<"))

    assert check(message) == (
        Finding(
            "AM01",
            "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[2]/IntrBkSttlmAmt",
            "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[2]/IntrBkSttlmAmt: 0.00 EUR; it must be greater than zero",
            1,
        ),
    )


def test_check_runs_the_given_rules_only():
    message = read(MULTI.replace(b"<NbOfTxs>3</NbOfTxs>", b"<NbOfTxs>2</NbOfTxs>"))

    assert check(message, [settlement_amounts_are_positive]) == ()
    assert [f.reason_code for f in check(message)] == ["AM19"]


# -- every business rule: a passing and a failing example per profile, each failing with exactly its code ------

from datetime import date, datetime, timedelta, timezone  # noqa: E402

from lxml import etree  # noqa: E402

from engine.iso20022 import build_status_report, evaluate, profile_named, reply_definition, validate_document  # noqa: E402
from engine.iso20022 import rules as rule_module  # noqa: E402
from engine.iso20022.calendars import calendar  # noqa: E402

NOW = datetime(2025, 3, 14, 8, 0, tzinfo=timezone.utc)  # a Friday, a TARGET2 business day
ENVELOPE = (SAMPLES / "own_pacs008_v08_bah_envelope.xml").read_bytes()
UPSTREAM = (SAMPLES / "upstream_pacs.008.xml").read_bytes()
BASE = {
    "generic": SINGLE,
    "cbpr+": ENVELOPE,
    "sepa-inst": MULTI,
    "fednow": ENVELOPE.replace(b"<ChrgBr>DEBT</ChrgBr>", b"<ChrgBr>SLEV</ChrgBr>"),
}
CDTR_AGT = b"<CdtrAgt>\n        <FinInstnId>\n          <BICFI>ZEPHDEFFXXX</BICFI>\n        </FinInstnId>\n      </CdtrAgt>"
DBTR_AGT = b"<DbtrAgt>\n        <FinInstnId>\n          <BICFI>NOVAGB2LXXX</BICFI>\n        </FinInstnId>\n      </DbtrAgt>"


def judged(raw: bytes, profile: str, now: datetime = NOW):
    return evaluate(raw, profile=profile_named(profile), now=now, max_bytes=1_000_000)


def reply_of(evaluation) -> bytes:
    """The pacs.002 the engine would send for this evaluation."""
    message = evaluation.message
    group = evaluation.reason or (None, None)
    statuses = {i: s for i, s in enumerate(evaluation.payment_status)} if message is not None else {}
    rejected = not evaluation.accepted
    return build_status_report(
        message, group_status="RJCT" if rejected and all(s[0] == "RJCT" for s in statuses.values()) else ("PART" if rejected else "ACSP"),
        payment_status=statuses, report_id="RP2TEST", created_at=NOW, original_reference="TX-1",
        original_definition=message.definition if message is not None else "pacs.008.001.08",
        group_reason=group if group[0] and (message is None or evaluation.group_rejection is not None) else None,
    )


def change(raw: bytes, old: bytes, new: bytes) -> bytes:
    assert raw.count(old) >= 1, old
    return raw.replace(old, new, 1)


FAILING = [
    # (rule, profile, mutation of the profile's base message, code)
    ("number_of_transactions_matches", "generic", lambda r: change(r, b"<NbOfTxs>1</NbOfTxs>", b"<NbOfTxs>2</NbOfTxs>"), "AM19"),
    ("total_settlement_amount_matches", "sepa-inst", lambda r: change(r, b">1120.00<", b">1120.01<"), "AM16"),
    ("control_sum_matches", "generic", lambda r: change(r, b"<NbOfTxs>1</NbOfTxs>", b"<NbOfTxs>1</NbOfTxs><CtrlSum>1250.01</CtrlSum>"), "AM16"),
    ("creation_time_has_offset", "cbpr+", lambda r: change(r, b"<CreDtTm>2025-03-14T10:05:00+00:00</CreDtTm>", b"<CreDtTm>2025-03-14T10:05:00</CreDtTm>"), "FF01"),
    ("settlement_amounts_are_positive", "generic", lambda r: change(r, b'<IntrBkSttlmAmt Ccy="EUR">1250.00', b'<IntrBkSttlmAmt Ccy="EUR">0.00'), "AM01"),
    ("currency_is_active", "generic", lambda r: change(r, b'<IntrBkSttlmAmt Ccy="EUR">', b'<IntrBkSttlmAmt Ccy="DEM">'), "AM11"),
    ("currency_is_allowed", "generic", lambda r: change(r, b'<IntrBkSttlmAmt Ccy="EUR">', b'<IntrBkSttlmAmt Ccy="XAU">'), "AM03"),
    ("currency_is_allowed", "fednow", lambda r: r.replace(b'Ccy="USD"', b'Ccy="EUR"'), "AM03"),
    ("amount_decimals_fit_currency", "generic", lambda r: change(r, b'<IntrBkSttlmAmt Ccy="EUR">1250.00', b'<IntrBkSttlmAmt Ccy="EUR">1250.001'), "CH20"),
    ("amount_decimals_fit_currency", "generic", lambda r: change(r, b'<IntrBkSttlmAmt Ccy="EUR">1250.00', b'<IntrBkSttlmAmt Ccy="JPY">1250.5'), "CH20"),
    ("iban_is_valid", "generic", lambda r: change(r, b"DE82370400440532013999", b"DE82370400440532013998"), "AC03"),
    ("iban_is_valid", "generic", lambda r: change(r, b"GB30NWBK60161331926801", b"GB31NWBK60161331926801"), "AC02"),
    ("iban_is_valid", "generic", lambda r: change(r, DBTR_AGT, DBTR_AGT + b"<DbtrAgtAcct><Id><IBAN>XX30NWBK60161331926801</IBAN></Id></DbtrAgtAcct>"), "AC01"),
    ("iban_is_present", "sepa-inst", lambda r: change(r, b"<IBAN>NL37ABNA0417164399</IBAN>", b"<Othr><Id>0417164399</Id></Othr>"), "AC03"),
    ("bic_is_valid", "generic", lambda r: change(r, CDTR_AGT, CDTR_AGT.replace(b"ZEPHDEFFXXX", b"ZEPHQQFFXXX")), "RC01"),
    ("agents_are_identified", "generic", lambda r: change(r, CDTR_AGT, b"<CdtrAgt><FinInstnId/></CdtrAgt>"), "RC04"),
    ("agents_are_identified", "generic", lambda r: change(r, DBTR_AGT, b"<DbtrAgt><FinInstnId/></DbtrAgt>"), "RC03"),
    ("settlement_date_is_usable", "cbpr+", lambda r: change(r, b"<IntrBkSttlmDt>2025-03-14", b"<IntrBkSttlmDt>2025-03-12"), "DT01"),
    ("settlement_date_is_usable", "sepa-inst", lambda r: change(r, b"<IntrBkSttlmDt>2025-03-17", b"<IntrBkSttlmDt>2025-04-18"), "DT03"),
    ("settlement_date_is_usable", "sepa-inst", lambda r: change(r, b"<IntrBkSttlmDt>2025-03-17", b"<IntrBkSttlmDt>2025-03-15"), "DT03"),
    ("uetr_is_valid", "cbpr+", lambda r: change(r, b"<UETR>d5a2e482-be40-4f27-a4f3-7e1049a8b2e8</UETR>", b""), "FF01"),
    ("charge_bearer_is_allowed", "sepa-inst", lambda r: change(r, b"<ChrgBr>SLEV</ChrgBr>", b"<ChrgBr>SHAR</ChrgBr>"), "BE19"),
    ("charge_bearer_is_allowed", "cbpr+", lambda r: change(r, b"<ChrgBr>DEBT</ChrgBr>", b"<ChrgBr>SLEV</ChrgBr>"), "BE19"),
    ("character_set_is_allowed", "sepa-inst", lambda r: change(r, b"<Nm>Van Dijk Fietsen BV</Nm>", "<Nm>Van Dijk Fietsen & Zonen</Nm>".replace("&", "&amp;").encode()), "RR10"),
    ("character_set_is_allowed", "cbpr+", lambda r: change(r, b"<EndToEndId>PO-88213</EndToEndId>", b"<EndToEndId>PO_88213</EndToEndId>"), "RR10"),
    ("instruction_id_slashes", "cbpr+", lambda r: change(r, b"<InstrId>NOVA-INSTR-000002</InstrId>", b"<InstrId>NOVA//000002</InstrId>"), "FF01"),
    ("header_present", "cbpr+", lambda r: SINGLE, "FF01"),
    ("header_conforms", "cbpr+", lambda r: change(r, b"<CreDt>2025-03-14T10:05:00+00:00</CreDt>", b"<CreDt>2025-03-14</CreDt>"), "FF01"),
    ("header_matches_document", "generic", lambda r: ENVELOPE.replace(b"<MsgDefIdr>pacs.008.001.08</MsgDefIdr>", b"<MsgDefIdr>pacs.008.001.10</MsgDefIdr>"), "FF01"),
    ("header_matches_document", "generic", lambda r: ENVELOPE.replace(b"<BizMsgIdr>NOVAGB2L-20250314-000002<", b"<BizMsgIdr>NOVAGB2L-20250314-000009<"), "FF01"),
    ("header_matches_document", "generic", lambda r: ENVELOPE.replace(b"<Fr><FIId><FinInstnId><BICFI>NOVAGB2LXXX", b"<Fr><FIId><FinInstnId><BICFI>QUILUS33XXX"), "AGNT"),
]


@pytest.mark.parametrize(("rule", "profile"), sorted({(rule, profile) for rule, profile, _, _ in FAILING}))
def test_each_rule_passes_its_profile_base_message(rule, profile):
    evaluation = judged(BASE[profile], profile)

    assert evaluation.accepted
    assert [r for r in evaluation.results if r.rule == rule] == []


@pytest.mark.parametrize(("rule", "profile", "mutate", "code"), FAILING, ids=[f"{r}-{p}-{c}-{i}" for i, (r, p, _, c) in enumerate(FAILING)])
def test_each_rule_fails_with_exactly_its_reason_code_and_a_valid_reply(rule, profile, mutate, code):
    evaluation = judged(mutate(BASE[profile]), profile)

    assert evaluation.error is None
    assert [(r.rule, r.finding.reason_code) for r in evaluation.results if r.severity == "reject"] == [(rule, code)]
    assert not evaluation.accepted
    finding = evaluation.rejections[0]
    assert len(finding.narrative) <= 105
    assert finding.narrative.startswith(finding.path) or finding.path == "/AppHdr"
    reply = reply_of(evaluation)
    assert validate_document(reply, reply_definition(evaluation.message.definition)) == []
    codes_in_reply = etree.fromstring(reply).xpath("//*[local-name()='Rsn']/*[local-name()='Cd']/text()")
    assert code in codes_in_reply


def test_every_rule_has_a_failing_example():
    assert {r.__name__ for r in rule_module.PAYMENT_RULES} == {rule for rule, _, _, _ in FAILING}


def test_a_bad_payment_rejects_only_itself_and_the_group_is_part():
    raw = MULTI.replace(b"NL37ABNA0417164399", b"NL38ABNA0417164399")

    evaluation = judged(raw, "sepa-inst")

    assert [s for s, _, _ in evaluation.payment_status] == ["ACSP", "RJCT", "ACSP"]
    assert evaluation.payment_status[1][1] == "AC03"
    assert evaluation.group_rejection is None
    reply = reply_of(evaluation)
    assert validate_document(reply, "pacs.002.001.10") == []
    assert etree.fromstring(reply).xpath("//*[local-name()='GrpSts']/text()") == ["PART"]


def test_a_group_level_finding_rejects_every_payment():
    evaluation = judged(MULTI.replace(b"<NbOfTxs>3</NbOfTxs>", b"<NbOfTxs>4</NbOfTxs>"), "sepa-inst")

    assert [(s, c) for s, c, _ in evaluation.payment_status] == [("RJCT", "AM19")] * 3


def test_control_sum_passes_with_exact_decimals():
    raw = MULTI.replace(b"<NbOfTxs>3</NbOfTxs>", b"<NbOfTxs>3</NbOfTxs><CtrlSum>1120.000</CtrlSum>")

    assert judged(raw, "sepa-inst").accepted


def test_generic_profile_records_date_and_offset_problems_as_warnings():
    raw = SINGLE.replace(b"<CreDtTm>2025-03-14T09:30:47+00:00</CreDtTm>", b"<CreDtTm>2025-03-14T09:30:47</CreDtTm>")

    evaluation = judged(raw, "generic", now=datetime(2026, 12, 3, 9, 30, tzinfo=timezone.utc))

    assert evaluation.accepted
    assert [(r.rule, r.severity, r.finding.reason_code) for r in evaluation.results] == [
        ("creation_time_has_offset", "warn", "FF01"), ("settlement_date_is_usable", "warn", "DT01"),
    ]


def test_header_copy_may_name_other_agents():
    raw = ENVELOPE.replace(b"<Fr><FIId><FinInstnId><BICFI>NOVAGB2LXXX", b"<Fr><FIId><FinInstnId><BICFI>QUILUS33XXX").replace(
        b"<CreDt>", b"<CpyDplct>COPY</CpyDplct><CreDt>")

    evaluation = judged(raw, "generic")

    assert evaluation.accepted, evaluation.reason


def test_upstream_sample_header_is_a_warning_under_generic_and_ff01_under_cbpr():
    generic = judged(UPSTREAM, "generic")
    cbpr = judged(UPSTREAM, "cbpr+")

    assert generic.accepted
    assert any("CreDt" in w for w in generic.warnings)
    assert cbpr.reason == ("FF01", "/AppHdr/CreDt: '2023-05-05' is not a valid value of the atomic type 'ISODateTime'.")


def test_bic8_and_primary_office_bic11_are_the_same_institution():
    raw = ENVELOPE.replace(b"<Fr><FIId><FinInstnId><BICFI>NOVAGB2LXXX", b"<Fr><FIId><FinInstnId><BICFI>NOVAGB2L")

    assert judged(raw, "cbpr+").accepted


def test_settlement_date_uses_the_time_zone_of_the_scheme():
    raw = MULTI.replace(b"<IntrBkSttlmDt>2025-03-17", b"<IntrBkSttlmDt>2025-03-14")
    # 23:30 UTC on the 13th is already the 14th in Frankfurt: the 14th is today, not tomorrow
    assert judged(raw, "sepa-inst", now=datetime(2025, 3, 13, 23, 30, tzinfo=timezone.utc)).accepted
    # 23:30 UTC on the 14th is the 15th in Frankfurt: the 14th is in the past
    late = judged(raw, "sepa-inst", now=datetime(2025, 3, 14, 23, 30, tzinfo=timezone.utc))
    assert late.reason[0] == "DT01"


def test_target2_calendar_matches_easter_and_the_fixed_closing_days():
    from dateutil.easter import easter

    target = calendar("TARGET2")
    for year in range(target.first_year, target.last_year + 1):
        sunday = easter(year)
        good_friday, easter_monday = sunday - timedelta(days=2), sunday + timedelta(days=1)
        expected = {date(year, 1, 1), good_friday, easter_monday, date(year, 5, 1), date(year, 12, 25), date(year, 12, 26)}
        assert {d for d in target.closing_days if d.year == year} == expected, year
    assert target.is_business_day(date(2025, 3, 14))
    assert not target.is_business_day(date(2025, 3, 15))
    with pytest.raises(ValueError):
        target.is_business_day(date(2031, 1, 2))


@pytest.mark.parametrize(
    ("code", "file_name"),
    [("NOOR", "external_payment_cancellation_rejection_code.json"), ("ARDT", "external_payment_cancellation_rejection_code.json"),
     ("LEGL", "external_payment_cancellation_rejection_code.json"), ("FOCR", "external_return_reason_code.json"),
     ("DS02", "external_status_reason_code.json"), ("AM05", "external_status_reason_code.json"), ("DUPL", "external_status_reason_code.json"),
     ("AGNT", "external_status_reason_code.json"), ("RR10", "external_status_reason_code.json"), ("BE19", "external_status_reason_code.json")],
)
def test_codes_used_are_in_their_iso_code_lists(code, file_name):
    assert reason_definition(code, file_name)


def test_the_settings_know_every_profile_by_name():
    from engine.iso20022.profiles import PROFILES
    from engine.settings import PROFILE_NAMES

    assert tuple(PROFILES) == PROFILE_NAMES
