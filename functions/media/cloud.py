"""The Cloudinary adapter: the only module that imports `cloudinary`, and only when a signature
is made or checked or an asset destroyed. Credentials come from `CLOUDINARY_URL`
(`cloudinary://<key>:<secret>@<cloud>`; D-51: the reference hard-coded the cloud name).

Tests swap the SDK's transport (`cloudinary.uploader._http`, a urllib3 pool) and keep the SDK's
signer and verifier. Where the Upload API and the delivered files are comes from
`CLOUDINARY_API_BASE` and `CLOUDINARY_DELIVERY_BASE` (Cloudinary's own hosts by default; under
`make run`, the local stand-in of `local/cloudinary_standin.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from functions.core import clock
from functions.core.config import get_settings
from functions.core.errors import Code, ServiceUnavailable
from functions.core.observability import logger

# seconds a notification's X-Cld-Timestamp may lie before or after our clock (issue 21: a signed
# notification dated a year ahead was accepted; Cloudinary's own default refuses only old ones, after 2 h)
NOTIFICATION_SKEW = 300


@dataclass(frozen=True)
class Credentials:
    cloud_name: str
    api_key: str
    api_secret: str


def credentials() -> Credentials:
    raw = get_settings().cloudinary_url
    parts = urlsplit(raw) if raw else None
    if not parts or parts.scheme != "cloudinary" or not (parts.hostname and parts.username and parts.password):
        raise ServiceUnavailable("Uploads are not configured", code=Code.UPLOADS_NOT_CONFIGURED)
    return Credentials(parts.hostname, unquote(parts.username), unquote(parts.password))


def _configured(creds: Credentials) -> Any:
    import cloudinary

    cloudinary.config(cloud_name=creds.cloud_name, api_key=creds.api_key, api_secret=creds.api_secret,
                      secure=True, upload_prefix=get_settings().cloudinary_api_base)
    return cloudinary


def configure() -> Any:
    """The SDK configured for this deployment's cloud and Upload API (server-side uploads)."""
    return _configured(credentials())


def sign(params: dict[str, Any], creds: Credentials) -> str:
    """Cloudinary's upload signature of exactly these parameters (the SDK's signer)."""
    import cloudinary.utils

    return str(cloudinary.utils.api_sign_request(params, creds.api_secret))


def upload_url(creds: Credentials, resource_type: str) -> str:
    return f"{get_settings().cloudinary_api_base}/v1_1/{creds.cloud_name}/{resource_type}/upload"


def delivered_from(url: str, cloud_name: str | None = None) -> bool:
    """Is `url` under `CLOUDINARY_DELIVERY_BASE` (and that cloud's folder, when one is named)?
    Compared by parts, so `https://res.cloudinary.com.evil.example/` or a user-info trick is not."""
    base = urlsplit(get_settings().cloudinary_delivery_base)
    parts = urlsplit(url)
    prefix = base.path.rstrip("/") + "/" + (f"{cloud_name}/" if cloud_name else "")
    return (parts.scheme == base.scheme and parts.netloc.lower() == base.netloc.lower()
            and parts.path.startswith(prefix) and len(parts.path) > len(prefix)
            and not any(c.isspace() for c in url))


def verify_notification(body: str, timestamp: str | None, signature: str | None) -> bool:
    """`X-Cld-Signature` = hash(body + timestamp + secret), dated within NOTIFICATION_SKEW
    seconds of now, before or after (a replayed or a post-dated notification is refused)."""
    if not timestamp or not signature or not timestamp.isdigit():
        return False
    if abs(int(timestamp) - clock.now().timestamp()) > NOTIFICATION_SKEW:
        return False
    _configured(credentials())
    import cloudinary.utils

    return bool(cloudinary.utils.verify_notification_signature(body, int(timestamp), signature,
                                                               valid_for=NOTIFICATION_SKEW))


def destroy(public_id: str, resource_type: str) -> bool:
    """Best effort: delete an asset in Cloudinary (and its CDN copies); failures are logged."""
    try:
        _configured(credentials())
        import cloudinary.uploader

        result = cloudinary.uploader.destroy(public_id, resource_type=resource_type, invalidate=True)
    except Exception as exc:
        logger.warning("cloudinary destroy failed", extra={"publicId": public_id, "error": type(exc).__name__})
        return False
    ok = isinstance(result, dict) and result.get("result") in ("ok", "not found")
    if not ok:
        logger.warning("cloudinary destroy refused", extra={"publicId": public_id})
    return ok


def on_our_cloud(url: str) -> bool:
    """Is `url` a delivery URL of this deployment's Cloudinary cloud
    (`https://res.cloudinary.com/<cloud>/...`, or under `CLOUDINARY_DELIVERY_BASE`)? False when
    uploads are not configured. Used only where no recorded asset can exist yet (the sign-up
    form's unsigned browser upload)."""
    try:
        cloud_name = credentials().cloud_name
    except ServiceUnavailable:
        return False
    return delivered_from(url, cloud_name)
