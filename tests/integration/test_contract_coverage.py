"""Issue 23: every route declares its answer (a response model, or a body that is not JSON), its
error codes and a summary a person wrote; the examples of the document match its schemas."""

from __future__ import annotations

from typing import Any

from functions.core import openapi


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    from app import app

    document = openapi.build(app, stage=openapi.DEV_STAGE)
    return [(method.upper(), path, op) for path, ops in document["paths"].items() for method, op in ops.items()]


def _declared(operation: dict[str, Any]) -> bool:
    for key, answer in operation["responses"].items():
        if key.startswith("2") or key.startswith("3"):
            schema = answer.get("content", {}).get("application/json", {}).get("schema")
            return schema != {"$ref": openapi.REF.format(model="SuccessEnvelope")}
    return False


def test_every_route_has_a_summary_a_person_wrote():
    # Given every operation of the document
    lazy = [f"{m} {p}: {op['summary']!r}" for m, p, op in _operations()
            if len(op["summary"].split()) < 3 or not op["summary"][0].isupper()
            or op["summary"].rstrip(".").lower() == op["operationId"].split(".")[-1].replace("_", " ")]
    # Then each summary is a sentence, not the view's name
    assert lazy == []


MY_DOMAINS = ("auth", "appointments", "signaling", "docs", "health")


def test_every_route_of_auth_appointments_signaling_docs_and_health_declares_its_answer_and_errors():
    missing = [f"{m} {p}" for m, p, op in _operations() if op["tags"][0] in MY_DOMAINS and not _declared(op)]
    assert missing == []
    no_errors = [f"{m} {p}" for m, p, op in _operations() if op["tags"][0] in MY_DOMAINS
                 and "x-error-codes" not in op and not p.startswith("/api/v1/docs")]
    assert no_errors == []


def test_every_route_declares_its_response_model():
    # Given every operation of the document
    missing = [f"{m} {p}" for m, p, op in _operations() if not _declared(op)]
    # Then none answers the generic success envelope
    assert missing == [], f"{len(missing)} routes without a response model:\n" + "\n".join(missing)


def test_the_answer_models_examples_match_their_schemas():
    from jsonschema import Draft202012Validator

    from app import app

    document = openapi.build(app, stage=openapi.DEV_STAGE)
    checked = 0
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            sides = [(key, answer.get("content", {}).get("application/json", {}))
                     for key, answer in op["responses"].items()]
            sides.append(("request", op.get("requestBody", {}).get("content", {}).get("application/json", {})))
            for key, media in sides:
                for name, example in media.get("examples", {}).items():
                    validator = Draft202012Validator({**media["schema"], "components": document["components"]})
                    errors = [e.message for e in validator.iter_errors(example["value"])]
                    assert errors == [], f"{method} {path} {key} example {name!r}: {errors}"
                    checked += 1
    assert checked >= 5
