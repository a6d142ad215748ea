"""Signed direct uploads to Cloudinary, the notification webhook that records each asset with
its owner and purpose, and the ownership checks other domains call.

Files go from the browser straight to Cloudinary (Lambda bodies are capped at 6 MB); nothing is
uploaded before the entity that uses it is validated (D-35: the reference uploaded first and
left orphans, and never deleted replaced images). An entity accepts an uploaded file only
through `require_assets`, and gives up a replaced one through `destroy_replaced`.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bson import ObjectId

from functions.core import clock
from functions.core.config import get_settings
from functions.core.errors import BadRequest, Code, Forbidden, ServiceUnavailable, Unprocessable
from functions.core.observability import logger
from functions.core.security import Principal
from functions.media import cloud, store
from functions.media.profiles import PROFILES, ROOT_FOLDER, acceptable, folder, parse_path
from functions.media.schemas import SignIn

ACTIVE, REJECTED, DESTROYED = "active", "rejected", "destroyed"


# ---------------------------------------------------------------- signing


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


# ---------------------------------------------------------------- notifications


def handle_notification(body: bytes | str, timestamp: str | None, signature: str | None) -> dict[str, Any]:
    """POST /uploads/notify: Cloudinary's signed notification. An upload into one of our folders
    is recorded for the owner and purpose its folder names (the folder was signed by us, so it
    is the uploader's); one that breaks its profile is recorded as rejected and destroyed."""
    try:
        raw = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError:
        raise BadRequest("The body must be UTF-8", code=Code.MALFORMED_JSON) from None
    if not cloud.verify_notification(raw, timestamp, signature):
        raise Forbidden("Invalid notification signature", code=Code.BAD_SIGNATURE)
    try:
        data = json.loads(raw)
    except ValueError:
        raise BadRequest("Malformed JSON body", code=Code.MALFORMED_JSON) from None
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


# ---------------------------------------------------------------- for other domains


def require_assets(owner_id: ObjectId, purpose: str, refs: Iterable[Mapping[str, Any] | Any],
                   field: str = "images") -> list[dict[str, str]]:
    """Accept `[{public_id, url}, ...]` only if every public id is an active upload of
    `owner_id` for `purpose` (one read). Returns `[{public_id, url}]` with the url Cloudinary
    reported (the client's url is never trusted). Unprocessable(code=Code.ASSET_INVALID) otherwise."""
    ids: list[str] = []
    for ref in refs:
        public_id = ref.get("public_id") if isinstance(ref, Mapping) else getattr(ref, "public_id", None)
        if isinstance(public_id, str) and public_id and public_id not in ids:
            ids.append(public_id)
    if not ids:
        return []
    found = {doc["_id"]: doc for doc in store.owned(owner_id, purpose, ids)}
    missing = [n for n, public_id in enumerate(ids) if public_id not in found]
    if missing:
        raise Unprocessable(f"Not an upload of yours for {purpose}; upload the file again",
                            code=Code.ASSET_INVALID,
                            errors=[{"field": f"{field}.{n}.public_id", "message": "Unknown upload"} for n in missing])
    return [{"public_id": public_id, "url": str(found[public_id]["url"])} for public_id in ids]


def require_asset(owner_id: ObjectId, purpose: str, ref: Mapping[str, Any] | Any,
                  field: str = "image") -> dict[str, str]:
    """`require_assets` for one reference (errors name `<field>.public_id`)."""
    try:
        checked = require_assets(owner_id, purpose, [ref], field)
    except Unprocessable as exc:
        raise Unprocessable(exc.message, code=Code.ASSET_INVALID,
                            errors=[{"field": f"{field}.public_id", "message": "Unknown upload"}]) from None
    if not checked:
        raise Unprocessable("An uploaded file is required", code=Code.ASSET_INVALID,
                            errors=[{"field": f"{field}.public_id", "message": "Required"}])
    return checked[0]


def destroy_replaced(owner_id: ObjectId, old_refs: Iterable[Mapping[str, Any] | Any],
                     keep_refs: Sequence[Mapping[str, Any] | Any] = ()) -> int:
    """After an entity's write is committed: every old asset of the owner that the entity no
    longer uses is marked destroyed and deleted from Cloudinary (best effort, logged). Returns
    how many were given up. Assets we never recorded (older uploads) are left alone."""
    def ids(refs: Iterable[Mapping[str, Any] | Any]) -> set[str]:
        out = set()
        for ref in refs:
            value = ref.get("public_id") if isinstance(ref, Mapping) else getattr(ref, "public_id", None)
            if isinstance(value, str) and value:
                out.add(value)
        return out

    now, given_up = clock.now(), 0
    for public_id in sorted(ids(old_refs) - ids(keep_refs)):
        retired = store.retire(public_id, owner_id, now)
        if retired is None:
            continue
        given_up += 1
        cloud.destroy(public_id, str(retired.get("resourceType") or "image"))
    return given_up


def record_server_upload(owner_id: ObjectId, purpose: str, result: Mapping[str, Any]) -> dict[str, str]:
    """A file our server uploaded itself (the frontend's multipart forms: the pharmacy avatar,
    medicine photos) is recorded like a browser upload, for that owner and purpose, so that
    `require_assets` accepts it later and `destroy_replaced` can give it up. `result` is the
    Upload API's answer. Returns `{public_id, url}`."""
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


def on_our_cloud(url: str) -> bool:
    """Is `url` a delivery URL of this deployment's Cloudinary cloud
    (`https://res.cloudinary.com/<cloud>/...`, or under `CLOUDINARY_DELIVERY_BASE`)? False when
    uploads are not configured. Used only where no recorded asset can exist yet (the sign-up
    form's unsigned browser upload)."""
    try:
        cloud_name = cloud.credentials().cloud_name
    except ServiceUnavailable:
        return False
    return cloud.delivered_from(url, cloud_name)
