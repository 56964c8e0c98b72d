"""The pacs.004 payment return of settled payments of a pacs.008, after an accepted cancellation request."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timezone

from .building import RETURN_GENERATION, Builder
from .codes import FOLLOWING_CANCELLATION_REQUEST, RETURN_REASONS, reason_definition
from .elements import child, child_text, children, namespace
from .model import Message


def build_return(original: Message, payment_indexes: Sequence[int], *, return_id: str, created_at: datetime,
                 settlement_date: date, info: str | None = None,
                 reason_code: str = FOLLOWING_CANCELLATION_REQUEST) -> bytes:
    """One TxInf per returned payment, for its full settled amount, agents swapped from the original."""
    if created_at.utcoffset() is None:
        raise ValueError("created_at must be timezone-aware")
    if not payment_indexes:
        raise ValueError("a return needs at least one payment")
    reason_definition(reason_code, RETURN_REASONS)
    ns = namespace(original.document)
    transfer = child(original.document, ns, "FIToFICstmrCdtTrf")
    group = child(transfer, ns, "GrpHdr")
    transactions = children(transfer, ns, "CdtTrfTxInf")
    b = Builder(RETURN_GENERATION[original.definition])
    payment_return = b.add(b.document, "PmtRtr")
    header = b.add(payment_return, "GrpHdr")
    b.add(header, "MsgId", return_id)
    b.add(header, "CreDtTm", created_at.astimezone(timezone.utc).isoformat())
    b.add(header, "NbOfTxs", str(len(payment_indexes)))
    b.add(b.add(header, "SttlmInf"), "SttlmMtd", child_text(group, ns, "SttlmInf", "SttlmMtd"))
    for position, index in enumerate(payment_indexes):
        payment = original.payments[index]
        transaction = transactions[index]
        entry = b.add(payment_return, "TxInf")
        b.add(entry, "RtrId", f"{return_id[:31]}-{position + 1}")
        original_group = b.add(entry, "OrgnlGrpInf")
        b.add(original_group, "OrgnlMsgId", original.msg_id)
        b.add(original_group, "OrgnlMsgNmId", original.definition)
        b.add(original_group, "OrgnlCreDtTm", original.created_at)
        b.add_if(entry, "OrgnlInstrId", payment.instr_id)
        b.add(entry, "OrgnlEndToEndId", payment.end_to_end_id)
        b.add_if(entry, "OrgnlTxId", payment.tx_id)
        b.add_if(entry, "OrgnlUETR", payment.uetr)
        amount = format(payment.amount, "f")
        b.add(entry, "OrgnlIntrBkSttlmAmt", amount, {"Ccy": payment.currency})
        if payment.settlement_date is not None:
            b.add(entry, "OrgnlIntrBkSttlmDt", payment.settlement_date.isoformat())
        b.add(entry, "RtrdIntrBkSttlmAmt", amount, {"Ccy": payment.currency})
        b.add(entry, "IntrBkSttlmDt", settlement_date.isoformat())
        holder = transaction if child(transaction, ns, "InstgAgt") is not None else group
        b.add_agent(entry, "InstgAgt", agent_identity_bic(child(holder, ns, "InstdAgt")))
        b.add_agent(entry, "InstdAgt", agent_identity_bic(child(holder, ns, "InstgAgt")))
        reason = b.add(entry, "RtrRsnInf")
        b.add(b.add(reason, "Rsn"), "Cd", reason_code)
        b.add_info(reason, info)
        reference = b.add(entry, "OrgnlTxRef")
        b.add_agent(reference, "DbtrAgt", agent_identity_bic(child(transaction, ns, "DbtrAgt")))
        b.add_agent(reference, "CdtrAgt", agent_identity_bic(child(transaction, ns, "CdtrAgt")))
        if not len(reference):
            entry.remove(reference)
    return b.finish()


def agent_identity_bic(agent) -> str | None:
    if agent is None:
        return None
    return child_text(agent, namespace(agent), "FinInstnId", "BICFI")
