"""A vendor that costs this machine nothing a remote vendor would not, for ceiling rows.

A remote vendor's CPU is not ours, but the simulator's is: on two shared cores, a ceiling
measured against it is slowed by the simulator more than the product is, and the ratio flatters
the product. So the benchmark first runs each row once, untimed, through a recording proxy in
front of the simulator (`record`), then times the rows against a server that answers every
request with the bytes recorded for it, all encoded before the clock starts (`serve`): per
request, an HTTP parse, a dict look-up and a socket write.

A request never recorded answers 404 naming it, so a row that strays from what was recorded
fails loudly rather than measuring something else.

    python benchmarks/replay_server.py record --store S --port P --upstream http://127.0.0.1:Q
    python benchmarks/replay_server.py serve --store S --port P
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import pickle
import socket
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import uvicorn

Key = tuple[str, str, tuple[tuple[str, str], ...]]
Answer = tuple[int, bytes, bytes]  # status, content type, body

Scope = dict[str, Any]


def request_key(method: str, path: str, query: bytes | str) -> Key:
    """A request's identity: method, path and its query parameters in a fixed order (so two
    clients that order parameters differently ask the same question)."""
    text = query.decode() if isinstance(query, bytes) else query
    return method, path, tuple(sorted(parse_qsl(text, keep_blank_values=True)))


async def _respond(send: Any, status: int, content_type: bytes, body: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Recorder:
    """An ASGI proxy to `upstream` that keeps each answer it forwards."""

    def __init__(self, upstream: str) -> None:
        self.upstream = httpx.AsyncClient(base_url=upstream, timeout=600)
        self.answers: dict[Key, Answer] = {}

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [(k.decode(), v.decode()) for k, v in scope["headers"] if k != b"host"]
        response = await self.upstream.request(
            scope["method"],
            scope["path"],
            params=scope["query_string"].decode(),
            headers=headers,
            content=body,
        )
        content_type = response.headers.get("content-type", "application/json").encode()
        if response.status_code == 200:
            key = request_key(scope["method"], scope["path"], scope["query_string"])
            self.answers[key] = (200, content_type, response.content)
        await _respond(send, response.status_code, content_type, response.content)


class Replayer:
    """An ASGI app answering each recorded request with its recorded bytes."""

    def __init__(self, answers: dict[Key, Answer]) -> None:
        self.answers = answers

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/":
            await _respond(send, 200, b"application/json", b'{"replay": true}')
            return
        answer = self.answers.get(
            request_key(scope["method"], scope["path"], scope["query_string"])
        )
        if answer is None:
            message = (
                f"not recorded: {scope['method']} {scope['path']}?{scope['query_string'].decode()}"
            )
            await _respond(send, 404, b"text/plain", message.encode())
            return
        await _respond(send, *answer)


def _serve(app: Any, port: int) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        http="httptools",
        loop="uvloop",
        timeout_keep_alive=30,
    )
    server = uvicorn.Server(config)
    asyncio.run(server.serve(sockets=[sock]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["record", "serve"])
    parser.add_argument("--store", required=True, help="file of recorded answers")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", help="record: the simulator's base URL")
    args = parser.parse_args()
    store = Path(args.store)
    if args.mode == "serve":
        with contextlib.suppress(KeyboardInterrupt):  # how the benchmark stops it
            _serve(Replayer(pickle.loads(store.read_bytes())), args.port)
        return
    if not args.upstream:
        parser.error("record needs --upstream")
    recorder = Recorder(args.upstream)
    try:  # stopped with SIGINT (KeyboardInterrupt once uvicorn has shut down): then written
        with contextlib.suppress(KeyboardInterrupt):
            _serve(recorder, args.port)
    finally:
        # answers already recorded (an earlier recording of the same store) are kept
        earlier = pickle.loads(store.read_bytes()) if store.exists() else {}
        store.write_bytes(pickle.dumps({**earlier, **recorder.answers}))


if __name__ == "__main__":
    main()
