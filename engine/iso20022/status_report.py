"""The pacs.002 status report answering a pacs.008, built from the original message, in the pacs.002 version of
the original's generation (see REPLY_GENERATION).

Parties, agents and references are copied from the original only where the report's schema gives them the
same ISO type as the original's (see schema_types); an agent of another type keeps just its BIC. The result is
validated against its schema before it is returned, so an invalid report is never produced.

The report is written as text: its own elements from escaped values, the copied elements as the original's
serialisation (lxml, in C) with the original's namespace declarations removed, so that they fall into the
report's default namespace. Originals written with namespace prefixes are copied element by element instead.
The text is then parsed once and validated against the report's XSD.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone
from functools import lru_cache
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

from .codes import reason_definition
from .elements import child, child_text, children, namespace
from .errors import clip_narrative
from .model import Message, Payment
from .namespaces import namespace_of
from .schema_types import element_type
from .schemas import schema_errors

REPORT_DEFINITION = "pacs.002.001.10"
# the pacs.002 of each pacs.008's ISO release; the 2023 and 2025 pacs.002 versions are not shipped, so newer
# pacs.008 versions are answered in the newest shipped pacs.002 (.12, which carries every element used here)
REPLY_GENERATION = {
    "pacs.008.001.08": "pacs.002.001.10",
    "pacs.008.001.10": "pacs.002.001.12",
    "pacs.008.001.12": "pacs.002.001.12",
    "pacs.008.001.13": "pacs.002.001.12",
}
_ORIGINAL_TRANSFER = ("Document", "FIToFICstmrCdtTrf")
_REPORT_TRANSACTION = ("Document", "FIToFIPmtStsRpt", "TxInfAndSts")
_REPORT_GROUP = ("Document", "FIToFIPmtStsRpt", "GrpHdr")
_AGENT_TYPE = "BranchAndFinancialInstitutionIdentification6"
_IDENTIFIER_LIMIT = 35
# OrgnlTxRef children after IntrBkSttlmAmt/IntrBkSttlmDt, in schema order, copied from the same-named original
# element of the transaction (or, for SttlmInf and PmtTpInf, of the group header).
_REFERENCE_SLOTS = (
    "SttlmInf", "PmtTpInf", "MndtRltdInf", "RmtInf", "UltmtDbtr", "Dbtr", "DbtrAcct", "DbtrAgt", "DbtrAgtAcct",
    "CdtrAgt", "CdtrAgtAcct", "Cdtr", "CdtrAcct", "UltmtCdtr", "Purp",
)
_PARTY_CHOICE_SLOTS = frozenset({"UltmtDbtr", "Dbtr", "Cdtr", "UltmtCdtr"})  # the party goes inside <Pty>
_NAMESPACE_DECLARATION = re.compile(r'\s+xmlns(?::[\w.-]+)?=("[^"]*"|\'[^\']*\')')
_PREFIXED_TAG = re.compile(r"</?[\w.-]+:")
_REPORT_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, collect_ids=False)

PaymentStatus = tuple[str, str | None, str | None]  # (status, reason code, additional information)


def reply_definition(original_definition: str | None) -> str:
    return REPLY_GENERATION.get(original_definition or "", REPORT_DEFINITION)


def build_status_report(
    message: Message | None,
    *,
    group_status: str,
    payment_status: Mapping[int, PaymentStatus],
    report_id: str,
    created_at: datetime,
    original_reference: str,
    original_definition: str,
    group_reason: tuple[str, str | None] | None = None,
    report_definition: str | None = None,
) -> bytes:
    """The report as UTF-8 XML. Without a message (unreadable original) only the group status is reported."""
    definition = report_definition or reply_definition(message.definition if message is not None else original_definition)
    if created_at.utcoffset() is None:
        raise ValueError("created_at must be timezone-aware")
    if message is None and payment_status:
        raise ValueError("payment statuses cannot be reported without the original message")
    if message is not None:
        unknown = set(payment_status) - {payment.index for payment in message.payments}
        if unknown:
            raise ValueError(f"no payment with index {sorted(unknown)} in message {message.msg_id}")
    out: list[str] = [f'<Document xmlns="{namespace_of(definition)}"><FIToFIPmtStsRpt><GrpHdr>']
    _text(out, "MsgId", report_id)
    _text(out, "CreDtTm", created_at.astimezone(timezone.utc).isoformat())
    if message is not None:
        _group_agents(out, message, definition)
    out.append("</GrpHdr>")
    _original_group(out, message, group_status, group_reason, original_reference, original_definition)
    if message is not None:
        _transactions(out, message, payment_status, definition)
    out.append("</FIToFIPmtStsRpt></Document>")
    body = "".join(out).encode("utf-8")
    try:
        document = etree.fromstring(body, _REPORT_PARSER)
    except etree.XMLSyntaxError as error:  # a bug in this builder, never the sender's input
        raise ValueError(f"status report would not be well-formed: {error}") from None
    errors = schema_errors(document, definition)
    if errors:
        raise ValueError(f"status report would not be valid {definition}: {errors[0]}")
    return b"<?xml version='1.0' encoding='UTF-8'?>\n" + body


def _text(out: list[str], local: str, value: str | None, attributes: str = "") -> None:
    out.append(f"<{local}{attributes}>{escape(value or '')}</{local}>")


def _text_if_present(out: list[str], local: str, value: str | None) -> None:
    if value is not None:
        _text(out, local, value)


def _status_reason(out: list[str], reason_code: str | None, additional_info: str | None) -> None:
    info = clip_narrative(additional_info or "")
    if reason_code is None and not info:
        return
    out.append("<StsRsnInf>")
    if reason_code is not None:
        try:
            reason_definition(reason_code)
        except KeyError as unknown:
            raise ValueError(str(unknown)) from None
        out.append(f"<Rsn><Cd>{escape(reason_code)}</Cd></Rsn>")
    if info:
        _text(out, "AddtlInf", info)
    out.append("</StsRsnInf>")


def _original_transfer(message: Message) -> etree._Element:
    return child(message.document, namespace(message.document), "FIToFICstmrCdtTrf")


def _kids(message: Message, element: etree._Element, index: int | None) -> dict[str, etree._Element]:
    view = message.view
    if view is not None:
        return view.group_kids if index is None else view.transactions[index].kids
    kids: dict[str, etree._Element] = {}
    for kid in element:
        kids.setdefault(kid.tag, kid)
    return kids


def _group_agents(out: list[str], message: Message, definition: str) -> None:
    """The original's agents swapped; from its group header, or from its first transaction when the group has none."""
    ns = namespace(message.document)
    view = message.view
    transfer = view.transfer if view is not None else _original_transfer(message)
    holder, holder_name = (view.group if view is not None else child(transfer, ns, "GrpHdr")), "GrpHdr"
    kids = _kids(message, holder, None)
    prefix = f"{{{ns}}}"
    if prefix + "InstgAgt" not in kids and prefix + "InstdAgt" not in kids:
        holder, holder_name = child(transfer, ns, "CdtTrfTxInf"), "CdtTrfTxInf"
        if holder is None:
            return
        kids = _kids(message, holder, 0)
    _swapped_agents(out, message, kids, prefix, holder_name, _REPORT_GROUP, definition)


def _swapped_agents(out: list[str], message: Message, kids: dict[str, etree._Element], prefix: str, holder_name: str,
                    parent_path: tuple[str, ...], definition: str) -> None:
    for report_agent, original_agent, how in _agent_plan(message.definition, holder_name, definition, parent_path):
        original = kids.get(prefix + original_agent)
        if original is not None:
            _agent(out, original, report_agent, how)


@lru_cache(maxsize=256)
def _agent_plan(original_definition: str, holder_name: str, report_definition: str,
                parent_path: tuple[str, ...]) -> tuple[tuple[str, str, str], ...]:
    """The report's InstgAgt is the original's InstdAgt and the other way round: copied whole when their types
    agree, else by BIC."""
    plan = []
    for report_agent, original_agent in (("InstgAgt", "InstdAgt"), ("InstdAgt", "InstgAgt")):
        same = _same_type(original_definition, (*_ORIGINAL_TRANSFER, holder_name, original_agent),
                          report_definition, (*parent_path, report_agent))
        plan.append((report_agent, original_agent, "copy" if same else "bic"))
    return tuple(plan)


def _agent(out: list[str], original: etree._Element, local: str, how: str) -> None:
    """The agent copied whole when its type matches, else identified by its BIC alone (none without a BIC)."""
    if how == "copy":
        out.append(_copy(original, local))
        return
    bic = child_text(original, namespace(original), "FinInstnId", "BICFI")
    if bic is not None:
        out.append(f"<{local}><FinInstnId><BICFI>{escape(bic)}</BICFI></FinInstnId></{local}>")


def _original_group(out: list[str], message: Message | None, group_status: str,
                    group_reason: tuple[str, str | None] | None, original_reference: str, original_definition: str) -> None:
    out.append("<OrgnlGrpInfAndSts>")
    if message is None:
        _text(out, "OrgnlMsgId", original_reference[:_IDENTIFIER_LIMIT])
        _text(out, "OrgnlMsgNmId", original_definition[:_IDENTIFIER_LIMIT])
    else:
        ns = namespace(message.document)
        if message.view is not None:
            count = message.view.group_kids[message.view.tags.NbOfTxs].text
        else:
            count = child_text(_original_transfer(message), ns, "GrpHdr", "NbOfTxs")
        _text(out, "OrgnlMsgId", message.msg_id)
        _text(out, "OrgnlMsgNmId", message.definition)
        _text(out, "OrgnlCreDtTm", message.created_at)
        _text(out, "OrgnlNbOfTxs", count)
    _text(out, "GrpSts", group_status)
    if group_reason is not None:
        _status_reason(out, *group_reason)
    out.append("</OrgnlGrpInfAndSts>")


def _transactions(out: list[str], message: Message, payment_status: Mapping[int, PaymentStatus], definition: str) -> None:
    if message.view is None:
        ns = namespace(message.document)
        transfer = _original_transfer(message)
        group_header = child(transfer, ns, "GrpHdr")
        transactions = children(transfer, ns, "CdtTrfTxInf")
    else:
        group_header, transactions = message.view.group, [t.element for t in message.view.transactions]
    group_kids = _kids(message, group_header, None)
    for payment in message.payments:
        if payment.index in payment_status:
            kids = _kids(message, transactions[payment.index], payment.index)
            _transaction(out, message, payment, payment_status[payment.index], kids, group_kids, definition)


def _transaction(out: list[str], message: Message, payment: Payment, status: PaymentStatus,
                 tx_kids: dict[str, etree._Element], group_kids: dict[str, etree._Element], definition: str) -> None:
    transaction_status, reason_code, additional_info = status
    out.append("<TxInfAndSts>")
    _text_if_present(out, "OrgnlInstrId", payment.instr_id)
    _text(out, "OrgnlEndToEndId", payment.end_to_end_id)
    _text_if_present(out, "OrgnlTxId", payment.tx_id)
    _text_if_present(out, "OrgnlUETR", payment.uetr)
    _text(out, "TxSts", transaction_status)
    _status_reason(out, reason_code, additional_info)
    prefix = "{" + namespace(message.document) + "}"
    _swapped_agents(out, message, tx_kids, prefix, "CdtTrfTxInf", _REPORT_TRANSACTION, definition)
    out.append("<OrgnlTxRef>")
    _text(out, "IntrBkSttlmAmt", format(payment.amount, "f"), f" Ccy={quoteattr(payment.currency)}")
    if payment.settlement_date is not None:
        _text(out, "IntrBkSttlmDt", payment.settlement_date.isoformat())
    for slot, in_transaction, in_group in _reference_plan(message.definition, definition):
        tag = prefix + slot
        original, how = tx_kids.get(tag), in_transaction
        if original is None:
            original, how = group_kids.get(tag), in_group
        if original is None or how is None:  # neither the transaction nor the group has it
            continue
        if how == "party":
            out.append(f"<{slot}>{_copy(original, 'Pty')}</{slot}>")
        elif how == "copy":
            out.append(_copy(original, slot))
        elif how == "bic":
            _agent(out, original, slot, "bic")
    out.append("</OrgnlTxRef></TxInfAndSts>")


@lru_cache(maxsize=1024)
def _same_type(original_definition: str, original_path: tuple[str, ...], report_definition: str,
               target_path: tuple[str, ...]) -> bool:
    return element_type(original_definition, original_path) == element_type(report_definition, target_path)


@lru_cache(maxsize=64)
def _reference_plan(original_definition: str, report_definition: str) -> tuple[tuple[str, str | None, str | None], ...]:
    """For each OrgnlTxRef slot: how to fill it from the transaction's element and from the group's element
    ("copy", "party" (inside <Pty>), "bic" (an agent of another type, by its BIC) or None: left out)."""
    plan = []
    for slot in _REFERENCE_SLOTS:
        target_path = (*_REPORT_TRANSACTION, "OrgnlTxRef", slot)
        target_type = element_type(report_definition, target_path)
        actions: list[str | None] = []
        for holder in ("CdtTrfTxInf", "GrpHdr"):
            original_type = element_type(original_definition, (*_ORIGINAL_TRANSFER, holder, slot))
            if original_type is None:
                actions.append(None)
            elif slot in _PARTY_CHOICE_SLOTS:
                same = original_type == element_type(report_definition, (*target_path, "Pty"))
                actions.append("party" if same else None)
            elif target_type == _AGENT_TYPE:
                actions.append("copy" if original_type == target_type else "bic")
            else:
                actions.append("copy" if original_type == target_type else None)
        plan.append((slot, actions[0], actions[1]))
    return tuple(plan)


def _copy(original: etree._Element, local: str) -> str:
    """original's content as <local>, in whatever default namespace surrounds it."""
    text = etree.tostring(original, encoding="unicode", with_tail=False)
    start_end = text.index(">")
    if _PREFIXED_TAG.match(text) or _PREFIXED_TAG.search(text, start_end):
        return _copy_by_element(original, local)
    name_end = len(original.tag) - original.tag.index("}")  # "<" + local name
    attributes = _NAMESPACE_DECLARATION.sub("", text[name_end:start_end])
    if attributes.endswith("/"):
        return f"<{local}{attributes}>"
    return f"<{local}{attributes}>{text[start_end + 1:len(text) - len(original.tag) + original.tag.index('}') - 2]}</{local}>"


def _copy_by_element(original: etree._Element, local: str) -> str:
    """The slow path, for originals written with namespace prefixes: rebuild without a namespace, serialise."""
    copied = etree.Element(local, original.attrib)
    pending = [(copied, original)]
    while pending:
        target, source = pending.pop()
        if not len(source):
            target.text = source.text
            continue
        for part in source:
            if isinstance(part.tag, str):
                pending.append((etree.SubElement(target, etree.QName(part).localname, part.attrib), part))
    return etree.tostring(copied, encoding="unicode")
