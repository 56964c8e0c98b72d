"""The camt.029 resolution of investigation answering a camt.056, one TxInfAndSts per cancellation item."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from .building import RESOLUTION_GENERATION, Builder
from .codes import CANCELLATION_REJECTIONS, reason_definition
from .model import CancellationRequest

ACCEPTED, REJECTED = "ACCR", "RJCR"
ENGINE_NAME = "rp2"


@dataclass(frozen=True)
class ItemOutcome:
    """The answer to one cancellation item: ACCR (cancelled or returned) or RJCR with its rejection code."""

    status: str
    reason_code: str | None = None
    info: str | None = None


def confirmation(outcomes: Sequence[ItemOutcome]) -> str:
    """CNCL when every item is cancelled, RJCR when none is, PECR (partially executed) otherwise."""
    statuses = {o.status for o in outcomes}
    if statuses == {ACCEPTED}:
        return "CNCL"
    if ACCEPTED in statuses:
        return "PECR"
    return "RJCR"


def build_resolution(request: CancellationRequest, outcomes: Sequence[ItemOutcome], *, resolution_id: str,
                     created_at: datetime) -> bytes:
    if created_at.utcoffset() is None:
        raise ValueError("created_at must be timezone-aware")
    if len(outcomes) != len(request.items):
        raise ValueError(f"{len(outcomes)} outcomes for {len(request.items)} cancellation items")
    b = Builder(RESOLUTION_GENERATION[request.definition])
    resolution = b.add(b.document, "RsltnOfInvstgtn")
    assignment = b.add(resolution, "Assgnmt")
    b.add(assignment, "Id", resolution_id)
    b.add_party(assignment, "Assgnr", request.assignee, ENGINE_NAME)
    b.add_party(assignment, "Assgne", request.assigner, "cancellation requester")
    b.add(assignment, "CreDtTm", created_at.astimezone(timezone.utc).isoformat())
    if request.case_id:
        case = b.add(resolution, "RslvdCase")
        b.add(case, "Id", request.case_id)
        b.add_party(case, "Cretr", request.assigner, "cancellation requester")
    b.add(b.add(resolution, "Sts"), "Conf", confirmation(outcomes))
    details = b.add(resolution, "CxlDtls")
    for item, outcome in zip(request.items, outcomes):
        if outcome.reason_code is not None:
            reason_definition(outcome.reason_code, CANCELLATION_REJECTIONS)
        if item.whole_message:
            group = b.add(details, "OrgnlGrpInfAndSts")
            b.add(group, "OrgnlMsgId", item.original_msg_id)
            b.add(group, "OrgnlMsgNmId", item.original_definition)
            b.add(group, "GrpCxlSts", outcome.status)
            _add_reason(b, group, outcome)
            continue
        entry = b.add(details, "TxInfAndSts")
        b.add_if(entry, "CxlStsId", item.cancellation_id)
        if item.original_msg_id and item.original_definition:
            original = b.add(entry, "OrgnlGrpInf")
            b.add(original, "OrgnlMsgId", item.original_msg_id)
            b.add(original, "OrgnlMsgNmId", item.original_definition)
        b.add_if(entry, "OrgnlInstrId", item.original_instr_id)
        b.add_if(entry, "OrgnlEndToEndId", item.original_end_to_end_id)
        b.add_if(entry, "OrgnlTxId", item.original_tx_id)
        b.add_if(entry, "OrgnlUETR", item.original_uetr)
        b.add(entry, "TxCxlSts", outcome.status)
        _add_reason(b, entry, outcome)
        if item.original_amount is not None and item.original_currency:
            b.add(entry, "OrgnlIntrBkSttlmAmt", format(item.original_amount, "f"), {"Ccy": item.original_currency})
    return b.finish()


def _add_reason(b: Builder, parent, outcome: ItemOutcome) -> None:
    if outcome.reason_code is None and not outcome.info:
        return
    reason = b.add(parent, "CxlStsRsnInf")
    if outcome.reason_code is not None:
        b.add(b.add(reason, "Rsn"), "Cd", outcome.reason_code)
    b.add_info(reason, outcome.info)
