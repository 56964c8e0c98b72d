"""ISO 20022 message namespaces and the message definition identifiers they carry."""

from __future__ import annotations

import re

ISO_NAMESPACE_PREFIX = "urn:iso:std:iso:20022:tech:xsd:"
HEADER_FAMILY = "head."
_DEFINITION_IDENTIFIER = re.compile(r"[a-z]{4}\.\d{3}\.\d{3}\.\d{2}")


def namespace_of(definition: str) -> str:
    return ISO_NAMESPACE_PREFIX + definition


def definition_of(namespace: str | None) -> str | None:
    """The definition identifier in an ISO namespace, e.g. "pacs.008.001.08"; None for any other namespace."""
    if namespace is None or not namespace.startswith(ISO_NAMESPACE_PREFIX):
        return None
    return namespace[len(ISO_NAMESPACE_PREFIX) :]


def is_definition_identifier(text: str) -> bool:
    return _DEFINITION_IDENTIFIER.fullmatch(text) is not None


def is_header_namespace(namespace: str | None) -> bool:
    definition = definition_of(namespace)
    return definition is not None and definition.startswith(HEADER_FAMILY)


def is_business_namespace(namespace: str | None) -> bool:
    definition = definition_of(namespace)
    return definition is not None and not definition.startswith(HEADER_FAMILY)
