"""infra/iam.py without packaging: a route's grants come from the code that can run for it, not
from everything its domain imports, and names a module spells out for a computed import are
followed (fast: reads the sources, no `chalice package`)."""

from __future__ import annotations

from infra import iam


def _view(method: str, path: str) -> tuple[str, str, str]:
    from app import app

    view = app.routes[f"/api/v1{path}"][method].view_function
    return f"functions.{view.__module__.split('.')[1]}.handler", view.__module__, view.__name__


def test_a_read_only_route_is_not_granted_what_its_domain_sends():
    # Given the emergency domain, whose IVR routes alert doctors (push, e-mail, timeouts)
    handler, module, name = _view("GET", "/admin/hospitals")
    assert {"ses", "scheduler", "apigatewaymanagementapi"} <= iam.capabilities_of({handler})
    # When the hospitals list's own capabilities are read
    caps = iam.route_capabilities(handler, module, name)
    # Then it can call none of them
    assert caps == frozenset()


def test_routes_that_send_keep_their_grants():
    # Given routes that e-mail a code, book (its reminders and notices recorded in the outbox, which
    # it kicks: the outbox worker schedules them) and push that a doctor joined
    expected = {("POST", "/password/forgot"): {"ses"},
                ("POST", "/appointment/new"): {"sqs"},
                ("POST", "/notify-doctor-joined"): {"apigatewaymanagementapi"}}
    for (method, path), services in expected.items():
        # Then each keeps what it calls
        assert services <= iam.route_capabilities(*_view(method, path)), path


def test_imports_by_name_are_followed():
    # Given the sweeper (core.jobs imports each domain's sweep by its module's name) and the payment
    # webhook (payments reaches appointments through a seam imported by name)
    sweeper = iam.route_capabilities("app", "app", "reminder_sweep")
    webhook = iam.route_capabilities(*_view("POST", "/payments/webhook"))
    # Then what those modules do is granted: reminders are rescheduled, notices retried; the
    # webhook's reminders and notices are recorded in the outbox, which it kicks
    assert {"scheduler", "ses"} <= sweeper
    assert "sqs" in webhook


# ---------------------------------------------------------------- `chalice deploy --stage dev` (no packaged template)


def test_the_dev_stage_deploys_the_outbox_worker_on_its_named_queue_and_its_role_may_use_it():
    """`chalice deploy --stage dev` fills in no `${AWS::StackName}`: the stage names an existing
    queue (OUTBOX_QUEUE_NAME), the worker's event source reads it, the one dev role may use it."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    # Given the dev stage's configuration and policy
    stage = json.loads((root / ".chalice" / "config.json").read_text())["stages"]["dev"]
    name = stage["environment_variables"]["OUTBOX_QUEUE_NAME"]
    # When chalice loads the app as `chalice deploy --stage dev` does (its stage variables applied)
    script = ("from chalice.cli.factory import CLIFactory; import os, sys; "
              f"sys.path.insert(0, {str(root)!r}); "
              f"factory = CLIFactory({str(root)!r}, environ=os.environ); "
              "app = factory.create_config_obj(chalice_stage_name='dev').chalice_app; "
              "print([s.queue for s in app.event_sources if s.name == 'outbox_worker'])")
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=root)
    # Then the outbox worker's event source is that queue, not the packaged template's placeholder
    assert loaded.stdout.strip() == repr([name])
    # And the stage's role may look its URL up, send to it (kicks, deferred effects) and consume it, on it only
    policy = json.loads((root / ".chalice" / stage["iam_policy_file"]).read_text())
    sqs = [st for st in policy["Statement"] if any(a.startswith("sqs:") for a in st["Action"])]
    assert [st["Resource"] for st in sqs] == [f"arn:*:sqs:*:*:{name}"]
    assert set(sqs[0]["Action"]) == {"sqs:GetQueueUrl", "sqs:SendMessage", "sqs:ReceiveMessage",
                                     "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
