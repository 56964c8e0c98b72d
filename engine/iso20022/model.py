"""What a read pacs.008 gives the engine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lxml import etree


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
