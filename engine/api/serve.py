"""``rp2 serve``: the engine behind a local HTTP API, with its queue workers and timeout schedule in threads.

Backends:
- ``moto`` (default): an embedded moto server on a free port (or the one at --endpoint-url); the table,
  bucket, queues and topic are provisioned, and the OAuth2 clients are app clients of a Cognito user pool
  in that moto server (resource server ``rp2`` with scopes ``read`` and ``write``, client-credentials flow).
- ``aws``: resources that already exist (real AWS with the usual credentials, or --endpoint-url); nothing
  is created there, and the OAuth2 clients are generated locally.
Tokens are always issued and verified by this server (moto has no Cognito token endpoint).
"""

from __future__ import annotations

import logging
import secrets
import signal
import threading
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, replace

import boto3

from engine.api.http import ROUTE_SCOPES, TOKEN_PATH, Rp2Server
from engine.api.tokens import DEFAULT_TTL_SECONDS, SCOPES, Client, TokenService
from engine.local_runtime import STEPS, LocalRuntime
from engine.settings import Settings

log = logging.getLogger(__name__)

MOTO_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "aws_session_token": "testing"}
USER_POOL_NAME = "rp2-{deployment}"
RESOURCE_SERVER = "rp2"


@dataclass(frozen=True)
class ServeOptions:
    port: int = 8080
    backend: str = "moto"
    endpoint_url: str | None = None
    clients: int = 1
    token_ttl: int = DEFAULT_TTL_SECONDS
    signing_key: bytes | None = None
    poll_seconds: float = 0.2
    timeout_every_seconds: float = 60.0


class Workers:
    """The event source mappings and the schedule: poll each queue, run the timeout job every so often."""

    def __init__(self, runtime: LocalRuntime, options: ServeOptions) -> None:
        self._runtime = runtime
        self._options = options
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._poll_queues, name="rp2-workers", daemon=True),
            threading.Thread(target=self._schedule, name="rp2-timeout-schedule", daemon=True),
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)

    def _poll_queues(self) -> None:
        while not self._stop.is_set():
            progress = 0
            for step in STEPS:
                try:
                    done, _failed = self._runtime.run_worker_once(step)
                except Exception:
                    log.exception("worker poll failed", extra={"step": step})
                    done = 0
                    self._stop.wait(1.0)
                progress += done
            if progress == 0:
                self._stop.wait(self._options.poll_seconds)

    def _schedule(self) -> None:
        while not self._stop.wait(self._options.timeout_every_seconds):
            try:
                expired = self._runtime.run_timeout_job()
            except Exception:
                log.exception("timeout job failed")
                continue
            if expired:
                log.info("timeout job rejected %d transaction(s)", len(expired))


def moto_clients(session: boto3.Session, settings: Settings, count: int) -> list[Client]:
    """A Cognito user pool with the rp2 resource server and ``count`` client-credentials app clients."""
    from engine.adapters.aws.clients import aws_client

    cognito = aws_client(session, "cognito-idp", settings)
    pool = cognito.create_user_pool(PoolName=USER_POOL_NAME.format(deployment=settings.deployment_id))["UserPool"]["Id"]
    cognito.create_resource_server(
        UserPoolId=pool,
        Identifier=RESOURCE_SERVER,
        Name=RESOURCE_SERVER,
        Scopes=[
            {"ScopeName": "read", "ScopeDescription": "POST /outbox, GET /"},
            {"ScopeName": "write", "ScopeDescription": "GET /uuid, POST /inbox"},
        ],
    )
    clients = []
    for number in range(1, count + 1):
        created = cognito.create_user_pool_client(
            UserPoolId=pool,
            ClientName=f"rp2-local-{number}",
            GenerateSecret=True,
            AllowedOAuthFlows=["client_credentials"],
            AllowedOAuthScopes=list(SCOPES),
            AllowedOAuthFlowsUserPoolClient=True,
        )["UserPoolClient"]
        clients.append(Client(created["ClientId"], created["ClientSecret"], tuple(created["AllowedOAuthScopes"])))
    return clients


def generated_clients(count: int) -> list[Client]:
    return [Client(f"rp2-local-{secrets.token_hex(8)}", secrets.token_urlsafe(32)) for _ in range(count)]


def serve(settings: Settings, options: ServeOptions, say: Callable[[str], None] = print) -> None:
    """Run until Ctrl-C or SIGTERM, then stop the HTTP server, the workers and the embedded moto server."""
    from engine.adapters.aws import aws_ports
    from engine.adapters.aws.provision import provision

    with ExitStack() as cleanup:
        endpoint = options.endpoint_url
        if options.backend == "moto":
            if endpoint is None:
                endpoint = start_moto_server(cleanup)
                say(f"embedded moto server at {endpoint}")
            session = boto3.Session(region_name=settings.region, **MOTO_CREDENTIALS)
        else:
            session = boto3.Session(region_name=settings.region)
        settings = replace(settings, endpoint_url=endpoint)
        if options.backend == "moto":
            provision(settings, session)
            clients = moto_clients(session, settings, options.clients)
        else:
            clients = generated_clients(options.clients)
        ports = aws_ports(settings, session)
        runtime = LocalRuntime(ports, ports.queues)

        server = Rp2Server(options.port, runtime.api, TokenService(clients, issuer="", key=options.signing_key, ttl_seconds=options.token_ttl),
                           settings.max_message_bytes, settings.region)
        server.tokens.issuer = server.url
        cleanup.callback(server.server_close)
        workers = Workers(runtime, options)
        workers.start()
        cleanup.callback(workers.stop)

        stopping = threading.Event()

        def stop(signum: int, frame: object) -> None:
            if not stopping.is_set():
                stopping.set()
                threading.Thread(target=server.shutdown, name="rp2-shutdown").start()

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        cleanup.callback(lambda: [signal.signal(sig, handler) for sig, handler in previous.items()])

        say(f"rp2 serve: {server.url}  (backend {options.backend}, region {settings.region}, deployment {settings.deployment_id})")
        say(f"  AWS endpoint   {endpoint or 'AWS'}")
        say(f"  token          POST {server.url}{TOKEN_PATH}  (client credentials, HTTP Basic or form; scopes {' '.join(SCOPES)}; "
            f"tokens last {options.token_ttl} s)")
        for client in clients:
            say(f"  client_id      {client.client_id}")
            say(f"  client_secret  {client.secret}")
        say("  routes         " + "  ".join(f"{m} {p} ({scope or 'open'})" for (m, p), scope in ROUTE_SCOPES.items()))
        say(f"  body limit     {settings.max_message_bytes} bytes (RP2_MAX_MESSAGE_BYTES)")
        say("ready; Ctrl-C stops")
        server.serve_forever(poll_interval=0.2)
        say("stopping")
    say("stopped")


def start_moto_server(cleanup: ExitStack) -> str:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    cleanup.callback(moto.stop)
    host, port = moto.get_host_and_port()
    return f"http://{host}:{port}"
