"""Local tooling: the environment wins over the dev stage's config under `make run`, and the
admin CLI finds `make run`'s database in LOCAL_DATA_DIR."""

from typing import Any

import pytest


def test_the_admin_cli_reads_make_runs_files_from_local_data_dir(tmp_path, monkeypatch):
    # Given `make run` started with LOCAL_DATA_DIR pointing elsewhere
    from functions.core import config

    (tmp_path / "mongodb-uri").write_text("mongodb://127.0.0.1:27999/\n")
    (tmp_path / "dev-jwt-secret").write_text("s" * 48)
    monkeypatch.delenv("MONGODB_URI", raising=False)
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    monkeypatch.setenv("LOCAL_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path.parent)
    # When the CLI loads its settings
    settings = config.load_settings()
    # Then it talks to that database with that secret; a variable set in the environment wins
    assert settings.mongodb_uri == "mongodb://127.0.0.1:27999/" and settings.jwt_secret == "s" * 48
    monkeypatch.setenv("MONGODB_URI", "mongodb://db.example:27017/")
    assert config.load_settings().mongodb_uri == "mongodb://db.example:27017/"


def test_variables_given_to_make_run_win_over_the_dev_stage(monkeypatch):
    # Given chalice local about to apply the dev stage's variables
    from chalice.cli import factory

    from local import devserver

    applied: list[dict[str, Any]] = []
    monkeypatch.setattr(factory.CLIFactory, "load_chalice_app",
                        lambda self, environment_variables=None, **kw: applied.append(environment_variables))
    # When the developer gave ALLOWED_ORIGINS and COOKIE_SECURE in the environment
    devserver.environment_wins({"ALLOWED_ORIGINS": "http://localhost:3000", "COOKIE_SECURE": "true"})
    factory.CLIFactory.load_chalice_app(object(), {"ALLOWED_ORIGINS": "http://localhost:5173",
                                                   "COOKIE_SECURE": "false", "STAGE": "dev"})
    # Then only the stage variables they did not give are applied
    assert applied == [{"STAGE": "dev"}]


@pytest.fixture(autouse=True)
def _fresh_settings():
    from functions.core import config

    yield
    config.reset_settings()


# ---------------------------------------------------------------- local stand-ins (issue 22)

BASE_ENV = {"MONGODB_URI": "mongodb://127.0.0.1:1/", "JWT_SECRET": "s" * 48,
            "MFA_ENCRYPTION_KEY": "_IpqnLmtc7zfojhf1P9xA_VOuWyh5eSskdq-K9TK9dM="}


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_https_bases_of_cloudinary_are_accepted_in_every_stage(stage):
    from functions.core import config

    settings = config.load_settings({**BASE_ENV, "STAGE": stage,
                                     "CLOUDINARY_API_BASE": "https://api-eu.cloudinary.com/",
                                     "CLOUDINARY_DELIVERY_BASE": "https://cdn.example.com/media"})
    assert settings.cloudinary_api_base == "https://api-eu.cloudinary.com"
    assert settings.cloudinary_delivery_base == "https://cdn.example.com/media"


def test_plain_http_to_this_machine_is_accepted_only_in_the_dev_stage():
    from functions.core import config

    local = {"CLOUDINARY_API_BASE": "http://127.0.0.1:8002/cloudinary/api",
             "CLOUDINARY_DELIVERY_BASE": "http://127.0.0.1:8002/cloudinary/res"}
    assert config.load_settings({**BASE_ENV, "STAGE": "dev", **local}).cloudinary_delivery_base.startswith("http://")
    with pytest.raises(config.ConfigError, match="CLOUDINARY_API_BASE: plain http:// is accepted only in the dev"):
        config.load_settings({**BASE_ENV, "STAGE": "prod", **local})
    with pytest.raises(config.ConfigError, match="CLOUDINARY_DELIVERY_BASE"):
        config.load_settings({**BASE_ENV, "STAGE": "dev", "CLOUDINARY_DELIVERY_BASE": "http://media.example.com"})


def _use(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    from functions.core import config

    for key, value in {**BASE_ENV, **env}.items():
        monkeypatch.setenv(key, value)
    config.reset_settings()


@pytest.mark.parametrize(("url", "accepted"), [
    ("https://res.cloudinary.com/demo/image/upload/v1/a.png", True),
    ("http://127.0.0.1:8002/cloudinary/res/local/image/upload/v1/a.png", True),
    ("http://127.0.0.1:8002/elsewhere/a.png", False),
    ("http://res.cloudinary.com/demo/a.png", False),
    ("https://res.cloudinary.com/demo/a b.png", False),
])
def test_an_uploaded_files_url_is_https_or_under_the_local_delivery_base(monkeypatch, url, accepted):
    # Given make run's stand-in as the delivery base
    from functions.media.schemas import asset_url

    _use(monkeypatch, STAGE="dev", CLOUDINARY_DELIVERY_BASE="http://127.0.0.1:8002/cloudinary/res")
    # Then only https:// URLs and URLs under that base pass the validators of image references
    if accepted:
        assert asset_url(url) == url
    else:
        with pytest.raises(ValueError, match="https://"):
            asset_url(url)


def test_a_sign_up_avatar_is_on_our_cloud_only_under_the_delivery_base_and_our_cloud(monkeypatch):
    from functions.media import cloud

    _use(monkeypatch, STAGE="dev", CLOUDINARY_URL="cloudinary://k:s@local",
         CLOUDINARY_API_BASE="http://127.0.0.1:8002/cloudinary/api",
         CLOUDINARY_DELIVERY_BASE="http://127.0.0.1:8002/cloudinary/res")
    assert cloud.on_our_cloud("http://127.0.0.1:8002/cloudinary/res/local/image/upload/v1/a.png")
    assert not cloud.on_our_cloud("http://127.0.0.1:8002/cloudinary/res/other/image/upload/v1/a.png")
    assert not cloud.on_our_cloud("https://res.cloudinary.com/local/image/upload/v1/a.png")
    assert cloud.upload_url(cloud.credentials(), "image") == "http://127.0.0.1:8002/cloudinary/api/v1_1/local/image/upload"


def test_make_run_stands_in_for_every_integration_nobody_configured():
    # Given a fresh machine: nothing configured
    from local.inbox import LOCAL_TWILIO_SID
    from local.run import local_services

    services = local_services({}, api="http://127.0.0.1:8000", gateway="http://127.0.0.1:8002",
                              stripe_mock="http://127.0.0.1:12111")
    env = services.env
    # Then Stripe is stripe-mock with a webhook secret of this run, uploads the stand-in, SMS the
    # inbox, and the phone line is signed with a token of this run against the local API
    assert env["STRIPE_API_BASE"] == "http://127.0.0.1:12111" and env["STRIPE_WEBHOOK_SECRET"].startswith("whsec_")
    assert env["CLOUDINARY_API_BASE"] == "http://127.0.0.1:8002/cloudinary/api"
    assert env["CLOUDINARY_URL"].endswith("@local") and env["TWILIO_ACCOUNT_SID"] == LOCAL_TWILIO_SID
    assert env["PUBLIC_BASE_URL"] == "http://127.0.0.1:8000" and len(env["TWILIO_AUTH_TOKEN"]) == 32
    # And what it prints never holds a secret whole
    printed = "\n".join(services.lines)
    for secret in (env["STRIPE_WEBHOOK_SECRET"], env["TWILIO_AUTH_TOKEN"], env["CLOUDINARY_URL"]):
        assert secret not in printed
    assert "GOOGLE_API_KEY" in printed and "503" in printed
    # And a second run gets other secrets
    again = local_services({}, api="a", gateway="g", stripe_mock="s").env
    assert again["STRIPE_WEBHOOK_SECRET"] != env["STRIPE_WEBHOOK_SECRET"]


def test_what_the_developer_configured_stays_theirs():
    from local.run import local_services

    given = {"STRIPE_SECRET_KEY": "sk_live_x", "CLOUDINARY_URL": "cloudinary://k:s@mine", "TWILIO_ACCOUNT_SID": "ACx",
             "TWILIO_AUTH_TOKEN": "their-token", "TWILIO_FROM_NUMBER": "+15550001", "PUBLIC_BASE_URL": "https://t.example"}
    env = local_services(given, api="http://127.0.0.1:8000", gateway="http://127.0.0.1:8002", stripe_mock=None).env
    assert not {"STRIPE_API_BASE", "STRIPE_SECRET_KEY", "CLOUDINARY_URL", "TWILIO_ACCOUNT_SID"} & set(env)
    assert env["TWILIO_AUTH_TOKEN"] == "their-token" and env["PUBLIC_BASE_URL"] == "https://t.example"


def test_the_printed_admin_line_names_a_non_default_data_dir_and_database(tmp_path):
    from local.instance import DEFAULT_DATA
    from local.run import admin_line

    assert "LOCAL_DATA_DIR" not in admin_line(DEFAULT_DATA, "cureconnect")
    line = admin_line(tmp_path / "my data", "other_db")
    assert f"LOCAL_DATA_DIR='{tmp_path / 'my data'}'" in line and "MONGODB_DB=other_db" in line


def test_make_run_creates_the_indexes_first_then_waits_for_the_api_and_the_gateway_on_their_ports():
    # Given one make run's environment and addresses
    from local import run

    env = {"MONGODB_URI": "mongodb://127.0.0.1:1/", "STAGE": "dev"}
    the_run = run.Run(env=env, api=f"http://127.0.0.1:{run.API_PORT}", gateway="g", database="d", lines=[])
    # When it lays out what it starts
    rows = run.processes(the_run)
    table = {process.name: process for process in rows}
    # Then the indexes exist before anything serves, and nothing keeps running for them
    first = rows[0]
    assert first.argv[-2:] == ("functions.core.db", "ensure-indexes") and not first.supervised
    # And the API, the gateway, the sweeper and the outbox worker keep running, each with the run's environment
    assert [name for name, p in table.items() if p.supervised] == ["api", "gateway", "sweeper", "outbox"]
    assert all(process.env == env for process in table.values())
    # And make run is ready once the API and both gateway ports answer, the ports it was given
    assert table["api"].ports == (run.API_PORT,) and table["api"].says == f"{the_run.api}/api/v1/health"
    assert table["gateway"].ports == (run.WS_PORT, run.WS_HTTP_PORT)
    assert table["gateway"].argv[-2:] == ("--api", the_run.api)
    assert not table["sweeper"].ports and "every 60 s" in table["sweeper"].says
    # And the outbox is delivered every 0.2 s (well under a second after a request), not every 60 s
    assert table["outbox"].argv[-3:] == ("local.outbox_worker", "--every", "0.2") and not table["outbox"].ports


def test_the_local_webhook_sender_signs_as_stripe_does():
    # Given the signature the local sender puts on an event body
    import stripe

    from local.stripe_webhooks import signature_header

    payload = b'{"id": "evt_1", "object": "event", "type": "payment_intent.succeeded", "data": {"object": {}}}'
    header = signature_header(payload, "whsec_local")
    # Then Stripe's own SDK accepts it with that secret, and refuses it with another
    assert stripe.Webhook.construct_event(payload.decode(), header, "whsec_local")["id"] == "evt_1"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload.decode(), header, "whsec_other")


# ---------------------------------------------------------------- the local API server (issue 19 §4, issue 20 §3)


def test_the_local_api_answers_each_request_in_one_write_with_nagle_off():
    # Given chalice local's server with the dev server's handler, for a small app, recording what
    # it writes to each connection
    import http.client
    import socket
    import threading

    from chalice import Chalice
    from chalice.config import Config

    from local import devserver

    app = Chalice("writes")

    @app.route("/doctors")
    def doctors() -> dict[str, Any]:
        return {"success": True, "doctors": [{"name": "Dr Meera Iyer"}] * 20}

    writes: list[tuple[bool, bytes]] = []

    class Recorded(socket.socket):
        def send(self, data: Any, *flags: int) -> int:
            writes.append((bool(self.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)), bytes(data)))
            return super().send(data, *flags)

        def sendall(self, data: Any, *flags: int) -> None:
            writes.append((bool(self.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)), bytes(data)))
            super().sendall(data, *flags)

    class Server(devserver.ThreadedServer):
        def get_request(self) -> tuple[socket.socket, Any]:
            connection, address = super().get_request()
            return Recorded(fileno=connection.detach()), address

    server = devserver.DevServer(app, Config.create(chalice_stage="dev"), "127.0.0.1", 0, server_cls=Server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        # When a browser asks twice on one kept-alive connection
        conn = http.client.HTTPConnection("127.0.0.1", server.server.server_address[1], timeout=30)
        bodies = []
        for _ in range(2):
            conn.request("GET", "/doctors")
            response = conn.getresponse()
            bodies.append(response.read())
        conn.close()
    finally:
        server.shutdown()
        server.server.server_close()
    # Then each answer left in one write, headers and body together, with Nagle's algorithm off
    assert [response.status, len(writes)] == [200, 2]
    for (nodelay, data), body in zip(writes, bodies, strict=True):
        assert nodelay and data.startswith(b"HTTP/1.1 200") and data.endswith(body) and b"Dr Meera Iyer" in body



# ---------------------------------------------------------------- make run's supervisor (issue 19 §4)


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _python(code: str) -> Any:
    import subprocess
    import sys

    return subprocess.Popen([sys.executable, "-c", code])


@pytest.fixture
def supervised() -> Any:
    """make run's supervisor on a clock the test moves: `said` (what it printed), `started` (every
    process `launcher(code)` started, killed after the test)."""
    from types import SimpleNamespace

    from local.supervisor import Supervisor

    world = SimpleNamespace(said=[], clock=_Clock(), started=[])
    world.supervisor = Supervisor(world.said.append, world.clock)

    def launcher(code: str) -> Any:
        def launch() -> Any:
            world.started.append(_python(code))
            return world.started[-1]

        return launch

    world.launcher = launcher
    yield world
    for process in world.started:
        if process.poll() is None:
            process.kill()
        process.wait()


def test_the_delay_before_a_restart_doubles_while_a_process_keeps_failing_up_to_30_s():
    from local.supervisor import backoff

    assert [backoff(n) for n in range(1, 10)] == [0.25, 0.5, 1, 2, 4, 8, 16, 30, 30]


def test_a_killed_process_is_reaped_and_started_again_after_the_delay(supervised):
    # Given make run's supervisor watching a long-running process
    import os
    import signal

    supervisor, said, clock, started = supervised.supervisor, supervised.said, supervised.clock, supervised.started
    child = supervisor.watch("worker", supervised.launcher("import time; time.sleep(120)"))
    first = child.process
    # When it is killed (and has died: waited for without reaping it)
    os.kill(first.pid, signal.SIGKILL)
    os.waitid(os.P_PID, first.pid, os.WEXITED | os.WNOWAIT)
    clock.now += 40
    supervisor.check()
    # Then it is reaped at once, and make run says so and when it starts it again
    with pytest.raises(ProcessLookupError):
        os.kill(first.pid, 0)
    assert said == [f"worker (pid {first.pid}) was killed by SIGKILL after 40.0 s; "
                    "starting it again in 0.25 s (restart 1)"]
    # And it is started again once the delay has passed, not before
    clock.now += 0.2
    supervisor.check()
    assert len(started) == 1
    clock.now += 0.05
    supervisor.check()
    assert len(started) == 2 and child.process is started[1] and child.process.poll() is None
    clock.now += 0.2
    supervisor.check()
    assert said[-1] == f"worker up again (pid {started[1].pid}), 0.5 s after it stopped"


def test_a_process_that_keeps_failing_waits_longer_each_time_and_a_stable_one_starts_over(supervised):
    # Given a process that exits at once with an error
    from local.supervisor import STABLE

    supervisor, said, clock = supervised.supervisor, supervised.said, supervised.clock
    child = supervisor.watch("broken", supervised.launcher("raise SystemExit(3)"))
    delays = []
    # When it fails three times in a row, each time as soon as it was started again
    for _ in range(3):
        assert child.process is not None
        child.process.wait()
        supervisor.check()
        assert child.due is not None
        delays.append(child.due - clock.now)
        clock.now = child.due
        supervisor.check()
    # Then each wait doubled, and make run said how it ended
    assert delays == [0.25, 0.5, 1.0]
    assert all("exited with code 3" in line for line in said)
    # And once it had run for a while before failing, the next wait is the first one again
    assert child.process is not None
    child.process.wait()
    clock.now += STABLE
    supervisor.check()
    assert child.due == clock.now + 0.25 and said[-1].endswith("(restart 4)")


def test_after_ctrl_c_a_process_that_exits_is_not_started_again(supervised):
    # Given a supervised process that exited with the terminal's Ctrl-C, as make run got it too
    supervisor, said, clock, started = supervised.supervisor, supervised.said, supervised.clock, supervised.started
    child = supervisor.watch("worker", supervised.launcher("raise SystemExit(130)"))
    assert child.process is not None
    child.process.wait()
    # When make run is stopping and checks on it, now and later
    supervisor.stopping = True
    supervisor.check()
    clock.now += 60
    supervisor.check()
    # Then it was started once only, and no restart was announced
    assert len(started) == 1 and said == []
