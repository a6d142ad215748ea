"""`POST /me/delete` (issue 24 §3) exactly as the existing frontend's proxy delivers it
(`tests/contract/frontend.py`): the session cookie, the proxy's headers, a JSON body or the form's
fields; every field of the answer with the type it renders."""

from __future__ import annotations

from datetime import datetime

from tests.contract.frontend import read, renders_as_text, send
from tests.factories import PASSWORD, make_user


def test_a_patient_deletes_their_account_with_a_json_body(client):
    # Given a signed-in patient
    patient = make_user("patient")
    # When the deletion is posted with their password through the proxy
    response = send(client, "POST", "/me/delete", patient, json_body={"password": PASSWORD})
    # Then 202, with when the erase comes (an ISO instant) and a message to show, both text
    assert response.status_code == 202, response.body
    answer = read(response)
    assert answer["success"] is True
    assert renders_as_text(answer["eraseAfter"]) and renders_as_text(answer["message"]) and answer["message"]
    datetime.fromisoformat(answer["eraseAfter"].replace("Z", "+00:00"))
    # And the cookie's session no longer works
    assert send(client, "GET", "/me", patient).status_code == 401


def test_a_form_post_works_too_and_a_wrong_password_names_the_field(client):
    # Given a signed-in patient
    patient = make_user("patient")
    # When the form posts a wrong password; Then 422 names the field, as text
    wrong = send(client, "POST", "/me/delete", patient, form={"password": "not-it"})
    assert wrong.status_code == 422
    assert read(wrong)["code"] == "WRONG_PASSWORD" and renders_as_text(read(wrong)["message"])
    assert [e["field"] for e in read(wrong)["errors"]] == ["password"]
    # When it posts the right one; Then the account is closed
    assert send(client, "POST", "/me/delete", patient, form={"password": PASSWORD}).status_code == 202
