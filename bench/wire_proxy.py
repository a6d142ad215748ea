"""A MongoDB wire proxy that counts the commands a client sends (issue 20's "one counting proxy
each"): whatever the driver (pymongo's listeners cannot see a Node process), each OP_MSG from
client to server is one round trip, named by its command (the body's first key). Replies are
copied through untouched. Used by bench/original_side_by_side.py.

    with WireProxy(upstream_port) as proxy:           # clients connect to 127.0.0.1:proxy.port
        began = time.perf_counter(); ...; proxy.between(began, time.perf_counter())
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

OP_MSG = 2013
# Sent by a driver on its own (monitoring, handshakes, session clean-up): not a request's work.
IGNORED = frozenset({"hello", "ismaster", "isMaster", "ping", "endSessions", "saslStart", "saslContinue",
                     "killCursors", "buildInfo", "buildinfo"})


def command_name(message: bytes) -> str | None:
    """The command of one wire message (header included), or None when it is not an OP_MSG with a
    body section (an OP_QUERY handshake, say)."""
    if len(message) < 21 or struct.unpack_from("<i", message, 12)[0] != OP_MSG:
        return None
    at = 20  # header (16) + flagBits (4)
    while at < len(message):
        kind = message[at]
        if kind == 0:  # the body: a BSON document whose first element names the command
            start = at + 1 + 4 + 1  # kind, the document's length, the element's type
            end = message.index(b"\x00", start)
            return message[start:end].decode()
        if kind == 1:  # a document sequence: int32 size (itself included), identifier, documents
            (size,) = struct.unpack_from("<i", message, at + 1)
            at += 1 + size
            continue
        return None
    return None


def _read_exactly(sock: socket.socket, count: int) -> bytes | None:
    chunks, have = [], 0
    while have < count:
        chunk = sock.recv(count - have)
        if not chunk:
            return None
        chunks.append(chunk)
        have += len(chunk)
    return b"".join(chunks)


@dataclass
class WireProxy:
    """Listens on a free port of 127.0.0.1 and forwards every connection to `upstream_port`."""

    upstream_port: int
    upstream_host: str = "127.0.0.1"
    seen: list[tuple[float, str]] = field(default_factory=list)  # (perf_counter when read, command)
    port: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(256)
        self.port = self._listener.getsockname()[1]
        self._closed = False
        self._sockets: list[socket.socket] = []

    def __enter__(self) -> WireProxy:
        threading.Thread(target=self._accept, name="wire-proxy-accept", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._closed = True
        for sock in [self._listener, *self._sockets]:
            with contextlib.suppress(OSError):
                sock.close()

    def between(self, began: float, ended: float) -> list[str]:
        """The commands read from clients in [began, ended], the driver's own left out."""
        with self._lock:
            return [name for at, name in self.seen if began <= at <= ended and name not in IGNORED]

    def forget(self) -> None:
        with self._lock:
            self.seen.clear()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection((self.upstream_host, self.upstream_port))
            except OSError:
                client.close()
                continue
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sockets += [client, upstream]
            threading.Thread(target=self._requests, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._replies, args=(upstream, client), daemon=True).start()

    def _requests(self, client: socket.socket, upstream: socket.socket) -> None:
        try:
            while True:
                header = _read_exactly(client, 16)
                if header is None:
                    break
                (length,) = struct.unpack_from("<i", header)
                rest = _read_exactly(client, length - 16)
                if rest is None:
                    break
                message = header + rest
                name = command_name(message)
                if name is not None:
                    with self._lock:
                        self.seen.append((time.perf_counter(), name))
                upstream.sendall(message)
        except OSError:
            pass
        finally:
            _shut(upstream)

    @staticmethod
    def _replies(upstream: socket.socket, client: socket.socket) -> None:
        try:
            while chunk := upstream.recv(65536):
                client.sendall(chunk)
        except OSError:
            pass
        finally:
            _shut(client)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
