"""`lifecycle serve --http` as a subprocess: the real client works, and the listener's guards hold.

Raw requests go through ``http.client`` so the Host, Origin and Authorization headers are exactly the test's.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import subprocess
import threading
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from lifecycle.errors import ConfigError
from server.app import TOOL_MODULES
from server.http import MAX_BODY_BYTES, HttpSettings, check_exposure, is_loopback, security_settings
from tests.server.helpers import TINY_ROWS, RunningServer, serve_args, server_env, start_http_server, stop
from tests.server.transport_session import check, exercise
from tools.describe_dataset import DescribeDatasetResult

TIMEOUT_S = 60
INITIALIZE = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                         "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                                    "clientInfo": {"name": "raw", "version": "0"}}})


def post(server: RunningServer, body: str | bytes = INITIALIZE, **headers: str) -> int:
    """POST ``body`` to /mcp with the given headers (Host defaults to the bound host:port); the status code."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=TIMEOUT_S)
    sent = {"Host": f"{server.host}:{server.port}", "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream"}
    sent.update({name.replace("_", "-"): value for name, value in headers.items()})
    try:
        conn.request("POST", "/mcp", body=body, headers=sent)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


async def _describe(url: str, headers: dict[str, str] | None = None) -> DescribeDatasetResult:
    with anyio.fail_after(TIMEOUT_S):
        if headers is None:
            client = Client(url)
        else:
            client = Client(streamable_http_client(url, http_client=httpx2.AsyncClient(headers=headers, timeout=30)))
        async with client:
            tools = [tool.name for tool in (await client.list_tools()).tools]
            result = await client.call_tool("describe_dataset", {})
    assert tools == [m.NAME for m in TOOL_MODULES]
    assert result.is_error is False
    return DescribeDatasetResult.model_validate(result.structured_content)


@pytest.mark.anyio
async def test_http_client_lists_and_calls_describe_dataset(http_server: RunningServer) -> None:
    data = await _describe(http_server.url)
    assert {t.name: t.rows for t in data.tables} == TINY_ROWS


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"], ids=["2025-11-25", "2026-07-28"])
async def test_http_session_covers_the_surface_on_both_protocol_revisions(http_server: RunningServer, mode: str) -> None:
    with anyio.fail_after(TIMEOUT_S * 2):
        async with Client(http_server.url, mode=mode) as client:
            outcome = await exercise(client)
            version = client.protocol_version
    assert version == ("2025-11-25" if mode == "legacy" else mode)
    check(outcome)


def test_the_url_is_printed_on_stderr_and_binds_loopback(http_server: RunningServer) -> None:
    assert http_server.host == "127.0.0.1" and http_server.url.endswith("/mcp")


@pytest.mark.parametrize("host", ["evil.example.com", "evil.example.com:{port}", "127.0.0.1:1", "localhost.evil.com:{port}"])
def test_a_foreign_host_header_is_rejected(http_server: RunningServer, host: str) -> None:
    """DNS-rebinding protection: the SDK answers 421 Misdirected Request."""
    assert post(http_server, Host=host.format(port=http_server.port)) == 421


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}"])
def test_loopback_host_headers_are_accepted(http_server: RunningServer, host: str) -> None:
    assert post(http_server, Host=host.format(port=http_server.port)) == 200


@pytest.mark.parametrize("origin", ["http://evil.example.com", "https://app.example.com.evil.com", "http://127.0.0.1:1"])
def test_a_foreign_origin_is_rejected(http_server: RunningServer, origin: str) -> None:
    assert post(http_server, Origin=origin) == 403


@pytest.mark.parametrize("origin", ["http://127.0.0.1:{port}", "http://localhost:{port}", "https://app.example.com"])
def test_same_host_and_allowed_origins_are_accepted(http_server: RunningServer, origin: str) -> None:
    """https://app.example.com is allowed by --allow-origin in the fixture."""
    assert post(http_server, Origin=origin.format(port=http_server.port)) == 200


def upload_status(server: RunningServer, size: int, declared: bool = True) -> int:
    """Upload ``size`` bytes (Content-Length or chunked) from a thread while reading the status line.

    Reading concurrently keeps the test deterministic: the server answers 413 as soon as it knows the body
    is too big and may close the connection mid-upload.
    """
    framing = f"Content-Length: {size}" if declared else "Transfer-Encoding: chunked"
    head = (f"POST /mcp HTTP/1.1\r\nHost: {server.host}:{server.port}\r\nContent-Type: application/json\r\n"
            f"Accept: application/json, text/event-stream\r\n{framing}\r\nConnection: close\r\n\r\n").encode()
    chunk = b" " * 65536

    def upload(sock: socket.socket) -> None:
        sent = 0
        with contextlib.suppress(OSError):
            while sent < size:
                part = chunk[: size - sent]
                sock.sendall(part if declared else f"{len(part):x}\r\n".encode() + part + b"\r\n")
                sent += len(part)
            if not declared:
                sock.sendall(b"0\r\n\r\n")

    with socket.create_connection((server.host, server.port), timeout=TIMEOUT_S) as sock:
        sock.sendall(head)
        sender = threading.Thread(target=upload, args=(sock,), daemon=True)
        sender.start()
        status_line = sock.makefile("rb").readline()
        sender.join(TIMEOUT_S)
    return int(status_line.split()[1])


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_body_over_the_cap_is_rejected_with_413(http_server: RunningServer, declared: bool) -> None:
    assert upload_status(http_server, MAX_BODY_BYTES + 1, declared) == 413


def test_a_body_at_the_cap_is_not_rejected_for_size(http_server: RunningServer) -> None:
    """Same request padded with whitespace to exactly the cap: valid JSON, so it is answered normally."""
    body = INITIALIZE.encode()
    assert post(http_server, body=body + b" " * (MAX_BODY_BYTES - len(body))) == 200


@pytest.fixture(scope="module")
def token_server(tiny_db: Path, tmp_path_factory: pytest.TempPathFactory):
    data_dir = tmp_path_factory.mktemp("data")
    server = start_http_server(tiny_db, data_dir, env=server_env(data_dir, LIFECYCLE_MCP_TOKEN="s3cret-token"))
    yield server
    stop(server)


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", "Basic s3cret-token", "Bearer s3cret-token-and-more"])
def test_with_a_token_set_requests_without_it_get_401(token_server: RunningServer, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    assert post(token_server, **headers) == 401


def test_with_a_token_set_the_right_bearer_token_is_accepted(token_server: RunningServer) -> None:
    assert post(token_server, Authorization="Bearer s3cret-token") == 200


@pytest.mark.anyio
async def test_http_client_with_the_token_calls_describe_dataset(token_server: RunningServer) -> None:
    data = await _describe(token_server.url, {"Authorization": "Bearer s3cret-token"})
    assert data.tables[0].rows == TINY_ROWS["customers"]


def test_binding_beyond_loopback_without_a_token_is_refused(tiny_db: Path, isolated_data_dir: Path) -> None:
    done = subprocess.run(serve_args("--db", str(tiny_db), "--http", "--host", "0.0.0.0", "--port", "0"),
                          capture_output=True, text=True, timeout=TIMEOUT_S, env=server_env(isolated_data_dir))
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith("Error: refusing to listen on 0.0.0.0 without a token")
    assert "LIFECYCLE_MCP_TOKEN" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("token", ["x", "s3cret-token-15"])
def test_binding_beyond_loopback_with_a_short_token_is_refused(token: str) -> None:
    """Fewer than 16 characters is refused beyond loopback (15 here is the longest refused); loopback accepts any."""
    with pytest.raises(ConfigError, match=f"with a {len(token)}-character token"):
        check_exposure(HttpSettings(host="0.0.0.0", token=token))
    check_exposure(HttpSettings(host="0.0.0.0", token="s3cret-token-16c"))
    check_exposure(HttpSettings(host="127.0.0.1", token=token))


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("127.1.2.3", True), ("localhost", True), ("::1", True),
                                               ("[::1]", True), ("0.0.0.0", False), ("192.168.1.5", False), ("::", False),
                                               ("example.com", False)])
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_allowed_hosts_are_the_bound_address_and_its_loopback_variants() -> None:
    settings = security_settings(HttpSettings(host="127.0.0.1", port=9000, allow_origins=("https://app.example.com/",)))
    assert settings.enable_dns_rebinding_protection is True
    assert settings.allowed_hosts == ["127.0.0.1:9000", "localhost:9000", "[::1]:9000"]
    assert "http://localhost:9000" in settings.allowed_origins and "https://app.example.com" in settings.allowed_origins
    assert not any(value.endswith(":*") for value in settings.allowed_hosts + settings.allowed_origins)
