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
    # Given routes that e-mail a code, book (reminders + notices) and push that a doctor joined
    expected = {("POST", "/password/forgot"): {"ses"},
                ("POST", "/appointment/new"): {"ses", "scheduler"},
                ("POST", "/notify-doctor-joined"): {"apigatewaymanagementapi"}}
    for (method, path), services in expected.items():
        # Then each keeps what it calls
        assert services <= iam.route_capabilities(*_view(method, path)), path


def test_imports_by_name_are_followed():
    # Given the sweeper (core.jobs imports each domain's sweep by its module's name) and the payment
    # webhook (payments reaches appointments through a seam imported by name)
    sweeper = iam.route_capabilities("app", "app", "reminder_sweep")
    webhook = iam.route_capabilities(*_view("POST", "/payments/webhook"))
    # Then what those modules do is granted: reminders are rescheduled, notices retried
    assert {"scheduler", "ses"} <= sweeper
    assert {"scheduler", "ses"} <= webhook
