"""Telegram, text only. In credentials.yml: `channels.telegram.TelegramChannel:` (no values).

Environment:
  TELEGRAM_TOKEN         the bot token from @BotFather (required)
  TELEGRAM_BOT_USERNAME  the bot's username, checked once at start against getMe (required)
  TELEGRAM_WEBHOOK_URL   https://<your-host>/webhooks/telegram/webhook; setWebhook is called at start
                         only when this is set (and only when Telegram has a different URL)
  TELEGRAM_SECRET_TOKEN  optional: sent with setWebhook; updates without the matching
                         X-Telegram-Bot-Api-Secret-Token header are refused (403)
  TELEGRAM_API_URL       optional: Bot API server (default https://api.telegram.org), for tests

Differences from Rasa's TelegramInput: no secrets in YAML; no setWebhook from inside
`get_output_channel` (Rasa calls it with `asyncio.run` on every call); updates the channel does not
handle (edited_message, channel_post, my_chat_member, ...) are answered 200 and ignored instead of
raising (Telegram would retry a 500 forever); a failing turn is logged and still answered 200; no
inline keyboards (so no 64-byte `callback_data` limit to hit): buttons become numbered options.
Every message goes through `channels.input_policy` (a sticker or photo gets its short reply), and
the commands /start, /help and /restart map to our intents greet, help and start_over.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from typing import Any, Awaitable, Callable, Dict, Optional, Text, Tuple

from aiogram import Bot
from aiogram.bot.api import TelegramAPIServer
from aiogram.utils.exceptions import ValidationError
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

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

DEFAULT_API_URL = "https://api.telegram.org"
MESSAGE_LIMIT = 4096
#: the only update types we ask Telegram for (setWebhook allowed_updates) and handle
HANDLED_UPDATES = ["message", "callback_query"]
#: Telegram's conventional commands, mapped to our intents; /restart is our own `start_over`
#: (data/rules/conversation.yml), not Rasa's built-in restart, which overrides an active form
COMMANDS = {"/start": "/greet", "/help": "/help", "/restart": "/start_over"}


def command_text(text: Text, bot_username: Text) -> Text:
    """'/start@CrampBot payload' -> '/greet'; other text with the bot's @mention removed."""
    text = text.strip()
    if text.startswith("/"):
        command, _, rest = text.partition(" ")
        if bot_username:
            command = re.sub(rf"@{re.escape(bot_username)}$", "", command, flags=re.I)
        if command.lower() in COMMANDS:
            return COMMANDS[command.lower()]
        text = f"{command} {rest}".strip()
    if bot_username:
        text = re.sub(rf"@{re.escape(bot_username)}\b", "", text, flags=re.I).strip()
    return text


class TelegramOutputChannel(TextOnlyOutput, TelegramOutput):
    """Sends plain text through the Bot API; buttons as numbered options; custom JSON dropped."""

    def __init__(self, access_token: Text, api_url: Text = DEFAULT_API_URL) -> None:
        # TelegramOutput.__init__ only forwards the token; here the API server is configurable
        Bot.__init__(self, access_token, server=TelegramAPIServer.from_base(api_url))

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        for part in split_text(text, MESSAGE_LIMIT):
            await self.send_message(recipient_id, part)


class TelegramChannel(TelegramInput):
    """Telegram input channel configured from the environment (see the module docstring)."""

    REQUIRED = ("TELEGRAM_TOKEN", "TELEGRAM_BOT_USERNAME")
    OPTIONAL = ("TELEGRAM_WEBHOOK_URL", "TELEGRAM_SECRET_TOKEN", "TELEGRAM_API_URL")

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        ignore_yaml_secrets("Telegram", credentials, allowed=())
        env = read_env(cls.REQUIRED, cls.OPTIONAL)
        reason = env.disabled_reason
        return cls(
            env.get("TELEGRAM_TOKEN"),
            env.get("TELEGRAM_BOT_USERNAME"),
            env.get("TELEGRAM_WEBHOOK_URL"),
            secret_token=env.get("TELEGRAM_SECRET_TOKEN"),
            api_url=env.get("TELEGRAM_API_URL", DEFAULT_API_URL),
            disabled_reason=reason,
        )

    def __init__(
        self,
        access_token: Optional[Text],
        verify: Optional[Text],
        webhook_url: Optional[Text],
        debug_mode: bool = False,
        secret_token: Optional[Text] = None,
        api_url: Text = DEFAULT_API_URL,
        disabled_reason: Optional[Text] = None,
    ) -> None:
        super().__init__(access_token, (verify or "").lstrip("@"), webhook_url, debug_mode)
        self.secret_token = secret_token
        self.api_url = api_url
        self.disabled_reason = disabled_reason
        self.output: Optional[TelegramOutputChannel] = None
        if not self.disabled_reason:
            try:
                self.output = TelegramOutputChannel(access_token, api_url)
            except ValidationError:
                self.disabled_reason = "TELEGRAM_TOKEN is not a valid bot token"
        if self.disabled_reason:
            log_disabled("Telegram", self.disabled_reason)

    # ---------------------------------------------------------------- start-up
    async def check_and_register(self) -> None:
        """Checks the token belongs to TELEGRAM_BOT_USERNAME and, when TELEGRAM_WEBHOOK_URL is set and
        differs from what Telegram has, calls setWebhook (not at every start: it is rate-limited)."""
        if self.output is None:
            return
        try:
            with self.output.request_timeout(10):
                me = await self.output.get_me()
        except Exception as error:
            logger.warning(f"Telegram: getMe failed ({error}); not checking the bot username.")
        else:
            if (me.username or "").lower() != self.verify.lower():
                self.disabled_reason = (
                    f"TELEGRAM_TOKEN belongs to @{me.username}, "
                    f"not to TELEGRAM_BOT_USERNAME @{self.verify}"
                )
                log_disabled("Telegram", self.disabled_reason)
                return
        if not self.webhook_url:
            logger.info("Telegram: TELEGRAM_WEBHOOK_URL not set; not calling setWebhook.")
            return
        try:
            with self.output.request_timeout(10):
                info = await self.output.get_webhook_info()
                if info.url == self.webhook_url and not self.secret_token:
                    logger.info("Telegram: webhook already registered.")
                    return
                # a raw request (aiogram 2.15's set_webhook has no secret_token): lists go as JSON
                payload: Dict[str, Any] = {
                    "url": self.webhook_url,
                    "allowed_updates": json.dumps(HANDLED_UPDATES),
                }
                if self.secret_token:
                    payload["secret_token"] = self.secret_token
                await self.output.request("setWebhook", payload)
            logger.info(f"Telegram: webhook set to {self.webhook_url}.")
        except Exception as error:
            logger.error(f"Telegram: setWebhook failed: {error}")

    async def close(self) -> None:
        if self.output is not None and self.output._session is not None:
            await self.output._session.close()

    # ---------------------------------------------------------------- updates
    def parse_update(self, update: Dict[str, Any]) -> Tuple[Any, Any, Text]:
        """(text, chat id, kind) of an update, commands mapped; text is None when a message
        carries none, and chat id and text are both None for updates we do not handle."""
        if isinstance(update.get("message"), dict):
            message = update["message"]
            chat_id = (message.get("chat") or {}).get("id")
            text = message.get("text")
            return (
                command_text(text, self.verify) if isinstance(text, str) else None,
                chat_id,
                "message",
            )
        if isinstance(update.get("callback_query"), dict):
            query = update["callback_query"]
            chat_id = ((query.get("message") or {}).get("chat") or {}).get("id")
            if isinstance(query.get("data"), str) and chat_id is not None:
                return query["data"], chat_id, "callback_query"
            return None, None, "callback_query"
        kinds = [k for k in update if k != "update_id"]
        return None, None, kinds[0] if kinds else "empty"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        on_new_message = with_safety_net(on_new_message)  # never silence, even without actions
        telegram_webhook = Blueprint("telegram_channel", __name__)

        @telegram_webhook.listener("after_server_start")
        async def start(app: Any, loop: Any) -> None:
            await self.check_and_register()

        @telegram_webhook.listener("before_server_stop")
        async def stop(app: Any, loop: Any) -> None:
            await self.close()

        add_health_route(telegram_webhook, "telegram", lambda: self.disabled_reason)

        @telegram_webhook.route("/webhook", methods=["GET", "POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if self.disabled_reason:
                return disabled_response("telegram", self.disabled_reason)
            if request.method != "POST":
                return response.json({"status": "ok"})
            if self.secret_token and not hmac.compare_digest(
                request.headers.get("X-Telegram-Bot-Api-Secret-Token", ""), self.secret_token
            ):
                return response.json(
                    {"status": "forbidden", "reason": "missing or wrong secret token header"},
                    status=403,
                )
            try:
                update = request.json
            except Exception:
                update = None
            if not isinstance(update, dict):
                return response.json(
                    {"status": "bad request", "reason": "not a JSON update"}, status=400
                )

            text, chat_id, kind = self.parse_update(update)
            if text is None and chat_id is None:
                logger.debug(f"Telegram: ignoring an update of type {kind}")
                return response.json({"status": "ignored", "update": kind})
            verdict = input_policy.check(chat_id, text)
            if verdict.refusal == "sender":
                return response.json(input_policy.http_error("sender"), status=400)
            if kind == "callback_query":
                await self._answer_callback(update["callback_query"].get("id"))
            # per conversation only: every Telegram user comes from Telegram's servers
            decision = rate_limit.LIMITER.check(None, verdict.sender_id)
            if not decision.allowed:
                await rate_limit.answer_limited(
                    self.output, verdict.sender_id, verdict.text, decision.retry_after
                )
                return response.json({"status": "limited", "retry_after": decision.retry_after})
            if not verdict.accepted:  # a sticker, photo, voice note, ...
                await self._reply_safely(verdict.sender_id, verdict.reply)
                return response.json({"status": "refused", "reason": verdict.refusal})

            try:
                text, choice = await resolve_choice(request, verdict.sender_id, verdict.text)
                await on_new_message(
                    UserMessage(
                        text,
                        self.output,
                        verdict.sender_id,
                        input_channel=self.name(),
                        metadata=merge_metadata(self.get_metadata(request), choice),
                    )
                )
            except Exception as error:
                # answer 200 anyway: Telegram retries a failed update until it succeeds
                logger.error(f"Telegram: exception while handling a message: {error}")
                logger.debug(error, exc_info=True)
                if self.debug_mode:
                    raise
            return response.json({"status": "success"})

        return telegram_webhook

    async def _reply_safely(self, chat_id: Any, text: Text) -> None:
        try:
            await self.output.send_text_message(str(chat_id), text)
        except Exception as error:
            logger.warning(f"Telegram: could not reply: {error}")

    async def _answer_callback(self, query_id: Optional[Text]) -> None:
        if not query_id:
            return
        try:
            await self.output.answer_callback_query(query_id)
        except Exception as error:  # only stops the button's spinner
            logger.debug(f"Telegram: answerCallbackQuery failed: {error}")

    def get_output_channel(self) -> Optional[TelegramOutputChannel]:
        """The shared output channel (None when disabled); never calls setWebhook."""
        return None if self.disabled_reason else self.output
