"""ISO 20022 external code lists shipped in codesets/, and the codes this package reports.

Status reasons (pacs.002) come from ExternalStatusReason1Code, cancellation rejections (camt.029) from
ExternalPaymentCancellationRejection1Code, return reasons (pacs.004) from ExternalReturnReason1Code.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files

# ExternalStatusReason1Code
FILE_FORMAT_INVALID = "FF01"
INVALID_DATE = "DT01"
NON_BUSINESS_DAY = "DT03"
ZERO_AMOUNT = "AM01"
CURRENCY_NOT_ALLOWED = "AM03"
DUPLICATION = "AM05"
DUPLICATE_PAYMENT = "DUPL"
CURRENCY_INVALID = "AM11"
GROUP_CONTROL_SUM_INVALID = "AM16"
GROUP_NUMBER_OF_TRANSACTIONS_INVALID = "AM19"
DECIMALS_NOT_COMPATIBLE = "CH20"
ACCOUNT_INVALID = "AC01"
DEBTOR_ACCOUNT_INVALID = "AC02"
CREDITOR_ACCOUNT_INVALID = "AC03"
BIC_FORMAT_INVALID = "RC01"
AGENT_IDENTIFIER_INVALID = "RC02"
DEBTOR_AGENT_INVALID = "RC03"
CREDITOR_AGENT_INVALID = "RC04"
AGENT_INCORRECT = "AGNT"
CHARGE_BEARER_INVALID = "BE19"
CHARACTER_SET_INVALID = "RR10"
CANCELLED_BY_USER = "DS02"
# ExternalPaymentCancellationRejection1Code
NEVER_RECEIVED = "NOOR"
ALREADY_RETURNED = "ARDT"
REGULATORY_REASON = "LEGL"
NARRATIVE = "NARR"
# ExternalReturnReason1Code
FOLLOWING_CANCELLATION_REQUEST = "FOCR"

STATUS_REASONS = "external_status_reason_code.json"
CANCELLATION_REJECTIONS = "external_payment_cancellation_rejection_code.json"
RETURN_REASONS = "external_return_reason_code.json"
CANCELLATION_REASONS = "external_cancellation_reason_code.json"


@cache
def code_list(file_name: str) -> dict[str, str]:
    """Code -> ISO definition of one shipped code list."""
    code_set = files(__package__).joinpath("codesets", file_name)
    return json.loads(code_set.read_text(encoding="utf-8"))["codes"]


def _status_reason_definitions() -> dict[str, str]:
    return code_list(STATUS_REASONS)


def reason_definition(code: str, file_name: str = STATUS_REASONS) -> str:
    """The ISO definition of a code; KeyError when the code is not in the code list."""
    try:
        return code_list(file_name)[code]
    except KeyError:
        name = {STATUS_REASONS: "ExternalStatusReason1Code", CANCELLATION_REJECTIONS: "ExternalPaymentCancellationRejection1Code",
                RETURN_REASONS: "ExternalReturnReason1Code", CANCELLATION_REASONS: "ExternalCancellationReason1Code"}[file_name]
        raise KeyError(f"{code!r} is not an ISO {name}") from None
