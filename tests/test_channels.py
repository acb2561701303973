"""Messaging channels (Telegram, Slack, Twilio/WhatsApp) end to end, against local stand-ins.

The session's shared action server and Rasa server (tests/conftest.py) run with the project's
credentials.yml; secrets and the platforms' API base URLs come from the environment and point at
stand-ins on 127.0.0.1 (cramp_harness/standins.py). Each test posts the platform's real webhook
format to Rasa and checks what reaches the stand-in. A few fast unit tests of the shared helpers
come first.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import uuid
from typing import Any, Dict, List

import pytest
import requests
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from twilio.request_validator import RequestValidator

from channels.text_options import (
    OPTIONS_HINT,
    offered_buttons,
    parse_choice,
    read_env,
    render_options,
    split_text,
)
from channels.twilio import with_prefix_of
from cramp_harness.processes import wait_until
from cramp_harness.servers import Servers
from cramp_harness.standins import (
    CHANNEL_VARS,
    SLACK_SECRET,
    SLACK_TOKEN,
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    TELEGRAM_USERNAME,
    TELEGRAM_WEBHOOK_URL,
    TWILIO_NUMBER,
    TWILIO_SID,
    TWILIO_TOKEN,
    Platforms,
    Recorded,
    SlackAPI,
    TelegramAPI,
    TwilioAPI,
)

_ids = itertools.count(int(time.time()) % 100000 * 100)


# ====================================================================== unit: shared helpers
def test_buttons_become_numbered_options():
    text = render_options(
        "Pick one.",
        [
            {"title": "What causes them?", "payload": "/ask_causes"},
            {"title": "Magnesium", "payload": "/ask_magnesium"},
        ],
    )
    assert text == f"Pick one.\n\n1. What causes them?\n2. Magnesium\n{OPTIONS_HINT}"
    assert render_options("No buttons.", []) == "No buttons."


@pytest.mark.parametrize(
    "typed, number",
    [
        ("2", 2),
        (" 2. ", 2),
        ("2)", 2),
        ("#3", 3),
        ("12", 12),
        ("2 please", None),
        ("two", None),
        ("", None),
        ("1.5", None),
    ],
)
def test_a_bare_number_is_a_choice(typed, number):
    assert parse_choice(typed) == number


def test_choices_come_from_the_last_bot_turn_only():
    greet = [{"title": "Causes", "payload": "/ask_causes"}]
    events = [
        ActionExecuted("action_listen"),
        UserUttered("hi"),
        BotUttered("Hi!", data={"buttons": greet}),
        BotUttered("Anything else?"),
    ]
    assert offered_buttons(events) == greet
    assert offered_buttons(events + [UserUttered("thanks"), BotUttered("You're welcome.")]) == []


def test_long_texts_are_split_at_breaks():
    text = "\n\n".join(["word " * 300] * 3)
    parts = split_text(text, 1600)
    assert all(len(p) <= 1600 for p in parts) and " ".join(parts).split() == text.split()


def test_empty_variables_count_as_missing():
    settings = read_env(["A", "B"], ["C"], environ={"A": "x", "B": " ", "C": ""})
    assert settings.missing == ["B"] and settings.get("A") == "x" and settings.get("C") is None


def test_whatsapp_prefix_is_kept():
    assert with_prefix_of("whatsapp:+14155238886", "+15550001111") == "whatsapp:+15550001111"
    assert with_prefix_of("whatsapp:+14155238886", "whatsapp:+1555") == "whatsapp:+1555"
    assert with_prefix_of("+14155238886", "+15550001111") == "+15550001111"


def run_telegram_start(monkeypatch, env: Dict[str, str]) -> tuple:
    """Creates the Telegram channel from `env` against a fresh stand-in and runs its start-up."""
    import asyncio

    from channels.telegram import TelegramChannel

    api = TelegramAPI(TELEGRAM_TOKEN, TELEGRAM_USERNAME).start()
    try:
        for name in CHANNEL_VARS:
            monkeypatch.delenv(name, raising=False)
        for name, value in {
            "TELEGRAM_TOKEN": TELEGRAM_TOKEN,
            "TELEGRAM_API_URL": api.base_url,
            **env,
        }.items():
            monkeypatch.setenv(name, value)
        channel = TelegramChannel.from_credentials(None)

        async def start() -> None:
            await channel.check_and_register()
            await channel.close()

        asyncio.run(start())
        return channel, [r.api_method for r in api.recorded()]
    finally:
        api.stop()


def test_telegram_set_webhook_only_when_a_url_is_configured(monkeypatch):
    channel, calls = run_telegram_start(monkeypatch, {"TELEGRAM_BOT_USERNAME": TELEGRAM_USERNAME})
    assert calls == ["getMe"] and channel.disabled_reason is None
    channel, calls = run_telegram_start(
        monkeypatch,
        {
            "TELEGRAM_BOT_USERNAME": "@" + TELEGRAM_USERNAME.lower(),
            "TELEGRAM_WEBHOOK_URL": "https://cramps.example.org/webhooks/telegram/webhook",
        },
    )
    assert calls == ["getMe", "getWebhookInfo", "setWebhook"] and channel.disabled_reason is None


def test_telegram_token_of_another_bot_disables_the_channel(monkeypatch):
    channel, calls = run_telegram_start(
        monkeypatch,
        {"TELEGRAM_BOT_USERNAME": "SomeOtherBot", "TELEGRAM_WEBHOOK_URL": "https://x/y"},
    )
    assert calls == ["getMe"]
    assert "not to TELEGRAM_BOT_USERNAME @SomeOtherBot" in channel.disabled_reason


def test_channels_without_variables_build_disabled(monkeypatch, caplog):
    from channels.slack import SlackChannel
    from channels.telegram import TelegramChannel
    from channels.twilio import TwilioChannel

    for name in CHANNEL_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", SLACK_TOKEN)  # the signing secret is still missing
    for cls in (TelegramChannel, SlackChannel, TwilioChannel):
        channel = cls.from_credentials(None)
        assert channel.disabled_reason.startswith("missing environment variable")
        assert channel.get_output_channel() is None
    assert "SLACK_SIGNING_SECRET" in caplog.text and "SLACK_BOT_TOKEN" not in caplog.text


# ====================================================================== integration fixtures
# the stand-ins the shared `servers` point their channels at (tests/conftest.py)
@pytest.fixture
def telegram_api(platforms: Platforms) -> TelegramAPI:
    return platforms.telegram


@pytest.fixture
def slack_api(platforms: Platforms) -> SlackAPI:
    return platforms.slack


@pytest.fixture
def twilio_api(platforms: Platforms) -> TwilioAPI:
    return platforms.twilio


# ====================================================================== platform webhooks
def telegram_chat() -> int:
    return 500000000 + next(_ids)


def telegram_message(chat_id: int, text: str) -> Dict[str, Any]:
    person = {"id": chat_id, "is_bot": False, "first_name": "Pat", "language_code": "en"}
    return {
        "update_id": next(_ids),
        "message": {
            "message_id": next(_ids),
            "from": person,
            "date": int(time.time()),
            "chat": {"id": chat_id, "first_name": "Pat", "type": "private"},
            "text": text,
        },
    }


def post_telegram(
    servers: Servers, update: Dict[str, Any], secret: str = TELEGRAM_SECRET
) -> requests.Response:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
    return requests.post(
        f"{servers.url}/webhooks/telegram/webhook", json=update, headers=headers, timeout=60
    )


def say_telegram(servers: Servers, telegram_api: TelegramAPI, chat_id: int, text: str) -> List[str]:
    before = len(telegram_api.sent_to(chat_id))
    # the webhook answers once the turn is over: every reply has reached the stand-in by then
    assert post_telegram(servers, telegram_message(chat_id, text)).status_code == 200
    telegram_api.wait_for(
        lambda r: r.api_method == "sendMessage" and str(r.data.get("chat_id")) == str(chat_id),
        count=before + 1,
    )
    return [r.data["text"] for r in telegram_api.sent_to(chat_id)[before:]]


def slack_signature(body: bytes, timestamp: str, secret: str = SLACK_SECRET) -> str:
    base = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def slack_event(user: str, channel: str, text: str) -> Dict[str, Any]:
    ts = f"{time.time():.6f}"
    return {
        "token": "legacy-verification-token",
        "team_id": "T0CRAMP",
        "api_app_id": "A0CRAMP",
        "event": {
            "type": "message",
            "channel": channel,
            "user": user,
            "text": text,
            "ts": ts,
            "event_ts": ts,
            "channel_type": "im",
            "client_msg_id": str(uuid.uuid4()),
        },
        "type": "event_callback",
        "event_id": f"Ev{next(_ids)}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": "T0CRAMP",
                "user_id": "U0BOT",
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
    }


def post_slack(
    servers: Servers,
    payload: Dict[str, Any],
    secret: str = SLACK_SECRET,
    headers: Dict[str, str] = None,
) -> requests.Response:
    body = json.dumps(payload).encode()
    timestamp = str(int(time.time()))
    signed = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": slack_signature(body, timestamp, secret),
        **(headers or {}),
    }
    return requests.post(
        f"{servers.url}/webhooks/slack/webhook", data=body, headers=signed, timeout=60
    )


def slack_ids() -> tuple:
    n = next(_ids)
    return f"U{n}", f"D{n}"


def say_slack(
    servers: Servers, slack_api: SlackAPI, user: str, channel: str, text: str, count: int = 1
) -> List[str]:
    before = len(slack_api.posted_to(channel))
    assert post_slack(servers, slack_event(user, channel, text)).status_code == 200
    wait_turn_stored(servers, user)  # the turn runs in the background, after the 200
    slack_api.wait_for(
        lambda r: r.api_method == "chat.postMessage" and r.data.get("channel") == channel,
        count=before + count,
    )
    return [r.data["text"] for r in slack_api.posted_to(channel)[before:]]


_turns: Dict[str, int] = {}  # user turns sent per conversation by say_slack


def wait_turn_stored(servers: Servers, sender: str) -> None:
    """Until the tracker holds one more finished turn (ending in action_listen): Rasa stores it
    after every reply of the turn has gone out."""
    _turns[sender] = _turns.get(sender, 0) + 1

    def stored() -> bool:
        events = servers.tracker(sender)["events"]
        return (
            sum(e["event"] == "user" for e in events) == _turns[sender]
            and events[-1].get("name") == "action_listen"
        )

    wait_until(stored, 60, f"turn {_turns[sender]} of {sender} stored")


def twilio_form(sender: str, text: str) -> Dict[str, str]:
    return {
        "SmsMessageSid": f"SM{uuid.uuid4().hex}",
        "NumMedia": "0",
        "ProfileName": "Pat",
        "SmsSid": f"SM{uuid.uuid4().hex}",
        "WaId": sender.split("+")[-1],
        "SmsStatus": "received",
        "Body": text,
        "To": TWILIO_NUMBER,
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": f"SM{uuid.uuid4().hex}",
        "AccountSid": TWILIO_SID,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }


def post_twilio(servers: Servers, form: Dict[str, str], sign: bool = True) -> requests.Response:
    url = f"{servers.url}/webhooks/twilio/webhook"
    headers = (
        {"X-Twilio-Signature": RequestValidator(TWILIO_TOKEN).compute_signature(url, form)}
        if sign
        else {}
    )
    return requests.post(url, data=form, headers=headers, timeout=60)


def whatsapp_number() -> str:
    return f"whatsapp:+1555{next(_ids) % 10000000:07d}"


def say_twilio(servers: Servers, twilio_api: TwilioAPI, sender: str, text: str) -> List[str]:
    before = len(twilio_api.sent_to(sender))
    # the webhook answers once the turn is over: every reply has reached the stand-in by then
    assert post_twilio(servers, twilio_form(sender, text)).status_code == 200
    twilio_api.wait_for(
        lambda r: r.api_method == "Messages.json" and r.data.get("To") == sender, count=before + 1
    )
    return [r.data["Body"] for r in twilio_api.sent_to(sender)[before:]]


def joined(texts: List[str]) -> str:
    return "\n".join(texts).lower()


# ====================================================================== integration: Telegram
@pytest.mark.integration
def test_telegram_answers_through_the_bot_api(servers, telegram_api):
    replies = say_telegram(servers, telegram_api, telegram_chat(), "what is a foot cramp")
    assert "charley horse" in joined(replies)


@pytest.mark.integration
def test_telegram_checked_the_bot_and_registered_the_webhook_once(servers, telegram_api):
    assert telegram_api.recorded(lambda r: r.api_method == "getMe")
    set_webhook = telegram_api.recorded(lambda r: r.api_method == "setWebhook")
    assert len(set_webhook) == 1
    assert set_webhook[0].data["url"] == TELEGRAM_WEBHOOK_URL
    assert set_webhook[0].data["secret_token"] == TELEGRAM_SECRET
    assert json.loads(set_webhook[0].data["allowed_updates"]) == ["message", "callback_query"]


@pytest.mark.integration
def test_telegram_numbered_options_then_a_number(servers, telegram_api):
    chat = telegram_chat()
    replies = say_telegram(servers, telegram_api, chat, "hi")
    assert "1. What is a foot cramp?" in replies[-1] and "2. What causes them?" in replies[-1]
    replies = say_telegram(servers, telegram_api, chat, "1")
    assert "charley horse" in joined(replies)
    assert servers.slots(str(chat))["topic"] == "definition"


@pytest.mark.integration
@pytest.mark.parametrize("kind", ["edited_message", "channel_post", "my_chat_member"])
def test_telegram_ignores_updates_it_does_not_handle(servers, telegram_api, kind):
    chat = telegram_chat()
    update = telegram_message(chat, "what is a foot cramp")
    body = {"update_id": update["update_id"], kind: update["message"]}
    if kind == "my_chat_member":
        body[kind] = {
            "chat": update["message"]["chat"],
            "from": update["message"]["from"],
            "date": int(time.time()),
            "old_chat_member": {
                "status": "member",
                "user": {"id": 1, "is_bot": True, "first_name": "C"},
            },
            "new_chat_member": {
                "status": "kicked",
                "user": {"id": 1, "is_bot": True, "first_name": "C"},
                "until_date": 0,
            },
        }
    answer = post_telegram(servers, body)
    assert answer.status_code == 200
    assert telegram_api.wait_quiet(lambda r: str(r.data.get("chat_id")) == str(chat), 2) == []


@pytest.mark.integration
def test_telegram_message_without_text_gets_a_short_note(servers, telegram_api):
    chat = telegram_chat()
    update = telegram_message(chat, "")
    del update["message"]["text"]
    update["message"]["sticker"] = {
        "file_id": "CAACAgIAAxk",
        "file_unique_id": "AgAD",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "type": "regular",
    }
    assert post_telegram(servers, update).status_code == 200
    replies = telegram_api.wait_for(lambda r: str(r.data.get("chat_id")) == str(chat))
    assert "only read text" in replies[0].data["text"]
    assert not any(e["event"] == "user" for e in servers.tracker(str(chat))["events"])


@pytest.mark.integration
def test_telegram_refuses_updates_without_the_secret_token(servers, telegram_api):
    chat = telegram_chat()
    assert post_telegram(servers, telegram_message(chat, "hi"), secret="").status_code == 403
    assert post_telegram(servers, telegram_message(chat, "hi"), secret="wrong").status_code == 403
    assert telegram_api.sent_to(chat) == []


# ====================================================================== integration: Slack
@pytest.mark.integration
def test_slack_answers_through_chat_post_message(servers, slack_api):
    user, channel = slack_ids()
    replies = say_slack(servers, slack_api, user, channel, "what is a foot cramp")
    assert "charley horse" in joined(replies)
    posted = slack_api.posted_to(channel)
    assert all("blocks" not in r.data and "as_user" not in r.data for r in posted)


@pytest.mark.integration
def test_slack_numbered_options_then_a_number(servers, slack_api):
    user, channel = slack_ids()
    replies = say_slack(servers, slack_api, user, channel, "help")
    assert "5. Magnesium" in replies[-1] and "6. When to see a doctor" in replies[-1]
    say_slack(servers, slack_api, user, channel, " 5. ")
    assert servers.slots(user)["topic"] == "magnesium"


@pytest.mark.integration
def test_slack_url_verification_echoes_the_challenge(servers):
    answer = post_slack(
        servers,
        {
            "token": "t",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        },
    )
    assert answer.status_code == 200
    assert answer.json()["challenge"].startswith("3eZbrw1a")


@pytest.mark.integration
@pytest.mark.parametrize("how", ["wrong secret", "unsigned", "stale"])
def test_slack_rejects_bad_signatures(servers, slack_api, how):
    user, channel = slack_ids()
    payload = slack_event(user, channel, "what is a foot cramp")
    if how == "wrong secret":
        answer = post_slack(servers, payload, secret="not-the-secret")
    elif how == "unsigned":
        answer = requests.post(f"{servers.url}/webhooks/slack/webhook", json=payload, timeout=30)
    else:
        body = json.dumps(payload).encode()
        old = str(int(time.time()) - 600)
        answer = requests.post(
            f"{servers.url}/webhooks/slack/webhook",
            data=body,
            timeout=30,
            headers={
                "Content-Type": "application/json",
                "X-Slack-Request-Timestamp": old,
                "X-Slack-Signature": slack_signature(body, old),
            },
        )
    assert answer.status_code in (401, 403)
    assert slack_api.wait_quiet(lambda r: r.data.get("channel") == channel, 2) == []


@pytest.mark.integration
def test_slack_retry_is_acknowledged_and_not_answered_twice(servers, slack_api):
    user, channel = slack_ids()
    payload = slack_event(user, channel, "what is a foot cramp")
    assert post_slack(servers, payload).status_code == 200
    slack_api.wait_for(lambda r: r.data.get("channel") == channel)
    first = slack_api.wait_quiet(lambda r: r.data.get("channel") == channel, 1)
    retry = post_slack(
        servers, payload, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    assert retry.status_code == 200
    assert slack_api.wait_quiet(lambda r: r.data.get("channel") == channel, 3) == first
    user_turns = [e for e in servers.tracker(user)["events"] if e["event"] == "user"]
    assert len(user_turns) == 1


# ====================================================================== integration: Twilio
@pytest.mark.integration
def test_twilio_whatsapp_answers_through_the_messages_api(servers, twilio_api):
    sender = whatsapp_number()
    replies = say_twilio(servers, twilio_api, sender, "what is a foot cramp")
    assert "charley horse" in joined(replies)
    sent = twilio_api.sent_to(sender)
    assert all(
        r.data["From"] == TWILIO_NUMBER and r.data["To"].startswith("whatsapp:+") for r in sent
    )


@pytest.mark.integration
def test_twilio_numbered_options_then_a_number(servers, twilio_api):
    sender = whatsapp_number()
    replies = say_twilio(servers, twilio_api, sender, "hello there")
    assert "2. What causes them?" in replies[-1]
    say_twilio(servers, twilio_api, sender, " 2. ")
    assert servers.slots(sender)["topic"] == "causes"


@pytest.mark.integration
def test_twilio_rejects_unsigned_and_forged_requests(servers, twilio_api):
    sender = whatsapp_number()
    assert post_twilio(servers, twilio_form(sender, "hi"), sign=False).status_code == 403
    form = twilio_form(sender, "hi")
    url = f"{servers.url}/webhooks/twilio/webhook"
    forged = RequestValidator("someone-else").compute_signature(url, form)
    answer = requests.post(url, data=form, headers={"X-Twilio-Signature": forged}, timeout=30)
    assert answer.status_code == 403
    tampered = {**form, "Body": "what is a foot cramp"}  # signed for "hi"
    answer = requests.post(
        url,
        data=tampered,
        timeout=30,
        headers={"X-Twilio-Signature": RequestValidator(TWILIO_TOKEN).compute_signature(url, form)},
    )
    assert answer.status_code == 403
    assert twilio_api.wait_quiet(lambda r: r.data.get("To") == sender, 2) == []


# ====================================================================== integration: all three
@pytest.mark.integration
def test_emergency_reaches_every_platform_without_custom_json(
    servers, telegram_api, slack_api, twilio_api
):
    message = "my chest hurts and I can't breathe"
    chat = telegram_chat()
    user, channel = slack_ids()
    sender = whatsapp_number()
    for replies in (
        say_telegram(servers, telegram_api, chat, message),
        say_slack(servers, slack_api, user, channel, message),
        say_twilio(servers, twilio_api, sender, message),
    ):
        assert "911" in replies[0]
    for api in (telegram_api, slack_api, twilio_api):
        for recorded in api.recorded():
            assert_no_custom_json(recorded)
    assert servers.slots(str(chat))["urgency"] == "emergency"


def assert_no_custom_json(recorded: Recorded) -> None:
    body = recorded.body.decode("utf-8", "replace")
    assert "escalation" not in body and '"tier"' not in body, (recorded.path, body)
    # only text goes out: no photos, documents, blocks, attachments or media
    assert recorded.api_method in {
        "getMe",
        "getWebhookInfo",
        "setWebhook",
        "sendMessage",
        "answerCallbackQuery",
        "chat.postMessage",
        "Messages.json",
    }
    assert not {"blocks", "attachments", "MediaUrl", "reply_markup"} & set(recorded.data)


# ====================================================================== integration: disabled
@pytest.mark.integration
def test_channels_without_variables_are_disabled_and_the_server_still_runs(servers_without_actions):
    bare = servers_without_actions  # started with every channel variable set to ""
    for channel in ("telegram", "slack", "twilio"):
        answer = requests.post(f"{bare.url}/webhooks/{channel}/webhook", json={}, timeout=30)
        assert answer.status_code == 503
        assert answer.json()["status"] == "disabled"
        assert "missing environment variable" in answer.json()["reason"]
    assert (
        requests.get(f"{bare.url}/status", params={"token": bare.token}, timeout=30).status_code
        == 200
    )
    # REST still answers (here from the channel's safety net: this Rasa has no action server)
    assert bare.say(f"disabled-{uuid.uuid4().hex[:10]}", "what is a foot cramp")
    log = bare.log()
    for name in ("Telegram", "Slack", "Twilio"):
        assert log.count(f"{name} channel disabled") == 1, log[-3000:]
