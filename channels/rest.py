"""The REST channel (`/webhooks/rest/webhook`): Rasa's, with the safety net against silence and
the project's input policy (`channels.input_policy`). Rasa's own answers a body that is not a JSON
object with a 500, drops a non-string message silently, and files every request without a sender
under one shared conversation "default" (someone else's health data). Ours answers a body that is
not a JSON object, and a sender ID a tracker store cannot keep, with a 400 and a JSON reason; a
message it cannot take (not text, empty, malformed metadata) gets the policy's short reply as an
ordinary bot message; long messages are cut and control characters dropped before Rasa sees them.

A message over the flood limits (`channels.rate_limit`: per client address and per conversation)
gets 429 with Retry-After and a JSON reason, plus `messages`: the escalation when it reports a red
flag, and the short "too fast" reply. It never reaches Rasa, so it is not stored.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import input_policy, rate_limit
from channels.safety_net import with_safety_net


def json_object(request: Request) -> Optional[Dict[str, Any]]:
    """The request body as a JSON object, or None for anything else (not JSON, a list, ...)."""
    try:
        body = request.json
    except InvalidUsage:
        return None
    return body if isinstance(body, dict) else None


def refusal(request: Request) -> Optional[HTTPResponse]:
    """The answer to a request Rasa must not see, or None (its verdict is then on `request.ctx`)."""
    body = json_object(request)
    if body is None:
        return response.json(input_policy.http_error("body"), status=400)
    verdict = input_policy.check(body.get("sender"), body.get("message"), body.get("metadata"))
    if verdict.refusal == "sender":
        return response.json(input_policy.http_error("sender"), status=400)
    decision = rate_limit.LIMITER.check(rate_limit.request_address(request), verdict.sender_id)
    if not decision.allowed:
        return too_many(verdict, decision.retry_after)
    if not verdict.accepted:
        return response.json([{"recipient_id": verdict.sender_id, "text": verdict.reply}])
    request.ctx.verdict = verdict
    return None


def too_many(verdict: input_policy.Verdict, retry_after: int) -> HTTPResponse:
    """429 for a message over the limits: Retry-After, a JSON reason, and what the person is told
    (the escalation first when the message reports a red flag)."""
    body = rate_limit.http_reason(retry_after)
    body["messages"] = [
        {"recipient_id": verdict.sender_id, **message}
        for message in rate_limit.limited_messages(verdict.text, retry_after)
    ]
    return response.json(body, status=429, headers={"Retry-After": str(body["retry_after"])})


class RestChannel(RestInput):
    """Rasa's REST channel behind the input policy; a turn without a reply gets the safety net's."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(with_safety_net(on_new_message))

        @blueprint.listener("before_server_start")
        async def timeouts(app: Any, _: Any) -> None:
            rate_limit.apply_timeouts(app)

        @blueprint.middleware("request")
        async def apply_input_policy(request: Request) -> Optional[HTTPResponse]:
            # runs before Rasa's route; GET is the health check
            return refusal(request) if request.method == "POST" else None

        return blueprint

    async def _extract_sender(self, req: Request) -> Optional[Text]:
        return req.ctx.verdict.sender_id

    def _extract_message(self, req: Request) -> Optional[Text]:
        return req.ctx.verdict.text

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        return request.ctx.verdict.metadata
