"""The per-route splitter refuses a stack with a route no function can serve, and reads each
function's AWS grants from its code (no PyPI, no `chalice package`: a template in memory)."""

from __future__ import annotations

import copy

import pytest
from chalice.app import Chalice

from infra import iam
from infra.split_routes import NotDeployable, Route, count_resources, logical_id, split

TEMPLATE = {
    "Resources": {
        "APIHandler": {"Type": "AWS::Serverless::Function", "Properties": {
            "Runtime": "python3.11", "Handler": "app.app", "CodeUri": "./deployment.zip", "MemorySize": 512,
            "Environment": {"Variables": {"CONFIG_SECRET_ID": "cureconnect/prod/config"}},
            "Role": {"Fn::GetAtt": ["DefaultRole", "Arn"]}}},
        "APIHandlerInvokePermission": {"Type": "AWS::Lambda::Permission", "Properties": {
            "FunctionName": {"Ref": "APIHandler"}, "Action": "lambda:InvokeFunction",
            "Principal": "apigateway.amazonaws.com", "SourceArn": "x"}},
        "DefaultRole": {"Type": "AWS::IAM::Role", "Properties": {}},
        "RestAPI": {"Type": "AWS::Serverless::Api", "Properties": {"DefinitionBody": {"paths": {}}}},
        "ReminderSchedulerInvoke": {"Type": "AWS::IAM::Policy", "Properties": {
            "PolicyDocument": {"Statement": [{"Action": "lambda:InvokeFunction", "Resource": []}]}}},
    },
}


def app_with(path: str, module: str) -> Chalice:
    app = Chalice("t")

    def view() -> dict[str, bool]:
        return {"ok": True}

    view.__module__ = module
    app.route(path, methods=["GET"])(view)
    return app


def template_for(app: Chalice) -> dict:
    template = copy.deepcopy(TEMPLATE)
    paths = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    for path, methods in app.routes.items():
        for method in methods:
            paths.setdefault(path, {})[method.lower()] = {"x-amazon-apigateway-integration": {"uri": "x"}}
    return template


@pytest.mark.parametrize(("path", "module", "refusal"), [
    # a new domain's route, but no functions/ghost/handler.py
    ("/api/v1/ghosts", "functions.ghost.routes", r"GET /api/v1/ghosts: functions/ghost/handler.py is missing"),
    # a route outside the domains
    ("/api/v1/loose", "app", "not in functions/<domain>/"),
    # a route that claims the health domain, which registers no such path
    ("/api/v1/health/deep", "functions.health.routes", r"functions\.health\.handler does not register this route"),
], ids=["no entry point", "outside the domains", "not served by its entry point"])
def test_a_route_no_function_can_serve_stops_the_build(path, module, refusal):
    # Given an app with that route
    app = app_with(path, module)
    # When the stack is split, Then the build stops and says why
    with pytest.raises(NotDeployable, match=refusal):
        split(template_for(app), app, settings={})


def test_a_served_route_gets_its_own_function_role_and_permission():
    app = app_with("/api/v1/health", "functions.health.routes")
    template = template_for(app)
    placed = split(template, app, settings={"routes": {"GET /api/v1/h*": {"MemorySize": 256}}})
    resources = template["Resources"]
    assert placed == {"GET /api/v1/health": "RouteGetHealth"}
    function = resources["RouteGetHealth"]["Properties"]
    assert function["Handler"] == "functions.health.handler.app" and function["MemorySize"] == 256
    assert function["Role"] == {"Fn::GetAtt": ["RoleBase", "Arn"]}
    assert "DefaultRole" not in resources and "APIHandler" not in resources
    assert resources["RouteGetHealthInvokePermission"]["Properties"]["FunctionName"] == {"Ref": "RouteGetHealth"}
    # function + permission + role + layer + the rest of the template
    assert count_resources(template) == 2 + 1 + 1 + 3 + 1


def test_names_that_spell_the_same_words_stay_distinct():
    taken: set[str] = set()
    first = logical_id(Route("GET", "/api/v1/a-b", "x"), taken)
    second = logical_id(Route("GET", "/api/v1/ab", "x"), taken)
    assert first == "RouteGetAB" and second != first and second.startswith("RouteGetAb")


def test_grants_follow_the_aws_clients_the_code_creates():
    # Appointments schedule reminders and send e-mail; the health check and the docs call no AWS service
    assert iam.capabilities_of({"functions.appointments.handler"}) >= {"scheduler", "ses"}
    assert iam.capabilities_of({"functions.health.handler"}) == frozenset()
    assert iam.capabilities_of({"functions.docs.handler"}) == frozenset()
    # The reminder Lambda in app.py reaches the appointments' reminder job
    assert "functions.appointments.jobs" in iam.app_function_roots("send_reminder")


RESERVED = {"accountConcurrency": 1000, "keepUnreserved": 100, "perFunction": 50,
            "routes": ["GET /api/v1/health"], "handlers": []}


def test_the_functions_a_burst_reaches_first_get_reserved_concurrency():
    # Given a route named among the burst routes
    app = app_with("/api/v1/health", "functions.health.routes")
    template = template_for(app)
    # When the stack is split
    split(template, app, settings={"reserved": RESERVED})
    # Then its function may run at most that many containers at once (a burst is throttled, not
    # turned into database connections)
    assert template["Resources"]["RouteGetHealth"]["Properties"]["ReservedConcurrentExecutions"] == 50


def test_reserving_more_than_the_account_can_spare_stops_the_build():
    app = app_with("/api/v1/health", "functions.health.routes")
    with pytest.raises(NotDeployable, match="unreserved"):
        split(template_for(app), app, settings={"reserved": {**RESERVED, "perFunction": 901}})
