"""The recover job's HTTP probe against a real local server: only a timely 200 counts as healthy."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from engine.adapters.aws.peer_health import HttpPeerHealth


class Peer(BaseHTTPRequestHandler):
    answers = {"/ok": 200, "/down": 503, "/locked": 401}

    def do_GET(self) -> None:
        if self.path == "/slow":
            time.sleep(1.5)
        self.send_response(self.answers.get(self.path, 200))
        self.end_headers()

    def log_message(self, *args) -> None:
        return None


@pytest.fixture(scope="module")
def peer_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Peer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize(("path", "healthy"), [("/ok", True), ("/down", False), ("/locked", False), ("/slow", False)])
def test_probe_answers(peer_url, path, healthy):
    assert HttpPeerHealth(peer_url + path, timeout_seconds=1).probe("us-east-1") is healthy


def test_a_refused_connection_is_unhealthy():
    with ThreadingHTTPServer(("127.0.0.1", 0), Peer) as closed:
        port = closed.server_address[1]
    assert HttpPeerHealth(f"http://127.0.0.1:{port}/", timeout_seconds=1).probe("us-east-1") is False
