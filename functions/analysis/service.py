"""POST /analyze: one medical image or video through the configured provider, stored in the
caller's medical history; an urgent result starts the emergency flow.

The media is either an upload of the caller's (`publicId`, checked by the media domain: only
their own `analysis-media` assets) or an https URL. The stored history text ends with
"Emergency Level: N", the line the existing frontend reads from it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from functions.analysis import provider as providers
from functions.analysis.schemas import AnalysisResult, AnalyzeIn
from functions.auth import api as auth
from functions.core import clock, throttle
from functions.core.config import get_settings
from functions.core.errors import AppError, Code, ServiceUnavailable
from functions.core.observability import logger
from functions.core.security import PATIENT, Principal
from functions.core.throttle import Limit
from functions.media import api as media
from functions.signaling import api as signaling

HISTORY_TEXT_MAX = 4000


def analyze(principal: Principal, body: AnalyzeIn, source_ip: str | None = None) -> dict[str, Any]:
    provider = providers.configured()
    if provider is None:
        raise ServiceUnavailable("analysis provider not configured", code=Code.ANALYSIS_NOT_CONFIGURED)
    url = _media_url(principal, body)
    _take_quota(principal)
    try:
        result = provider.analyze(providers.Media(url, body.kind, providers.mime_type(url, body.kind)), body.prompt)
    except providers.ProviderError as exc:
        logger.warning("analysis provider failed", extra={"provider": provider.name, "reason": str(exc)})
        raise ServiceUnavailable("The analysis provider is unavailable; try again later",
                                 code=Code.ANALYSIS_PROVIDER_ERROR) from None
    entry = _store_in_history(principal, result, url, body.kind)
    out: dict[str, Any] = {"analysis": result.analysis, "emergencyLevel": result.emergencyLevel,
                           "findings": result.findings, "historyEntryId": entry.get("_id")}
    emergency = _maybe_start_emergency(principal, result, source_ip)
    if emergency is not None:
        out["emergency"] = emergency
    return out


def _media_url(principal: Principal, body: AnalyzeIn) -> str:
    if body.publicId is None:
        assert body.mediaUrl is not None
        return body.mediaUrl
    return media.require_asset(principal.id, "analysis-media", {"public_id": body.publicId}, field="publicId")["url"]


def _take_quota(principal: Principal) -> None:
    """ANALYSIS_PER_HOUR analyses an hour per user (`core.throttle`)."""
    limit = get_settings().analysis_per_hour
    throttle.take(Limit("analysis", limit, timedelta(hours=1), Code.ANALYSIS_RATE_LIMITED,
                        f"At most {limit} analyses per hour"), str(principal.id), clock.now())


def history_text(result: AnalysisResult) -> str:
    tail = f"\n\nEmergency Level: {result.emergencyLevel}"
    findings = "".join(f"\n- {f}" for f in result.findings)
    text = result.analysis + (f"\n\nFindings:{findings}" if findings else "")
    return text[: HISTORY_TEXT_MAX - len(tail)] + tail


def _store_in_history(principal: Principal, result: AnalysisResult, url: str,
                      kind: Literal["image", "video"]) -> dict[str, Any]:
    return auth.add_history_entry(principal, history_text(result), url, kind)


def _maybe_start_emergency(principal: Principal, result: AnalysisResult, source_ip: str | None
                           ) -> dict[str, Any] | None:
    """Level >= EMERGENCY_ALERT_LEVEL for a patient starts signaling's emergency flow (which
    alerts online doctors). Best effort: the analysis is answered either way."""
    if result.emergencyLevel < get_settings().emergency_alert_level or principal.role != PATIENT:
        return None
    try:
        started: dict[str, Any] = signaling.start_emergency(principal.id, f"AI analysis: emergency level "
                                                                          f"{result.emergencyLevel}", "analysis",
                                                            source_ip)
    except AppError as exc:  # e.g. an emergency was started a moment ago
        logger.info("emergency not started after analysis", extra={"code": exc.code})
        return None
    return started
