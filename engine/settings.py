"""One settings object, read from ``RP2_*`` environment variables."""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, fields
from typing import Mapping
from urllib.parse import urlsplit

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_DEPLOYMENT_ID = re.compile(r"^[a-z0-9]{1,12}$")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_CONSISTENCY_MODES = ("eventual", "strong")
PROFILE_NAMES = ("generic", "cbpr+", "sepa-inst", "fednow")  # the scheme profiles of engine.iso20022.profiles
_HOST_NAME = re.compile(r"^((?!-)[a-z\d-]{1,63}(?<!-)\.)*((?!-)[a-z\d-]{1,63}(?<!-))\.?$", re.IGNORECASE)
ENDPOINT_URL_FORM = "an http or https URL with a host, such as http://127.0.0.1:5000"


class SettingsError(ValueError):
    """An RP2_* variable holds a value rp2 cannot use."""


def is_endpoint_url(value: str) -> bool:
    """Whether boto3 takes ``value`` as an endpoint_url: http or https, a host name or IP address, an optional port."""
    if any(character.isspace() for character in value):
        return False
    parts = urlsplit(value)
    try:
        parts.port
    except ValueError:
        return False
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return _HOST_NAME.match(host) is not None
    return True


@dataclass(frozen=True)
class Settings:
    region: str = "us-east-1"
    peer_region: str = "us-west-2"
    deployment_id: str = "local"
    sla_seconds: int = 30
    retention_days: int = 30
    max_message_bytes: int = 184_320
    log_level: str = "INFO"
    endpoint_url: str | None = None
    consistency: str = "eventual"
    peer_health_url: str | None = None
    probe_timeout_seconds: int = 2
    down_after_probes: int = 3
    up_after_probes: int = 2
    profile: str = "generic"  # the scheme profile of the ISO 20022 rules: generic, cbpr+, sepa-inst, fednow

    def __post_init__(self) -> None:
        for name in ("region", "peer_region"):
            if not _REGION.match(getattr(self, name)):
                raise SettingsError(f"RP2_{name.upper()} must be an AWS region such as us-east-1, got {getattr(self, name)!r}")
        if self.region == self.peer_region:
            raise SettingsError(f"RP2_PEER_REGION must differ from RP2_REGION, both are {self.region!r}")
        if not _DEPLOYMENT_ID.match(self.deployment_id):
            raise SettingsError(
                f"RP2_DEPLOYMENT_ID must be 1-12 lowercase letters or digits (it is part of S3 bucket names), got {self.deployment_id!r}"
            )
        if self.consistency not in _CONSISTENCY_MODES:
            raise SettingsError(f"RP2_CONSISTENCY must be one of {', '.join(_CONSISTENCY_MODES)}, got {self.consistency!r}")
        for name, low in (
            ("sla_seconds", 1),
            ("retention_days", 1),
            ("max_message_bytes", 1024),
            ("probe_timeout_seconds", 1),
            ("down_after_probes", 1),
            ("up_after_probes", 1),
        ):
            if getattr(self, name) < low:
                raise SettingsError(f"RP2_{name.upper()} must be at least {low}, got {getattr(self, name)}")
        if self.log_level not in _LOG_LEVELS:
            raise SettingsError(f"RP2_LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}, got {self.log_level!r}")
        if self.profile not in PROFILE_NAMES:
            raise SettingsError(f"RP2_PROFILE must be one of {', '.join(PROFILE_NAMES)}, got {self.profile!r}")
        if self.endpoint_url is not None and not is_endpoint_url(self.endpoint_url):
            raise SettingsError(f"RP2_ENDPOINT_URL must be {ENDPOINT_URL_FORM}, got {self.endpoint_url!r}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for field in fields(cls):
            raw = env.get(f"RP2_{field.name.upper()}")
            if raw is None or raw == "":
                continue
            if field.type == "int":
                try:
                    values[field.name] = int(raw)
                except ValueError:
                    raise SettingsError(f"RP2_{field.name.upper()} must be an integer, got {raw!r}") from None
            elif field.name == "log_level":
                values[field.name] = raw.upper()
            elif field.name == "profile":
                values[field.name] = raw.strip().lower()
            else:
                values[field.name] = raw
        return cls(**values)

    @property
    def ledger_table(self) -> str:
        return f"rp2-transaction-{self.deployment_id}"

    @property
    def archive_bucket(self) -> str:
        return f"rp2-runtime-{self.region}-{self.deployment_id}"

    def queue_name(self, step: str) -> str:
        return f"rp2-{step}-{self.deployment_id}.fifo"

    def dead_letter_queue_name(self, step: str) -> str:
        return f"rp2-{step}-dlq-{self.deployment_id}.fifo"

    @property
    def notification_topic(self) -> str:
        return f"rp2-notification-{self.deployment_id}"
