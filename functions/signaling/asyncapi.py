"""The AsyncAPI 3.0 description of the signaling WebSocket protocol, built from the frame models
(`schemas.FRAMES`: what a client sends, by `action`; `schemas.ANSWERS` and `schemas.PUSHES`: what
the server sends, by `type`) and the error frame's codes (`core.errors.FrameCode`).

`make client` writes it to clients/asyncapi.json beside the REST API's OpenAPI document, and
`make client-check` fails when the committed file differs from what these models build.
"""

from __future__ import annotations

from typing import Any

from functions.core.errors import FrameCode
from functions.signaling import schemas

ASYNCAPI_VERSION = "3.0.0"
REF = "#/components/schemas/{model}"
CHANNEL = "#/channels/signaling"

ERROR_MEANINGS: dict[FrameCode, str] = {
    FrameCode.BAD_REQUEST: "the frame is not a JSON object with an `action`",
    FrameCode.UNKNOWN_ACTION: "no such action",
    FrameCode.INVALID: "a field is missing or wrong (`errors` names them)",
    FrameCode.TOO_LARGE: "the frame is larger than allowed",
    FrameCode.FORBIDDEN: "the caller may not do this (not a participant, not now, wrong role)",
    FrameCode.NOT_FOUND: "no such room, session or message for the caller",
    FrameCode.NOT_IN_ROOM: "join the room first",
    FrameCode.NO_PEER: "the other participant is not in the room",
    FrameCode.DB_UNAVAILABLE: "the database is away: the frame did nothing, send it again later",
    FrameCode.RATE_LIMITED: "too many frames (or emergency requests): slow down",
    FrameCode.REPLACED: "the user opened more connections than allowed: this, the oldest, is closed",
}
USE_CASE_MEANINGS: dict[str, str] = {
    "contact_not_verified": "`emergencyRequest` from a patient whose e-mail or phone is not verified",
}


def _message_name(model: type[schemas.FrameOut]) -> str:
    return str(model.model_fields["type"].annotation.__args__[0])  # type: ignore[union-attr]


def build(version: str = "1.0.0") -> dict[str, Any]:
    """The AsyncAPI document of the WebSocket API."""
    from pydantic.json_schema import models_json_schema

    inbound = sorted(set(schemas.FRAMES.values()), key=lambda m: m.__name__)
    outbound = list(dict.fromkeys([*(m for ms in schemas.ANSWERS.values() for m in ms), *schemas.PUSHES]))
    refs, top = models_json_schema([(m, "validation") for m in inbound] + [(m, "serialization") for m in outbound],
                                   ref_template=REF)
    components: dict[str, Any] = dict(top.get("$defs", {}))

    messages: dict[str, Any] = {}
    for action, model in schemas.FRAMES.items():
        messages[f"action:{action}"] = {
            "name": action, "title": f"action {action}", "contentType": "application/json",
            "payload": {"allOf": [refs[(model, "validation")],
                                  {"type": "object", "properties": {"action": {"const": action}}}]},
        }
    for out in outbound:
        name = _message_name(out)
        message: dict[str, Any] = {"name": name, "title": f"type {name}", "contentType": "application/json",
                                   "payload": refs[(out, "serialization")]}
        if out.__doc__ and out.__doc__.strip() != schemas.FrameOut.__doc__:
            message["summary"] = " ".join(out.__doc__.split())
        messages[f"type:{name}"] = message
    messages["type:error"]["description"] = "Error codes: " + "; ".join(
        [f"`{code.value}`: {ERROR_MEANINGS[code]}" for code in FrameCode]
        + [f"`{code}`: {meaning}" for code, meaning in USE_CASE_MEANINGS.items()])

    def ref(key: str) -> dict[str, str]:
        return {"$ref": f"{CHANNEL}/messages/{key.replace('/', '~1')}"}

    operations: dict[str, Any] = {}
    for action in schemas.FRAMES:
        answers = [f"type:{_message_name(m)}" for m in schemas.ANSWERS[action]] + ["type:error"]
        operations[f"send-{action}"] = {
            "action": "receive", "channel": {"$ref": CHANNEL}, "title": f"The client sends `{action}`",
            "messages": [ref(f"action:{action}")],
            "reply": {"channel": {"$ref": CHANNEL}, "messages": [ref(key) for key in answers]},
        }
    for pushed in schemas.PUSHES:
        name = _message_name(pushed)
        operations[f"push-{name}"] = {"action": "send", "channel": {"$ref": CHANNEL},
                                      "title": f"The server pushes `{name}`", "messages": [ref(f"type:{name}")]}

    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "CureConnect signaling (WebSocket)", "version": version,
            "description": "Video calls, chat and emergency requests over one WebSocket. Connect with the "
                           "session JWT as the query parameter `token`. Every frame a client sends is a JSON "
                           "object with an `action`; every frame the server sends has a `type`. A refused "
                           "frame is answered `{type: \"error\", code, message}` with one of the codes of "
                           "the `error` message. Send `ping` within 10 minutes of silence (the gateway's idle "
                           "cut); a connection lives at most 2 hours.",
        },
        "servers": {
            "aws": {"host": "{apiId}.execute-api.{region}.amazonaws.com", "pathname": "/{stage}", "protocol": "wss",
                    "variables": {"apiId": {}, "region": {"default": "ap-south-1"}, "stage": {"default": "prod"}}},
            "local": {"host": "127.0.0.1:8001", "protocol": "ws", "description": "`make run`'s gateway"},
        },
        "channels": {
            "signaling": {
                "address": "/", "title": "The signaling socket", "messages": messages,
                "bindings": {"ws": {"query": {"type": "object", "required": ["token"],
                                              "properties": {"token": {"type": "string",
                                                                       "description": "The session JWT"}}}}},
            },
        },
        "operations": operations,
        "components": {"schemas": components},
    }
