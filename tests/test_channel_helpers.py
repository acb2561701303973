"""The channels' pure helpers, without servers: socket.io's Origin allow-list and how it reads an
event, REST's refusals, the sender IDs each platform sends, Telegram's commands, and the chat
page's Content-Security-Policy."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict

import pytest
import yaml
from sanic.exceptions import InvalidUsage

from channels import input_policy
from channels.input_policy import MAX_MESSAGE_CHARS
from channels.rest import refusal
from channels.slack import SlackChannel
from channels.socketio import (
    DEFAULT_ALLOWED_ORIGINS,
    MAX_PACKET_BYTES,
    ORIGINS_ENV,
    SocketIOChannel,
    allowed_origins,
)
from channels.telegram import COMMANDS, TelegramChannel, command_text

ROOT = Path(__file__).resolve().parents[1]
BOT = "CrampHelperBot"


# ====================================================================== socket.io: origins
def test_origins_default_to_the_local_chat_page():
    assert allowed_origins({}, environ={}) == DEFAULT_ALLOWED_ORIGINS


def test_origins_from_the_environment_are_cleaned():
    environ = {ORIGINS_ENV: " https://chat.example.org/ ,https://chat.example.org,, http://a:1"}
    assert allowed_origins({}, environ=environ) == ["https://chat.example.org", "http://a:1"]


def test_origins_in_credentials_win_over_the_environment():
    environ = {ORIGINS_ENV: "https://env.example.org"}
    assert allowed_origins(
        {"cors_allowed_origins": ["https://yaml.example.org/"]}, environ=environ
    ) == ["https://yaml.example.org"]
    assert allowed_origins(
        {"cors_allowed_origins": "https://a.org, https://b.org"}, environ=environ
    ) == ["https://a.org", "https://b.org"]


def test_an_empty_credentials_list_falls_back():
    assert allowed_origins(
        {"cors_allowed_origins": []}, environ={ORIGINS_ENV: "https://env.example.org"}
    ) == ["https://env.example.org"]
    assert (
        allowed_origins({"cors_allowed_origins": [" ", "/"]}, environ={}) == DEFAULT_ALLOWED_ORIGINS
    )


def test_any_origin_only_when_written_out():
    assert allowed_origins({"cors_allowed_origins": "*"}, environ={}) == "*"
    assert allowed_origins({}, environ={ORIGINS_ENV: " * "}) == "*"
    assert "*" not in allowed_origins({}, environ={ORIGINS_ENV: "https://a.org,*x"})


def test_the_channel_reads_its_origins_from_credentials(monkeypatch):
    monkeypatch.delenv(ORIGINS_ENV, raising=False)
    channel = SocketIOChannel.from_credentials({"cors_allowed_origins": ["https://a.org"]})
    assert channel.cors_allowed_origins == ["https://a.org"]
    assert SocketIOChannel.from_credentials(None).cors_allowed_origins == DEFAULT_ALLOWED_ORIGINS


# ====================================================================== socket.io: events
@pytest.fixture
def persistent() -> SocketIOChannel:
    return SocketIOChannel(session_persistence=True, cors_allowed_origins=["http://a:1"])


def test_a_persistent_session_is_the_events_session_id(persistent):
    verdict = persistent._verdict("sid-1", {"message": "hi", "session_id": "abc123"})
    assert verdict.accepted and verdict.sender_id == "abc123" and verdict.text == "hi"


def test_without_persistence_the_socket_is_the_conversation():
    channel = SocketIOChannel(session_persistence=False, cors_allowed_origins=["http://a:1"])
    verdict = channel._verdict("sid-1", {"message": "hi", "session_id": "ignored"})
    assert verdict.sender_id == "sid-1"


@pytest.mark.parametrize("session_id", ["s" * 20_000, "nul\x00id", "", None, ["x"]])
def test_unstorable_session_ids_are_refused(persistent, session_id):
    assert (
        persistent._verdict("sid-1", {"message": "hi", "session_id": session_id}).refusal
        == "sender"
    )


@pytest.mark.parametrize(
    "data, reason",
    [
        ({"message": 42, "session_id": "abc123"}, "not_text"),
        ({"message": {"text": "hi"}, "session_id": "abc123"}, "not_text"),
        ({"session_id": "abc123"}, "not_text"),
        ({"message": "hi", "session_id": "abc123", "metadata": "{not json"}, "metadata"),
        ({"message": "hi", "session_id": "abc123", "metadata": "[1]"}, "metadata"),
    ],
)
def test_unreadable_events_get_a_reply(persistent, data, reason):
    verdict = persistent._verdict("sid-1", data)
    assert verdict.refusal == reason and verdict.sender_id == "abc123" and verdict.reply


@pytest.mark.parametrize("persistence", [True, False])
@pytest.mark.parametrize("data", ["hello", None, ["hi"], 42])
def test_an_event_that_is_not_an_object_gets_a_reply(persistence, data):
    channel = SocketIOChannel(session_persistence=persistence, cors_allowed_origins=["http://a:1"])
    assert channel._verdict("sid-1", data).refusal == "not_text"


def test_metadata_as_json_text_is_read(persistent):
    verdict = persistent._verdict(
        "sid", {"message": "hi", "session_id": "abc123", "metadata": '{"page": "chat"}'}
    )
    assert verdict.metadata == {"page": "chat"}


def test_a_long_paste_fits_the_transport_and_is_cut(persistent):
    event = {"message": "cramp 😣 " * 150_000, "session_id": "abc123"}  # 1.2 M characters
    assert len(json.dumps(event, ensure_ascii=False).encode()) < MAX_PACKET_BYTES
    assert len(persistent._verdict("sid", event).text) == MAX_MESSAGE_CHARS


# ====================================================================== REST
class FakeRequest:
    """Just what `channels.rest.refusal` reads from a Sanic request."""

    def __init__(self, body: Any, parses: bool = True) -> None:
        self._body, self._parses = body, parses
        self.ctx = SimpleNamespace()

    @property
    def json(self) -> Any:
        if not self._parses:
            raise InvalidUsage("Failed when parsing body as json")
        return self._body


def answer(body: Any, parses: bool = True) -> tuple:
    request = FakeRequest(body, parses)
    result = refusal(request)
    return request, result


@pytest.mark.parametrize(
    "body, parses", [(None, False), ([{"sender": "a"}], True), ("hello", True), (None, True)]
)
def test_rest_refuses_bodies_that_are_not_json_objects(body, parses):
    _, result = answer(body, parses)
    assert result.status == 400
    assert json.loads(result.body) == input_policy.http_error("body")


@pytest.mark.parametrize("sender", [None, 12.5, "", "nul\x00", "s" * 300])
def test_rest_refuses_unusable_senders_with_a_400(sender):
    _, result = answer({"sender": sender, "message": "hi"})
    assert result.status == 400
    assert json.loads(result.body) == input_policy.http_error("sender")


@pytest.mark.parametrize(
    "body, reason",
    [
        ({"sender": "me", "message": 42}, "not_text"),
        ({"sender": "me"}, "not_text"),
        ({"sender": "me", "message": "  "}, "empty"),
        ({"sender": "me", "message": "hi", "metadata": "{bad"}, "metadata"),
    ],
)
def test_rest_answers_unreadable_messages_as_a_bot_message(body, reason):
    _, result = answer(body)
    assert result.status == 200
    assert json.loads(result.body) == [{"recipient_id": "me", "text": input_policy.REPLIES[reason]}]


def test_rest_hands_the_cleaned_message_to_rasa():
    request, result = answer(
        {"sender": "me", "message": "cramp\x00" + "x" * 9_000, "metadata": {"a": 1}}
    )
    assert result is None
    verdict = request.ctx.verdict
    assert verdict.sender_id == "me" and verdict.metadata == {"a": 1}
    assert verdict.text.startswith("crampx") and len(verdict.text) == MAX_MESSAGE_CHARS


# ====================================================================== sender IDs per platform
def slack_id(user: str, granularity: str) -> str:
    channel = SlackChannel(
        "xoxb-test", slack_signing_secret="secret", conversation_granularity=granularity
    )
    return channel._get_conversation_id(user, "C024BE7LH", "1700000000.000100")


@pytest.mark.parametrize(
    "sender",
    [
        123456789,
        5000012345,
        -1001234567890,  # Telegram chat ids
        slack_id("U024BE7LH", "sender"),
        slack_id("W012A3CDE", "channel"),
        slack_id("U024BE7LH", "thread"),  # Slack conversation ids
        "+15551234567",
        "whatsapp:+14155238886",
        "whatsapp:+447700900123",  # Twilio numbers
        "3f2a9c1e8b7d4a6f9e0c1b2a3d4e5f60",  # the chat page's session ids
    ],
)
def test_every_platforms_sender_ids_pass(sender):
    verdict = input_policy.check(sender, "what is a foot cramp")
    assert verdict.accepted and verdict.sender_id == str(sender)


def test_slack_without_a_user_is_refused():
    assert input_policy.check(slack_id(None, "sender"), "hi").refusal == "sender"


# ====================================================================== Telegram
@pytest.mark.parametrize(
    "typed, sent",
    [
        ("/start", "/greet"),
        ("/start@CrampHelperBot", "/greet"),
        ("/START@cramphelperbot", "/greet"),
        ("/start some-deep-link", "/greet"),
        ("/help", "/help"),
        ("/restart", "/start_over"),
        ("/restart@CrampHelperBot", "/start_over"),
        ("/unknown@CrampHelperBot please", "/unknown please"),
        ("@CrampHelperBot what is a foot cramp", "what is a foot cramp"),
        ("  what is a foot cramp  ", "what is a foot cramp"),
        ("email me at pat@CrampHelperBotany.org", "email me at pat@CrampHelperBotany.org"),
    ],
)
def test_telegram_commands_map_to_our_intents(typed, sent):
    assert command_text(typed, BOT) == sent


def test_telegram_restart_is_our_start_over_not_rasas_restart():
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    rules = yaml.safe_load((ROOT / "data" / "rules" / "conversation.yml").read_text("utf-8"))
    intents = {i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]}
    assert COMMANDS["/restart"] == "/start_over"
    assert {target.lstrip("/") for target in COMMANDS.values()} <= intents
    assert any(
        step.get("intent") == "start_over" for rule in rules["rules"] for step in rule["steps"]
    )


@pytest.fixture
def telegram() -> TelegramChannel:
    return TelegramChannel(None, BOT, None, disabled_reason="unit test: no token")


def telegram_update(**message: Any) -> Dict[str, Any]:
    return {
        "update_id": 1,
        "message": {"message_id": 2, "chat": {"id": 42, "type": "private"}, **message},
    }


def test_telegram_reads_text_and_maps_commands(telegram):
    assert telegram.parse_update(telegram_update(text="/restart")) == ("/start_over", 42, "message")


def test_telegram_message_without_text_goes_to_the_policy(telegram):
    text, chat_id, _ = telegram.parse_update(telegram_update(sticker={"file_id": "x"}))
    assert (text, chat_id) == (None, 42)
    assert input_policy.check(chat_id, text).refusal == "not_text"


@pytest.mark.parametrize("kind", ["edited_message", "channel_post", "my_chat_member"])
def test_telegram_update_types_we_do_not_handle_have_no_chat(telegram, kind):
    assert telegram.parse_update({"update_id": 1, kind: {"chat": {"id": 42}}}) == (None, None, kind)


def test_telegram_button_presses_are_read(telegram):
    update = {
        "update_id": 1,
        "callback_query": {"id": "q", "data": "/ask_causes", "message": {"chat": {"id": 42}}},
    }
    assert telegram.parse_update(update) == ("/ask_causes", 42, "callback_query")


# ====================================================================== the chat page's CSP
def load_serve_web():
    spec = importlib.util.spec_from_file_location("serve_web", ROOT / "scripts" / "serve_web.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


serve_web = load_serve_web()


def directives(policy: str) -> Dict[str, list]:
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        assert name not in parsed, f"{name} twice"
        parsed[name] = values
    return parsed


def test_csp_allows_only_this_origin_and_rasa():
    csp = directives(serve_web.content_security_policy("http://127.0.0.1:5005"))
    assert csp["default-src"] == ["'none'"]
    for name in ("script-src", "style-src", "img-src", "font-src"):
        assert csp[name] == ["'self'"], name
    assert csp["connect-src"] == ["'self'", "http://127.0.0.1:5005", "ws://127.0.0.1:5005"]
    for name in ("object-src", "base-uri", "form-action", "frame-ancestors"):
        assert csp[name] == ["'none'"], name


def test_csp_has_no_inline_code_or_wildcards():
    policy = serve_web.content_security_policy("https://rasa.example.org:443/some/path")
    assert "unsafe" not in policy and "*" not in policy and "data:" not in policy
    assert directives(policy)["connect-src"] == [
        "'self'",
        "https://rasa.example.org:443",
        "wss://rasa.example.org:443",
    ]


@pytest.mark.parametrize("url", ["127.0.0.1:5005", "ftp://rasa.example.org", "http://", ""])
def test_csp_refuses_a_rasa_url_that_is_not_http(url):
    with pytest.raises(ValueError):
        serve_web.content_security_policy(url)
