"""Request models and answers of the uploads routes, and the `{public_id, url}` reference other
domains take."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from functions.core.config import ConfigError
from functions.core.schemas import Answer, OutModel, WriteModel
from functions.media import cloud

Purpose = Literal["avatar", "medicine-image", "prescription-scan", "pharmacy-license", "analysis-media"]


def asset_url(value: str) -> str:
    """The url of an uploaded file as a client sends it: an https:// URL, or one under
    `CLOUDINARY_DELIVERY_BASE` (in the dev stage, the local stand-in's plain http://127.0.0.1)."""
    parts = urlsplit(value)
    if parts.hostname and not any(c.isspace() for c in value):
        if parts.scheme == "https":
            return value
        try:
            if cloud.delivered_from(value):
                return value
        except ConfigError:  # settings unreadable: only https:// can be judged
            pass
    raise ValueError("must be an https:// URL")


# A validator for the `url` of `{public_id, url}` references in other domains' schemas.
AssetUrl = Annotated[str, StringConstraints(max_length=1024), AfterValidator(asset_url)]


class SignIn(WriteModel):
    purpose: Purpose


class AssetRefIn(BaseModel):
    """What a client sends for an uploaded file; only `public_id` is trusted (the url is
    replaced by the one Cloudinary reported)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    public_id: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    url: Annotated[str, StringConstraints(max_length=1024)] = ""


# ---------------------------------------------------------------- answers


class UploadParamsOut(OutModel):
    """The signed parameters the browser sends to Cloudinary with the file, unchanged."""

    timestamp: int
    folder: str
    public_id: str
    allowed_formats: str
    transformation: str | None = None  # avatars only
    notification_url: str | None = None  # when PUBLIC_BASE_URL is set


class SignedUploadAnswer(Answer):
    """A signed direct upload to Cloudinary (`signing.sign_upload`)."""

    uploadUrl: str
    cloudName: str
    apiKey: str
    signature: str
    params: UploadParamsOut
    purpose: Purpose
    maxBytes: int
    allowedFormats: list[str]


class NotificationAnswer(Answer):
    """Cloudinary's notification acknowledged; `recorded` when it changed an upload's record."""

    received: bool
    recorded: bool
