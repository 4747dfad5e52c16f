"""`HttptoolsTransport` and the client's fast path against a scripted HTTP/1.1 server on a local
socket."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from legato.client import AsyncClient, TransportError
from legato.client.transport import HttptoolsTransport

pytestmark = pytest.mark.timeout(20)

Handler = Callable[[int, int, bytes, bytes], Any]  # (connection no, request no, head, body)


class ScriptedServer:
    """Answers each request with what `handler` returns: bytes to write (None: close the
    connection without answering; a float: sleep that long first)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[tuple[int, bytes, bytes]] = []
        self.server: asyncio.Server | None = None

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        conn_no = self.connections
        n = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = await reader.readexactly(length)
                n += 1
                self.requests.append((conn_no, head, body))
                answer = self.handler(conn_no, n, head, body)
                if isinstance(answer, float):
                    await asyncio.sleep(answer)
                    answer = ok(b"late")
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
                if b"Connection: close" in answer:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"


def ok(body: bytes = b"ok", *headers: bytes) -> bytes:
    extra = b"".join(h + b"\r\n" for h in headers)
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


@pytest.fixture
async def scripted() -> AsyncIterator[Callable[[Handler], Any]]:
    servers: list[asyncio.Server] = []

    async def start(handler: Handler) -> ScriptedServer:
        s = ScriptedServer(handler)
        s.server = await asyncio.start_server(s.serve, "127.0.0.1", 0)
        servers.append(s.server)
        return s

    yield start
    for server in servers:
        server.close()


async def test_keeps_connections_alive(scripted: Any) -> None:
    server = await scripted(lambda c, n, head, body: ok(b"n=%d" % n))
    async with httpx.AsyncClient(transport=HttptoolsTransport(), base_url=server.url) as client:
        answers = [(await client.get("/a")).text for _ in range(3)]
        posted = await client.post("/b", content=b"hello")
    assert answers == ["n=1", "n=2", "n=3"]
    assert posted.text == "n=4"
    assert server.connections == 1
    assert server.requests[-1][2] == b"hello"
    assert b"Content-Length: 5" in server.requests[-1][1]


async def test_concurrent_requests_use_several_connections(scripted: Any) -> None:
    server = await scripted(lambda c, n, head, body: 0.05)
    async with httpx.AsyncClient(transport=HttptoolsTransport(), base_url=server.url) as client:
        answers = await asyncio.gather(*(client.get("/") for _ in range(5)))
    assert [a.text for a in answers] == ["late"] * 5
    assert server.connections == 5


async def test_chunked_answers_and_headers(scripted: Any) -> None:
    chunked = (
        b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nX-Legato-Ignored: why\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    )
    server = await scripted(lambda c, n, head, body: chunked)
    async with httpx.AsyncClient(transport=HttptoolsTransport(), base_url=server.url) as client:
        answer = await client.get("/x", params={"q": "a b"})
    assert answer.status_code == 201 and answer.text == "hello world"
    assert answer.headers["x-legato-ignored"] == "why"
    assert server.requests[0][1].startswith(b"GET /x?q=a+b HTTP/1.1\r\n")


async def test_connection_close_is_honoured(scripted: Any) -> None:
    server = await scripted(lambda c, n, head, body: ok(b"bye", b"Connection: close"))
    async with httpx.AsyncClient(transport=HttptoolsTransport(), base_url=server.url) as client:
        await client.get("/")
        await client.get("/")
    assert server.connections == 2


async def test_a_get_on_a_connection_the_server_dropped_is_sent_again(scripted: Any) -> None:
    # The second request on the first connection gets no answer: the connection closes.
    server = await scripted(lambda c, n, head, body: None if (c, n) == (1, 2) else ok())
    async with httpx.AsyncClient(transport=HttptoolsTransport(), base_url=server.url) as client:
        await client.get("/")
        assert (await client.get("/")).text == "ok"
    assert server.connections == 2


async def test_a_post_is_not_sent_twice(scripted: Any) -> None:
    server = await scripted(lambda c, n, head, body: None if (c, n) == (1, 2) else ok(b"{}"))
    async with AsyncClient(server.url) as client:
        await client.health()
        with pytest.raises(TransportError, match="disconnected"):
            await client.start_workflow("x")
    assert len(server.requests) == 2


async def test_read_timeout(scripted: Any) -> None:
    server = await scripted(lambda c, n, head, body: 2.0)
    async with AsyncClient(server.url, timeout=0.1) as client:
        with pytest.raises(TransportError, match="did not answer in time"):
            await client.health()


async def test_connection_refused() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with AsyncClient(f"http://127.0.0.1:{port}") as client:
        with pytest.raises(TransportError, match="cannot reach Legato"):
            await client.health()


async def test_a_cancelled_request_does_not_leave_its_answer_behind(scripted: Any) -> None:
    server = await scripted(lambda c, n, head, body: 0.2 if c == 1 else ok(b"second"))
    async with httpx.AsyncClient(transport=HttptoolsTransport(), base_url=server.url) as client:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await client.get("/slow")
        answer = await client.get("/next")
    assert answer.text == "second"


async def test_an_answer_that_is_not_json_is_an_api_error(scripted: Any) -> None:
    from legato.client import ApiError

    server = await scripted(lambda c, n, head, body: ok(b"<html>"))
    async with AsyncClient(server.url) as client:
        with pytest.raises(ApiError, match="Unexpected answer") as caught:
            await client.health()
    assert caught.value.status_code == 200


async def test_the_clients_fast_path_renders_requests_like_httpx(scripted: Any) -> None:
    server = await scripted(lambda c, n, head, body: ok(b"[]", b"Content-Type: application/json"))
    async with AsyncClient(server.url + "/prefix", headers={"X-Authorization": "t"}) as client:
        assert client._fast is not None
        await client.poll_tasks("a b", worker_id="w 1", count=2)
        await client.update_task({"taskId": "t", "workflowInstanceId": "w", "status": "COMPLETED"})
    (_, poll_head, _), (_, update_head, update_body) = server.requests
    assert poll_head.startswith(
        b"GET /prefix/api/tasks/poll/batch/a%20b?workerid=w+1&count=2&timeout=100 HTTP/1.1\r\n"
    )
    assert b"\r\nX-Authorization: t\r\n" in poll_head
    assert b"\r\nHost: 127.0.0.1:" in poll_head
    assert update_head.startswith(b"POST /prefix/api/tasks HTTP/1.1\r\n")
    assert b"Content-Type: application/json\r\n" in update_head
    assert update_body.startswith(b'{"taskId":"t"')


async def test_a_proxy_in_the_environment_turns_the_fast_path_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    async with AsyncClient("http://127.0.0.1:9") as client:
        assert client._fast is None
