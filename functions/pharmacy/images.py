"""Images sent with a form: checked by content (not by name) and stored on Cloudinary.

The existing frontend posts the pharmacy avatar and medicine photos as multipart file parts, so
these are uploaded server-side (D-35 fixed: only after the form validated). Each upload goes
through the media domain (`media.api.upload_image`) into the folder of its purpose and owner,
recorded exactly like a signed browser upload: later writes accept it through `require_assets`
and a replacement destroys it through `destroy_replaced`.

Without `CLOUDINARY_URL` the image is not stored and the field stays unset (local development).
"""

from __future__ import annotations

from bson import ObjectId

from functions.core.bodies import UploadedFile
from functions.core.errors import Code, PayloadTooLarge, Unprocessable
from functions.media import api as media

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


def upload_image(upload: UploadedFile, owner_id: ObjectId, purpose: str) -> dict[str, str] | None:
    """Check, then store through the media domain (into the purpose's folder of the owner,
    recorded for that owner and purpose); `{public_id, url}`, or None when Cloudinary is not
    configured."""
    kind = check_image(upload)
    return media.upload_image(upload.data, owner_id, purpose, kind)
