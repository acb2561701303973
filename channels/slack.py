"""Slack (Events API), text only. In credentials.yml: `channels.slack.SlackChannel:`.

Environment:
  SLACK_BOT_TOKEN       the app's Bot User OAuth Token, xoxb-... (required)
  SLACK_SIGNING_SECRET  the app's signing secret; every request's X-Slack-Signature is checked (required)
  SLACK_API_URL         optional: Web API base URL (default https://slack.com/api/), for tests

Optional, non-secret settings may stay in credentials.yml: `slack_channel`, `use_threads`,
`conversation_granularity` (sender | channel | thread), as in Rasa's own Slack channel.

Differences from Rasa's SlackInput: no secrets in YAML; a bad or missing signature gets 401 (not
400); every retry (X-Slack-Retry-Num) is acknowledged with 200 and not processed again: the first
delivery is already being answered, since the turn runs in the background after a quick 200; no
Block Kit buttons (Slack drops more than five, and "/..." payloads typed back read as slash
commands): numbered options instead; custom JSON is never posted. Every message goes through
`channels.input_policy` (a file shared without text gets its short reply).
"""

from __future__ import annotations

import asyncio
import json
import logging
from http import HTTPStatus
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.slack import SlackBot, SlackInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.web.async_client import AsyncWebClient

from channels import input_policy, rate_limit
from channels.safety_net import with_safety_net
from channels.text_options import (
    TextOnlyOutput,
    add_health_route,
    disabled_response,
    ignore_yaml_secrets,
    log_disabled,
    merge_metadata,
    read_env,
    resolve_choice,
    split_text,
)

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
MESSAGE_LIMIT = 3900  # Slack truncates text after 40,000 characters but advises under 4,000
#: message subtypes that are still a person writing (others: joins, edits, deletions, bots)
USER_SUBTYPES = {None, "thread_broadcast", "file_share"}


class SlackOutputChannel(TextOnlyOutput, SlackBot):
    """Posts plain text with chat.postMessage; buttons as numbered options; custom JSON dropped."""

    def __init__(
        self,
        token: Text,
        slack_channel: Optional[Text] = None,
        thread_id: Optional[Text] = None,
        proxy: Optional[Text] = None,
        api_url: Text = DEFAULT_API_URL,
    ) -> None:
        super().__init__(token, slack_channel, thread_id, proxy)
        if not api_url.endswith("/"):
            api_url += "/"
        self.client = AsyncWebClient(token, base_url=api_url, proxy=proxy)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        recipient = self.slack_channel or recipient_id
        for part in split_text(text, MESSAGE_LIMIT):
            # no `as_user`: it is for classic apps only; a bot token posts as the bot
            await self._post_message(channel=recipient, text=part)


class SlackChannel(SlackInput):
    """Slack input channel configured from the environment (see the module docstring)."""

    REQUIRED = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    OPTIONAL = ("SLACK_API_URL",)
    YAML_OPTIONS = ("slack_channel", "use_threads", "conversation_granularity", "proxy")

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        options = ignore_yaml_secrets("Slack", credentials, cls.YAML_OPTIONS)
        env = read_env(cls.REQUIRED, cls.OPTIONAL)
        reason = env.disabled_reason
        return cls(
            env.get("SLACK_BOT_TOKEN"),
            options.get("slack_channel"),
            options.get("proxy"),
            use_threads=bool(options.get("use_threads", False)),
            slack_signing_secret=env.get("SLACK_SIGNING_SECRET", ""),
            conversation_granularity=options.get("conversation_granularity", "sender"),
            api_url=env.get("SLACK_API_URL", DEFAULT_API_URL),
            disabled_reason=reason,
        )

    def __init__(
        self,
        slack_token: Optional[Text],
        slack_channel: Optional[Text] = None,
        proxy: Optional[Text] = None,
        use_threads: bool = False,
        slack_signing_secret: Text = "",
        conversation_granularity: Text = "sender",
        api_url: Text = DEFAULT_API_URL,
        disabled_reason: Optional[Text] = None,
    ) -> None:
        self.disabled_reason = disabled_reason
        self.api_url = api_url
        if disabled_reason:
            # SlackInput.__init__ refuses to run without a signing secret; keep the server up
            self.slack_token, self.slack_channel, self.proxy = slack_token, slack_channel, proxy
            self.slack_signing_secret = ""
            self._background_tasks = set()
            log_disabled("Slack", disabled_reason)
            return
        super().__init__(
            slack_token,
            slack_channel,
            proxy,
            use_threads=use_threads,
            slack_signing_secret=slack_signing_secret,
            conversation_granularity=conversation_granularity,
        )

    # ---------------------------------------------------------------- helpers
    @staticmethod
    def _event_metadata(body: Dict[str, Any]) -> Dict[str, Any]:
        event = body.get("event") or {}
        users: List[Text] = list(body.get("authed_users") or [])
        if not users and body.get("authorizations"):
            users = [body["authorizations"][0].get("user_id")]
        return {
            "out_channel": event.get("channel"),
            "thread_id": event.get("thread_ts", event.get("ts")),
            "users": [u for u in users if u],
        }

    @staticmethod
    def _interactive_metadata(payload: Dict[str, Any]) -> Dict[str, Any]:
        message = payload.get("message") or {}
        user = (payload.get("user") or {}).get("id")
        return {
            "out_channel": (payload.get("channel") or {}).get("id"),
            "thread_id": message.get("thread_ts", message.get("ts")),
            "users": [user] if user else [],
        }

    def _take(
        self,
        request: Request,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        conversation_id: Optional[Text],
        text: Any,
        metadata: Dict[str, Any],
    ) -> HTTPResponse:
        """The input policy's verdict, then the turn (or the refusal's reply) in the background,
        so Slack gets its 200 within 3 seconds; a 400 when the conversation ID is unusable."""
        verdict = input_policy.check(conversation_id, text)
        if verdict.refusal == "sender":
            return response.json(input_policy.http_error("sender"), status=400)
        out = self.get_output_channel(
            metadata.get("out_channel"), metadata.get("thread_id") if self.use_threads else None
        )

        # per conversation only: every Slack user comes from Slack's servers
        decision = rate_limit.LIMITER.check(None, verdict.sender_id)

        async def turn() -> None:
            try:
                if not decision.allowed:
                    await rate_limit.answer_limited(
                        out, verdict.sender_id, verdict.text, decision.retry_after
                    )
                    return
                if not verdict.accepted:
                    await out.send_text_message(verdict.sender_id, verdict.reply)
                    return
                resolved, choice = await resolve_choice(request, verdict.sender_id, verdict.text)
                await on_new_message(
                    UserMessage(
                        resolved,
                        out,
                        verdict.sender_id,
                        input_channel=self.name(),
                        metadata=merge_metadata(metadata, choice),
                    )
                )
            except Exception as error:
                logger.error(f"Slack: exception while handling a message: {error}")
                logger.debug(error, exc_info=True)

        task = asyncio.create_task(turn())
        self._background_tasks.add(task)
        task.add_done_callback(self._background_tasks.discard)
        return response.text("")

    # ---------------------------------------------------------------- routes
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        on_new_message = with_safety_net(on_new_message)  # never silence, even without actions
        slack_webhook = Blueprint("slack_channel", __name__)

        add_health_route(slack_webhook, "slack", lambda: self.disabled_reason)

        @slack_webhook.route("/webhook", methods=["GET", "POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if self.disabled_reason:
                return disabled_response("slack", self.disabled_reason)
            if not self.is_request_from_slack_authentic(request):
                return response.json(
                    {
                        "status": "unauthorized",
                        "reason": "missing, stale or invalid X-Slack-Signature",
                    },
                    status=HTTPStatus.UNAUTHORIZED,
                )

            retry = request.headers.get("X-Slack-Retry-Num")
            if retry:
                # the first delivery was acknowledged and is being answered: never answer twice
                logger.info(
                    f"Slack: acknowledged retry #{retry} "
                    f"({request.headers.get('X-Slack-Retry-Reason', 'no reason')}) "
                    f"without processing it again"
                )
                return response.text("", status=200, headers={"X-Slack-No-Retry": "1"})

            content_type = (request.headers.get("content-type") or "").split(";")[0].strip()
            if content_type == "application/json":
                body = request.json or {}
                if body.get("type") == "url_verification" or "challenge" in body:
                    return response.json({"challenge": body.get("challenge")})
                event = body.get("event") or {}
                if not self._is_user_message(body) or event.get("subtype") not in USER_SUBTYPES:
                    return response.text("ignored: not a user message")
                metadata = self._event_metadata(body)
                if not self._is_supported_channel(body, metadata):
                    return response.text("ignored: channel not supported")
                conversation_id = self._get_conversation_id(
                    event.get("user"), metadata["out_channel"], metadata["thread_id"]
                )
                text = event.get("text")
                if isinstance(text, str):  # Rasa's helper takes text only; the policy the rest
                    text = self._sanitize_user_message(text, metadata["users"])
                return self._take(request, on_new_message, conversation_id, text, metadata)

            if content_type == "application/x-www-form-urlencoded" and request.form.get("payload"):
                # interactive components (left from older messages: we post no buttons)
                try:
                    payload = json.loads(request.form.get("payload"))
                except ValueError:
                    return response.text("ignored: unreadable payload")
                if self._is_interactive_message(payload):
                    text = self._get_interactive_response(payload["actions"][0])
                    metadata = self._interactive_metadata(payload)
                    if text is not None and metadata["users"]:
                        conversation_id = self._get_conversation_id(
                            metadata["users"][0], metadata["out_channel"], metadata["thread_id"]
                        )
                        return self._take(request, on_new_message, conversation_id, text, metadata)
            return response.text("ignored")

        return slack_webhook

    def get_output_channel(
        self, channel: Optional[Text] = None, thread_id: Optional[Text] = None
    ) -> Optional[SlackOutputChannel]:
        if self.disabled_reason:
            return None
        return SlackOutputChannel(
            self.slack_token,
            channel or self.slack_channel,
            thread_id,
            self.proxy,
            api_url=self.api_url,
        )
