"""Business rules a message's XSD cannot express. Each rule is a small pure function of the message and a
context (the scheme profile and the engine's clock reading), yielding Findings with their ISO reason code.

A finding with a payment index concerns that payment alone; one without (payment_index None) concerns the
whole message. Amounts are compared as Decimal, never as floats. Dates use the clock in the context, never
the host clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

import iso4217
from lxml import etree
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from . import codes
from .calendars import calendar
from .elements import child, child_text, element_path, local_name, namespace
from .errors import clip_narrative
from .header import agent_identity
from .model import CancellationRequest, Message
from .profiles import GENERIC, Profile
from .view import PaymentView, payment_view

_UETR = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
_OFFSET = re.compile(r".*(?:Z|[+-]\d{2}:\d{2})")
_AGENTS = ("InstgAgt", "InstdAgt", "DbtrAgt", "CdtrAgt", "IntrmyAgt1", "IntrmyAgt2", "IntrmyAgt3",
           "PrvsInstgAgt1", "PrvsInstgAgt2", "PrvsInstgAgt3")
_MISSING_AGENT_CODE = {"DbtrAgt": codes.DEBTOR_AGENT_INVALID, "CdtrAgt": codes.CREDITOR_AGENT_INVALID}
_ACCOUNT_CODE = {"DbtrAcct": codes.DEBTOR_ACCOUNT_INVALID, "CdtrAcct": codes.CREDITOR_ACCOUNT_INVALID}
_COPIES = frozenset({"COPY", "CODU"})


@dataclass(frozen=True)
class Finding:
    reason_code: str
    path: str
    narrative: str
    payment_index: int | None  # None: the whole message


@dataclass(frozen=True)
class RuleContext:
    profile: Profile = GENERIC
    now: datetime | None = None  # the engine's clock; rules about "today" are skipped without it


DEFAULT_CONTEXT = RuleContext()
Rule = Callable[..., Iterable[Finding]]  # (message, context=DEFAULT_CONTEXT) -> findings


# -- helpers -------------------------------------------------------------------------------------------------


def _found(reason_code: str, element: etree._Element, problem: str, payment_index: int | None) -> Finding:
    path = element_path(element)
    return Finding(reason_code, path, clip_narrative(f"{path}: {problem}"), payment_index)


def _view(message: Message) -> PaymentView:
    view = message.view
    if view is None:
        view = payment_view(message.document, namespace(message.document))
        object.__setattr__(message, "view", view)
    return view


def _group_header(message: Message) -> etree._Element:
    return _view(message).group


def _transactions(message: Message) -> list[etree._Element]:
    return [transaction.element for transaction in _view(message).transactions]


@lru_cache(maxsize=512)
def _minor_units(currency: str) -> int | None | bool:
    """The ISO 4217 minor units of an active currency (None: no minor unit, e.g. gold); False: not active."""
    try:
        return iso4217.Currency(currency).exponent
    except ValueError:
        return False


@lru_cache(maxsize=8192)
def _iban_problem(iban: str) -> str | None:
    try:
        IBAN(iban, validate_bban=False)
    except SchwiftyException as error:
        return str(error)
    return None


@lru_cache(maxsize=4096)
def _bic_problem(bic: str) -> str | None:
    try:
        BIC(bic)
    except SchwiftyException as error:
        return str(error)
    return None


# -- group rules ---------------------------------------------------------------------------------------------


def number_of_transactions_matches(message: Message, context: RuleContext = DEFAULT_CONTEXT) -> Iterable[Finding]:
    view = _view(message)
    declared = view.group_kids[view.tags.NbOfTxs]
    if int(declared.text) != len(message.payments):
        narrative = f"{int(declared.text)} but the message has {len(message.payments)} CdtTrfTxInf"
        yield _found(codes.GROUP_NUMBER_OF_TRANSACTIONS_INVALID, declared, narrative, None)


def total_settlement_amount_matches(message: Message, context: RuleContext = DEFAULT_CONTEXT) -> Iterable[Finding]:
    view = _view(message)
    total = view.group_kids.get(view.tags.TtlIntrBkSttlmAmt)
    if total is None:
        return
    currency = total.get("Ccy")
    other_currency = next((p for p in message.payments if p.currency != currency), None)
    if other_currency is not None:
        narrative = f"in {currency} but CdtTrfTxInf {other_currency.index + 1} settles in {other_currency.currency}"
        yield _found(codes.GROUP_CONTROL_SUM_INVALID, total, narrative, None)
        return
    declared = total.text.strip()
    computed = sum((p.amount for p in message.payments), Decimal(0))
    if computed != Decimal(declared):
        yield _found(codes.GROUP_CONTROL_SUM_INVALID, total, f"{declared} {currency}, the sum is {computed}", None)


def control_sum_matches(message: Message, context: RuleContext = DEFAULT_CONTEXT) -> Iterable[Finding]:
    view = _view(message)
    control = view.group_kids.get(view.tags.CtrlSum)
    if control is None:
        return
    computed = sum((p.amount for p in message.payments), Decimal(0))
    if Decimal(control.text.strip()) != computed:
        yield _found(codes.GROUP_CONTROL_SUM_INVALID, control, f"CtrlSum differs from the sum {computed}", None)


def creation_time_has_offset(message: Message | CancellationRequest, context: RuleContext = DEFAULT_CONTEXT) -> Iterable[Finding]:
    ns = namespace(message.document)
    if isinstance(message, CancellationRequest):
        created = child(message.document, ns, "FIToFIPmtCxlReq", "Assgnmt", "CreDtTm")
    else:
        view = _view(message)
        created = view.group_kids.get(view.tags.CreDtTm)
    if created is not None and not _OFFSET.fullmatch(created.text.strip()):
        yield _found(codes.FILE_FORMAT_INVALID, created, "a UTC offset (Z or +hh:mm) is required", None)


# -- header rules --------------------------------------------------------------------------------------------


def header_present(message: Message | CancellationRequest, context: RuleContext = DEFAULT_CONTEXT) -> Iterable[Finding]:
    if context.profile.header_required and message.header is None:
        narrative = f"a head.001 AppHdr is required under the {context.profile.name} profile"
        yield Finding(codes.FILE_FORMAT_INVALID, "/AppHdr", narrative, None)


def header_conforms(message: Message | CancellationRequest, context: RuleContext = DEFAULT_CONTEXT) -> Iterable[Finding]:
    header = message.header
    if header is not None and header.schema_problems:
        narrative = header.schema_problems[0]
        if not narrative.startswith("/"):
            narrative = f"/AppHdr: {narrative}"
        yield Finding(codes.FILE_FORMAT_INVALID, "/AppHdr", clip_narrative(narrative), None)


def _message_agents(message: Message | CancellationRequest) -> tuple[set[str | None], set[str | None]]:
    """The sending and receiving institutions the Document names (group header, else every transaction)."""
    if isinstance(message, CancellationRequest):
        return {message.assigner}, {message.assignee}
    view = _view(message)
    t = view.tags
    holders = [view.group_kids] if t.InstgAgt in view.group_kids or t.InstdAgt in view.group_kids \
        else [transaction.kids for transaction in view.transactions]
    senders = {agent_identity(h.get(t.InstgAgt)) for h in holders}
    receivers = {agent_identity(h.get(t.InstdAgt)) for h in holders}
    return senders, receivers


def _same_institution(header_value: str, document_value: str | None) -> bool:
    """BICs compare on their first 8 characters when one of them has no branch or the primary office XXX."""
    if document_value is None:
        return True  # the Document does not name it: nothing to contradict
    a, b = header_value.upper(), document_value.upper()
    if a == b:
        return True
    if len(a) in (8, 11) and len(b) in (8, 11) and a[:8] == b[:8]:
        return a[8:] in ("", "XXX") and b[8:] in ("", "XXX")
    return False


def header_matches_document(message: Message | CancellationRequest, context: RuleContext = DEFAULT_CONTEXT) -> Iterable[Finding]:
    """MsgDefIdr = the Document's version, BizMsgIdr = its MsgId, Fr/To = InstgAgt/InstdAgt unless a copy."""
    header = message.header
    if header is None:
        return
    ns = namespace(header.element)
    if header.message_definition is not None and header.message_definition != message.definition:
        narrative = f"MsgDefIdr {header.message_definition} but the Document is {message.definition}"
        yield _found(codes.FILE_FORMAT_INVALID, child(header.element, ns, "MsgDefIdr"), narrative, None)
    if header.business_message_id is not None and message.msg_id is not None \
            and header.business_message_id != message.msg_id.strip():
        identifier = "Assgnmt/Id" if isinstance(message, CancellationRequest) else "MsgId"
        narrative = f"BizMsgIdr {header.business_message_id} differs from {identifier} {message.msg_id}"
        yield _found(codes.FILE_FORMAT_INVALID, child(header.element, ns, "BizMsgIdr"), narrative, None)
    if header.copy_duplicate in _COPIES:
        return
    senders, receivers = _message_agents(message)
    for name, value, named in (("Fr", header.sender, senders), ("To", header.receiver, receivers)):
        if value is None:
            continue
        mismatch = next((n for n in named if not _same_institution(value, n)), None)
        if mismatch is not None:
            role = "InstgAgt" if name == "Fr" else "InstdAgt"
            if isinstance(message, CancellationRequest):
                role = "Assgnr" if name == "Fr" else "Assgne"
            yield _found(codes.AGENT_INCORRECT, child(header.element, ns, name), f"{value} but {role} is {mismatch}", None)


# -- payment rules -------------------------------------------------------------------------------------------


def settlement_amounts_are_positive(message: Message, context: RuleContext = DEFAULT_CONTEXT) -> Iterable[Finding]:
    view = _view(message)
    for payment, transaction in zip(message.payments, view.transactions):
        if payment.amount <= 0:
            amount = transaction.kids[view.tags.IntrBkSttlmAmt]
            narrative = f"{amount.text.strip()} {payment.currency}; it must be greater than zero"
            yield _found(codes.ZERO_AMOUNT, amount, narrative, payment.index)


def _amounts(message: Message) -> Iterator[tuple[etree._Element, int | None]]:
    """Every amount with a currency: the group's total, each transaction's settlement and instructed amounts."""
    view = _view(message)
    t = view.tags
    total = view.group_kids.get(t.TtlIntrBkSttlmAmt)
    if total is not None:
        yield total, None
    for index, transaction in enumerate(view.transactions):
        for tag in (t.IntrBkSttlmAmt, t.InstdAmt):
            amount = transaction.kids.get(tag)
            if amount is not None:
                yield amount, index


def currency_is_active(message: Message, context: RuleContext = DEFAULT_CONTEXT) -> Iterable[Finding]:
    for amount, index in _amounts(message):
        if _minor_units(amount.get("Ccy")) is False:
            yield _found(codes.CURRENCY_INVALID, amount, f"{amount.get('Ccy')} is not an active ISO 4217 currency", index)


def currency_is_allowed(message: Message, context: RuleContext = DEFAULT_CONTEXT) -> Iterable[Finding]:
    allowed = context.profile.currencies
    for amount, index in _amounts(message):
        currency = amount.get("Ccy")
        units = _minor_units(currency)
        if units is False or amount.tag[-8:] == "InstdAmt":
            continue  # inactive: AM11; the instructed amount may be in the debtor's currency
        if units is None:
            yield _found(codes.CURRENCY_NOT_ALLOWED, amount, f"{currency} is not a payment currency (metal or fund)", index)
        elif allowed is not None and currency not in allowed:
            yield _found(codes.CURRENCY_NOT_ALLOWED, amount,
                         f"{currency} is not settled under {context.profile.name} ({', '.join(sorted(allowed))})", index)


def amount_decimals_fit_currency(message: Message, context: RuleContext = DEFAULT_CONTEXT) -> Iterable[Finding]:
    for amount, index in _amounts(message):
        units = _minor_units(amount.get("Ccy"))
        if units is False or units is None:
            continue
        text = amount.text.strip()
        decimals = len(text) - text.index(".") - 1 if "." in text else 0
        if decimals > units:
            yield _found(codes.DECIMALS_NOT_COMPATIBLE, amount,
                         f"{text} has {decimals} decimals, {amount.get('Ccy')} has {units}", index)


def iban_is_valid(message: Message, context: RuleContext = DEFAULT_CONTEXT) -> Iterable[Finding]:
    """Country, length, BBAN structure and mod-97 check digits of every IBAN (schwifty's IBAN registry)."""
    view = _view(message)
    scopes = [(view.group_ibans, None)] + [(t.ibans, i) for i, t in enumerate(view.transactions)]
    for ibans, index in scopes:
        for iban in ibans:
            problem = _iban_problem(iban.text.strip())
            if problem is not None:
                account = iban.getparent().getparent()
                code = _ACCOUNT_CODE.get(local_name(account), codes.ACCOUNT_INVALID)
                yield _found(code, iban, problem, index)


def iban_is_present(message: Message, context: RuleContext = DEFAULT_CONTEXT) -> Iterable[Finding]:
    if not context.profile.iban_required:
        return
    ns = namespace(message.document)
    for index, transaction in enumerate(_view(message).transactions):
        for name in ("DbtrAcct", "CdtrAcct"):
            where = transaction.kids.get(f"{{{ns}}}{name}")
            if child_text(where, ns, "Id", "IBAN") is None:
                yield _found(_ACCOUNT_CODE[name], transaction.element if where is None else where,
                             f"{name} must be an IBAN under {context.profile.name}", index)


def bic_is_valid(message: Message, context: RuleContext = DEFAULT_CONTEXT) -> Iterable[Finding]:
    """Structure and ISO 3166 country of every BIC (ISO 9362), by schwifty; no directory look-up."""
    view = _view(message)
    scopes = [(view.group_bics, None)] + [(t.bics, i) for i, t in enumerate(view.transactions)]
    for bics, index in scopes:
        for bic in bics:
            problem = _bic_problem(bic.text.strip())
            if problem is not None:
                yield _found(codes.BIC_FORMAT_INVALID, bic, problem, index)


def agents_are_identified(message: Message, context: RuleContext = DEFAULT_CONTEXT) -> Iterable[Finding]:
    """An agent block must identify an institution: an empty FinInstnId is RC03 (debtor agent), RC04
    (creditor agent) or RC02 (any other agent)."""
    view = _view(message)
    t = view.tags
    scopes = [(view.group_kids, None)] + [(tx.kids, i) for i, tx in enumerate(view.transactions)]
    agent_tags = [(getattr(t, name), name) for name in _AGENTS]
    institution_tag = t.FinInstnId
    for kids, index in scopes:
        for tag, name in agent_tags:
            agent = kids.get(tag)
            if agent is None:
                continue
            institution = next(agent.iterchildren(institution_tag), None)
            if institution is None or len(institution) == 0:
                code = _MISSING_AGENT_CODE.get(name, codes.AGENT_IDENTIFIER_INVALID)
                yield _found(code, agent, "the agent block identifies no institution", index)


def settlement_date_is_usable(message: Message, context: RuleContext = DEFAULT_CONTEXT) -> Iterable[Finding]:
    """Not before today where the scheme decides "today" (DT01), a business day of its calendar (DT03)."""
    if context.now is None:
        return
    profile = context.profile
    today = context.now.astimezone(profile.zone).date()
    business = calendar(profile.calendar) if profile.calendar else None
    view = _view(message)
    group_date = view.group_kids.get(view.tags.IntrBkSttlmDt)
    group_checked = False
    for payment, tx in zip(message.payments, view.transactions):
        transaction = tx.element
        element = tx.kids.get(view.tags.IntrBkSttlmDt)
        index: int | None = payment.index
        if element is None and payment.settlement_date is not None:
            if group_checked:
                continue  # the group's date is judged once, for the whole message
            element, index, group_checked = group_date, None, True
        day = payment.settlement_date
        if day is None:
            if business is not None:
                yield _found(codes.INVALID_DATE, transaction, f"IntrBkSttlmDt is required under {profile.name}", payment.index)
            continue
        if day < today:
            yield _found(codes.INVALID_DATE, element, f"{day} is before today ({today}, {profile.name})", index)
        elif business is not None and not business.covers(day):
            yield _found(codes.INVALID_DATE, element, f"{day} is beyond the {business.name} calendar", index)
        elif business is not None and not business.is_business_day(day):
            yield _found(codes.NON_BUSINESS_DAY, element, f"{day} is not a {business.name} business day", index)


def uetr_is_valid(message: Message, context: RuleContext = DEFAULT_CONTEXT) -> Iterable[Finding]:
    view = _view(message)
    for payment, transaction in zip(message.payments, view.transactions):
        if payment.uetr is None:
            if context.profile.uetr_required:
                payment_id = transaction.kids[view.tags.PmtId]
                yield _found(codes.FILE_FORMAT_INVALID, payment_id, f"UETR is required under {context.profile.name}", payment.index)
        elif not _UETR.fullmatch(payment.uetr):
            uetr = transaction.ids[view.tags.UETR]
            yield _found(codes.FILE_FORMAT_INVALID, uetr, "UETR must be a lowercase UUIDv4", payment.index)


def charge_bearer_is_allowed(message: Message, context: RuleContext = DEFAULT_CONTEXT) -> Iterable[Finding]:
    allowed = context.profile.charge_bearers
    if allowed is None:
        return
    view = _view(message)
    for index, transaction in enumerate(view.transactions):
        bearer = transaction.kids.get(view.tags.ChrgBr)
        if bearer is not None and bearer.text.strip() not in allowed:
            yield _found(codes.CHARGE_BEARER_INVALID, bearer,
                         f"{bearer.text.strip()} not allowed under {context.profile.name} ({', '.join(sorted(allowed))})", index)


def _bad_text(element: etree._Element, allowed: re.Pattern[str], extended: re.Pattern[str] | None,
              extended_names: frozenset[str], in_extended: bool) -> etree._Element | None:
    """The first element (depth first) whose text or attribute values leave the character set."""
    name = local_name(element)
    in_extended = in_extended or name in extended_names
    pattern = extended if in_extended and extended is not None else allowed
    text = element.text
    if text is not None and len(element) == 0 and not pattern.fullmatch(text):
        return element
    if any(not pattern.fullmatch(value) for value in element.attrib.values()):
        return element
    for part in element:
        found = _bad_text(part, allowed, extended, extended_names, in_extended)
        if found is not None:
            return found
    return None


def character_set_is_allowed(message: Message, context: RuleContext = DEFAULT_CONTEXT) -> Iterable[Finding]:
    charset = context.profile.character_set
    if charset is None:
        return
    view = _view(message)
    scopes = [(view.group, None)] + [(t.element, i) for i, t in enumerate(view.transactions)]
    for scope, index in scopes:
        bad = _bad_text(scope, charset.allowed, charset.extended, charset.extended_elements, False)
        if bad is not None:
            yield _found(codes.CHARACTER_SET_INVALID, bad, f"a character outside the {charset.name} set", index)


def instruction_id_slashes(message: Message, context: RuleContext = DEFAULT_CONTEXT) -> Iterable[Finding]:
    view = _view(message)
    for payment, transaction in zip(message.payments, view.transactions):
        value = payment.instr_id
        if value is not None and (value.startswith("/") or value.endswith("/") or "//" in value):
            element = transaction.ids[view.tags.InstrId]
            yield _found(codes.FILE_FORMAT_INVALID, element, "InstrId must not start or end with / nor contain //", payment.index)


HEADER_RULES: tuple[Rule, ...] = (header_present, header_conforms, header_matches_document)
STRUCTURAL_RULES: tuple[Rule, ...] = (
    number_of_transactions_matches,
    total_settlement_amount_matches,
    settlement_amounts_are_positive,
)
PAYMENT_RULES: tuple[Rule, ...] = HEADER_RULES + (
    number_of_transactions_matches,
    total_settlement_amount_matches,
    control_sum_matches,
    creation_time_has_offset,
    settlement_amounts_are_positive,
    currency_is_active,
    currency_is_allowed,
    amount_decimals_fit_currency,
    iban_is_valid,
    iban_is_present,
    bic_is_valid,
    agents_are_identified,
    settlement_date_is_usable,
    uetr_is_valid,
    charge_bearer_is_allowed,
    character_set_is_allowed,
    instruction_id_slashes,
)
CANCELLATION_RULES: tuple[Rule, ...] = HEADER_RULES + (creation_time_has_offset,)


def check(message: Message, rules: Sequence[Rule] = STRUCTURAL_RULES, context: RuleContext = DEFAULT_CONTEXT) -> tuple[Finding, ...]:
    return tuple(finding for rule in rules for finding in rule(message, context))
