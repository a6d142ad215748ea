"""Pure parts of analysis: the request's aliases, the provider's answer bounds, the history text."""

import pytest
from pydantic import ValidationError

from functions.analysis.provider import mime_type
from functions.analysis.schemas import AnalysisResult, AnalyzeIn
from functions.analysis.service import HISTORY_TEXT_MAX, history_text

URL = "https://res.cloudinary.com/c/image/upload/x.jpg"


def test_the_references_aliases_become_media_url_and_kind():
    assert AnalyzeIn.model_validate({"video_url": URL}).kind == "video"
    assert AnalyzeIn.model_validate({"image_url": URL}).mediaUrl == URL
    # an explicit kind wins over the alias's
    assert AnalyzeIn.model_validate({"video_url": URL, "kind": "image"}).kind == "image"


@pytest.mark.parametrize("raw", [{"emergencyLevel": 0}, {"emergencyLevel": 6}, {"analysis": ""},
                                 {"findings": ["x"] * 21}])
def test_answers_out_of_bounds_are_refused(raw):
    with pytest.raises(ValidationError):
        AnalysisResult.model_validate({"analysis": "a", "emergencyLevel": 3, "findings": [], **raw})


def test_the_history_text_always_ends_with_the_level_line_the_frontend_reads():
    long = AnalysisResult(analysis="x" * 3500, emergencyLevel=5, findings=["y" * 500] * 20)
    text = history_text(long)
    assert len(text) <= HISTORY_TEXT_MAX and text.endswith("Emergency Level: 5")


def test_mime_types_follow_the_extension_with_a_fallback_per_kind():
    assert mime_type(URL, "image") == "image/jpeg"
    assert mime_type("https://x/v.webm?x=1", "video") == "video/webm"
    assert mime_type("https://x/blob", "video") == "video/mp4"
