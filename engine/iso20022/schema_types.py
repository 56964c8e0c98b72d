"""The XSD type an element path has in a message definition.

ISO 20022 versions its message components by name: two definitions that use the type PartyIdentification135
use the same content model, so an element can be copied between them exactly when the type names agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from .schemas import schema_document

_XSD = "{http://www.w3.org/2001/XMLSchema}"


@cache
def _declared_types(definition: str) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Top-level element name -> type, and complex type name -> (child element name -> type)."""
    schema = schema_document(definition)
    top_level = {e.get("name"): e.get("type") for e in schema.iterfind(f"{_XSD}element")}
    complex_types = {
        declaration.get("name"): {e.get("name"): e.get("type") for e in declaration.iter(f"{_XSD}element")}
        for declaration in schema.iterfind(f"{_XSD}complexType")
    }
    return top_level, complex_types


def element_type(definition: str, path: Sequence[str]) -> str | None:
    """The type name of ("Document", "FIToFICstmrCdtTrf", ...) in a definition; None when there is no such element."""
    top_level, complex_types = _declared_types(definition)
    type_name = top_level.get(path[0])
    for name in path[1:]:
        if type_name is None:
            return None
        type_name = complex_types.get(type_name, {}).get(name)
    return type_name
