"""One inbound message judged under a scheme profile: read, validate, run the profile's rules, and say, per
payment, accepted (ACSP) or rejected (RJCT) with the reason code. Pure: the clock reading comes in.

A finding without a payment index is group-level and rejects every payment; a finding on one payment rejects
that payment only. Findings of a rule the profile marks ``warn`` become warnings; ``off`` rules do not run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from .errors import MessageError
from .model import CancellationRequest, Message
from .profiles import OFF, REJECT, WARN, Profile
from .reading import INBOUND_FAMILIES, read_inbound
from .rules import CANCELLATION_RULES, PAYMENT_RULES, Finding, Rule, RuleContext

ACCEPTED, REJECTED = "ACSP", "RJCT"

PaymentStatus = tuple[str, str | None, str | None]  # (status, reason code, additional information)


@dataclass(frozen=True)
class RuleResult:
    rule: str
    severity: str  # reject or warn
    finding: Finding


@dataclass(frozen=True)
class Evaluation:
    profile: str
    message: Message | CancellationRequest | None
    error: MessageError | None  # the message could not be read: every payment is unknown, the group is rejected
    results: tuple[RuleResult, ...]
    group_rejection: Finding | None
    payment_status: tuple[PaymentStatus, ...]

    @property
    def warnings(self) -> tuple[str, ...]:
        read = self.message.warnings if self.message is not None else ()
        return read + tuple(r.finding.narrative for r in self.results if r.severity == WARN)

    @property
    def rejections(self) -> tuple[Finding, ...]:
        return tuple(r.finding for r in self.results if r.severity == REJECT)

    @property
    def accepted(self) -> bool:
        """Every payment accepted (a message with no payments, e.g. a camt.056, needs no rejection at all)."""
        if self.error is not None or self.group_rejection is not None:
            return False
        return all(status == ACCEPTED for status, _, _ in self.payment_status)

    @property
    def reason(self) -> tuple[str, str] | None:
        """The code and narrative of the group's rejection, or of the first rejected payment."""
        if self.error is not None:
            return self.error.reason_code, self.error.narrative
        if self.group_rejection is not None:
            return self.group_rejection.reason_code, self.group_rejection.narrative
        rejected = next(((code, info) for status, code, info in self.payment_status if status == REJECTED), None)
        return rejected


def rules_for(message: Message | CancellationRequest) -> tuple[Rule, ...]:
    return CANCELLATION_RULES if isinstance(message, CancellationRequest) else PAYMENT_RULES


def judge(message: Message | CancellationRequest, profile: Profile, now: datetime | None,
          rules: Sequence[Rule] | None = None) -> Evaluation:
    context = RuleContext(profile, now)
    results = []
    for rule in rules if rules is not None else rules_for(message):
        severity = profile.severity_of(rule.__name__)
        if severity == OFF:
            continue
        results.extend(RuleResult(rule.__name__, severity, finding) for finding in rule(message, context))
    rejections = [r.finding for r in results if r.severity == REJECT]
    group = next((f for f in rejections if f.payment_index is None), None)
    payments = getattr(message, "payments", ())
    if group is not None:
        statuses = tuple((REJECTED, group.reason_code, group.narrative) for _ in payments)
    else:
        first: dict[int, Finding] = {}
        for finding in rejections:
            first.setdefault(finding.payment_index, finding)
        statuses = tuple(
            (REJECTED, first[p.index].reason_code, first[p.index].narrative) if p.index in first else (ACCEPTED, None, None)
            for p in payments
        )
    return Evaluation(profile.name, message, None, tuple(results), group, statuses)


def evaluate(raw: bytes, *, profile: Profile, now: datetime | None, max_bytes: int,
             families: tuple[str, ...] = INBOUND_FAMILIES) -> Evaluation:
    """Read and judge; an unreadable message is an Evaluation with its MessageError, never an exception."""
    try:
        message = read_inbound(raw, max_bytes=max_bytes, families=families)
    except MessageError as error:
        return Evaluation(profile.name, None, error, (), None, ())
    return judge(message, profile, now)
