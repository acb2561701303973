"""The REST channel (`/webhooks/rest/webhook`): Rasa's, with the safety net against silence and
strict request checks. Rasa's own answers a body that is not a JSON object with a 500, drops a
non-string message silently, and files every request without a sender under one shared
conversation "default" (someone else's health data); ours answers those with a 400."""
from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint
from sanic.exceptions import InvalidUsage
from sanic.request import Request

from channels.safety_net import with_safety_net


def json_object(request: Request) -> Dict[str, Any]:
    """The request body as a JSON object, or a 400 for anything else."""
    body = request.json
    if not isinstance(body, dict):
        raise InvalidUsage('expected a JSON object like {"sender": "...", "message": "..."}')
    return body


def required_text(body: Dict[str, Any], key: str) -> str:
    """A string field of the body, or a 400."""
    value = body.get(key)
    if not isinstance(value, str) or (key == "sender" and not value.strip()):
        raise InvalidUsage(f"'{key}' must be a string")
    return value


class RestChannel(RestInput):
    """Rasa's REST channel; a turn that produced no reply gets the safety net's reply."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        return super().blueprint(with_safety_net(on_new_message))

    async def _extract_sender(self, req: Request) -> Optional[Text]:
        return required_text(json_object(req), "sender")

    def _extract_message(self, req: Request) -> Optional[Text]:
        return required_text(json_object(req), "message")

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        return json_object(request).get("metadata")
