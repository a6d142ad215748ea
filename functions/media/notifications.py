"""Cloudinary's signed notifications: each upload into one of our folders recorded for the owner
and purpose its folder names (the folder was signed by us, so it is the uploader's); one that
breaks its profile recorded as rejected and destroyed; deletions recorded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from functions.core import clock
from functions.core.bodies import read_json
from functions.core.errors import BadRequest, Code, Forbidden
from functions.core.observability import logger
from functions.media import cloud
from functions.media.profiles import PROFILES, ROOT_FOLDER, acceptable, parse_path
from functions.media.status import ACTIVE, DESTROYED, REJECTED
from functions.media.stores import assets as store


def handle_notification(body: bytes | str, timestamp: str | None, signature: str | None) -> dict[str, Any]:
    """POST /uploads/notify: the signature is checked on the exact text Cloudinary signed, then
    the text is read as JSON (`core.bodies`)."""
    try:
        raw = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError:
        raise BadRequest("The body must be UTF-8", code=Code.MALFORMED_JSON) from None
    if not cloud.verify_notification(raw, timestamp, signature):
        raise Forbidden("Invalid notification signature", code=Code.BAD_SIGNATURE)
    data = read_json(raw) if raw.strip() else None
    if not isinstance(data, dict):
        raise BadRequest("The JSON body must be an object", code=Code.MALFORMED_JSON)
    kind = data.get("notification_type")
    if kind == "upload":
        return {"received": True, "recorded": _record_upload(data)}
    if kind == "delete":
        now = clock.now()
        gone = [str(r.get("public_id")) for r in data.get("resources") or [] if isinstance(r, dict)]
        return {"received": True,
                "recorded": sum(store.set_status(p, None, (ACTIVE, REJECTED), DESTROYED, now) for p in gone) > 0}
    return {"received": True, "recorded": False}


def _record_upload(data: Mapping[str, Any]) -> bool:
    public_id = str(data.get("public_id") or "")
    # fixed folders: the public id holds the folder; dynamic folders: it comes as `asset_folder`
    path = public_id if public_id.startswith(ROOT_FOLDER + "/") else \
        f"{data.get('asset_folder') or data.get('folder') or ''}/{public_id}"
    parsed = parse_path(path)
    if parsed is None:
        logger.info("upload outside our folders ignored", extra={"publicId": public_id})
        return False
    purpose, owner = parsed
    why = acceptable(PROFILES[purpose], data.get("format"), data.get("bytes"))
    now = clock.now()
    resource_type = str(data.get("resource_type") or "image")
    doc = {"_id": public_id, "path": path, "ownerId": owner, "purpose": purpose,
           "url": str(data.get("secure_url") or ""), "resourceType": resource_type,
           "format": data.get("format"), "bytes": data.get("bytes"), "width": data.get("width"),
           "height": data.get("height"), "status": ACTIVE if why is None else REJECTED, "createdAt": now,
           "updatedAt": now}
    if why is not None:
        doc["rejectedFor"] = why
    if not store.insert_asset(doc):
        return False  # a retried notification
    if why is not None:
        logger.info("upload rejected", extra={"publicId": public_id, "purpose": purpose, "reason": why})
        cloud.destroy(public_id, resource_type)
    return True
