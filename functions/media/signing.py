"""Signed direct uploads: the parameters a browser sends with its file straight to Cloudinary.

Files go from the browser to Cloudinary (Lambda bodies are capped at 6 MB); nothing is uploaded
before the entity that uses it is validated (D-35: the reference uploaded first and left
orphans). What arrives is recorded when Cloudinary reports it (`notifications`).
"""

from __future__ import annotations

import secrets
from typing import Any

from functions.core import clock
from functions.core.config import get_settings
from functions.core.errors import Forbidden
from functions.core.security import Principal
from functions.media import cloud
from functions.media.profiles import PROFILES, folder
from functions.media.schemas import SignIn


def sign_upload(principal: Principal, body: SignIn) -> dict[str, Any]:
    """POST /uploads/sign: the parameters the browser sends with its file, signed. The folder
    names the purpose and the owner, the public id is fresh, the formats are the profile's; the
    size limit is enforced when Cloudinary reports the upload (the Upload API has none)."""
    profile = PROFILES[body.purpose]
    if principal.role not in profile.roles:
        raise Forbidden(f"Role {principal.role} cannot upload a {body.purpose}")
    creds = cloud.credentials()
    params: dict[str, Any] = {
        "timestamp": int(clock.now().timestamp()),
        "folder": folder(body.purpose, principal.id),
        "public_id": secrets.token_urlsafe(12),
        "allowed_formats": ",".join(profile.formats),
    }
    if profile.transformation:  # avatars only: documents and photos of goods stay as uploaded
        params["transformation"] = profile.transformation
    base = get_settings().public_base_url
    if base:
        params["notification_url"] = f"{base.rstrip('/')}/api/v1/uploads/notify"
    return {
        "uploadUrl": cloud.upload_url(creds, profile.resource_type),
        "cloudName": creds.cloud_name,
        "apiKey": creds.api_key,
        "signature": cloud.sign(params, creds),
        "params": params,
        "purpose": body.purpose,
        "maxBytes": profile.max_bytes,
        "allowedFormats": list(profile.formats),
    }
