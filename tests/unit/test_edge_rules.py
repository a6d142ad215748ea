"""Pure rules of the HTTP edge used by issue 17: which `Origin` counts, which `Accept` gets a
page, what a 400's message says, and where links to the API and the frontend point."""

import pytest

from functions.core.config import load_settings
from functions.core.pages import esc, prefers_html
from functions.core.samesite import serialized_origin
from functions.core.validation import first_error_message

BASE_ENV = {"MONGODB_URI": "mongodb://localhost:27017/", "JWT_SECRET": "s" * 32}


@pytest.mark.parametrize(("origin", "counts"), [
    ("https://app.example", True), ("http://localhost:5173", True), ("null", True),
    ("localhost:5173", False), ("app.example", False), ("", False), (None, False),
])
def test_only_a_serialized_origin_counts_as_an_origin(origin, counts):
    assert serialized_origin(origin) is counts


@pytest.mark.parametrize(("accept", "page"), [
    ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8", True),  # Chrome
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),  # Firefox, Safari
    ("text/html", True),
    ("application/json", False),
    ("application/json, text/plain, */*", False),  # axios
    ("*/*", False),  # curl
    ("text/html;q=0.5, application/json", False),
    ("application/json;q=0.5, text/html", True),
    ("text/*", True),  # any text, and JSON not acceptable at all
    (None, False), ("", False), ("text/html;q=oops", False),
])
def test_a_page_goes_only_to_clients_that_prefer_html_to_json(accept, page):
    assert prefers_html(accept) is page


def test_a_400_message_names_the_first_failing_field():
    errors = [{"field": "contact", "message": "Value error, must be a valid e-mail address"},
              {"field": "password", "message": "Field required"}]
    assert first_error_message(errors) == "contact: must be a valid e-mail address"
    assert first_error_message([{"field": "body", "message": "Value error, Nothing to update"}]) == "Nothing to update"
    assert first_error_message([]) == "Validation failed"


def test_links_to_the_api_use_its_public_url_or_the_frontends_proxy():
    proxied = load_settings({**BASE_ENV, "APP_BASE_URL": "https://app.example/"})
    assert proxied.api_url("verify/contact/link/x") == "https://app.example/api/v1/verify/contact/link/x"
    assert proxied.app_url("account") == "https://app.example/account"
    public = load_settings({**BASE_ENV, "APP_BASE_URL": "https://app.example",
                            "PUBLIC_BASE_URL": "https://abc.execute-api.ap-south-1.amazonaws.com/api"})
    assert public.api_url("/prescription/verify/ABCD") == \
        "https://abc.execute-api.ap-south-1.amazonaws.com/api/api/v1/prescription/verify/ABCD"


def test_page_text_is_escaped():
    assert esc('<script>alert("x")</script> & Co') == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co"
    assert esc(None) == "" and esc(3) == "3"
