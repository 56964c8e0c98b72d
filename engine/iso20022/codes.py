"""ISO 20022 ExternalStatusReason1Code: the codes this package reports, and the official code list."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files

FILE_FORMAT_INVALID = "FF01"
INVALID_DATE = "DT01"
ZERO_AMOUNT = "AM01"
GROUP_CONTROL_SUM_INVALID = "AM16"
GROUP_NUMBER_OF_TRANSACTIONS_INVALID = "AM19"


@cache
def _status_reason_definitions() -> dict[str, str]:
    code_list = files(__package__).joinpath("codesets", "external_status_reason_code.json")
    return json.loads(code_list.read_text(encoding="utf-8"))["codes"]


def reason_definition(code: str) -> str:
    """The ISO definition of a status reason code; KeyError when the code is not in the code list."""
    try:
        return _status_reason_definitions()[code]
    except KeyError:
        raise KeyError(f"{code!r} is not an ISO ExternalStatusReason1Code") from None
