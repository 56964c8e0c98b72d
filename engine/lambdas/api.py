"""API Gateway proxy handler for GET /, GET /uuid, POST /inbox and POST /outbox."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from engine.lambdas.environment import deployed_ports, logger
from engine.ports import Unavailable
from engine.steps.health import is_healthy, probe
from engine.steps.inbox import submit
from engine.steps.outbox import fetch_reply
from engine.steps.transaction import open_transaction
from engine.wiring import Ports

ANONYMOUS = "anonymous"


def caller_identity(event: APIGatewayProxyEvent) -> str:
    """The Cognito app client (client-credentials tokens) or user behind the request."""
    authorizer = event.request_context.authorizer
    claims = (authorizer.raw_event.get("claims") if authorizer else None) or {}
    return claims.get("client_id") or claims.get("sub") or ANONYMOUS


def header(event: APIGatewayProxyEvent, name: str) -> str | None:
    wanted = name.lower()
    for key, value in (event.headers or {}).items():
        if key.lower() == wanted:
            return value.strip()
    return None


def body_bytes(event: APIGatewayProxyEvent) -> bytes:
    raw = event.raw_event.get("body") or ""
    if event.is_base64_encoded:
        return base64.b64decode(raw)
    return raw.encode("utf-8")


def transaction_id_header(event: APIGatewayProxyEvent) -> tuple[str | None, str | None]:
    value = header(event, "X-Transaction-Id")
    if not value:
        return None, "the X-Transaction-Id header is required"
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return None, f"X-Transaction-Id must be a transaction id from GET /uuid, got {value[:64]!r}"
    return str(parsed), None


class Api:
    def __init__(self, ports: Callable[[], Ports]) -> None:
        self._ports = ports

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        request = APIGatewayProxyEvent(event)
        route = (request.http_method.upper(), (request.resource or request.path or "/").rstrip("/") or "/")
        handlers = {
            ("GET", "/"): self.health,
            ("GET", "/uuid"): self.open_transaction,
            ("POST", "/inbox"): self.inbox,
            ("POST", "/outbox"): self.outbox,
        }
        handler = handlers.get(route)
        if handler is None:
            return self.respond(request, 404, f"no route {route[0]} {route[1]}", error_code="NotFound")
        try:
            return handler(request)
        except Unavailable as error:
            logger.warning("dependency unavailable", error=str(error))
            response = self.respond(request, 503, f"temporarily unavailable, retry: {error}", error_code="Unavailable")
            response["headers"]["Retry-After"] = "1"
            return response

    def respond(
        self, request: APIGatewayProxyEvent, status: int, message: str, *, transaction_id: str | None = None, error_code: str | None = None
    ) -> dict[str, Any]:
        context = request.request_context
        body = {
            "message": message,
            "transaction_id": transaction_id,
            "request_id": context.request_id,
            "request_timestamp": context.request_time_epoch,
            "region_id": self._ports().settings.region,
            "error_code": error_code,
        }
        return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}

    def health(self, request: APIGatewayProxyEvent) -> dict[str, Any]:
        results = probe(self._ports())
        if is_healthy(results):
            return self.respond(request, 200, "healthy")
        return self.respond(request, 503, json.dumps(results), error_code="Unhealthy")

    def open_transaction(self, request: APIGatewayProxyEvent) -> dict[str, Any]:
        message_type = header(request, "X-Message-Type")
        if not message_type:
            return self.respond(request, 400, "the X-Message-Type header is required, e.g. pacs.008 or camt.056", error_code="BadRequest")
        opened = open_transaction(self._ports(), owner=caller_identity(request), message_type=message_type)
        if opened.transaction is None:
            status = 400 if opened.error.startswith("X-Message-Type") else 503
            return self.respond(request, status, opened.error, error_code="BadRequest" if status == 400 else "Unavailable")
        return self.respond(request, 200, "transaction opened", transaction_id=opened.transaction.id)

    def inbox(self, request: APIGatewayProxyEvent) -> dict[str, Any]:
        transaction_id, problem = transaction_id_header(request)
        if problem:
            return self.respond(request, 400, problem, error_code="BadRequest")
        message_type = header(request, "X-Message-Type")
        if not message_type:
            return self.respond(request, 400, "the X-Message-Type header is required, e.g. pacs.008", transaction_id=transaction_id, error_code="BadRequest")
        try:
            payload = body_bytes(request)
        except ValueError:
            return self.respond(request, 400, "the body is marked base64 but does not decode", transaction_id=transaction_id, error_code="BadRequest")
        submitted = submit(self._ports(), transaction_id=transaction_id, owner=caller_identity(request), message_type=message_type, payload=payload)
        error_code = None if submitted.http_status == 200 else _ERROR_CODES[submitted.http_status]
        logger.info("inbox request", transaction_id=transaction_id, status=submitted.http_status)
        return self.respond(request, submitted.http_status, submitted.message, transaction_id=transaction_id, error_code=error_code)

    def outbox(self, request: APIGatewayProxyEvent) -> dict[str, Any]:
        transaction_id, problem = transaction_id_header(request)
        if problem:
            return self.respond(request, 400, problem, error_code="BadRequest")
        reply = fetch_reply(
            self._ports(), transaction_id=transaction_id, owner=caller_identity(request), reply_type=header(request, "X-Message-Type")
        )
        error_code = None if reply.http_status in (200, 202) else _ERROR_CODES[reply.http_status]
        return self.respond(request, reply.http_status, reply.message, transaction_id=transaction_id, error_code=error_code)


_ERROR_CODES = {400: "BadRequest", 404: "NotFound", 409: "Conflict", 413: "PayloadTooLarge", 421: "MisdirectedRequest"}

handler = Api(deployed_ports)
