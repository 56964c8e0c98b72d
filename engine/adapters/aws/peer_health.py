"""Probe the peer region's health endpoint (GET /) over HTTPS with a timeout. Only a 200 is healthy: the route
answers 200 or 503, so anything else (an authorizer's 401, a wrong URL's 404) means the peer cannot be trusted."""

from __future__ import annotations

import urllib.error
import urllib.request


class HttpPeerHealth:
    def __init__(self, url: str | None, timeout_seconds: float) -> None:
        self._url = url
        self._timeout = timeout_seconds

    def probe(self, region: str) -> bool:
        if self._url is None:
            raise LookupError("RP2_PEER_HEALTH_URL is not set: the recover job has no peer endpoint to probe")
        try:
            with urllib.request.urlopen(self._url, timeout=self._timeout) as response:
                return response.status == 200
        except (urllib.error.URLError, TimeoutError, OSError):
            return False
