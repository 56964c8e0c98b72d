"""Structural business rules of a pacs.008 that its XSD cannot express, with exact Decimal arithmetic."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from lxml import etree

from .codes import GROUP_CONTROL_SUM_INVALID, GROUP_NUMBER_OF_TRANSACTIONS_INVALID, ZERO_AMOUNT
from .elements import child, children, element_path, namespace
from .errors import clip_narrative
from .model import Message


@dataclass(frozen=True)
class Finding:
    reason_code: str
    path: str
    narrative: str
    payment_index: int | None  # None: the whole message


Rule = Callable[[Message], Iterable[Finding]]


def _group_header(message: Message) -> etree._Element:
    ns = namespace(message.document)
    return child(message.document, ns, "FIToFICstmrCdtTrf", "GrpHdr")


def _transactions(message: Message) -> list[etree._Element]:
    ns = namespace(message.document)
    return children(child(message.document, ns, "FIToFICstmrCdtTrf"), ns, "CdtTrfTxInf")


def _group_finding(reason_code: str, element: etree._Element, narrative: str) -> Finding:
    return Finding(reason_code, element_path(element), clip_narrative(narrative), None)


def number_of_transactions_matches(message: Message) -> Iterable[Finding]:
    declared = child(_group_header(message), namespace(message.document), "NbOfTxs")
    if int(declared.text) != len(message.payments):
        narrative = f"NbOfTxs is {int(declared.text)} but the message has {len(message.payments)} CdtTrfTxInf"
        yield _group_finding(GROUP_NUMBER_OF_TRANSACTIONS_INVALID, declared, narrative)


def total_settlement_amount_matches(message: Message) -> Iterable[Finding]:
    total = child(_group_header(message), namespace(message.document), "TtlIntrBkSttlmAmt")
    if total is None:
        return
    currency = total.get("Ccy")
    other_currency = next((p for p in message.payments if p.currency != currency), None)
    if other_currency is not None:
        narrative = (
            f"TtlIntrBkSttlmAmt is in {currency} but CdtTrfTxInf {other_currency.index + 1} settles in "
            f"{other_currency.currency}"
        )
        yield _group_finding(GROUP_CONTROL_SUM_INVALID, total, narrative)
        return
    declared = total.text.strip()
    computed = sum((p.amount for p in message.payments), Decimal(0))
    if computed != Decimal(declared):
        narrative = f"TtlIntrBkSttlmAmt {declared} {currency} differs from the sum of IntrBkSttlmAmt {computed}"
        yield _group_finding(GROUP_CONTROL_SUM_INVALID, total, narrative)


def settlement_amounts_are_positive(message: Message) -> Iterable[Finding]:
    ns = namespace(message.document)
    for payment, transaction in zip(message.payments, _transactions(message)):
        if payment.amount <= 0:
            amount = child(transaction, ns, "IntrBkSttlmAmt")
            narrative = f"IntrBkSttlmAmt is {amount.text.strip()} {payment.currency}; it must be greater than zero"
            yield Finding(ZERO_AMOUNT, element_path(amount), clip_narrative(narrative), payment.index)


STRUCTURAL_RULES: tuple[Rule, ...] = (
    number_of_transactions_matches,
    total_settlement_amount_matches,
    settlement_amounts_are_positive,
)


def check(message: Message, rules: Sequence[Rule] = STRUCTURAL_RULES) -> tuple[Finding, ...]:
    return tuple(finding for rule in rules for finding in rule(message))
