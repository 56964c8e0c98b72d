"""Translate botocore failures into the ports' Unavailable, so steps never see botocore exceptions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError

from engine.ports import Unavailable

_THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
    }
)


def error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def _is_outage(error: ClientError) -> bool:
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return status >= 500 or error_code(error) in _THROTTLING_CODES


@contextmanager
def outage_as_unavailable(service: str) -> Iterator[None]:
    """Connection failures, timeouts, throttling and 5xx (after botocore's retries) become Unavailable;
    any other error (a bug, a missing resource, a failed condition) propagates unchanged."""
    try:
        yield
    except (ConnectionError, HTTPClientError) as error:
        raise Unavailable(f"{service}: {error}") from error
    except ClientError as error:
        if _is_outage(error):
            raise Unavailable(f"{service}: {error}") from error
        raise


@contextmanager
def any_failure_as_unavailable(service: str) -> Iterator[None]:
    """For health checks: whatever went wrong, the dependency is not usable."""
    try:
        yield
    except (BotoCoreError, ClientError) as error:
        raise Unavailable(f"{service}: {error}") from error
