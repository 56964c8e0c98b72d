"""OAuth2 client credentials (RFC 6749 section 4.4) with signed JWT access tokens, as Cognito issues them.

The server is both issuer and verifier, so tokens are HS256-signed with a 256-bit key made at start (or read
from a file, so tokens survive a restart). Claims follow Cognito's access tokens: ``client_id``, ``sub``,
``scope`` (space-separated), ``token_use``, ``iat``, ``exp``, ``jti``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs

import jwt

ALGORITHM = "HS256"
SCOPES = ("rp2/read", "rp2/write")
DEFAULT_TTL_SECONDS = 3600


class TokenRejected(Exception):
    """A request's token does not allow it: ``status`` is 401 (no valid token) or 403 (valid, scope missing)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class TokenRequestError(Exception):
    """A token request refused with an RFC 6749 error code."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


@dataclass(frozen=True)
class Client:
    client_id: str
    secret: str
    scopes: tuple[str, ...] = SCOPES


class TokenService:
    def __init__(self, clients: list[Client], issuer: str, key: bytes | None = None, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> None:
        if ttl_seconds < 1:
            raise ValueError(f"token lifetime must be at least 1 s, got {ttl_seconds}")
        self._clients = {client.client_id: client for client in clients}
        self.issuer = issuer
        self._key = key or secrets.token_bytes(32)
        self.ttl_seconds = ttl_seconds

    @property
    def clients(self) -> list[Client]:
        return list(self._clients.values())

    # ------------------------------------------------------------------ POST /oauth2/token
    def issue(self, form_body: bytes, authorization: str | None) -> dict[str, object]:
        """The token response for a client-credentials request (form body, HTTP Basic or form credentials)."""
        try:
            form = {name: values[-1] for name, values in parse_qs(form_body.decode("utf-8"), keep_blank_values=True).items()}
        except UnicodeDecodeError:
            raise TokenRequestError(400, "invalid_request", "the body must be application/x-www-form-urlencoded UTF-8") from None
        client_id, secret = self._credentials(form, authorization)
        client = self._clients.get(client_id)
        if client is None or not hmac.compare_digest(client.secret.encode(), secret.encode()):
            raise TokenRequestError(401, "invalid_client", "unknown client or wrong secret")
        grant = form.get("grant_type")
        if grant != "client_credentials":
            raise TokenRequestError(400, "unsupported_grant_type", f"grant_type must be client_credentials, got {grant!r}")
        requested = form.get("scope", "").split()
        scopes = tuple(dict.fromkeys(requested)) if requested else client.scopes
        refused = [scope for scope in scopes if scope not in client.scopes]
        if refused:
            raise TokenRequestError(400, "invalid_scope", f"scope not allowed for this client: {' '.join(refused)}")
        return {"access_token": self.sign(client.client_id, scopes), "token_type": "Bearer", "expires_in": self.ttl_seconds}

    def _credentials(self, form: dict[str, str], authorization: str | None) -> tuple[str, str]:
        if authorization:
            scheme, _, encoded = authorization.strip().partition(" ")
            if scheme.lower() != "basic":
                raise TokenRequestError(401, "invalid_client", "client authentication must be HTTP Basic or form fields")
            try:
                decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise TokenRequestError(401, "invalid_client", "the Basic credentials are not base64 of id:secret") from None
            client_id, colon, secret = decoded.partition(":")
            if not colon:
                raise TokenRequestError(401, "invalid_client", "the Basic credentials are not id:secret")
            return client_id, secret
        if "client_id" in form and "client_secret" in form:
            return form["client_id"], form["client_secret"]
        raise TokenRequestError(401, "invalid_client", "no client credentials: send HTTP Basic or client_id and client_secret")

    def sign(self, client_id: str, scopes: tuple[str, ...], now: float | None = None) -> str:
        issued = int(time.time() if now is None else now)
        claims = {
            "iss": self.issuer,
            "sub": client_id,
            "client_id": client_id,
            "token_use": "access",
            "scope": " ".join(scopes),
            "iat": issued,
            "exp": issued + self.ttl_seconds,
            "jti": str(uuid.uuid4()),
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    # ------------------------------------------------------------------ every route
    def authorize(self, authorization: str | None, needed_scope: str) -> dict[str, object]:
        """The token's claims, when it is valid and carries the scope; raises TokenRejected otherwise."""
        if not authorization:
            raise TokenRejected(401, "missing token: send Authorization: Bearer <access token>")
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise TokenRejected(401, "the Authorization header must be Bearer <access token>")
        try:
            claims = jwt.decode(
                token.strip(), self._key, algorithms=[ALGORITHM], issuer=self.issuer,
                options={"require": ["exp", "iat", "client_id", "scope"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRejected(401, "token expired") from None
        except jwt.InvalidSignatureError:
            raise TokenRejected(401, "bad token signature") from None
        except jwt.InvalidTokenError as error:
            raise TokenRejected(401, f"invalid token: {error}") from None
        if claims.get("token_use") != "access":
            raise TokenRejected(401, "not an access token")
        if needed_scope not in str(claims["scope"]).split():
            raise TokenRejected(403, f"token lacks scope {needed_scope}")
        return claims
