"""Find the AppHdr and the Document inside whatever wrapper carries them, and put them in their ISO namespaces.

Standalone documents and wrappers (<Envelope>, <RequestPayload>, <Message xmlns="urn:tch">) are all searched
the same way. Elements written without a namespace (the AWS guidance sample declares the ISO namespaces only as
unused prefixes) are read in the ISO namespace declared in scope, or in the one the AppHdr's MsgDefIdr names.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from .codes import FILE_FORMAT_INVALID
from .elements import child_text, local_name, namespace
from .errors import MessageError
from .namespaces import (
    definition_of,
    is_business_namespace,
    is_definition_identifier,
    is_header_namespace,
    namespace_of,
)


@dataclass(frozen=True)
class LocatedMessage:
    document: etree._Element
    definition: str
    app_hdr: etree._Element | None
    namespace_inferred: bool
    interpretation_notes: tuple[str, ...]


def locate(root: etree._Element) -> LocatedMessage:
    """Detached copies of the Document and AppHdr, every ISO element in its namespace; MessageError (FF01).

    A standalone Document in its ISO namespace (the common case) is used as it is, without a copy.
    """
    if root.tag[-9:] == "}Document" and root.getparent() is None:
        definition = definition_of(namespace(root))
        if definition is not None and is_business_namespace(namespace(root)):
            root.tail = None
            return LocatedMessage(root, definition, None, False, ())
    app_hdr, header_inferred, notes = _locate_header(root)
    document, definition, document_inferred, document_notes = _locate_document(root, app_hdr)
    return LocatedMessage(
        document=document,
        definition=definition,
        app_hdr=app_hdr,
        namespace_inferred=header_inferred or document_inferred,
        interpretation_notes=notes + document_notes,
    )


def _locate_header(root: etree._Element) -> tuple[etree._Element | None, bool, tuple[str, ...]]:
    found = next(root.iter("{*}AppHdr"), None)
    if found is None:
        return None, False, ()
    found_namespace = namespace(found)
    if is_header_namespace(found_namespace):
        return _detached_copy(found), False, ()
    declared = _declared_namespaces(found, is_header_namespace)
    if len(declared) != 1:
        return None, False, ("AppHdr ignored: it has no ISO head.001 namespace and none can be inferred",)
    app_hdr = _detached_copy(found, into=declared[0])
    if found_namespace is None:
        return app_hdr, True, ()
    return app_hdr, False, (f"AppHdr in {found_namespace} read as {definition_of(declared[0])}",)


def _locate_document(
    root: etree._Element, app_hdr: etree._Element | None
) -> tuple[etree._Element, str, bool, tuple[str, ...]]:
    found = next(root.iter("{*}Document"), None)
    if found is None:
        found = next((e for e in root.iter(etree.Element) if is_business_namespace(namespace(e))), None)
    if found is None:
        raise MessageError(FILE_FORMAT_INVALID, f"no ISO 20022 Document found in <{local_name(root)}>")
    found_namespace = namespace(found)
    if found_namespace is None:
        inferred_namespace = _inferred_document_namespace(found, app_hdr)
        return _detached_copy(found, into=inferred_namespace), definition_of(inferred_namespace), True, ()
    definition = definition_of(found_namespace)
    if definition is None:
        raise MessageError(FILE_FORMAT_INVALID, f"unknown Document namespace {found_namespace}")
    if local_name(found) == "Document":
        return _detached_copy(found), definition, False, ()
    document = etree.Element(f"{{{found_namespace}}}Document", nsmap={None: found_namespace})
    document.append(_detached_copy(found))
    return document, definition, False, (f"no Document element: {local_name(found)} read as the {definition} Document",)


def _inferred_document_namespace(document: etree._Element, app_hdr: etree._Element | None) -> str:
    declared = _declared_namespaces(document, is_business_namespace)
    if len(declared) == 1:
        return declared[0]
    named = None if app_hdr is None else child_text(app_hdr, namespace(app_hdr), "MsgDefIdr")
    if named is not None and is_definition_identifier(named.strip()):
        return namespace_of(named.strip())
    raise MessageError(FILE_FORMAT_INVALID, "Document has no namespace and its message version cannot be inferred")


def _declared_namespaces(element: etree._Element, wanted: Callable[[str | None], bool]) -> list[str]:
    return sorted({uri for uri in element.nsmap.values() if wanted(uri)})


def _detached_copy(element: etree._Element, into: str | None = None) -> etree._Element:
    """A copy without comments or processing instructions; with into, it and its unqualified elements go there."""
    copied = copy.deepcopy(element)
    copied.tail = None
    etree.strip_tags(copied, etree.Comment, etree.ProcessingInstruction)
    if into is not None:
        for node in copied.iter(etree.Element):
            if node is copied or namespace(node) is None:
                node.tag = f"{{{into}}}{local_name(node)}"
    return copied
