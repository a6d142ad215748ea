"""Images sent with a form: checked by content (not by name) and stored on Cloudinary.

The existing frontend posts the pharmacy avatar and medicine photos as multipart file parts, so
these are uploaded server-side (D-35 fixed: only after the form validated). Each upload goes to
the media domain's folder for its purpose and owner and is recorded through
`media.service.record_server_upload`, exactly like a signed browser upload: later writes accept
it through `require_assets` and a replacement destroys it through `destroy_replaced`.

The Cloudinary SDK is imported only on the upload path. Without `CLOUDINARY_URL` the image is
not stored and the field stays unset (local development).
"""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from functions.core.config import get_settings
from functions.core.errors import Code, PayloadTooLarge, ServiceUnavailable, Unprocessable
from functions.core.observability import logger
from functions.pharmacy.forms import UploadedFile

MAX_IMAGE_BYTES = 2 * 1024 * 1024


def sniff_image(data: bytes) -> str | None:
    """"jpeg", "png" or "webp" from the magic bytes, else None."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def check_image(upload: UploadedFile) -> str:
    if len(upload.data) > MAX_IMAGE_BYTES:
        raise PayloadTooLarge("An image may be at most 2 MB", code=Code.IMAGE_TOO_LARGE)
    kind = sniff_image(upload.data)
    if kind is None:
        raise Unprocessable("Images must be JPEG, PNG or WebP", code=Code.IMAGE_TYPE)
    return kind


def _configure() -> None:
    from functions.media import cloud  # the SDK set for this cloud and CLOUDINARY_API_BASE

    cloud.configure()


def upload_image(upload: UploadedFile, owner_id: ObjectId, purpose: str) -> dict[str, str] | None:
    """Check, upload into the purpose's folder of the owner, record the asset for that owner and
    purpose; `{public_id, url}`, or None when Cloudinary is not configured."""
    from functions.media import service as media
    from functions.media.profiles import folder

    kind = check_image(upload)
    url = get_settings().cloudinary_url
    if not url:
        return None
    _configure()
    import cloudinary.exceptions
    import cloudinary.uploader

    try:
        result: dict[str, Any] = cloudinary.uploader.upload(
            upload.data, folder=folder(purpose, owner_id), resource_type="image", format=kind,
            filename=f"upload.{kind}")
    except cloudinary.exceptions.Error as exc:
        logger.warning("image upload failed", extra={"error": type(exc).__name__})
        raise ServiceUnavailable("The image could not be stored; try again later", code=Code.UPLOAD_FAILED) from None
    return media.record_server_upload(owner_id, purpose, result)
