"""A deployed API over HTTP(S), as its clients use it: OAuth2 client-credentials token, then the four routes.

``RemoteRuntime`` has the interface ``rp2 run`` drives (call, drain, ports): requests go to the real API
with a bearer token (the caller identity is the token's client, whatever ``identity`` says), the stack's own
queues and workers move the transaction, and ``drain`` waits until every transaction it opened is final.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from typing import Any

from engine.local_runtime import ApiAnswer
from engine.wiring import Ports

SCOPE = "rp2/read rp2/write"
_TOKEN_MARGIN_SECONDS = 30


class RemoteError(RuntimeError):
    pass


class RemoteApi:
    def __init__(self, api_url: str, token_url: str, client_id: str, client_secret: str, *, scope: str = SCOPE, timeout: float = 15.0) -> None:
        self.api_url = api_url.rstrip("/")
        self.token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._scope = scope
        self._timeout = timeout
        self._token: str | None = None
        self._token_until = 0.0

    def token(self) -> str:
        if self._token is None or time.monotonic() >= self._token_until:
            basic = base64.b64encode(f"{self._client_id}:{self._client_secret}".encode()).decode("ascii")
            form = f"grant_type=client_credentials&scope={self._scope}".encode()
            request = urllib.request.Request(
                self.token_url, data=form, method="POST",
                headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
            )
            status, body = self._send(request)
            if status != 200:
                raise RemoteError(f"token request to {self.token_url} answered {status}: {body[:300]!r}")
            answer = json.loads(body)
            self._token = answer["access_token"]
            self._token_until = time.monotonic() + max(1, int(answer.get("expires_in", 3600)) - _TOKEN_MARGIN_SECONDS)
        return self._token

    def call(self, method: str, path: str, *, headers: dict[str, str] | None = None, body: bytes | None = None) -> ApiAnswer:
        request = urllib.request.Request(
            self.api_url + path, data=body, method=method,
            headers={**(headers or {}), "Authorization": f"Bearer {self.token()}"},
        )
        status, payload = self._send(request)
        try:
            decoded = json.loads(payload) if payload else {}
        except json.JSONDecodeError:
            decoded = {"message": payload.decode("utf-8", "replace")}
        return ApiAnswer(status, decoded)

    def _send(self, request: urllib.request.Request) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()


class RemoteRuntime:
    def __init__(self, api: RemoteApi, ports: Ports, poll_seconds: float = 0.5) -> None:
        self.api = api
        self.ports = ports
        self._poll_seconds = poll_seconds
        self._opened: list[str] = []

    def call(self, method: str, path: str, *, identity: str, headers: dict[str, str] | None = None, body: bytes | None = None) -> ApiAnswer:
        answer = self.api.call(method, path, headers=headers, body=body)
        if path == "/uuid" and answer.status == 200 and answer.body.get("transaction_id"):
            self._opened.append(answer.body["transaction_id"])
        return answer

    def drain(self, max_wait_seconds: float | None = None) -> int:
        """Wait until the transactions opened so far are final (the stack's workers and schedule run them),
        at most SLA + 90 s: by then the timeout job has rejected any that got stuck."""
        limit = max_wait_seconds if max_wait_seconds is not None else self.ports.settings.sla_seconds + 90
        deadline = time.monotonic() + limit
        pending = list(self._opened)
        while pending and time.monotonic() < deadline:
            pending = [tid for tid in pending if not _is_final(self.ports, tid)]
            if pending:
                time.sleep(self._poll_seconds)
        finished = len(self._opened) - len(pending)
        self._opened = pending
        return finished


def _is_final(ports: Ports, transaction_id: str) -> bool:
    record: Any = ports.ledger.get(transaction_id)
    return record is not None and record.status.is_terminal
