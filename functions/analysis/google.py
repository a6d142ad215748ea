"""Google GenAI (Gemini) as the analysis provider. `google.genai` is imported here only, when an
analysis is made. Tests swap the SDK's transport (`transport`, an httpx2 transport factory),
never the SDK."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from functions.analysis.provider import Media, ProviderError
from functions.analysis.schemas import AnalysisResult

# Factory of the SDK's HTTP transport (None = the SDK's default).
transport: Callable[[], Any] | None = None

SYSTEM = (
    "You assist licensed clinicians on a telehealth platform. Look at the medical image or video and "
    "answer in JSON with: analysis (plain language, at most 3000 characters, no diagnosis, advise seeing "
    "a doctor), emergencyLevel (integer 1-5; 5 = life threatening now, 4 = urgent care today, "
    "3 = see a doctor within days, 2 = routine, 1 = no concern) and findings (a list of short "
    "observations). If the media is not medical or cannot be read, say so with emergencyLevel 1."
)
DEFAULT_PROMPT = "Describe the medically relevant findings."
TIMEOUT_MS = 25_000  # under API Gateway's 29 s


class GoogleProvider:
    name = "google-genai"

    def __init__(self, api_key: str, model: str) -> None:
        self.api_key, self.model = api_key, model

    def _client(self) -> Any:
        from google import genai
        from google.genai import types

        options: dict[str, Any] = {"timeout": TIMEOUT_MS}
        if transport is not None:
            options["client_args"] = {"transport": transport()}
        return genai.Client(api_key=self.api_key, http_options=types.HttpOptions(**options))

    def analyze(self, media: Media, prompt: str | None) -> AnalysisResult:
        from google.genai import errors, types

        config = types.GenerateContentConfig(
            system_instruction=SYSTEM, temperature=0.2, response_mime_type="application/json",
            response_schema={"type": "OBJECT", "required": ["analysis", "emergencyLevel", "findings"],
                             "properties": {"analysis": {"type": "STRING"},
                                            "emergencyLevel": {"type": "INTEGER"},
                                            "findings": {"type": "ARRAY", "items": {"type": "STRING"}}}})
        contents = [types.Part.from_uri(file_uri=media.url, mime_type=media.mime_type), prompt or DEFAULT_PROMPT]
        client = self._client()  # held: a Client that is garbage-collected closes its HTTP client mid-call
        try:
            response = client.models.generate_content(model=self.model, contents=contents, config=config)
        except errors.APIError as exc:
            raise ProviderError(f"google-genai answered {exc.code}") from None
        except Exception as exc:  # transport failures (timeouts, DNS) come as httpx errors
            raise ProviderError(f"google-genai failed: {type(exc).__name__}") from None
        finally:
            client.close()
        try:
            return AnalysisResult.model_validate(json.loads(response.text or ""))
        except (ValueError, ValidationError):
            raise ProviderError("google-genai answered something that is not the expected JSON") from None
