"""The media domain's public seam: the only module other domains import from it.

What an entity does with an uploaded file: accept it only through `require_assets` (an active
upload of that owner and purpose), give a replaced one up through `destroy_replaced`, and store
a file the server received itself through `upload_image`. Each function imports what it
delegates to when it is called; `asset_url` and `AssetUrl` validate the `{public_id, url}`
references of other domains' request models.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bson import ObjectId

from functions.media.schemas import AssetUrl, asset_url

__all__ = ["AssetUrl", "asset_url", "destroy_replaced", "erase_owner", "on_our_cloud", "require_asset",
           "require_assets", "upload_image"]


def require_assets(owner_id: ObjectId, purpose: str, refs: Iterable[Mapping[str, Any] | Any],
                   field: str = "images") -> list[dict[str, str]]:
    from functions.media import assets

    return assets.require_assets(owner_id, purpose, refs, field)


def require_asset(owner_id: ObjectId, purpose: str, ref: Mapping[str, Any] | Any,
                  field: str = "image") -> dict[str, str]:
    from functions.media import assets

    return assets.require_asset(owner_id, purpose, ref, field)


def destroy_replaced(owner_id: ObjectId, old_refs: Iterable[Mapping[str, Any] | Any],
                     keep_refs: Sequence[Mapping[str, Any] | Any] = ()) -> int:
    from functions.media import assets

    return assets.destroy_replaced(owner_id, old_refs, keep_refs)


def on_our_cloud(url: str) -> bool:
    from functions.media import cloud

    return cloud.on_our_cloud(url)


def upload_image(data: bytes, owner_id: ObjectId, purpose: str, fmt: str) -> dict[str, str] | None:
    """Store an image the server received (a multipart form's file, already checked) in the
    purpose's folder of the owner and record it like a browser upload; `{public_id, url}`, or
    None when Cloudinary is not configured."""
    from functions.media import server_uploads

    return server_uploads.upload_image(data, owner_id, purpose, fmt)


def erase_owner(owner_id: ObjectId) -> int:
    """The erase of an account: the owner's files deleted from the cloud and their records removed."""
    from functions.media import assets

    return assets.erase_owner(owner_id)
