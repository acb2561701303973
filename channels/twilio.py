"""Twilio SMS and WhatsApp, text only. In credentials.yml: `channels.twilio.TwilioChannel:`.

Environment:
  TWILIO_ACCOUNT_SID   AC... (required)
  TWILIO_AUTH_TOKEN    the account's auth token; also the key of X-Twilio-Signature (required)
  TWILIO_NUMBER        the sending number: +15551234567 for SMS, whatsapp:+14155238886 for WhatsApp
                       (required)
  TWILIO_WEBHOOK_URL   optional: the public URL configured in Twilio
                       (https://<your-host>/webhooks/twilio/webhook). Twilio signs that exact URL;
                       set it when a proxy or load balancer rewrites scheme, host or port.
  TWILIO_API_URL       optional: REST API base URL (default https://api.twilio.com), for tests

Differences from Rasa's TwilioInput: Rasa 3.6 does not check X-Twilio-Signature at all, so anyone
could post messages as any phone number; here every request must carry a valid signature
(twilio.request_validator.RequestValidator) or gets 403. Sending runs in a thread (the Twilio client
is blocking), long texts are split at 1,600 characters, the `whatsapp:` prefix is kept on both
ends, buttons become numbered options and custom JSON is never sent. Every message goes through
`channels.input_policy`: a media message or an empty body gets its short reply, a request without
a usable From a 400.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.twilio import TwilioInput, TwilioOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.base.exceptions import TwilioException
from twilio.request_validator import RequestValidator

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
# the Twilio client logs every request and its headers at INFO: keep only its warnings
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

DEFAULT_API_URL = "https://api.twilio.com"
MESSAGE_LIMIT = 1600  # Twilio's limit for one message body (SMS and WhatsApp)
WHATSAPP = "whatsapp:"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def with_prefix_of(number: Text, recipient: Text) -> Text:
    """The recipient on the same network as `number`: WhatsApp needs `whatsapp:` on both ends."""
    if number.startswith(WHATSAPP) and not recipient.startswith(WHATSAPP):
        return WHATSAPP + recipient
    return recipient


class TwilioOutputChannel(TextOnlyOutput, TwilioOutput):
    """Sends plain text with the Messages API; buttons as numbered options; custom JSON dropped."""

    def __init__(
        self,
        account_sid: Text,
        auth_token: Text,
        twilio_number: Text,
        api_url: Text = DEFAULT_API_URL,
    ) -> None:
        super().__init__(account_sid, auth_token, twilio_number)
        self.api.base_url = api_url.rstrip("/")

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        to = with_prefix_of(self.twilio_number, recipient_id)
        for part in split_text(text, MESSAGE_LIMIT):
            try:
                # the Twilio client is blocking: keep it off the event loop
                await asyncio.to_thread(
                    self.messages.create, to=to, from_=self.twilio_number, body=part
                )
            except TwilioException as error:
                logger.error(f"Twilio: sending failed: {error}")
                raise

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await asyncio.to_thread(
            self.messages.create,
            to=with_prefix_of(self.twilio_number, recipient_id),
            from_=self.twilio_number,
            media_url=[image],
        )


class TwilioChannel(TwilioInput):
    """Twilio input channel configured from the environment (see the module docstring)."""

    REQUIRED = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_NUMBER")
    OPTIONAL = ("TWILIO_WEBHOOK_URL", "TWILIO_API_URL")

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        ignore_yaml_secrets("Twilio", credentials, allowed=())
        env = read_env(cls.REQUIRED, cls.OPTIONAL)
        reason = env.disabled_reason
        return cls(
            env.get("TWILIO_ACCOUNT_SID"),
            env.get("TWILIO_AUTH_TOKEN"),
            env.get("TWILIO_NUMBER"),
            webhook_url=env.get("TWILIO_WEBHOOK_URL"),
            api_url=env.get("TWILIO_API_URL", DEFAULT_API_URL),
            disabled_reason=reason,
        )

    def __init__(
        self,
        account_sid: Optional[Text],
        auth_token: Optional[Text],
        twilio_number: Optional[Text],
        debug_mode: bool = False,
        webhook_url: Optional[Text] = None,
        api_url: Text = DEFAULT_API_URL,
        disabled_reason: Optional[Text] = None,
    ) -> None:
        super().__init__(account_sid, auth_token, twilio_number, debug_mode)
        self.webhook_url = webhook_url
        self.api_url = api_url
        self.disabled_reason = disabled_reason
        self.validator = RequestValidator(auth_token) if auth_token else None
        if disabled_reason:
            log_disabled("Twilio", disabled_reason)

    # ---------------------------------------------------------------- signature
    def _signed_urls(self, request: Request) -> List[Text]:
        """The URLs Twilio may have signed: the configured public one, else this request's URL
        (and its proxied form when X-Forwarded-Proto/Host say so)."""
        if self.webhook_url:
            return [self.webhook_url]
        urls = [request.url]
        proto = request.headers.get("X-Forwarded-Proto")
        host = request.headers.get("X-Forwarded-Host") or request.headers.get("Host")
        if proto and host:
            query = f"?{request.query_string}" if request.query_string else ""
            urls.append(f"{proto.split(',')[0].strip()}://{host}{request.path}{query}")
        return urls

    def is_signed_by_twilio(self, request: Request) -> bool:
        signature = request.headers.get("X-Twilio-Signature")
        if not signature or self.validator is None:
            return False
        params = request.form or {}
        return any(
            self.validator.validate(url, params, signature) for url in self._signed_urls(request)
        )

    # ---------------------------------------------------------------- routes
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        on_new_message = with_safety_net(on_new_message)  # never silence, even without actions
        twilio_webhook = Blueprint("twilio_channel", __name__)

        add_health_route(twilio_webhook, "twilio", lambda: self.disabled_reason)

        @twilio_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if self.disabled_reason:
                return disabled_response("twilio", self.disabled_reason)
            if not self.is_signed_by_twilio(request):
                return response.json(
                    {"status": "forbidden", "reason": "missing or invalid X-Twilio-Signature"},
                    status=403,
                )
            verdict = input_policy.check(request.form.get("From"), request.form.get("Body"))
            if verdict.refusal == "sender":
                return response.json(input_policy.http_error("sender"), status=400)
            out = self.get_output_channel()
            # per conversation only: every SMS comes from Twilio's servers
            decision = rate_limit.LIMITER.check(None, verdict.sender_id)
            if not decision.allowed:
                await rate_limit.answer_limited(
                    out, verdict.sender_id, verdict.text, decision.retry_after
                )
                return response.text(EMPTY_TWIML, content_type="text/xml")
            if not verdict.accepted:
                # media, a location or an empty body
                try:
                    await out.send_text_message(verdict.sender_id, verdict.reply)
                except Exception as error:
                    logger.warning(f"Twilio: could not reply: {error}")
                return response.text(EMPTY_TWIML, content_type="text/xml")
            try:
                text = verdict.text.replace("¡", "@")  # some carriers corrupt @ in SMS
                text, choice = await resolve_choice(request, verdict.sender_id, text)
                await on_new_message(
                    UserMessage(
                        text,
                        out,
                        verdict.sender_id,
                        input_channel=self.name(),
                        metadata=merge_metadata(self.get_metadata(request), choice),
                    )
                )
            except Exception as error:
                logger.error(f"Twilio: exception while handling a message: {error}")
                logger.debug(error, exc_info=True)
                if self.debug_mode:
                    raise
            return response.text(EMPTY_TWIML, content_type="text/xml")

        return twilio_webhook

    def get_output_channel(self) -> Optional[TwilioOutputChannel]:
        if self.disabled_reason:
            return None
        return TwilioOutputChannel(
            self.account_sid, self.auth_token, self.twilio_number, api_url=self.api_url
        )
