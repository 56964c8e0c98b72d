"""ISO 20022 for rp2: hardened reading (pacs.008, camt.056), XSD validation, header cross-checks, business
rules per scheme profile, and replies (pacs.002, camt.029, pacs.004) in the inbound message's generation."""

from .codes import reason_definition
from .errors import MessageError
from .evaluation import Evaluation, evaluate, judge
from .model import AppHeader, CancellationItem, CancellationRequest, Message, Payment
from .payment_return import build_return
from .profiles import DEFAULT_PROFILE, PROFILES, Profile, profile_named
from .reading import SUPPORTED_CANCELLATIONS, SUPPORTED_INBOUND, family_of, read_inbound, read_message
from .resolution import ItemOutcome, build_resolution
from .rules import PAYMENT_RULES, STRUCTURAL_RULES, Finding, Rule, RuleContext, check
from .schemas import validate_document
from .status_report import build_status_report, reply_definition

__all__ = [
    "DEFAULT_PROFILE",
    "PAYMENT_RULES",
    "PROFILES",
    "STRUCTURAL_RULES",
    "SUPPORTED_CANCELLATIONS",
    "SUPPORTED_INBOUND",
    "AppHeader",
    "CancellationItem",
    "CancellationRequest",
    "Evaluation",
    "Finding",
    "ItemOutcome",
    "Message",
    "MessageError",
    "Payment",
    "Profile",
    "Rule",
    "RuleContext",
    "build_resolution",
    "build_return",
    "build_status_report",
    "check",
    "evaluate",
    "family_of",
    "judge",
    "profile_named",
    "read_inbound",
    "read_message",
    "reason_definition",
    "reply_definition",
    "validate_document",
]
