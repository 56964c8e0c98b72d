"""One pass over a pacs.008 Document collecting what reading and the rules need, so that each rule is a few
dictionary look-ups rather than a walk of the tree (the hot path of every simulated payment runs this).

Direct children are indexed by their full tag ({namespace}Name, the first of each name); identifiers (IBAN,
BICFI, AnyBIC) are gathered with lxml's tag-filtered iteration, which runs in C.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from lxml import etree


class Tags:
    """Full tags of one namespace: tags.IBAN == "{urn:...}IBAN"."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace

    def __getattr__(self, name: str) -> str:
        tag = f"{{{self.namespace}}}{name}"
        setattr(self, name, tag)
        return tag


@lru_cache(maxsize=64)
def tags_of(namespace: str) -> Tags:
    return Tags(namespace)


def child_map(element: etree._Element | None) -> dict[str, etree._Element]:
    """Direct children by full tag; the first one of a repeated name wins."""
    if element is None:
        return {}
    kids: dict[str, etree._Element] = {}
    for kid in element:
        kids.setdefault(kid.tag, kid)
    return kids


@dataclass(frozen=True, slots=True)
class TransactionView:
    element: etree._Element
    kids: dict[str, etree._Element]
    ids: dict[str, etree._Element]  # children of PmtId
    ibans: tuple[etree._Element, ...]
    bics: tuple[etree._Element, ...]  # BICFI and AnyBIC, anywhere in the transaction


@dataclass(frozen=True, slots=True)
class PaymentView:
    tags: Tags
    transfer: etree._Element
    group: etree._Element
    group_kids: dict[str, etree._Element]
    group_ibans: tuple[etree._Element, ...]
    group_bics: tuple[etree._Element, ...]
    transactions: tuple[TransactionView, ...]


def payment_view(document: etree._Element, namespace: str) -> PaymentView:
    t = tags_of(namespace)
    transfer = child_map(document)[t.FIToFICstmrCdtTrf]
    iban, bicfi, any_bic = t.IBAN, t.BICFI, t.AnyBIC
    group = None
    transactions = []
    for part in transfer:
        tag = part.tag
        if tag == t.CdtTrfTxInf:
            kids = child_map(part)
            found = list(part.iter(iban, bicfi, any_bic))
            transactions.append(TransactionView(
                part, kids, child_map(kids.get(t.PmtId)),
                tuple(e for e in found if e.tag == iban), tuple(e for e in found if e.tag != iban),
            ))
        elif tag == t.GrpHdr:
            group = part
    found = list(group.iter(iban, bicfi, any_bic))
    return PaymentView(
        t, transfer, group, child_map(group),
        tuple(e for e in found if e.tag == iban), tuple(e for e in found if e.tag != iban), tuple(transactions),
    )
