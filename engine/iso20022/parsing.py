"""Untrusted bytes to an element tree: size limit first, hardened lxml parser, no DOCTYPE of any kind."""

from __future__ import annotations

import re

from lxml import etree

from .codes import FILE_FORMAT_INVALID
from .errors import MessageError

DOCTYPE_REFUSED = "DOCTYPE is not allowed: DTDs and entity declarations are refused"
MAX_VALUE_BYTES = 10_000_000  # libxml2's limit on one name, text or attribute value without huge_tree

_HARDENED_PARSER = etree.XMLParser(
    resolve_entities=False,
    load_dtd=False,
    dtd_validation=False,
    no_network=True,
    huge_tree=False,  # keeps libxml2's limits: nesting depth 256, text nodes 10 MB, entity amplification
    remove_comments=True,  # a comment inside a text value must not split it
    remove_pis=True,
    collect_ids=False,
)
_POSITION_SUFFIX = re.compile(r",\s*line \d+, column \d+\s*$")
_EXCESSIVE_DEPTH = re.compile(r"Excessive depth in document: (\d+)")
_LIMIT_ADVICE = "XML_PARSE_HUGE"  # libxml2's advice to the programmer on each limit it enforces


class _DoctypeWatcher:
    """Parser target that only notes whether the parser met a DOCTYPE."""

    def __init__(self) -> None:
        self.doctype_seen = False

    def doctype(self, name: str | None, public_id: str | None, system_url: str | None) -> None:
        self.doctype_seen = True

    def close(self) -> None:
        return None


def parse_untrusted(raw: bytes, *, max_bytes: int) -> etree._Element:
    """The root element; MessageError (FF01) when the input is too large, not well-formed or has a DOCTYPE."""
    if len(raw) > max_bytes:
        raise MessageError(FILE_FORMAT_INVALID, f"message is {len(raw)} bytes, limit is {max_bytes}")
    try:
        root = etree.fromstring(raw, _HARDENED_PARSER)
    except etree.XMLSyntaxError as error:
        if _declares_doctype(raw):
            raise MessageError(FILE_FORMAT_INVALID, DOCTYPE_REFUSED) from None
        line, column = error.position
        problem = _in_own_words(_POSITION_SUFFIX.sub("", error.msg))
        narrative = f"XML not well-formed at line {line}, column {column}: {problem}"
        raise MessageError(FILE_FORMAT_INVALID, narrative) from None
    if root.getroottree().docinfo.doctype:
        raise MessageError(FILE_FORMAT_INVALID, DOCTYPE_REFUSED)
    return root


def _in_own_words(problem: str) -> str:
    """libxml2's limit errors advise lifting the limit; say instead what the input exceeded."""
    depth = _EXCESSIVE_DEPTH.search(problem)
    if depth:
        return f"the XML is nested more than {depth.group(1)} levels deep"
    if _LIMIT_ADVICE in problem:
        return f"a name, text or attribute value is over {MAX_VALUE_BYTES} bytes"
    return problem


def _declares_doctype(raw: bytes) -> bool:
    """Whether input the parser rejected has a DOCTYPE (an entity bomb fails on libxml2's amplification limit)."""
    watcher = _DoctypeWatcher()
    parser = etree.XMLParser(target=watcher, resolve_entities=False, load_dtd=False, no_network=True)
    try:
        etree.fromstring(raw, parser)
    except etree.XMLSyntaxError:
        pass
    return watcher.doctype_seen
