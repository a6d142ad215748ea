"""What other domains do with uploaded files (through `api`): an entity accepts a file only as
an active upload of its owner for that purpose (`require_assets`), and gives up a replaced one
after its write is committed (`destroy_replaced`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bson import ObjectId

from functions.core import clock
from functions.core.errors import Code, Unprocessable
from functions.media import cloud
from functions.media.status import ACTIVE
from functions.media.stores import assets as store


def _public_id(ref: Mapping[str, Any] | Any) -> Any:
    return ref.get("public_id") if isinstance(ref, Mapping) else getattr(ref, "public_id", None)


def require_assets(owner_id: ObjectId, purpose: str, refs: Iterable[Mapping[str, Any] | Any],
                   field: str = "images") -> list[dict[str, str]]:
    """Accept `[{public_id, url}, ...]` only if every public id is an active upload of
    `owner_id` for `purpose` (one read). Returns `[{public_id, url}]` with the url Cloudinary
    reported (the client's url is never trusted). Unprocessable(code=Code.ASSET_INVALID) otherwise."""
    ids: list[str] = []
    for ref in refs:
        public_id = _public_id(ref)
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
        return {value for value in map(_public_id, refs) if isinstance(value, str) and value}

    now, given_up = clock.now(), 0
    for public_id in sorted(ids(old_refs) - ids(keep_refs)):
        retired = store.retire(public_id, owner_id, now)
        if retired is None:
            continue
        given_up += 1
        cloud.destroy(public_id, str(retired.get("resourceType") or "image"))
    return given_up


def erase_owner(owner_id: ObjectId) -> int:
    """The erase of an account: every active file of the owner deleted from Cloudinary (best
    effort, logged), then every record of theirs; the number of records removed. Idempotent."""
    for asset in store.of_owner(owner_id, 1000):
        if asset.get("status") == ACTIVE:
            cloud.destroy(str(asset["_id"]), str(asset.get("resourceType") or "image"))
    return store.delete_of_owner(owner_id)
