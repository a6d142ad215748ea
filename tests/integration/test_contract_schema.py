"""Issue 23: the typed contract. Every route declares its answer (a response model, or a body that
is not JSON), a summary a person wrote, and the test suite checks every JSON answer it receives
against the document (tests/contract_schema.py, installed by tests/conftest.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.test import Client

from functions.core import openapi
from functions.core.errors import Code, Conflict
from functions.core.schemas import Answer, OutModel
from tests.contract_schema import ContractViolation


class GizmoOut(OutModel):
    name: str
    count: int


class GizmoAnswer(Answer):
    gizmo: GizmoOut


def gizmo_app(answer: dict[str, Any]) -> Any:
    from functions.core.app_factory import create_app
    from functions.core.edge import Blueprint
    from functions.core.envelope import respond

    bp = Blueprint("functions.gizmos.routes")

    @bp.route("/gizmo", methods=["GET"])
    @openapi.describe(response=GizmoAnswer, errors=(Code.SLOT_TAKEN,))
    def read_gizmo() -> Any:
        """Read the gizmo."""
        if answer.get("raise"):
            raise Conflict("The slot moved", code=answer["raise"])
        return respond(**answer)

    return create_app("gizmos", [bp])


def test_an_answer_that_matches_its_model_passes():
    # Given a route whose answer is what its model says
    with Client(gizmo_app({"gizmo": {"name": "g", "count": 3}}), project_dir="/nonexistent") as client:
        # When a test calls it, Then nothing is raised and the answer arrives
        response = client.http.request("GET", "/api/v1/gizmo")
    assert response.status_code == 200 and json.loads(response.body)["gizmo"]["count"] == 3


@pytest.mark.parametrize("drift", [
    {"gizmo": {"name": "g", "count": "3"}},  # a number sent as a string
    {"gizmo": {"name": "g"}},  # a field gone
    {"gizmo": {"name": "g", "count": 3, "secret": "x"}},  # a field the model does not list
])
def test_a_field_that_drifts_from_its_model_fails_the_test_that_receives_it(drift):
    # Given a route whose answer drifted from its model
    # When a test calls it (a direct http.request too), Then the test fails with where it drifted
    with (Client(gizmo_app(drift), project_dir="/nonexistent") as client,
          pytest.raises(ContractViolation, match="gizmo")):
        client.http.request("GET", "/api/v1/gizmo")


def test_an_error_code_the_route_does_not_list_fails_and_a_listed_one_passes():
    # Given a route that lists SLOT_TAKEN: answering it passes, answering SAME_SLOT fails the test
    with Client(gizmo_app({"raise": Code.SLOT_TAKEN}), project_dir="/nonexistent") as client:
        assert client.http.get("/api/v1/gizmo").status_code == 409
    with (Client(gizmo_app({"raise": Code.SAME_SLOT}), project_dir="/nonexistent") as client,
          pytest.raises(ContractViolation, match="code")):
        client.http.get("/api/v1/gizmo")
