"""The pharmacy domain's one Blueprint, shared by its route modules, and the current request."""

from __future__ import annotations

import chalice.app

from functions.core.edge import Blueprint
from functions.core.errors import Code

bp = Blueprint("functions.pharmacy.routes")


def request() -> chalice.app.Request:
    current = bp.current_request
    assert current is not None
    return current
headers = bp.request_headers


# Error codes several routes share (their `@describe(errors=...)`): the caller's pharmacy must
# exist and be verified (`pharmacies.owned_verified`); images arrive as files or recorded uploads.
SHOP = (Code.NO_PHARMACY, Code.PHARMACY_NOT_VERIFIED)
IMAGES = (Code.ASSET_INVALID, Code.TOO_MANY_IMAGES, Code.IMAGE_TOO_LARGE, Code.IMAGE_TYPE, Code.UPLOAD_FAILED)
