"""The error that rejects a whole message, and the ISO limit on narrative text."""

from __future__ import annotations

NARRATIVE_LIMIT = 105


def clip_narrative(text: str) -> str:
    """One line of at most NARRATIVE_LIMIT characters (ISO Max105Text)."""
    line = " ".join(text.split())
    if len(line) <= NARRATIVE_LIMIT:
        return line
    return line[: NARRATIVE_LIMIT - 3] + "..."


class MessageError(Exception):
    """The message cannot be accepted as a whole."""

    def __init__(self, reason_code: str, narrative: str) -> None:
        self.reason_code = reason_code
        self.narrative = clip_narrative(narrative)
        super().__init__(f"{reason_code}: {self.narrative}")


class SchemaInvalid(MessageError):
    """A well-formed message that fails its XSD; the narrative is the first of ``errors``."""

    def __init__(self, reason_code: str, definition: str, errors: list[str]) -> None:
        super().__init__(reason_code, errors[0])
        self.definition = definition
        self.errors = tuple(errors)
