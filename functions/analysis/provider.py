"""The analysis provider interface, and which provider is configured.

A provider turns one medical image or video (a URL) and an optional question into an
`AnalysisResult`: a plain-language analysis, an emergency level (1-5, 5 most urgent) and the
findings. Google GenAI is used when GOOGLE_API_KEY is set (D-33: the reference shipped Gemini
keys in the browser bundle and sent PHI from the browser; the key now stays server-side).
Without one there is no provider and the route answers 503: never a canned answer (the
reference always returned the same paragraph).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from functions.analysis.schemas import AnalysisResult
from functions.core.config import get_settings


@dataclass(frozen=True)
class Media:
    url: str
    kind: str  # "image" | "video"
    mime_type: str


class Provider(Protocol):
    name: str

    def analyze(self, media: Media, prompt: str | None) -> AnalysisResult:
        """Raise ProviderError when the provider fails or answers something unusable."""
        ...


class ProviderError(Exception):
    """The provider failed; the message is safe to log (no PHI)."""


# Tests (and local tools) install a provider here; None = chosen from the settings.
override: Provider | None = None


def configured() -> Provider | None:
    if override is not None:
        return override
    settings = get_settings()
    if settings.google_api_key:
        from functions.analysis.google import GoogleProvider

        return GoogleProvider(settings.google_api_key, settings.analysis_model)
    return None


MIME_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp",
              "mp4": "video/mp4", "mov": "video/quicktime", "webm": "video/webm"}


def mime_type(url: str, kind: str) -> str:
    extension = url.rsplit("?", 1)[0].rsplit(".", 1)[-1].lower()
    return MIME_TYPES.get(extension, "video/mp4" if kind == "video" else "image/jpeg")
