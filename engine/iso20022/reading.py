"""Untrusted bytes to a validated inbound message, dispatched strictly by the Document namespace.

``read_inbound`` accepts the inbound families (pacs.008 payments, camt.056 cancellation requests) and returns
a Message or a CancellationRequest; ``read_message`` accepts pacs.008 only. Both raise MessageError.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from lxml import etree

from .codes import FILE_FORMAT_INVALID, INVALID_DATE
from .elements import child, child_text, children, element_path, namespace
from .errors import MessageError, SchemaInvalid
from .header import agent_identity, header_warnings, read_header
from .locating import LocatedMessage, locate
from .model import CancellationItem, CancellationRequest, Message, Payment
from .parsing import parse_untrusted
from .schemas import SHIPPED_DEFINITIONS, schema_errors
from .view import Tags, TransactionView, payment_view

PAYMENT_FAMILY = "pacs.008"
CANCELLATION_FAMILY = "camt.056"
SUPPORTED_INBOUND = frozenset(d for d in SHIPPED_DEFINITIONS if d.startswith(PAYMENT_FAMILY + "."))
SUPPORTED_CANCELLATIONS = frozenset(d for d in SHIPPED_DEFINITIONS if d.startswith(CANCELLATION_FAMILY + "."))
INBOUND_FAMILIES = (PAYMENT_FAMILY, CANCELLATION_FAMILY)

_ISO_DATE = re.compile(r"\s*(\d{4})-(\d{2})-(\d{2})(?:Z|[+-]\d{2}:\d{2})?\s*")


def family_of(definition: str) -> str:
    """"pacs.008.001.08" -> "pacs.008"."""
    return definition[:8]


class _RecentReads:
    """The last messages read, by their exact bytes: process and release read the same payload one after the
    other, and a warm process (the local runtime, the simulator, one Lambda container) then parses and
    validates it once. Only messages that were read successfully are kept; nothing read is ever modified."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._messages: OrderedDict[tuple[bytes, int], Message | CancellationRequest] = OrderedDict()

    def get(self, raw: bytes, max_bytes: int, accepted: frozenset[str]) -> Message | CancellationRequest | None:
        if type(raw) is not bytes:  # a bytearray or memoryview may still change
            return None
        message = self._messages.get((raw, max_bytes))
        return message if message is not None and message.definition in accepted else None

    def add(self, raw: bytes, max_bytes: int, message: Message | CancellationRequest) -> None:
        if type(raw) is not bytes:
            return
        self._messages[(raw, max_bytes)] = message
        if len(self._messages) > self._size:
            self._messages.popitem(last=False)


_recent = _RecentReads(256)


def read_message(raw: bytes, *, max_bytes: int) -> Message:
    """A pacs.008 (any shipped version); every other family is refused on this route."""
    return _read(raw, max_bytes, SUPPORTED_INBOUND)


def read_inbound(raw: bytes, *, max_bytes: int, families: tuple[str, ...] = INBOUND_FAMILIES) -> Message | CancellationRequest:
    """A pacs.008 Message or a camt.056 CancellationRequest, by the Document's namespace alone."""
    return _read(raw, max_bytes, _accepted_in(families))


@lru_cache(maxsize=16)
def _accepted_in(families: tuple[str, ...]) -> frozenset[str]:
    return frozenset(d for d in SHIPPED_DEFINITIONS if family_of(d) in families)


def _read(raw: bytes, max_bytes: int, accepted: frozenset[str]) -> Message | CancellationRequest:
    recent = _recent.get(raw, max_bytes, accepted)
    if recent is not None:
        return recent
    located = locate(parse_untrusted(raw, max_bytes=max_bytes))
    _require_accepted(located.definition, accepted)
    _validate(located)
    if family_of(located.definition) == CANCELLATION_FAMILY:
        message = _cancellation_request(located)
    else:
        message = _payment_message(located)
    _recent.add(raw, max_bytes, message)
    return message


def _require_accepted(definition: str, accepted: frozenset[str]) -> None:
    if definition not in SHIPPED_DEFINITIONS:
        raise MessageError(FILE_FORMAT_INVALID, f"no schema shipped for {definition}")
    if definition not in accepted:
        raise MessageError(FILE_FORMAT_INVALID, f"{definition} is not accepted on this route")


def _validate(located: LocatedMessage) -> None:
    errors = schema_errors(located.document, located.definition)
    if errors:
        raise SchemaInvalid(FILE_FORMAT_INVALID, located.definition, errors)


def _payment_message(located: LocatedMessage) -> Message:
    document = located.document
    view = payment_view(document, namespace(document))
    t, group = view.tags, view.group_kids
    group_settlement_date = group.get(t.IntrBkSttlmDt)
    header = read_header(located.app_hdr)
    return Message(
        definition=located.definition,
        document=document,
        app_hdr=located.app_hdr,
        namespace_inferred=located.namespace_inferred,
        warnings=located.interpretation_notes + header_warnings(header),
        msg_id=group[t.MsgId].text,
        created_at=group[t.CreDtTm].text,
        payments=tuple(_payment(index, transaction, t, group_settlement_date)
                       for index, transaction in enumerate(view.transactions)),
        header=header,
        view=view,
    )


def _text_of(element: etree._Element | None) -> str | None:
    return None if element is None else element.text


def _payment(index: int, transaction: TransactionView, t: Tags, group_settlement_date: etree._Element | None) -> Payment:
    kids, ids = transaction.kids, transaction.ids
    amount = kids[t.IntrBkSttlmAmt]
    settlement_date = kids.get(t.IntrBkSttlmDt, group_settlement_date)
    return Payment(
        index=index,
        instr_id=_text_of(ids.get(t.InstrId)),
        end_to_end_id=ids[t.EndToEndId].text,
        tx_id=_text_of(ids.get(t.TxId)),
        uetr=_text_of(ids.get(t.UETR)),
        amount=Decimal(amount.text.strip()),
        currency=amount.get("Ccy"),
        settlement_date=None if settlement_date is None else calendar_date(settlement_date),
    )


def calendar_date(element: etree._Element) -> date:
    """The date of an XSD-valid ISODate; DT01 for one Python cannot represent (e.g. year 10000)."""
    match = _ISO_DATE.fullmatch(element.text)
    if match is not None:
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    raise MessageError(INVALID_DATE, f"{element_path(element)} is not a usable date: {element.text!r}")


def _text(parent: etree._Element | None, ns: str, *names: str) -> str | None:
    value = child_text(parent, ns, *names)
    return value.strip() if value is not None else None


def _cancellation_request(located: LocatedMessage) -> CancellationRequest:
    document = located.document
    ns = namespace(document)
    request = child(document, ns, "FIToFIPmtCxlReq")
    assignment = child(request, ns, "Assgnmt")
    header = read_header(located.app_hdr)
    items: list[CancellationItem] = []
    for underlying in children(request, ns, "Undrlyg"):
        group = child(underlying, ns, "OrgnlGrpInfAndCxl")
        transactions = children(underlying, ns, "TxInf")
        for transaction in transactions:
            items.append(_cancellation_item(len(items), transaction, ns, group))
        if not transactions and group is not None:
            items.append(
                CancellationItem(
                    index=len(items), path=element_path(group), cancellation_id=_text(group, ns, "GrpCxlId"),
                    original_msg_id=_text(group, ns, "OrgnlMsgId"), original_definition=_text(group, ns, "OrgnlMsgNmId"),
                    original_instr_id=None, original_end_to_end_id=None, original_tx_id=None, original_uetr=None,
                    original_amount=None, original_currency=None,
                    reason_code=_text(group, ns, "CxlRsnInf", "Rsn", "Cd"), whole_message=True,
                )
            )
    return CancellationRequest(
        definition=located.definition,
        document=document,
        app_hdr=located.app_hdr,
        namespace_inferred=located.namespace_inferred,
        warnings=located.interpretation_notes + header_warnings(header),
        assignment_id=_text(assignment, ns, "Id"),
        case_id=_text(request, ns, "Case", "Id"),
        assigner=agent_identity(child(assignment, ns, "Assgnr", "Agt")),
        assignee=agent_identity(child(assignment, ns, "Assgne", "Agt")),
        created_at=_text(assignment, ns, "CreDtTm"),
        items=tuple(items),
        header=header,
    )


def _cancellation_item(index: int, transaction: etree._Element, ns: str, group: etree._Element | None) -> CancellationItem:
    original_group = child(transaction, ns, "OrgnlGrpInf")
    if original_group is None:
        original_group = group
    amount = child(transaction, ns, "OrgnlIntrBkSttlmAmt")
    try:
        value = Decimal(amount.text.strip()) if amount is not None else None
    except InvalidOperation:
        value = None
    return CancellationItem(
        index=index,
        path=element_path(transaction),
        cancellation_id=_text(transaction, ns, "CxlId"),
        original_msg_id=_text(original_group, ns, "OrgnlMsgId"),
        original_definition=_text(original_group, ns, "OrgnlMsgNmId"),
        original_instr_id=_text(transaction, ns, "OrgnlInstrId"),
        original_end_to_end_id=_text(transaction, ns, "OrgnlEndToEndId"),
        original_tx_id=_text(transaction, ns, "OrgnlTxId"),
        original_uetr=_text(transaction, ns, "OrgnlUETR"),
        original_amount=value,
        original_currency=None if amount is None else amount.get("Ccy"),
        reason_code=_text(transaction, ns, "CxlRsnInf", "Rsn", "Cd"),
    )


def read_other(raw: bytes, *, max_bytes: int) -> tuple[LocatedMessage, tuple[str, ...]]:
    """Any shipped message (e.g. a reply: pacs.002, camt.029, pacs.004): located and checked against its XSD
    only; returns it with its schema errors. MessageError when it cannot be read or has no shipped schema."""
    located = locate(parse_untrusted(raw, max_bytes=max_bytes))
    _require_accepted(located.definition, SHIPPED_DEFINITIONS)
    return located, tuple(schema_errors(located.document, located.definition))
