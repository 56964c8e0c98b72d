"""The ISO XSDs shipped in this package: which exist, compiled once, and validation with readable errors."""

from __future__ import annotations

import re
import threading
from functools import cache
from importlib.resources import files

from lxml import etree

from .elements import element_path, local_name
from .errors import MessageError
from .parsing import parse_untrusted

_SCHEMA_DIRECTORY = files(__package__).joinpath("schemas")
SHIPPED_DEFINITIONS = frozenset(
    entry.name.removesuffix(".xsd") for entry in _SCHEMA_DIRECTORY.iterdir() if entry.name.endswith(".xsd")
)

_VALIDATION_LOCK = threading.Lock()  # a compiled schema keeps one error log for all its callers
_SCHEMA_PARSER = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True)
_ELEMENT_PREFIX = re.compile(r"^Element '[^']*'(?:, attribute '(?P<attribute>[^']*)')?: ")
_NAMESPACE_IN_NAME = re.compile(r"\{[A-Za-z][\w+.-]*:[^{}\s]*\}")
_FACET = re.compile(r"\[facet '[^']*'\] ")
_PATH_STEP = re.compile(r"(?P<name>[^\[\]]+)(?:\[(?P<position>\d+)\])?")


def schema_document(definition: str) -> etree._Element:
    """The parsed XSD of a definition; ValueError when none is shipped."""
    if definition not in SHIPPED_DEFINITIONS:
        raise ValueError(f"no schema shipped for {definition}")
    return etree.fromstring(_SCHEMA_DIRECTORY.joinpath(f"{definition}.xsd").read_bytes(), _SCHEMA_PARSER)


@cache
def _compiled_schema(definition: str) -> etree.XMLSchema:
    return etree.XMLSchema(schema_document(definition))


def schema_errors(element: etree._Element, definition: str) -> list[str]:
    """Each error as "element path: problem", validating element as the root of a definition's document."""
    schema = _compiled_schema(definition)
    with _VALIDATION_LOCK:
        if schema.validate(element):
            return []
        errors = list(schema.error_log)
    return [_readable(error, element) for error in errors]


def validate_document(element_or_bytes: etree._Element | bytes, definition: str) -> list[str]:
    """The XSD errors of a document (an element, or XML bytes read with the hardened parser); [] when valid."""
    if isinstance(element_or_bytes, bytes):
        try:
            element = parse_untrusted(element_or_bytes, max_bytes=len(element_or_bytes))
        except MessageError as error:
            return [error.narrative]
    else:
        element = element_or_bytes
    return schema_errors(element, definition)


def _readable(error: etree._LogEntry, root: etree._Element) -> str:
    path = element_path(_element_at(error.path, root))
    prefix = _ELEMENT_PREFIX.match(error.message)
    problem = error.message
    if prefix is not None:
        problem = error.message[prefix.end() :]
        if prefix["attribute"]:
            path += f"/@{prefix['attribute']}"
    problem = _FACET.sub("", _NAMESPACE_IN_NAME.sub("", problem))
    return f"{path}: {problem}"


def _element_at(libxml2_path: str | None, root: etree._Element) -> etree._Element:
    """The element a libxml2 node path such as /*/*[2]/*[3] points to (as deep as it can be followed)."""
    element = root
    for step in (libxml2_path or "").strip("/").split("/")[1:]:
        match = _PATH_STEP.fullmatch(step)
        if match is None:
            break
        name = match["name"].rpartition(":")[2]
        candidates = [c for c in element if isinstance(c.tag, str) and (name == "*" or local_name(c) == name)]
        position = int(match["position"] or 1)
        if position > len(candidates):
            break
        element = candidates[position - 1]
    return element
