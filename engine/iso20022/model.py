"""What reading an inbound message gives the engine: a pacs.008 Message or a camt.056 CancellationRequest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lxml import etree


@dataclass(frozen=True)
class AppHeader:
    """The Business Application Header (head.001) as read, before any cross-check with the Document."""

    definition: str | None
    element: etree._Element
    sender: str | None  # Fr: a BIC, a clearing system member id or an organisation BIC
    receiver: str | None  # To
    business_message_id: str | None  # BizMsgIdr
    message_definition: str | None  # MsgDefIdr
    business_service: str | None  # BizSvc
    copy_duplicate: str | None  # CpyDplct: CODU, COPY, DUPL
    possible_duplicate: bool  # PssblDplct
    schema_problems: tuple[str, ...]  # () when the header is valid against its shipped schema


@dataclass(frozen=True)
class Payment:
    """One CdtTrfTxInf of a pacs.008; index is its position in the message, from 0."""

    index: int
    instr_id: str | None
    end_to_end_id: str
    tx_id: str | None
    uetr: str | None
    amount: Decimal
    currency: str
    settlement_date: date | None


@dataclass(frozen=True)
class Message:
    definition: str
    document: etree._Element
    app_hdr: etree._Element | None
    namespace_inferred: bool
    warnings: tuple[str, ...]
    msg_id: str
    created_at: str
    payments: tuple[Payment, ...]
    header: AppHeader | None = None
    view: object | None = None  # the PaymentView reading built (see view.py)

    @property
    def family(self) -> str:
        return "pacs.008"


@dataclass(frozen=True)
class CancellationItem:
    """One payment (TxInf) a camt.056 asks to cancel, or a whole original message (OrgnlGrpInfAndCxl alone)."""

    index: int
    path: str
    cancellation_id: str | None
    original_msg_id: str | None
    original_definition: str | None
    original_instr_id: str | None
    original_end_to_end_id: str | None
    original_tx_id: str | None
    original_uetr: str | None
    original_amount: Decimal | None
    original_currency: str | None
    reason_code: str | None
    whole_message: bool = False


@dataclass(frozen=True)
class CancellationRequest:
    definition: str
    document: etree._Element
    app_hdr: etree._Element | None
    namespace_inferred: bool
    warnings: tuple[str, ...]
    assignment_id: str
    case_id: str | None
    assigner: str | None  # BIC of Assgnmt/Assgnr/Agt
    assignee: str | None
    created_at: str
    items: tuple[CancellationItem, ...]
    header: AppHeader | None = None

    @property
    def family(self) -> str:
        return "camt.056"

    @property
    def msg_id(self) -> str:
        return self.assignment_id
