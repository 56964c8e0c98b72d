"""`rp2 serve` as a subprocess, driven with real curl exactly as the upstream guidance's end-to-end check does."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jwt
import pytest
from lxml import etree

UPSTREAM_SAMPLE = Path(__file__).resolve().parents[2] / "data" / "samples" / "upstream_pacs.008.xml"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"}
RP2 = Path(sys.executable).with_name("rp2")
STARTUP_SECONDS = 60
OUTBOX_WAIT_SECONDS = 30

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")


@dataclass
class Server:
    url: str
    endpoint: str
    clients: list[tuple[str, str]]
    key: bytes
    process: subprocess.Popen
    log: Path


@dataclass
class Answer:
    status: int
    body: bytes
    headers: str

    def json(self) -> dict:
        return json.loads(self.body)


def curl(*arguments: str) -> Answer:
    """One curl call; returns the status, the body and the response headers."""
    with tempfile.NamedTemporaryFile() as body, tempfile.NamedTemporaryFile() as headers:
        result = subprocess.run(
            ["curl", "-sS", "--max-time", "20", "-D", headers.name, "-o", body.name, "-w", "%{http_code}", *arguments],
            capture_output=True, text=True, timeout=30,
        )
        assert result.returncode == 0, result.stderr
        return Answer(int(result.stdout), Path(body.name).read_bytes(), Path(headers.name).read_text())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("serve")
    key = secrets.token_hex(32).encode()
    (folder / "key").write_bytes(key)
    log = folder / "serve.log"
    environment = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "RP2_"))}
    environment.update({"RP2_LOG_LEVEL": "WARNING", "RP2_MAX_MESSAGE_BYTES": "65536"})
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(RP2), "serve", "--port", "0", "--clients", "2", "--signing-key-file", str(folder / "key")],
            stdout=output, stderr=subprocess.STDOUT, env=environment,
        )
    deadline = time.monotonic() + STARTUP_SECONDS
    while "ready" not in log.read_text() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    text = log.read_text()
    assert "ready" in text, text
    server = Server(
        url=re.search(r"rp2 serve: (\S+)", text).group(1),
        endpoint=re.search(r"AWS endpoint\s+(\S+)", text).group(1),
        clients=list(zip(re.findall(r"client_id\s+(\S+)", text), re.findall(r"client_secret\s+(\S+)", text))),
        key=key,
        process=process,
        log=log,
    )
    yield server
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


def token_for(server: Server, client: int = 0, scope: str = "rp2/read rp2/write") -> str:
    client_id, secret = server.clients[client]
    answer = curl("-X", "POST", f"{server.url}/oauth2/token", "-u", f"{client_id}:{secret}",
                  "-H", "Content-Type: application/x-www-form-urlencoded", "-d", f"grant_type=client_credentials&scope={scope}")
    assert answer.status == 200, answer.body
    return answer.json()["access_token"]


def open_transaction(server: Server, token: str) -> str:
    answer = curl(f"{server.url}/uuid", "-H", f"Authorization: Bearer {token}", "-H", "X-Message-Type: pacs.008")
    assert answer.status == 200, answer.body
    return answer.json()["transaction_id"]


def test_the_upstream_curl_sequence_settles_the_sample(server: Server) -> None:
    client_id, secret = server.clients[0]
    token = curl(
        "-X", "POST", f"{server.url}/oauth2/token",
        "-H", f"Authorization: Basic {base64.b64encode(f'{client_id}:{secret}'.encode()).decode()}",
        "-H", "Content-Type: application/x-www-form-urlencoded",
        "-d", "grant_type=client_credentials&scope=rp2/read rp2/write",
    )
    assert token.status == 200, token.body
    assert token.json()["token_type"] == "Bearer" and token.json()["expires_in"] == 3600
    bearer = f"Authorization: Bearer {token.json()['access_token']}"

    opened = curl(f"{server.url}/uuid", "-H", bearer, "-H", "X-Message-Type: pacs.008")
    assert opened.status == 200
    transaction_id = opened.json()["transaction_id"]

    posted = curl(
        "-X", "POST", f"{server.url}/inbox", "-H", bearer, "-H", f"X-Transaction-Id: {transaction_id}",
        "-H", "X-Message-Type: pacs.008", "-H", "Content-Type: application/json", "--data", f"@{UPSTREAM_SAMPLE}",
    )
    assert posted.status == 200, posted.body
    assert posted.json()["transaction_id"] == transaction_id

    deadline = time.monotonic() + OUTBOX_WAIT_SECONDS
    while True:
        reply = curl("-X", "POST", f"{server.url}/outbox", "-H", bearer, "-H", f"X-Transaction-Id: {transaction_id}")
        if reply.status != 202 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert reply.status == 200, reply.body
    document = etree.fromstring(reply.json()["message"].encode("utf-8"))
    assert etree.QName(document).namespace == NS["p"]
    assert document.findtext(".//p:OrgnlGrpInfAndSts/p:OrgnlMsgId", namespaces=NS) == "qE5yVJIHAPxNoLiC"
    assert document.findtext(".//p:TxInfAndSts/p:OrgnlEndToEndId", namespaces=NS) == "ejLBXejVX0MCdA4r"
    assert document.findtext(".//p:TxInfAndSts/p:TxSts", namespaces=NS) == "ACSC"

    # another client of the same server: that transaction does not exist for it
    stranger = f"Authorization: Bearer {token_for(server, client=1)}"
    for path in ("/outbox", "/inbox"):
        hidden = curl("-X", "POST", f"{server.url}{path}", "-H", stranger, "-H", f"X-Transaction-Id: {transaction_id}",
                      "-H", "X-Message-Type: pacs.008", "--data", f"@{UPSTREAM_SAMPLE}")
        assert hidden.status == 404, hidden.body
        assert hidden.json()["message"] == f"transaction {transaction_id} not found"


def test_a_missing_or_bad_token_is_401(server: Server) -> None:
    missing = curl(f"{server.url}/uuid", "-H", "X-Message-Type: pacs.008")
    assert (missing.status, missing.json()["error_code"]) == (401, "Unauthorized")
    assert "missing token" in missing.json()["message"]
    assert "WWW-Authenticate: Bearer" in missing.headers
    garbage = curl(f"{server.url}/uuid", "-H", "Authorization: Bearer not-a-token", "-H", "X-Message-Type: pacs.008")
    assert garbage.status == 401
    forged = jwt.encode({"client_id": server.clients[0][0], "scope": "rp2/read rp2/write", "token_use": "access",
                         "iss": server.url, "iat": int(time.time()), "exp": int(time.time()) + 600}, "another key" * 4, algorithm="HS256")
    answer = curl(f"{server.url}/uuid", "-H", f"Authorization: Bearer {forged}", "-H", "X-Message-Type: pacs.008")
    assert (answer.status, answer.json()["message"]) == (401, "bad token signature")


def test_an_expired_token_is_401(server: Server) -> None:
    issued = int(time.time()) - 7200
    expired = jwt.encode({"client_id": server.clients[0][0], "sub": server.clients[0][0], "scope": "rp2/read rp2/write",
                          "token_use": "access", "iss": server.url, "iat": issued, "exp": issued + 3600}, server.key, algorithm="HS256")
    answer = curl(f"{server.url}/uuid", "-H", f"Authorization: Bearer {expired}", "-H", "X-Message-Type: pacs.008")
    assert (answer.status, answer.json()["message"]) == (401, "token expired")
    assert 'error="invalid_token"' in answer.headers


def test_a_token_without_the_scope_is_403(server: Server) -> None:
    read_only = f"Authorization: Bearer {token_for(server, scope='rp2/read')}"
    opened = curl(f"{server.url}/uuid", "-H", read_only, "-H", "X-Message-Type: pacs.008")
    assert (opened.status, opened.json()["message"]) == (403, "token lacks scope rp2/write")
    assert 'error="insufficient_scope"' in opened.headers
    write_only = f"Authorization: Bearer {token_for(server, scope='rp2/write')}"
    transaction_id = open_transaction(server, token_for(server))
    fetched = curl("-X", "POST", f"{server.url}/outbox", "-H", write_only, "-H", f"X-Transaction-Id: {transaction_id}")
    assert fetched.status == 403


def test_a_body_over_the_limit_is_413_before_it_is_read(server: Server, tmp_path: Path) -> None:
    token = token_for(server)
    transaction_id = open_transaction(server, token)
    big = tmp_path / "big.xml"
    big.write_bytes(b"<a>" + b"x" * 70_000 + b"</a>")  # the server runs with RP2_MAX_MESSAGE_BYTES=65536
    headers = ["-H", f"Authorization: Bearer {token}", "-H", f"X-Transaction-Id: {transaction_id}", "-H", "X-Message-Type: pacs.008"]
    declared = curl("-X", "POST", f"{server.url}/inbox", *headers, "--data-binary", f"@{big}")
    assert (declared.status, declared.json()["error_code"]) == (413, "PayloadTooLarge")
    assert declared.json()["message"] == "request body is 70007 bytes; the limit is 65536"
    chunked = curl("-X", "POST", f"{server.url}/inbox", *headers, "-H", "Transfer-Encoding: chunked", "--data-binary", f"@{big}")
    assert (chunked.status, chunked.json()["message"]) == (413, "request body (chunked) is over the limit of 65536 bytes")
    # the transaction is untouched: the right message still goes through
    posted = curl("-X", "POST", f"{server.url}/inbox", *headers, "--data-binary", f"@{UPSTREAM_SAMPLE}")
    assert posted.status == 200, posted.body


def test_header_names_are_case_insensitive_and_form_credentials_work(server: Server) -> None:
    client_id, secret = server.clients[0]
    token = curl("-X", "POST", f"{server.url}/oauth2/token",
                 "-d", f"grant_type=client_credentials&client_id={client_id}&client_secret={secret}")
    assert token.status == 200, token.body
    opened = curl(f"{server.url}/uuid", "-H", f"authorization: bearer {token.json()['access_token']}", "-H", "x-message-type: pacs.008")
    assert opened.status == 200, opened.body
    wrong = curl("-X", "POST", f"{server.url}/oauth2/token", "-u", f"{client_id}:wrong",
                 "-d", "grant_type=client_credentials&scope=rp2/read rp2/write")
    assert (wrong.status, wrong.json()["error"]) == (401, "invalid_client")
    too_wide = curl("-X", "POST", f"{server.url}/oauth2/token", "-u", f"{client_id}:{secret}", "-d", "grant_type=client_credentials&scope=rp2/admin")
    assert (too_wide.status, too_wide.json()["error"]) == (400, "invalid_scope")


def test_health_is_open_and_unknown_routes_are_404(server: Server) -> None:
    health = curl(f"{server.url}/")
    assert (health.status, health.json()["message"]) == (200, "healthy")
    assert curl(f"{server.url}/nowhere").status == 404
    assert curl("-X", "DELETE", f"{server.url}/inbox").status == 405


def test_rp2_run_remote_client_drives_the_served_api(server: Server) -> None:
    """The HTTP client `rp2 run --backend aws` uses on a real stack, here against the local API."""
    import boto3

    from engine.adapters.aws import aws_ports
    from engine.cli import drive_file
    from engine.deploy.remote import RemoteApi, RemoteRuntime
    from engine.settings import Settings

    client_id, secret = server.clients[0]
    settings = Settings(endpoint_url=server.endpoint)
    session = boto3.Session(region_name=settings.region, aws_access_key_id="testing", aws_secret_access_key="testing")
    runtime = RemoteRuntime(RemoteApi(server.url, f"{server.url}/oauth2/token", client_id, secret), aws_ports(settings, session), poll_seconds=0.1)
    assert drive_file(runtime, UPSTREAM_SAMPLE, "pacs.008") is True
    record_ids = runtime.drain(max_wait_seconds=1)
    assert record_ids == 0  # nothing left pending


def test_sigterm_stops_the_server_cleanly(server: Server) -> None:
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=20) == 0
    text = server.log.read_text()
    assert text.rstrip().endswith("stopped")
    assert "Traceback" not in text
