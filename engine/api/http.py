"""The HTTP side of ``rp2 serve``: token endpoint, token and scope checks, body limits, API Gateway proxy events.

Each route is what API Gateway would pass to engine.lambdas.api.Api: a REST proxy event whose
requestContext.authorizer.claims carry the verified token's claims (client_id identifies the caller).
"""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

from engine.api.tokens import TokenRejected, TokenRequestError, TokenService
from engine.local_runtime import api_event

log = logging.getLogger(__name__)

# the scope each route needs; None: open. GET / is open as in the deployed API: the peer region's recover job
# probes it without credentials, and it says nothing about any transaction.
ROUTE_SCOPES: dict[tuple[str, str], str | None] = {
    ("GET", "/"): None,
    ("GET", "/uuid"): "rp2/write",
    ("POST", "/inbox"): "rp2/write",
    ("POST", "/outbox"): "rp2/read",
}
ANONYMOUS_CLAIMS = {"client_id": "anonymous"}
TOKEN_PATH = "/oauth2/token"
TOKEN_REQUEST_LIMIT = 8192
_CHUNK_LINE_LIMIT = 1024

ApiHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


class BodyTooLarge(Exception):
    def __init__(self, size: int | None, limit: int) -> None:
        if size is None:
            super().__init__(f"request body (chunked) is over the limit of {limit} bytes")
        else:
            super().__init__(f"request body is {size} bytes; the limit is {limit}")


class BadBody(Exception):
    pass


def read_body(stream: Any, headers: Any, limit: int) -> bytes:
    """The request body, refused before it is read when Content-Length is over ``limit``; a chunked body is
    read chunk by chunk and refused as soon as it passes ``limit``."""
    if "chunked" in (headers.get("Transfer-Encoding") or "").lower():
        return _read_chunked(stream, limit)
    declared = headers.get("Content-Length")
    if declared is None:
        return b""
    try:
        length = int(declared)
    except ValueError:
        raise BadBody(f"Content-Length is not a number: {declared[:32]!r}") from None
    if length < 0:
        raise BadBody("Content-Length is negative")
    if length > limit:
        raise BodyTooLarge(length, limit)
    body = stream.read(length)
    if len(body) != length:
        raise BadBody(f"the body ended after {len(body)} of {length} bytes")
    return body


def _read_chunked(stream: Any, limit: int) -> bytes:
    parts, total = [], 0
    while True:
        line = stream.readline(_CHUNK_LINE_LIMIT)
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise BadBody("malformed chunk size") from None
        if size == 0:
            while stream.readline(_CHUNK_LINE_LIMIT) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(parts)
        total += size
        if total > limit:
            raise BodyTooLarge(None, limit)
        parts.append(stream.read(size))
        stream.readline(_CHUNK_LINE_LIMIT)


class Rp2Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, api: ApiHandler, tokens: TokenService, max_body: int, region: str) -> None:
        self.api = api
        self.tokens = tokens
        self.max_body = max_body
        self.region = region
        super().__init__(("127.0.0.1", port), Rp2RequestHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class Rp2RequestHandler(BaseHTTPRequestHandler):
    server: Rp2Server
    protocol_version = "HTTP/1.1"
    server_version = "rp2"

    def do_GET(self) -> None:
        self.route("GET")

    def do_POST(self) -> None:
        self.route("POST")

    def do_PUT(self) -> None:
        self.route("PUT")

    def do_DELETE(self) -> None:
        self.route("DELETE")

    def do_PATCH(self) -> None:
        self.route("PATCH")

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    # ------------------------------------------------------------------ routing
    def route(self, method: str) -> None:
        self.request_id = str(uuid.uuid4())
        split = urlsplit(self.path)
        path = split.path.rstrip("/") or "/"
        if path == TOKEN_PATH:
            if method != "POST":
                return self.refuse(405, f"{method} {TOKEN_PATH}: use POST", "MethodNotAllowed", extra={"Allow": "POST"})
            return self.token()
        if (method, path) not in ROUTE_SCOPES:
            allowed = [m for (m, p) in ROUTE_SCOPES if p == path]
            if allowed:
                return self.refuse(405, f"{method} {path}: use {', '.join(allowed)}", "MethodNotAllowed", extra={"Allow": ", ".join(allowed)})
            return self.refuse(404, f"no route {method} {path}", "NotFound")
        needed = ROUTE_SCOPES[(method, path)]
        try:
            claims = self.server.tokens.authorize(self.headers.get("Authorization"), needed) if needed else ANONYMOUS_CLAIMS
        except TokenRejected as rejected:
            error = "insufficient_scope" if rejected.status == 403 else "invalid_token"
            challenge = f'Bearer realm="rp2", error="{error}", error_description="{rejected.reason}"'
            code = "Forbidden" if rejected.status == 403 else "Unauthorized"
            return self.refuse(rejected.status, rejected.reason, code, extra={"WWW-Authenticate": challenge})
        try:
            body = read_body(self.rfile, self.headers, self.server.max_body)
        except BodyTooLarge as error:
            self.close_connection = True
            return self.refuse(413, str(error), "PayloadTooLarge", body_read=True)
        except BadBody as error:
            self.close_connection = True
            return self.refuse(400, str(error), "BadRequest", body_read=True)
        self.forward(method, path, split.query, claims, body)

    def forward(self, method: str, path: str, query: str, claims: dict[str, Any], body: bytes) -> None:
        event = api_event(
            method, path, identity=str(claims["client_id"]), headers=dict(self.headers.items()),
            body=body if method == "POST" else None, request_time_ms=int(time.time() * 1000),
        )
        event["requestContext"]["requestId"] = self.request_id
        event["requestContext"]["authorizer"]["claims"] = {
            name: str(claims[name]) for name in ("client_id", "sub", "scope", "token_use", "iat", "exp", "jti") if name in claims
        }
        event["queryStringParameters"] = dict(parse_qsl(query)) or None
        try:
            response = self.server.api(event, None)
        except Exception:  # an infrastructure failure: API Gateway would answer 502 for the Lambda's error
            log.exception("API handler failed", extra={"request_id": self.request_id})
            return self.refuse(502, "the API handler failed; see the server log", "BadGateway", body_read=True)
        payload = response.get("body") or ""
        data = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode("utf-8")
        self.send(response["statusCode"], data, response.get("headers") or {})

    # ------------------------------------------------------------------ token endpoint
    def token(self) -> None:
        try:
            body = read_body(self.rfile, self.headers, TOKEN_REQUEST_LIMIT)
        except BodyTooLarge as error:
            self.close_connection = True
            return self.send_json(413, {"error": "invalid_request", "error_description": str(error)})
        except BadBody as error:
            self.close_connection = True
            return self.send_json(400, {"error": "invalid_request", "error_description": str(error)})
        try:
            answer = self.server.tokens.issue(body, self.headers.get("Authorization"))
        except TokenRequestError as refused:
            extra = {"WWW-Authenticate": 'Basic realm="rp2"'} if refused.status == 401 else {}
            return self.send_json(refused.status, {"error": refused.error, "error_description": refused.description}, extra)
        self.send_json(200, answer, {"Cache-Control": "no-store", "Pragma": "no-cache"})

    # ------------------------------------------------------------------ responses
    def refuse(self, status: int, message: str, error_code: str, *, extra: dict[str, str] | None = None, body_read: bool = False) -> None:
        """An answer given without reaching the API, in the API's response envelope."""
        if not body_read:
            self.discard_body()
        envelope = {
            "message": message,
            "transaction_id": None,
            "request_id": self.request_id,
            "request_timestamp": int(time.time() * 1000),
            "region_id": self.server.region,
            "error_code": error_code,
        }
        self.send_json(status, envelope, extra)

    def discard_body(self) -> None:
        """Read a small unread body so the connection stays usable; close it rather than read a large one."""
        try:
            read_body(self.rfile, self.headers, self.server.max_body)
        except (BodyTooLarge, BadBody):
            self.close_connection = True

    def send_json(self, status: int, body: dict[str, Any], extra: dict[str, str] | None = None) -> None:
        self.send(status, json.dumps(body).encode("utf-8"), {"Content-Type": "application/json", **(extra or {})})

    def send(self, status: int, data: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
