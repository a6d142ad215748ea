"""Request models of the uploads routes, and the `{public_id, url}` reference other domains take."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from functions.core.schemas import WriteModel

Purpose = Literal["avatar", "medicine-image", "prescription-scan", "pharmacy-license", "analysis-media"]


class SignIn(WriteModel):
    purpose: Purpose


class AssetRef(BaseModel):
    """What a client sends for an uploaded file; only `public_id` is trusted (the url is
    replaced by the one Cloudinary reported)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    public_id: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    url: Annotated[str, StringConstraints(max_length=1024)] = ""
