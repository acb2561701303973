"""The REST channel (`/webhooks/rest/webhook`): Rasa's, with the safety net against silence and
strict request checks. Rasa's own answers a body that is not a JSON object with a 500, drops a
non-string message silently, and files every request without a sender under one shared
conversation "default" (someone else's health data); ours answers those with a 400, refuses sender
IDs a tracker store cannot keep, and cuts very long messages to MAX_MESSAGE_CHARS."""
from __future__ import annotations

import re
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


#: a longer message is cut here: NLU time grows with length and one Sanic worker serves everyone
MAX_MESSAGE_CHARS = 5_000
#: the tracker store's sender_id column is VARCHAR(255)
MAX_SENDER_CHARS = 255
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def required_text(body: Dict[str, Any], key: str) -> str:
    """A string field of the body, or a 400."""
    value = body.get(key)
    if not isinstance(value, str):
        raise InvalidUsage(f"'{key}' must be a string")
    return value


def valid_sender(body: Dict[str, Any]) -> str:
    """A sender ID every tracker store can keep (PostgreSQL refuses NUL; the column is 255 wide)."""
    sender = required_text(body, "sender")
    if not sender.strip() or len(sender) > MAX_SENDER_CHARS or CONTROL_CHARACTERS.search(sender):
        raise InvalidUsage(f"'sender' must be 1 to {MAX_SENDER_CHARS} printable characters")
    return sender


class RestChannel(RestInput):
    """Rasa's REST channel; a turn that produced no reply gets the safety net's reply."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        return super().blueprint(with_safety_net(on_new_message))

    async def _extract_sender(self, req: Request) -> Optional[Text]:
        return valid_sender(json_object(req))

    def _extract_message(self, req: Request) -> Optional[Text]:
        return required_text(json_object(req), "message")[:MAX_MESSAGE_CHARS]

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        return json_object(request).get("metadata")
