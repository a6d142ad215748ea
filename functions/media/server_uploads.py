"""Files our server uploads itself (the frontend's multipart forms: the pharmacy's picture,
medicine photos), stored in the purpose's folder of the owner and recorded like a browser upload,
so that `require_assets` accepts them later and `destroy_replaced` can give them up."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bson import ObjectId

from functions.core import clock
from functions.core.config import get_settings
from functions.core.errors import Code, ServiceUnavailable
from functions.core.observability import logger
from functions.media import cloud
from functions.media.profiles import folder
from functions.media.status import ACTIVE
from functions.media.stores import assets as store


def record_server_upload(owner_id: ObjectId, purpose: str, result: Mapping[str, Any]) -> dict[str, str]:
    """Record what the Upload API answered (`result`) for that owner and purpose; `{public_id, url}`."""
    now = clock.now()
    public_id, url = str(result["public_id"]), str(result.get("secure_url") or result.get("url") or "")
    store.insert_asset({"_id": public_id, "path": public_id, "ownerId": owner_id, "purpose": purpose, "url": url,
                        "resourceType": str(result.get("resource_type") or "image"), "format": result.get("format"),
                        "bytes": result.get("bytes"), "width": result.get("width"), "height": result.get("height"),
                        "status": ACTIVE, "createdAt": now, "updatedAt": now})
    return {"public_id": public_id, "url": url}


def upload_image(data: bytes, owner_id: ObjectId, purpose: str, fmt: str) -> dict[str, str] | None:
    """A file the server received itself, already checked (`fmt`: "jpeg", "png" or "webp"),
    uploaded into the purpose's folder of the owner and recorded (`record_server_upload`);
    `{public_id, url}`, or None when Cloudinary is not configured. The SDK is imported only here."""
    if not get_settings().cloudinary_url:
        return None
    cloud.configure()  # the SDK set for this cloud and CLOUDINARY_API_BASE
    import cloudinary.exceptions
    import cloudinary.uploader

    try:
        result: dict[str, Any] = cloudinary.uploader.upload(
            data, folder=folder(purpose, owner_id), resource_type="image", format=fmt, filename=f"upload.{fmt}")
    except cloudinary.exceptions.Error as exc:
        logger.warning("image upload failed", extra={"error": type(exc).__name__})
        raise ServiceUnavailable("The image could not be stored; try again later", code=Code.UPLOAD_FAILED) from None
    return record_server_upload(owner_id, purpose, result)
