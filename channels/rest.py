"""The REST channel (`/webhooks/rest/webhook`), with the safety net against silence."""
from __future__ import annotations

from typing import Any, Awaitable, Callable, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint

from channels.safety_net import with_safety_net


class RestChannel(RestInput):
    """Rasa's REST channel; a turn that produced no reply gets the safety net's reply."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        return super().blueprint(with_safety_net(on_new_message))
