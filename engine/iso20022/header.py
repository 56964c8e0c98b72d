"""The Business Application Header (head.001.001.02 and .03): read it and check it against its schema."""

from __future__ import annotations

from lxml import etree

from .elements import child, child_text, namespace
from .model import AppHeader
from .namespaces import definition_of
from .schemas import SHIPPED_DEFINITIONS, schema_errors


def agent_identity(agent: etree._Element | None) -> str | None:
    """How an agent block names its institution: the BIC, else the clearing system member id."""
    if agent is None:
        return None
    ns = namespace(agent)
    institution = child(agent, ns, "FinInstnId")
    bic = child_text(institution, ns, "BICFI")
    if bic:
        return bic.strip()
    member = child_text(institution, ns, "ClrSysMmbId", "MmbId")
    return member.strip() if member else None


def _party_identity(party: etree._Element | None) -> str | None:
    """Fr or To: an institution (FIId) or an organisation (OrgId, by its AnyBIC)."""
    if party is None:
        return None
    ns = namespace(party)
    institution = child(party, ns, "FIId")
    if institution is not None:
        return agent_identity(institution)
    bic = child_text(party, ns, "OrgId", "Id", "OrgId", "AnyBIC")
    return bic.strip() if bic else None


def _text(element: etree._Element, name: str) -> str | None:
    value = child_text(element, namespace(element), name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def read_header(app_hdr: etree._Element | None) -> AppHeader | None:
    if app_hdr is None:
        return None
    ns = namespace(app_hdr)
    definition = definition_of(ns)
    if definition in SHIPPED_DEFINITIONS:
        problems = tuple(schema_errors(app_hdr, definition))
    else:
        problems = (f"no schema shipped for {definition}",)
    return AppHeader(
        definition=definition,
        element=app_hdr,
        sender=_party_identity(child(app_hdr, ns, "Fr")),
        receiver=_party_identity(child(app_hdr, ns, "To")),
        business_message_id=_text(app_hdr, "BizMsgIdr"),
        message_definition=_text(app_hdr, "MsgDefIdr"),
        business_service=_text(app_hdr, "BizSvc"),
        copy_duplicate=_text(app_hdr, "CpyDplct"),
        possible_duplicate=(_text(app_hdr, "PssblDplct") or "").lower() in ("true", "1"),
        schema_problems=problems,
    )


def header_warnings(header: AppHeader | None) -> tuple[str, ...]:
    """A header that fails its schema, read as a warning (the profile decides whether it also rejects)."""
    if header is None or not header.schema_problems:
        return ()
    first = header.schema_problems[0]
    if first.startswith("no schema shipped"):
        return (f"AppHdr not validated: {first}",)
    more = f" (and {len(header.schema_problems) - 1} more errors)" if len(header.schema_problems) > 1 else ""
    return (f"AppHdr does not conform to {header.definition}: {first}{more}",)
