"""Request, result and answer models of POST /analyze.

The reference's frontend sends `image_url` (and its backend read `video_url`): both are
accepted as aliases of `mediaUrl`, and they also say which kind the media is."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from functions.core.schemas import Answer, Id, OutModel, WriteModel

HttpsUrl = Annotated[str, StringConstraints(pattern=r"^https://[^\s]+$", max_length=1024)]


class AnalyzeIn(WriteModel):
    mediaUrl: HttpsUrl | None = None
    publicId: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None
    kind: Literal["image", "video"] = "image"
    prompt: Annotated[str, StringConstraints(max_length=2000)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _aliases(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for alias, kind in (("video_url", "video"), ("image_url", "image")):
            if alias in data:
                value = data.pop(alias)
                if "mediaUrl" not in data:
                    data["mediaUrl"] = value
                    data.setdefault("kind", kind)
        return data

    @model_validator(mode="after")
    def _one_source(self) -> AnalyzeIn:
        if (self.mediaUrl is None) == (self.publicId is None):
            raise ValueError("Send exactly one of mediaUrl (or image_url / video_url) and publicId")
        return self


class Finding(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)  # built on first use, not at cold start

    text: Annotated[str, StringConstraints(min_length=1, max_length=500)]


class AnalysisResult(BaseModel):
    """What a provider must answer (validated, so a model's stray output never reaches users)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)

    analysis: Annotated[str, StringConstraints(min_length=1, max_length=3500)]
    emergencyLevel: Annotated[int, Field(ge=1, le=5)]
    findings: Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=500)]],
                        Field(max_length=20)] = []


class EmergencyStartedOut(OutModel):
    """The emergency a high level started for a patient (signaling's session and its room)."""

    sessionId: str
    roomId: str


class AnalysisAnswer(Answer):
    """The analysis, kept in the caller's medical history (`historyEntryId`); `emergency` when its
    level started the emergency flow for a patient."""

    analysis: str
    emergencyLevel: int
    findings: list[str]
    historyEntryId: Id | None
    emergency: EmergencyStartedOut | None = None
