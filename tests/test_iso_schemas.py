from __future__ import annotations

import hashlib
import re
from importlib.resources import files
from pathlib import Path

import pytest
from lxml import etree

from engine.iso20022 import read_message, validate_document
from engine.iso20022.schema_types import element_type
from engine.iso20022.schemas import SHIPPED_DEFINITIONS

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
PACKAGE = files("engine.iso20022")


def test_shipped_definitions():
    assert SHIPPED_DEFINITIONS == {
        "camt.029.001.09", "camt.029.001.11", "camt.029.001.14",
        "camt.056.001.08", "camt.056.001.10", "camt.056.001.12",
        "head.001.001.02", "head.001.001.03",
        "pacs.002.001.10", "pacs.002.001.12",
        "pacs.004.001.09", "pacs.004.001.10", "pacs.004.001.11",
        "pacs.008.001.08", "pacs.008.001.10", "pacs.008.001.12", "pacs.008.001.13",
        "pain.001.001.09", "pain.001.001.11",
        "pain.002.001.10", "pain.002.001.12",
    }


def test_notice_lists_every_shipped_schema_with_its_size_and_hash():
    notice = PACKAGE.joinpath("schemas", "NOTICE.md").read_text(encoding="utf-8")
    rows = {
        match["file"]: (int(match["size"]), match["sha"])
        for match in re.finditer(r"^\| (?P<file>\S+\.xsd) \| (?P<size>\d+) \| (?P<sha>[0-9a-f]{16}) \|", notice, re.M)
    }

    assert set(rows) == {f"{definition}.xsd" for definition in SHIPPED_DEFINITIONS}
    for name, (size, sha) in rows.items():
        content = PACKAGE.joinpath("schemas", name).read_bytes()
        assert (len(content), hashlib.sha256(content).hexdigest()[:16]) == (size, sha), name


def test_code_list_ships_with_its_source_note():
    assert "@taprsvp/iso20022_external_codes" in PACKAGE.joinpath("codesets", "SOURCE.md").read_text(encoding="utf-8")


def test_valid_reply_sample_has_no_errors():
    assert validate_document((SAMPLES / "own_pacs002_v10_acsc_reply.xml").read_bytes(), "pacs.002.001.10") == []


def test_invalid_reply_sample_lists_each_error_with_its_path():
    errors = validate_document((SAMPLES / "rust_iso20022_tests-data_pacs.002.001.10.xml").read_bytes(), "pacs.002.001.10")

    assert errors == [
        f"/Document/FIToFIPmtStsRpt/SplmtryData[{n}]/Envlp: Missing child element(s). Expected is one of ( {{*}}*, * )."
        for n in (1, 2, 3)
    ]


def test_validate_document_accepts_an_element():
    document = read_message((SAMPLES / "own_pacs008_v08_single.xml").read_bytes(), max_bytes=100_000).document

    assert validate_document(document, "pacs.008.001.08") == []
    assert validate_document(document, "pacs.008.001.10") == [
        "/Document: No matching global declaration available for the validation root."
    ]


def test_validate_document_reports_unreadable_bytes():
    assert validate_document(b"<Document", "pacs.002.001.10") == [
        "XML not well-formed at line 1, column 10: Couldn't find end of Start Tag Document line 1"
    ]


def test_validate_document_needs_a_shipped_schema():
    with pytest.raises(ValueError, match="no schema shipped for pacs.009.001.08"):
        validate_document(etree.Element("Document"), "pacs.009.001.08")


@pytest.mark.parametrize(
    ("definition", "path", "type_name"),
    [
        ("pacs.008.001.08", ("Document", "FIToFICstmrCdtTrf", "CdtTrfTxInf", "Dbtr"), "PartyIdentification135"),
        ("pacs.008.001.13", ("Document", "FIToFICstmrCdtTrf", "CdtTrfTxInf", "Dbtr"), "PartyIdentification272"),
        ("pacs.002.001.10", ("Document", "FIToFIPmtStsRpt", "TxInfAndSts", "OrgnlTxRef", "Dbtr", "Pty"), "PartyIdentification135"),
        ("pacs.002.001.10", ("Document", "FIToFIPmtStsRpt", "GrpHdr", "InstgAgt"), "BranchAndFinancialInstitutionIdentification6"),
        ("pacs.008.001.08", ("Document", "FIToFICstmrCdtTrf", "CdtTrfTxInf", "Nothing"), None),
    ],
)
def test_element_types(definition, path, type_name):
    assert element_type(definition, path) == type_name
