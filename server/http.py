"""Streamable HTTP transport: the MCP endpoint at ``/mcp``, guarded, served by uvicorn.

Security model (see docs/mcp-server.md):

- Binds to 127.0.0.1 by default. Binding anywhere else requires a bearer token (``LIFECYCLE_MCP_TOKEN``);
  without one the server refuses to start.
- Host and Origin headers are always validated (DNS-rebinding protection, the SDK's
  ``TransportSecuritySettings``): allowed hosts are the bound ``host:port`` plus its loopback variants
  (and any ``--allow-host``); allowed origins are those hosts over http/https plus any ``--allow-origin``.
  A bad Host is answered 421, a foreign Origin 403.
- Request bodies above ``max_body_bytes`` (default 1 MiB) are answered 413 (the SDK's body limit).
- With a token set, every request needs ``Authorization: Bearer <token>`` (401 otherwise), checked by
  ``BearerTokenMiddleware`` in constant time before anything else runs.

Sessions (stateful streamable HTTP, one per client): the server forgets a session when its client ends it (the SDK
client sends DELETE on close) and reaps one that has had no request in flight and no open event stream for
``SESSION_IDLE_S`` (10 minutes; the SDK's own default is 30) — a client that vanished without saying goodbye. At most
``MAX_SESSIONS`` (1,000) are open at once; a further client gets 503 until one ends. Per-session state is a server
task and its message streams; computed results are shared by all sessions (``lifecycle.memo``).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import os
import socket
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from lifecycle.errors import ConfigError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
MCP_PATH = "/mcp"
MAX_BODY_BYTES = 1024 * 1024
TOKEN_ENV = "LIFECYCLE_MCP_TOKEN"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
SESSION_IDLE_S = 600.0
MAX_SESSIONS = 1000

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HttpSettings:
    """How the HTTP transport listens and whom it lets in."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    allow_origins: tuple[str, ...] = ()
    allow_hosts: tuple[str, ...] = ()
    token: str | None = field(default=None, repr=False)
    max_body_bytes: int = MAX_BODY_BYTES
    session_idle_s: float = SESSION_IDLE_S
    max_sessions: int = MAX_SESSIONS


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


MIN_TOKEN_CHARS = 16  # a guessable token is no guard: 16 URL-safe characters carry 96 bits of randomness
_MAKE_TOKEN = (f"e.g. `export {TOKEN_ENV}=$(python -c 'import secrets; print(secrets.token_urlsafe(32))')`")


def check_exposure(settings: HttpSettings) -> None:
    """Refuse to listen beyond loopback without a bearer token, or with one shorter than ``MIN_TOKEN_CHARS``
    (``ConfigError`` with the fix)."""
    if is_loopback(settings.host):
        return
    if not settings.token:
        raise ConfigError(
            f"refusing to listen on {settings.host} without a token: anyone who can reach this port could read "
            f"the dataset. Set {TOKEN_ENV} to a long random secret ({_MAKE_TOKEN}), or bind to 127.0.0.1"
        )
    if len(settings.token) < MIN_TOKEN_CHARS:
        raise ConfigError(
            f"refusing to listen on {settings.host} with a {len(settings.token)}-character token: anyone who can reach "
            f"this port could guess it. Set {TOKEN_ENV} to a random secret of at least {MIN_TOKEN_CHARS} characters "
            f"({_MAKE_TOKEN}), or bind to 127.0.0.1"
        )


def _host_with_port(host: str, port: int) -> str:
    name = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"{name}:{port}"


def security_settings(settings: HttpSettings) -> TransportSecuritySettings:
    """The SDK's Host/Origin validation for this listener (always enabled)."""
    hosts = [_host_with_port(settings.host, settings.port)]
    hosts += [_host_with_port(name, settings.port) for name in LOOPBACK_NAMES]
    hosts += list(settings.allow_hosts)
    hosts = list(dict.fromkeys(hosts))
    origins = [f"{scheme}://{host}" for host in hosts for scheme in ("http", "https")]
    origins += [origin.rstrip("/") for origin in settings.allow_origins]
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts,
                                     allowed_origins=list(dict.fromkeys(origins)))


class BearerTokenMiddleware:
    """ASGI middleware: every HTTP request must carry ``Authorization: Bearer <token>`` (401 otherwise)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._expected = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self._authorised(Headers(scope=scope)):
            await _send_json(send, 401, {"error": "unauthorized",
                                         "message": f"send Authorization: Bearer <token> (the value of {TOKEN_ENV})"},
                             extra_headers=[(b"www-authenticate", b'Bearer realm="lifecycle-mcp"')])
            return
        await self.app(scope, receive, send)

    def _authorised(self, headers: Headers) -> bool:
        scheme, _, credentials = headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(credentials.strip().encode(), self._expected)


async def _send_json(send: Send, status: int, body: dict[str, str], extra_headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    payload = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()), *extra_headers]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def build_http_app(server: MCPServer, settings: HttpSettings) -> ASGIApp:
    """The ASGI app serving ``server`` at ``/mcp`` with Host/Origin checks, the body cap, session reaping and the
    optional token."""
    check_exposure(settings)
    app: ASGIApp = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        max_request_body_size=settings.max_body_bytes,
        session_idle_timeout=settings.session_idle_s,
        max_sessions=settings.max_sessions,
        transport_security=security_settings(settings),
        host=settings.host,
    )
    if settings.token:
        app = BearerTokenMiddleware(app, settings.token)
    return app


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0 picks a free one)."""
    family, kind, proto, _, address = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    sock.listen(128)
    return sock


def serve_http(server: MCPServer, settings: HttpSettings, on_listening: Callable[[], object] | None = None) -> None:
    """Bind, print the endpoint URL to stderr, start priming the server's data range and default snapshot
    (``server.prime``, for a server built by ``server.app.build_server``), call ``on_listening`` (the warm-up starts
    there), and serve until interrupted."""
    import uvicorn

    check_exposure(settings)
    sock = bind_socket(settings.host, settings.port)
    bound = replace(settings, port=sock.getsockname()[1])
    app = build_http_app(server, bound)
    url = f"http://{_host_with_port(bound.host, bound.port)}{MCP_PATH}"
    print(f"Lifecycle MCP serving streamable HTTP at {url}" + (" (bearer token required)" if bound.token else ""),
          file=sys.stderr, flush=True)
    context = getattr(server, "context", None)
    if context is not None:
        from server.prime import prime_in_background

        prime_in_background(context.source, context.config, context.gate)
    if on_listening is not None:
        on_listening()
    config = uvicorn.Config(app, log_config=None, access_log=False, log_level="warning", lifespan="on",
                            timeout_graceful_shutdown=2)
    uvicorn.Server(config).run(sockets=[sock])


def open_sessions(server: MCPServer) -> int:
    """Streamable-HTTP sessions ``server`` holds right now (0 before its HTTP app was built)."""
    try:
        manager = server.session_manager
    except RuntimeError:
        return 0
    return len(manager._server_instances)  # the SDK keeps no public count


def token_from_env() -> str | None:
    """The bearer token from ``LIFECYCLE_MCP_TOKEN`` (``None`` when unset or blank)."""
    token = os.environ.get(TOKEN_ENV, "").strip()
    return token or None
