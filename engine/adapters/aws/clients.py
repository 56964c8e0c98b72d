"""boto3 clients with the timeouts and retries rp2 runs with."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from engine.settings import Settings

_CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3})
_PATH_STYLE = Config(s3={"addressing_style": "path"})


def aws_client(session: boto3.Session, service: str, settings: Settings) -> Any:
    config = _CLIENT_CONFIG
    if service == "s3" and settings.endpoint_url:
        # local endpoints (moto server) have no per-bucket host names
        config = config.merge(_PATH_STYLE)
    return session.client(service, region_name=settings.region, endpoint_url=settings.endpoint_url, config=config)
