"""read_message: untrusted bytes to a validated pacs.008 Message, or MessageError."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from lxml import etree

from .codes import FILE_FORMAT_INVALID, INVALID_DATE
from .elements import child, child_text, children, element_path, namespace
from .errors import MessageError
from .locating import LocatedMessage, locate
from .model import Message, Payment
from .namespaces import definition_of
from .parsing import parse_untrusted
from .schemas import SHIPPED_DEFINITIONS, schema_errors

SUPPORTED_INBOUND = frozenset(d for d in SHIPPED_DEFINITIONS if d.startswith("pacs.008."))

_ISO_DATE = re.compile(r"\s*(\d{4})-(\d{2})-(\d{2})(?:Z|[+-]\d{2}:\d{2})?\s*")


def read_message(raw: bytes, *, max_bytes: int) -> Message:
    located = locate(parse_untrusted(raw, max_bytes=max_bytes))
    _require_accepted(located.definition)
    errors = schema_errors(located.document, located.definition)
    if errors:
        raise MessageError(FILE_FORMAT_INVALID, errors[0])
    return _message(located)


def _require_accepted(definition: str) -> None:
    if definition not in SHIPPED_DEFINITIONS:
        raise MessageError(FILE_FORMAT_INVALID, f"no schema shipped for {definition}")
    if definition not in SUPPORTED_INBOUND:
        raise MessageError(FILE_FORMAT_INVALID, f"{definition} is not accepted on this route")


def _header_warnings(app_hdr: etree._Element | None) -> tuple[str, ...]:
    """A header that fails its schema is reported, not rejected."""
    if app_hdr is None:
        return ()
    definition = definition_of(namespace(app_hdr))
    if definition not in SHIPPED_DEFINITIONS:
        return (f"AppHdr not validated: no schema shipped for {definition}",)
    errors = schema_errors(app_hdr, definition)
    if not errors:
        return ()
    more = f" (and {len(errors) - 1} more errors)" if len(errors) > 1 else ""
    return (f"AppHdr does not conform to {definition}: {errors[0]}{more}",)


def _message(located: LocatedMessage) -> Message:
    document = located.document
    ns = namespace(document)
    transfer = child(document, ns, "FIToFICstmrCdtTrf")
    group = child(transfer, ns, "GrpHdr")
    group_settlement_date = child(group, ns, "IntrBkSttlmDt")
    return Message(
        definition=located.definition,
        document=document,
        app_hdr=located.app_hdr,
        namespace_inferred=located.namespace_inferred,
        warnings=located.interpretation_notes + _header_warnings(located.app_hdr),
        msg_id=child_text(group, ns, "MsgId"),
        created_at=child_text(group, ns, "CreDtTm"),
        payments=tuple(
            _payment(index, transaction, ns, group_settlement_date)
            for index, transaction in enumerate(children(transfer, ns, "CdtTrfTxInf"))
        ),
    )


def _payment(index: int, transaction: etree._Element, ns: str, group_settlement_date: etree._Element | None) -> Payment:
    amount = child(transaction, ns, "IntrBkSttlmAmt")
    settlement_date = child(transaction, ns, "IntrBkSttlmDt")
    if settlement_date is None:
        settlement_date = group_settlement_date
    return Payment(
        index=index,
        instr_id=child_text(transaction, ns, "PmtId", "InstrId"),
        end_to_end_id=child_text(transaction, ns, "PmtId", "EndToEndId"),
        tx_id=child_text(transaction, ns, "PmtId", "TxId"),
        uetr=child_text(transaction, ns, "PmtId", "UETR"),
        amount=Decimal(amount.text.strip()),
        currency=amount.get("Ccy"),
        settlement_date=None if settlement_date is None else _calendar_date(settlement_date),
    )


def _calendar_date(element: etree._Element) -> date:
    """The date of an XSD-valid ISODate; DT01 for one Python cannot represent (e.g. year 10000)."""
    match = _ISO_DATE.fullmatch(element.text)
    if match is not None:
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    raise MessageError(INVALID_DATE, f"{element_path(element)} is not a usable date: {element.text!r}")
