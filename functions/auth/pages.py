"""The page a contact verification link opens (`contact_link`): one button, no script."""

from __future__ import annotations

from urllib.parse import urlsplit

from chalice.app import Response

from functions.core.config import get_settings
from functions.core.pages import page


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def confirm_contact() -> Response:
    """The form posts back to the page's own URL (no `action`), then the API redirects to the
    frontend's account page: the policy lets forms go there too (a redirect after a post is
    checked against `form-action`)."""
    app_origin = _origin(get_settings().app_base_url)
    body = ("<h1>Confirm your contact</h1>"
            "<p>Press the button to confirm that this e-mail address or phone number belongs to your "
            "CureConnect account.</p>"
            '<form method="post"><button type="submit">Confirm my contact</button></form>'
            "<p><small>If you did not sign up for CureConnect, close this page: nothing happens "
            "without the button.</small></p>")
    return page("Confirm your contact · CureConnect", body, form_targets=(app_origin,) if app_origin else ())
