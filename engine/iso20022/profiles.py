"""Scheme profiles: which business rules run, how strictly, and with which scheme parameters.

A profile maps each rule (by name) to a severity: ``reject`` (the finding rejects, with its reason code),
``warn`` (the finding is recorded on the transaction and shown by ``rp2 validate``) or ``off``. Rules a profile
does not name are ``reject``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

REJECT, WARN, OFF = "reject", "warn", "off"

# EPC basic Latin set (SEPA rulebooks): a-z A-Z 0-9 / - ? : ( ) . , ' + space
SEPA_CHARACTERS = re.compile(r"[A-Za-z0-9/\-?:().,'+ ]*")
# SWIFT FIN X set, the CBPR+ default for every text element (CR and LF included)
SWIFT_X_CHARACTERS = re.compile(r"[A-Za-z0-9/\-?:().,'+ \r\n]*")
# CBPR+ also allows !#&%*=^_`{|}~";@[\]$>< in names, postal addresses, remittance information, e-mail proxies
# and the city and province of birth
CBPR_EXTENDED_CHARACTERS = re.compile(r"[A-Za-z0-9/\-?:().,'+ \r\n!#&%*=^_`{|}~\";@\[\\\]$><]*")
CBPR_EXTENDED_ELEMENTS = frozenset(
    {"Nm", "PstlAdr", "RmtInf", "RltdRmtInf", "Prxy", "EmailAdr", "CityOfBirth", "PrvcOfBirth"}
)

ANYWHERE_ON_EARTH = timezone(timedelta(hours=-12), "AoE")


@dataclass(frozen=True)
class CharacterSet:
    name: str
    allowed: re.Pattern[str]
    extended: re.Pattern[str] | None = None
    extended_elements: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Profile:
    name: str
    summary: str
    severity: Mapping[str, str] = field(default_factory=dict)
    header_required: bool = False
    currencies: frozenset[str] | None = None  # None: every active ISO 4217 currency with minor units
    charge_bearers: frozenset[str] | None = None  # None: any ChargeBearerType1Code
    uetr_required: bool = False
    iban_required: bool = False
    character_set: CharacterSet | None = None
    calendar: str | None = None
    zone: tzinfo = ANYWHERE_ON_EARTH  # where "today" is decided for the settlement date
    returns_allowed: bool = True
    duplicate_code: str = "AM05"

    def severity_of(self, rule_name: str) -> str:
        return self.severity.get(rule_name, REJECT)


GENERIC = Profile(
    name="generic",
    summary="any ISO currency with minor units, any charge bearer; header and date problems are warnings",
    severity={
        "header_conforms": OFF,  # reading already records an invalid header as a warning
        "settlement_date_is_usable": WARN,
        "creation_time_has_offset": WARN,
        "instruction_id_slashes": WARN,
    },
)
CBPR_PLUS = Profile(
    name="cbpr+",
    summary="SWIFT CBPR+: valid head.001 header required, UETR required, time zones, FIN-X character set",
    header_required=True,
    charge_bearers=frozenset({"DEBT", "CRED", "SHAR"}),
    uetr_required=True,
    character_set=CharacterSet("CBPR+ (FIN X, extended in names, addresses, remittance)", SWIFT_X_CHARACTERS,
                               CBPR_EXTENDED_CHARACTERS, CBPR_EXTENDED_ELEMENTS),
)
SEPA_INST = Profile(
    name="sepa-inst",
    summary="EPC SCT Inst: EUR only, SLEV, IBANs, EPC Latin character set, TARGET2 business days",
    severity={"creation_time_has_offset": WARN},
    currencies=frozenset({"EUR"}),
    charge_bearers=frozenset({"SLEV"}),
    iban_required=True,
    character_set=CharacterSet("EPC basic Latin", SEPA_CHARACTERS),
    calendar="TARGET2",
    zone=ZoneInfo("Europe/Berlin"),
)
FEDNOW = Profile(
    name="fednow",
    summary="FedNow-style: USD only, SLEV, header required, time zones, New York date; settled payments are final",
    header_required=True,
    currencies=frozenset({"USD"}),
    charge_bearers=frozenset({"SLEV"}),
    zone=ZoneInfo("America/New_York"),
    returns_allowed=False,
    duplicate_code="DUPL",
)

PROFILES: dict[str, Profile] = {p.name: p for p in (GENERIC, CBPR_PLUS, SEPA_INST, FEDNOW)}
DEFAULT_PROFILE = GENERIC.name


def profile_named(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"no profile {name!r}; choose one of {', '.join(PROFILES)}") from None
