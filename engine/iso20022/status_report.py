"""The pacs.002.001.10 status report answering a pacs.008, built from the original message.

Parties, agents and references are copied from the original only where the report's schema gives them the
same ISO type as the original's (see schema_types); an agent of another type keeps just its BIC. The result is
validated against pacs.002.001.10 before it is returned, so an invalid report is never produced.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone

from lxml import etree

from .codes import reason_definition
from .elements import child, child_text, children, local_name, namespace
from .errors import clip_narrative
from .model import Message, Payment
from .namespaces import namespace_of
from .schema_types import element_type
from .schemas import schema_errors

REPORT_DEFINITION = "pacs.002.001.10"
_REPORT_NAMESPACE = namespace_of(REPORT_DEFINITION)
_ORIGINAL_TRANSFER = ("Document", "FIToFICstmrCdtTrf")
_REPORT_TRANSACTION = ("Document", "FIToFIPmtStsRpt", "TxInfAndSts")
_AGENT_TYPE = "BranchAndFinancialInstitutionIdentification6"
_IDENTIFIER_LIMIT = 35
# OrgnlTxRef children after IntrBkSttlmAmt/IntrBkSttlmDt, in schema order, copied from the same-named original
# element of the transaction (or, for SttlmInf and PmtTpInf, of the group header).
_REFERENCE_SLOTS = (
    "SttlmInf", "PmtTpInf", "MndtRltdInf", "RmtInf", "UltmtDbtr", "Dbtr", "DbtrAcct", "DbtrAgt", "DbtrAgtAcct",
    "CdtrAgt", "CdtrAgtAcct", "Cdtr", "CdtrAcct", "UltmtCdtr", "Purp",
)
_PARTY_CHOICE_SLOTS = frozenset({"UltmtDbtr", "Dbtr", "Cdtr", "UltmtCdtr"})  # the party goes inside <Pty>

PaymentStatus = tuple[str, str | None, str | None]  # (status, reason code, additional information)


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
) -> bytes:
    """The report as UTF-8 XML. Without a message (unreadable original) only the group status is reported."""
    if created_at.utcoffset() is None:
        raise ValueError("created_at must be timezone-aware")
    if message is None and payment_status:
        raise ValueError("payment statuses cannot be reported without the original message")
    document = etree.Element(_name("Document"), nsmap={None: _REPORT_NAMESPACE})
    report = _add(document, "FIToFIPmtStsRpt")
    group_header = _add(report, "GrpHdr")
    _add(group_header, "MsgId", report_id)
    _add(group_header, "CreDtTm", created_at.astimezone(timezone.utc).isoformat())
    if message is not None:
        _add_group_agents(group_header, message)
    _add_original_group(report, message, group_status, group_reason, original_reference, original_definition)
    if message is not None:
        _add_transactions(report, message, payment_status)
    errors = schema_errors(document, REPORT_DEFINITION)
    if errors:
        raise ValueError(f"status report would not be valid {REPORT_DEFINITION}: {errors[0]}")
    return etree.tostring(document, xml_declaration=True, encoding="UTF-8")


def _name(local: str) -> str:
    return f"{{{_REPORT_NAMESPACE}}}{local}"


def _add(
    parent: etree._Element, local: str, text: str | None = None, attributes: Mapping[str, str] | None = None
) -> etree._Element:
    element = etree.SubElement(parent, _name(local), attributes)
    element.text = text
    return element


def _add_if_present(parent: etree._Element, local: str, text: str | None) -> None:
    if text is not None:
        _add(parent, local, text)


def _add_status_reason(parent: etree._Element, reason_code: str | None, additional_info: str | None) -> None:
    info = clip_narrative(additional_info or "")
    if reason_code is None and not info:
        return
    reason = _add(parent, "StsRsnInf")
    if reason_code is not None:
        try:
            reason_definition(reason_code)
        except KeyError as unknown:
            raise ValueError(str(unknown)) from None
        _add(_add(reason, "Rsn"), "Cd", reason_code)
    if info:
        _add(reason, "AddtlInf", info)


def _original_transfer(message: Message) -> etree._Element:
    return child(message.document, namespace(message.document), "FIToFICstmrCdtTrf")


def _add_group_agents(group_header: etree._Element, message: Message) -> None:
    """The original's agents swapped; from its group header, or from its first transaction when the group has none."""
    ns = namespace(message.document)
    transfer = _original_transfer(message)
    holder = child(transfer, ns, "GrpHdr")
    if child(holder, ns, "InstgAgt") is None and child(holder, ns, "InstdAgt") is None:
        holder = child(transfer, ns, "CdtTrfTxInf")
    _add_swapped_agents(group_header, message, holder, ("Document", "FIToFIPmtStsRpt", "GrpHdr"))


def _add_swapped_agents(
    parent: etree._Element, message: Message, holder: etree._Element, parent_path: Sequence[str]
) -> None:
    ns = namespace(message.document)
    holder_path = (*_ORIGINAL_TRANSFER, local_name(holder))
    for report_agent, original_agent in (("InstgAgt", "InstdAgt"), ("InstdAgt", "InstgAgt")):
        original = child(holder, ns, original_agent)
        if original is not None:
            original_path = (*holder_path, original_agent)
            _add_agent(parent, original, message.definition, original_path, (*parent_path, report_agent))


def _add_original_group(
    report: etree._Element,
    message: Message | None,
    group_status: str,
    group_reason: tuple[str, str | None] | None,
    original_reference: str,
    original_definition: str,
) -> None:
    original_group = _add(report, "OrgnlGrpInfAndSts")
    if message is None:
        _add(original_group, "OrgnlMsgId", original_reference[:_IDENTIFIER_LIMIT])
        _add(original_group, "OrgnlMsgNmId", original_definition[:_IDENTIFIER_LIMIT])
    else:
        ns = namespace(message.document)
        _add(original_group, "OrgnlMsgId", message.msg_id)
        _add(original_group, "OrgnlMsgNmId", message.definition)
        _add(original_group, "OrgnlCreDtTm", message.created_at)
        _add(original_group, "OrgnlNbOfTxs", child_text(_original_transfer(message), ns, "GrpHdr", "NbOfTxs"))
    _add(original_group, "GrpSts", group_status)
    if group_reason is not None:
        _add_status_reason(original_group, *group_reason)


def _add_transactions(
    report: etree._Element, message: Message, payment_status: Mapping[int, PaymentStatus]
) -> None:
    unknown = set(payment_status) - {payment.index for payment in message.payments}
    if unknown:
        raise ValueError(f"no payment with index {sorted(unknown)} in message {message.msg_id}")
    ns = namespace(message.document)
    transfer = _original_transfer(message)
    group_header = child(transfer, ns, "GrpHdr")
    transactions = children(transfer, ns, "CdtTrfTxInf")
    for payment in message.payments:
        if payment.index in payment_status:
            status = payment_status[payment.index]
            _add_transaction(report, message, payment, status, transactions[payment.index], group_header)


def _add_transaction(
    report: etree._Element,
    message: Message,
    payment: Payment,
    status: PaymentStatus,
    transaction: etree._Element,
    group_header: etree._Element,
) -> None:
    transaction_status, reason_code, additional_info = status
    entry = _add(report, "TxInfAndSts")
    _add_if_present(entry, "OrgnlInstrId", payment.instr_id)
    _add(entry, "OrgnlEndToEndId", payment.end_to_end_id)
    _add_if_present(entry, "OrgnlTxId", payment.tx_id)
    _add_if_present(entry, "OrgnlUETR", payment.uetr)
    _add(entry, "TxSts", transaction_status)
    _add_status_reason(entry, reason_code, additional_info)
    _add_swapped_agents(entry, message, transaction, _REPORT_TRANSACTION)
    reference = _add(entry, "OrgnlTxRef")
    _add(reference, "IntrBkSttlmAmt", format(payment.amount, "f"), {"Ccy": payment.currency})
    if payment.settlement_date is not None:
        _add(reference, "IntrBkSttlmDt", payment.settlement_date.isoformat())
    ns = namespace(message.document)
    for slot in _REFERENCE_SLOTS:
        holder = transaction if child(transaction, ns, slot) is not None else group_header
        original = child(holder, ns, slot)
        if original is None:  # neither the transaction nor the group has it
            continue
        original_path = (*_ORIGINAL_TRANSFER, local_name(holder), slot)
        target_path = (*_REPORT_TRANSACTION, "OrgnlTxRef", slot)
        if slot in _PARTY_CHOICE_SLOTS:
            if _same_type(message.definition, original_path, (*target_path, "Pty")):
                _add_copy(_add(reference, slot), original, "Pty")
        elif element_type(REPORT_DEFINITION, target_path) == _AGENT_TYPE:
            _add_agent(reference, original, message.definition, original_path, target_path)
        elif _same_type(message.definition, original_path, target_path):
            _add_copy(reference, original, slot)


def _same_type(original_definition: str, original_path: Sequence[str], target_path: Sequence[str]) -> bool:
    return element_type(original_definition, original_path) == element_type(REPORT_DEFINITION, target_path)


def _add_agent(
    parent: etree._Element,
    original: etree._Element,
    original_definition: str,
    original_path: Sequence[str],
    target_path: Sequence[str],
) -> None:
    """The agent copied whole when its type matches, else identified by its BIC alone (none without a BIC)."""
    if _same_type(original_definition, original_path, target_path):
        _add_copy(parent, original, target_path[-1])
        return
    bic = child_text(original, namespace(original), "FinInstnId", "BICFI")
    if bic is not None:
        _add(_add(_add(parent, target_path[-1]), "FinInstnId"), "BICFI", bic)


def _add_copy(parent: etree._Element, original: etree._Element, local: str) -> None:
    """original's content under parent as <local>, in the report's namespace."""
    copied = _add(parent, local, attributes=original.attrib)
    if len(original) == 0:
        copied.text = original.text
    for part in original:
        _add_copy(copied, part, local_name(part))
