"""Faults at botocore's ``before-call`` hook: the request never leaves the SDK, which raises what it raises for
that failure on real AWS, and the AWS adapter translates it (engine/adapters/aws/errors.py) as in production.

``install(session, decide)`` registers the hook on a boto3 session before its clients are created. ``decide`` is
any callable ``(service, operation) -> kind | None``: in the simulator it returns the failure the fault layer
already decided for the current port call (so both backends draw the same numbers); in front of a real account it
can be the fault layer's own rate-based draw.
"""

from __future__ import annotations

from typing import Any, Callable

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectTimeoutError

# (HTTP status, error code) per failure kind and service, as each service answers
_RESPONSES = {
    "unavailable": {"dynamodb": (503, "ServiceUnavailable"), "s3": (503, "ServiceUnavailable"), "sns": (503, "ServiceUnavailable"), "sqs": (503, "ServiceUnavailable")},
    "throttle": {"dynamodb": (400, "ThrottlingException"), "s3": (503, "SlowDown"), "sns": (400, "Throttling"), "sqs": (400, "RequestThrottled")},
    "internal": {"dynamodb": (500, "InternalServerError"), "s3": (500, "InternalError"), "sns": (500, "InternalError"), "sqs": (500, "InternalError")},
}


def error_response(kind: str, service: str, operation: str, endpoint: str) -> tuple[AWSResponse, dict[str, Any]]:
    status, code = _RESPONSES[kind][service]
    http = AWSResponse(endpoint, status, {}, None)
    parsed = {
        "Error": {"Code": code, "Message": f"injected by rp2's simulator: {operation} {kind}"},
        "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}, "RetryAttempts": 2},
    }
    return http, parsed


def install(session: Any, decide: Callable[[str, str], str | None]) -> None:
    def before_call(model: Any, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        service = model.service_model.service_name
        kind = decide(service, model.name)
        if kind is None:
            return None
        endpoint = params.get("url", "")
        if kind == "connectivity":
            raise ConnectTimeoutError(endpoint_url=endpoint)
        return error_response(kind, service, model.name, endpoint)

    session.events.register("before-call", before_call)
