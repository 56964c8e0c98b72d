"""A tiny element builder for replies, and the reply versions of each inbound generation."""

from __future__ import annotations

from collections.abc import Mapping

from lxml import etree

from .errors import clip_narrative
from .namespaces import namespace_of
from .schemas import schema_errors

# camt.056 version -> camt.029 of the same ISO release
RESOLUTION_GENERATION = {
    "camt.056.001.08": "camt.029.001.09",
    "camt.056.001.10": "camt.029.001.11",
    "camt.056.001.12": "camt.029.001.14",
}
# pacs.008 version -> pacs.004 of the same ISO release (newest shipped for the 2023 and 2025 pacs.008)
RETURN_GENERATION = {
    "pacs.008.001.08": "pacs.004.001.09",
    "pacs.008.001.10": "pacs.004.001.11",
    "pacs.008.001.12": "pacs.004.001.11",
    "pacs.008.001.13": "pacs.004.001.11",
}


class Builder:
    def __init__(self, definition: str) -> None:
        self.definition = definition
        self.namespace = namespace_of(definition)
        self.document = etree.Element(self.name("Document"), nsmap={None: self.namespace})

    def name(self, local: str) -> str:
        return f"{{{self.namespace}}}{local}"

    def add(self, parent: etree._Element, local: str, text: str | None = None,
            attributes: Mapping[str, str] | None = None) -> etree._Element:
        element = etree.SubElement(parent, self.name(local), attributes)
        element.text = text
        return element

    def add_if(self, parent: etree._Element, local: str, text: str | None) -> None:
        if text:
            self.add(parent, local, text)

    def add_info(self, parent: etree._Element, text: str | None) -> None:
        info = clip_narrative(text or "")
        if info:
            self.add(parent, "AddtlInf", info)

    def add_agent(self, parent: etree._Element, local: str, bic: str | None) -> None:
        """An agent identified by its BIC (nothing when unknown)."""
        if bic:
            self.add(self.add(self.add(parent, local), "FinInstnId"), "BICFI", bic)

    def add_party(self, parent: etree._Element, local: str, bic: str | None, name: str) -> None:
        """A Party40/50Choice: the institution by its BIC, else a party by name."""
        holder = self.add(parent, local)
        if bic:
            self.add(self.add(self.add(holder, "Agt"), "FinInstnId"), "BICFI", bic)
        else:
            self.add(self.add(holder, "Pty"), "Nm", name)

    def finish(self) -> bytes:
        errors = schema_errors(self.document, self.definition)
        if errors:
            raise ValueError(f"reply would not be valid {self.definition}: {errors[0]}")
        return etree.tostring(self.document, xml_declaration=True, encoding="UTF-8")
