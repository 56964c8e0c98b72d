"""ISO 20022 for rp2: hardened reading of pacs.008, XSD validation, structural rules and pacs.002 replies."""

from .codes import reason_definition
from .errors import MessageError
from .model import Message, Payment
from .reading import SUPPORTED_INBOUND, read_message
from .rules import STRUCTURAL_RULES, Finding, Rule, check
from .schemas import validate_document
from .status_report import build_status_report

__all__ = [
    "STRUCTURAL_RULES",
    "SUPPORTED_INBOUND",
    "Finding",
    "Message",
    "MessageError",
    "Payment",
    "Rule",
    "build_status_report",
    "check",
    "read_message",
    "reason_definition",
    "validate_document",
]
