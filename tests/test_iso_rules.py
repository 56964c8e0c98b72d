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
        Finding("AM19", "/Document/FIToFICstmrCdtTrf/GrpHdr/NbOfTxs", "NbOfTxs is 4 but the message has 3 CdtTrfTxInf", None)
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
            "TtlIntrBkSttlmAmt 1120.01 EUR differs from the sum of IntrBkSttlmAmt 1120.00",
            None,
        )
    ]


def test_total_settlement_amount_in_another_currency_is_a_group_finding():
    message = read(MULTI.replace(b'<IntrBkSttlmAmt Ccy="EUR">990.10', b'<IntrBkSttlmAmt Ccy="USD">990.10'))

    assert list(total_settlement_amount_matches(message)) == [
        Finding(
            "AM16",
            "/Document/FIToFICstmrCdtTrf/GrpHdr/TtlIntrBkSttlmAmt",
            "TtlIntrBkSttlmAmt is in EUR but CdtTrfTxInf 2 settles in USD",
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
            "IntrBkSttlmAmt is 0.00 EUR; it must be greater than zero",
            1,
        ),
    )


def test_check_runs_the_given_rules_only():
    message = read(MULTI.replace(b"<NbOfTxs>3</NbOfTxs>", b"<NbOfTxs>2</NbOfTxs>"))

    assert check(message, [settlement_amounts_are_positive]) == ()
    assert [f.reason_code for f in check(message)] == ["AM19"]
