"""A local stand-in for API Gateway's WebSocket API, used by `make run` and the e2e tests.

    python -m local.ws_gateway [--host 127.0.0.1] [--port 8001] [--http-port 8002] [--api http://127.0.0.1:8000]

- `ws://HOST:PORT/?token=JWT`: a real WebSocket server (the `websockets` library). For each
  client it makes a connection id and calls the app's own `ws_connect`, `ws_message` and
  `ws_disconnect` Lambdas (`app.handler_map`, the entry points Lambda would call) with
  API-Gateway-shaped `$connect` / `$default` / `$disconnect` events. A `$connect` answer other
  than 200 refuses the handshake with that status, as API Gateway does.
- `http://HOST:HTTP_PORT/@connections/{id}`: the management API (`POST` sends a frame, `GET`
  describes the connection, `DELETE` closes it; an unknown id is 410 `GoneException`), which the
  app's sender reaches through `WS_MANAGEMENT_ENDPOINT`. The handler code does not know it is local.
  API Gateway's management API needs SigV4; this one needs the per-run secret
  `WS_MANAGEMENT_SECRET` in the header `X-Local-Gateway-Secret` (the app's sender sends it; `make
  run` makes one per run for all its processes; without it in the environment the gateway makes
  one for itself and its in-process Lambdas): anything else is 403 `ForbiddenException`, so a
  page or program on this machine cannot push frames to, read or close other people's sockets.
- The same HTTP port serves the call page (`/call/`, from `local/static/`) and forwards `/api/`
  to the REST API, so the page and the API share one origin; and, when it listens on 127.0.0.1,
  the local pages of `make run` (`local/site.py`: the inbox, Stripe events, the emergency line,
  the Cloudinary stand-in). The proxy forwards `Origin`, `Sec-Fetch-Site` and the page's `Host`
  (with `X-Forwarded-Proto: http`), so the API's same-site rule sees what the browser did: the
  call page is its own origin, a foreign page's form is refused.
- Every request on both ports must name this gateway in its `Host` header (`127.0.0.1:<port>`,
  `localhost:<port>`, or the `--host` it listens on): a page whose DNS name was rebound to
  127.0.0.1 gets 403 (DNS rebinding).

Like API Gateway it limits a message to 128 KB, closes a connection after 10 idle minutes
(`--idle-timeout`) and after 2 hours (`--max-duration`), and invokes the Lambda per message
without waiting for the previous one, so frames of one connection are not promised to be
handled in order (up to 4 in flight per connection; a thread pool of 8 stands in for Lambda's
concurrency).
Ctrl-C (SIGINT) or SIGTERM closes every connection (each gets its `$disconnect`) and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hmac
import json
import mimetypes
import os
import re
import secrets
import signal
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from functions.signaling.sender import MANAGEMENT_AUTH_HEADER
from local.site import LocalSite, Request

STATIC = Path(__file__).resolve().parent / "static"
MAX_MESSAGE = 128 * 1024
_MANAGEMENT_PATH = re.compile(r"^(?:/[^/@]+)?/@connections/([^/?]+)$")
LOOPBACK_NAMES = ("127.0.0.1", "localhost")


def names_us(hosts: list[str], host: str, port: int) -> bool:
    """Exactly one `Host` header, naming this gateway on `port` (DNS rebinding is refused)."""
    ours = {f"{name}:{port}".lower() for name in {*LOOPBACK_NAMES, host}}
    return len(hosts) == 1 and hosts[0].strip().lower() in ours


def new_connection_id() -> str:
    """Shaped like API Gateway's: 12 random bytes, base64 (so ids may hold `+`, `/`, `=`)."""
    return base64.b64encode(os.urandom(11)).decode()


class Gateway:
    def __init__(self, handlers: dict[str, Any], host: str, port: int, http_port: int, api: str,
                 idle_timeout: float = 600, max_duration: float = 7200, workers: int = 8,
                 per_connection: int = 4, log_connections: bool = False, site: LocalSite | None = None,
                 secret: str = "") -> None:
        self.handlers, self.host, self.port, self.http_port, self.api = handlers, host, port, http_port, api
        self.site = site
        self.secret = secret or secrets.token_urlsafe(32)
        self.log_connections = log_connections
        self.idle_timeout, self.max_duration, self.per_connection = idle_timeout, max_duration, per_connection
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lambda")
        self.live: dict[str, Any] = {}  # connection id -> websockets ServerConnection
        self.pending: dict[str, list[str]] = {}  # accepted by $connect, handshake not finished yet
        self.meta: dict[str, dict[str, Any]] = {}
        self.ids: dict[int, str] = {}
        self.lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stop = asyncio.Event()

    # ------------------------------------------------------------ events like API Gateway's

    def event(self, route_key: str, cid: str, body: str | None = None, binary: bool = False,
              extra: dict[str, Any] | None = None) -> dict[str, Any]:
        meta = self.meta.get(cid, {})
        event_type = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route_key, "MESSAGE")
        context = {"routeKey": route_key, "eventType": event_type, "connectionId": cid,
                   "domainName": f"{self.host}:{self.port}", "stage": "local", "apiId": "local",
                   "requestId": uuid.uuid4().hex, "messageId": uuid.uuid4().hex[:16],
                   "requestTimeEpoch": int(time.time() * 1000), "connectedAt": meta.get("connectedAt", 0),
                   "identity": {"sourceIp": meta.get("sourceIp", "127.0.0.1"),
                                "userAgent": meta.get("userAgent", "")}}
        return {"requestContext": context, "isBase64Encoded": binary, "body": body, **(extra or {})}

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        from chalice.local import LambdaContext

        try:
            return self.handlers[name](event, LambdaContext(name, memory_size=256))
        except Exception as exc:  # a Lambda error: API Gateway answers 500 and keeps the socket
            print(f"ws_gateway: {name} failed: {type(exc).__name__}: {exc}", flush=True)
            return {"statusCode": 500}

    async def call(self, name: str, event: dict[str, Any]) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, self.invoke, name, event)

    # ------------------------------------------------------------ WebSocket side

    async def process_request(self, connection: Any, request: Any) -> Any:
        from websockets.datastructures import Headers

        headers: Headers = request.headers
        if not names_us(headers.get_all("Host"), self.host, self.port):
            return connection.respond(403, "Refused: the Host header must name this gateway\n")
        cid = new_connection_id()
        self.ids[id(connection)] = cid
        query = dict(parse_qsl(urlsplit(request.path).query))
        remote = connection.remote_address[0] if connection.remote_address else "127.0.0.1"
        self.meta[cid] = {"connectedAt": int(time.time() * 1000), "sourceIp": remote,
                          "userAgent": headers.get("User-Agent", ""), "since": datetime.now(UTC)}
        with self.lock:
            self.pending[cid] = []
        event = self.event("$connect", cid, extra={
            "queryStringParameters": query or None,
            "headers": {k: v for k, v in headers.raw_items()},
        })
        result = await self.call("ws_connect", event)
        status = int((result or {}).get("statusCode", 200))
        if status != 200:
            with self.lock:
                self.pending.pop(cid, None)
            self.meta.pop(cid, None)
            return connection.respond(status, "Forbidden\n" if status == 403 else "Refused\n")
        return None

    async def serve_connection(self, connection: Any) -> None:
        cid = self.ids.pop(id(connection))
        with self.lock:
            queued = self.pending.pop(cid, [])
            self.live[cid] = connection
        started = time.monotonic()
        in_flight: set[asyncio.Task[Any]] = set()
        slots = asyncio.Semaphore(self.per_connection)
        try:
            for text in queued:
                await connection.send(text)
            while True:
                left = self.max_duration - (time.monotonic() - started)
                if left <= 0:
                    await connection.close(1001, "Going away")
                    break
                try:
                    message = await asyncio.wait_for(connection.recv(), timeout=min(self.idle_timeout, left))
                except TimeoutError:
                    await connection.close(1001, "Going away")
                    break
                if isinstance(message, bytes):
                    event = self.event("$default", cid, base64.b64encode(message).decode(), binary=True)
                else:
                    event = self.event("$default", cid, message)
                # Like API Gateway, which invokes the Lambda per message without waiting for the
                # previous one (so no order is promised), with a bound on what is in flight.
                await slots.acquire()
                task = asyncio.create_task(self.call("ws_message", event))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
                task.add_done_callback(lambda _: slots.release())
        except Exception as exc:
            from websockets.exceptions import ConnectionClosed

            if not isinstance(exc, ConnectionClosed):
                raise
        finally:
            if in_flight:
                await asyncio.wait(in_flight)
            with self.lock:
                self.live.pop(cid, None)
            await self.call("ws_disconnect", self.event("$disconnect", cid))
            self.meta.pop(cid, None)
            if self.log_connections:
                print(f"ws_gateway: $disconnect of {cid} handled", flush=True)

    # ------------------------------------------------------------ management API (called from other threads)

    def authorized(self, presented: str | None) -> bool:
        """The management API's stand-in for SigV4: the per-run secret."""
        return hmac.compare_digest((presented or "").encode(), self.secret.encode())

    def post(self, cid: str, data: bytes) -> bool:
        text = data.decode("utf-8", errors="replace")
        with self.lock:
            if cid in self.pending:
                self.pending[cid].append(text)
                return True
            connection = self.live.get(cid)
        if connection is None or self.loop is None:
            return False
        try:
            asyncio.run_coroutine_threadsafe(connection.send(text), self.loop).result(timeout=10)
        except Exception:
            return False
        return True

    def close(self, cid: str) -> bool:
        with self.lock:
            connection = self.live.get(cid)
        if connection is None or self.loop is None:
            return False
        asyncio.run_coroutine_threadsafe(connection.close(1000, "Closed by the server"), self.loop)
        return True

    def describe(self, cid: str) -> dict[str, Any] | None:
        meta = self.meta.get(cid)
        if meta is None or cid not in self.live:
            return None
        since = meta["since"].isoformat().replace("+00:00", "Z")
        return {"connectedAt": since, "lastActiveAt": since,  # the wire names (boto3 shows them capitalised)
                "identity": {"sourceIp": meta["sourceIp"], "userAgent": meta["userAgent"]}}

    # ------------------------------------------------------------ running

    async def run(self, ready: threading.Event | None = None) -> None:
        from websockets.asyncio.server import serve

        self.loop = asyncio.get_running_loop()
        http = ThreadingHTTPServer((self.host, self.http_port), _http_handler(self))
        http.daemon_threads = True
        threading.Thread(target=http.serve_forever, name="management-api", daemon=True).start()
        try:
            async with serve(self.serve_connection, self.host, self.port, process_request=self.process_request,
                             max_size=MAX_MESSAGE, ping_interval=None) as server:
                print(f"• websocket  ws://{self.host}:{self.port} (management API and call page: "
                      f"http://{self.host}:{self.http_port}/call/)", flush=True)
                if ready is not None:
                    ready.set()
                await self.stop.wait()
                server.close()
                await server.wait_closed()
        finally:
            http.shutdown()
            http.server_close()
            self.pool.shutdown(wait=True)


def _http_handler(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet, like the rest of make run
            pass

        def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body and self.command != "HEAD":
                self.wfile.write(body)

        def _gone(self) -> None:
            self._reply(410, b'{"message":"Gone"}', {"Content-Type": "application/json",
                                                     "x-amzn-ErrorType": "GoneException"})

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _management(self) -> str | None:
            match = _MANAGEMENT_PATH.match(urlsplit(self.path).path)
            return unquote(match.group(1)) if match else None

        def _refused(self) -> bool:
            """A foreign `Host` (DNS rebinding) is refused on every path; the management API also
            needs the per-run secret. True when the answer was sent."""
            if not names_us(self.headers.get_all("Host") or [], gateway.host, gateway.http_port):
                self._reply(403, b"Refused: the Host header must name this gateway.\n", {"Content-Type": "text/plain"})
                return True
            if self._management() is not None and not gateway.authorized(self.headers.get(MANAGEMENT_AUTH_HEADER)):
                self._reply(403, b'{"message":"Forbidden"}', {"Content-Type": "application/json",
                                                              "x-amzn-ErrorType": "ForbiddenException"})
                return True
            return False

        def _local(self) -> bool:
            """A local page of `make run` (local/site.py), if the path is one."""
            site = gateway.site
            if site is None or not site.handles(urlsplit(self.path).path):
                return False
            body = self._body() if self.command in ("POST", "PUT") else b""
            reply = site.handle(Request(self.command, self.path, dict(self.headers.items()), body))
            self._reply(reply.status, reply.body, reply.headers)
            return True

        def do_OPTIONS(self) -> None:
            if self._refused():
                return
            if not self._local():
                self._reply(404, b"Not found\n", {"Content-Type": "text/plain"})

        def do_HEAD(self) -> None:
            if self._refused():
                return
            if not self._local():
                self._reply(404, b"", {"Content-Type": "text/plain"})

        def do_POST(self) -> None:
            if self._refused():
                return
            if self._local():
                return
            cid = self._management()
            if cid is not None:
                data = self._body()
                if gateway.post(cid, data):
                    self._reply(200, b"{}", {"Content-Type": "application/json"})
                else:
                    self._gone()
                return
            self._proxy()

        def do_DELETE(self) -> None:
            if self._refused():
                return
            cid = self._management()
            if cid is not None:
                if gateway.close(cid):
                    self._reply(204)
                else:
                    self._gone()
                return
            self._proxy()

        def do_PUT(self) -> None:
            if self._refused():
                return
            self._proxy()

        def do_GET(self) -> None:
            if self._refused():
                return
            if self._local():
                return
            cid = self._management()
            if cid is not None:
                info = gateway.describe(cid)
                if info is None:
                    self._gone()
                else:
                    self._reply(200, json.dumps(info).encode(), {"Content-Type": "application/json"})
                return
            path = urlsplit(self.path).path
            if path.startswith("/api/"):
                self._proxy()
            elif path in ("/", "/call", "/call/"):
                self._static("index.html")
            elif path.startswith("/call/"):
                self._static(path.removeprefix("/call/"))
            else:
                self._reply(404, b"Not found\n", {"Content-Type": "text/plain"})

        def _static(self, name: str) -> None:
            target = (STATIC / name).resolve()
            if STATIC.resolve() not in target.parents or not target.is_file():
                self._reply(404, b"Not found\n", {"Content-Type": "text/plain"})
                return
            kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            self._reply(200, target.read_bytes(), {"Content-Type": kind, "Cache-Control": "no-store"})

        def _proxy(self) -> None:
            """Forward /api/... to the REST API, so the call page talks to one origin."""
            if not self.path.startswith("/api/"):
                self._reply(404, b"Not found\n", {"Content-Type": "text/plain"})
                return
            body = self._body()
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() in ("authorization", "content-type", "cookie", "accept", "origin", "sec-fetch-site",
                                        "host")}
            headers["X-Forwarded-Proto"] = "http"  # the page's scheme: the API compares Origin with it and Host
            request = urllib.request.Request(gateway.api + self.path, data=body or None,  # noqa: S310
                                             headers=headers, method=self.command)
            try:
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback API
                    status, payload, answer = response.status, response.read(), response.headers
            except urllib.error.HTTPError as error:
                status, payload, answer = error.code, error.read(), error.headers
            except OSError:
                self._reply(502, b'{"success":false,"message":"API unavailable"}', {"Content-Type": "application/json"})
                return
            passed = {k: v for k, v in answer.items() if k.lower() in ("content-type", "set-cookie", "cache-control")}
            self._reply(status, payload, passed)

    return Handler


def local_pages(http_port: int) -> LocalSite:
    """The local pages, configured from the environment `make run` gives this process."""
    from local import inbox, instance, ivr_phone, stripe_webhooks
    from local.cloudinary_standin import Account, CloudinaryStandIn

    here = f"http://127.0.0.1:{http_port}"
    ours = os.environ.get("CLOUDINARY_API_BASE", "").startswith(here + "/cloudinary/")
    account = Account.from_url(os.environ.get("CLOUDINARY_URL", "")) if ours else None
    standin = CloudinaryStandIn(instance.data_dir() / "cloudinary", account,
                                os.environ.get("CLOUDINARY_DELIVERY_BASE", here + "/cloudinary/res"))
    sms_local = os.environ.get("TWILIO_ACCOUNT_SID") == inbox.LOCAL_TWILIO_SID
    return LocalSite(http_port, {
        "/inbox": inbox.inbox_page(inbox.journal_from_env(), os.environ.get("AWS_ENDPOINT_URL"), sms_local),
        "/stripe": stripe_webhooks.stripe_page(stripe_webhooks.Settings.load),
        "/ivr": ivr_phone.ivr_page(ivr_phone.Line.load),
        "/cloudinary": standin.handle,
    })


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.ws_gateway")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("WS_GATEWAY_PORT", "8001")))
    parser.add_argument("--http-port", type=int, default=int(os.environ.get("WS_GATEWAY_HTTP_PORT", "8002")))
    parser.add_argument("--api", default=os.environ.get("WS_GATEWAY_API", "http://127.0.0.1:8000"))
    parser.add_argument("--idle-timeout", type=float, default=600.0)
    parser.add_argument("--max-duration", type=float, default=7200.0)
    parser.add_argument("--log-connections", action="store_true",
                        help="print a line when a connection's $disconnect has been handled")
    args = parser.parse_args(argv)

    from local import inbox
    from local.gateway_responses import install

    install()
    inbox.install()
    # The management API's secret: make run's for this run, else one of our own, which the
    # in-process Lambdas' sender reads from the environment (set before the app is imported).
    secret = os.environ.get("WS_MANAGEMENT_SECRET") or secrets.token_urlsafe(32)
    os.environ["WS_MANAGEMENT_SECRET"] = secret
    import app as app_module

    site = local_pages(args.http_port) if args.host in ("127.0.0.1", "localhost") else None
    gateway = Gateway(app_module.app.handler_map, args.host, args.port, args.http_port, args.api.rstrip("/"),
                      args.idle_timeout, args.max_duration, log_connections=args.log_connections, site=site,
                      secret=secret)

    async def runner() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, gateway.stop.set)
        await gateway.run()

    asyncio.run(runner())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
