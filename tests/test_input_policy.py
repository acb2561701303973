"""The one input policy every channel applies (channels/input_policy.py): sender IDs a tracker
store can keep, message text cleaned and cut, metadata read without ever raising, and the
refusal replies taken from the package's texts file."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
import yaml

from channels import input_policy
from channels.input_policy import (
    MAX_MESSAGE_CHARS,
    MAX_METADATA_CHARS,
    MAX_SENDER_CHARS,
    REASONS,
    check,
    clean_sender,
    clean_text,
    http_error,
    parse_metadata,
)


# ---------------------------------------------------------------- sender IDs
@pytest.mark.parametrize(
    "sender",
    [
        "me",
        "a" * MAX_SENDER_CHARS,
        "  spaces around  ",
        "用户-😀-مستخدم",
        "x'; DROP TABLE events; --",
        "<script>alert(1)</script>",
        "0",
    ],
)
def test_storable_sender_ids_are_kept_as_they_are(sender):
    assert clean_sender(sender) == sender


@pytest.mark.parametrize(
    "sender",
    [
        "",
        "   ",
        "a" * (MAX_SENDER_CHARS + 1),
        "s" * 20_000,
        "nul\x00sender",
        "tab\there",
        "new\nline",
        "esc\x1b[0m",
        "del\x7f",
        "c1\x85control",
        "lone \udcff surrogate",
        None,
        True,
        4.2,
        ["me"],
        {"id": "me"},
        b"me",
    ],
)
def test_unstorable_sender_ids_are_refused(sender):
    assert clean_sender(sender) is None
    verdict = check(sender, "what is a foot cramp")
    assert verdict.refusal == "sender" and not verdict.accepted
    assert verdict.sender_id is None and verdict.text is None


def test_numeric_ids_become_their_decimal_text():
    assert clean_sender(123456789) == "123456789"
    assert clean_sender(-1001234567890) == "-1001234567890"  # a Telegram group


def test_the_sender_is_checked_before_anything_else():
    assert check("\x00", 42, "{not json").refusal == "sender"


# ---------------------------------------------------------------- text
def test_long_messages_are_cut_at_one_constant():
    assert clean_text("a" * MAX_MESSAGE_CHARS) == "a" * MAX_MESSAGE_CHARS
    assert len(clean_text("a" * (MAX_MESSAGE_CHARS + 1))) == MAX_MESSAGE_CHARS
    verdict = check("me", "my foot cramps " * 80_000)  # 1.2 MB
    assert verdict.accepted and len(verdict.text) == MAX_MESSAGE_CHARS


def test_control_characters_go_newline_and_tab_stay():
    raw = "\x00\x01\x07\x08\x0b\x0c\x1b[31mcramp\x1b[0m\x7f\x85 at\tnight\nagain"
    assert clean_text(raw) == "[31mcramp[0m at\tnight\nagain"


def test_carriage_returns_become_newlines():
    assert clean_text("one\r\ntwo\rthree") == "one\ntwo\nthree"


def test_lone_surrogates_are_dropped():
    assert clean_text("\udcff cramp \ud800") == " cramp "


@pytest.mark.parametrize(
    "text",
    [
        "🦶😣🔥💧🦶",
        "👩‍⚕️ 👍🏽",
        "我的脚晚上抽筋怎么办？",
        "لماذا تتشنج قدمي في الليل؟",
        "¿Por qué me dan calambres en los pies?",
        "café naïve",
        "\u200b\u202e\ufeff format characters stay",
    ],
)
def test_unicode_and_emoji_are_kept(text):
    assert clean_text(text) == text
    assert check("me", text).text == text


@pytest.mark.parametrize(
    "message", [None, 42, 4.2, True, ["hi", "there"], {"text": "hi"}, b"bytes"]
)
def test_a_message_that_is_not_text_is_refused_with_a_reply(message):
    verdict = check("me", message)
    assert verdict.refusal == "not_text" and verdict.sender_id == "me"
    assert verdict.reply == input_policy.REPLIES["not_text"]


@pytest.mark.parametrize("message", ["", "   ", "\n\t \r\n", "\x00\x01\x7f"])
def test_an_empty_message_is_refused_with_a_reply(message):
    verdict = check("me", message)
    assert verdict.refusal == "empty" and verdict.reply


# ---------------------------------------------------------------- metadata
@pytest.mark.parametrize(
    "metadata, parsed",
    [
        (None, None),
        ("", None),
        ("   ", None),
        ({}, {}),
        ({"page": "chat"}, {"page": "chat"}),
        ('{"page": "chat"}', {"page": "chat"}),
        ('{"nested": {"a": [1, 2]}}', {"nested": {"a": [1, 2]}}),
    ],
)
def test_good_metadata_is_read(metadata, parsed):
    assert parse_metadata(metadata) == (True, parsed)
    verdict = check("me", "hi", metadata)
    assert verdict.accepted and verdict.metadata == parsed


@pytest.mark.parametrize(
    "metadata",
    [
        "{not json",
        '{"a": 1',
        "[1, 2]",
        "42",
        '"text"',
        "null",
        42,
        ["a"],
        True,
        "[" * 100_000,
        {"blob": "x" * MAX_METADATA_CHARS},
    ],
)
def test_bad_metadata_is_refused_never_raised(metadata):
    assert parse_metadata(metadata) == (False, None)
    verdict = check("me", "hi", metadata)
    assert verdict.refusal == "metadata" and verdict.sender_id == "me" and verdict.reply


# ---------------------------------------------------------------- the texts file
def test_every_reply_comes_from_the_texts_file():
    data = yaml.safe_load(
        resources.files("channels").joinpath(input_policy.TEXTS_RESOURCE).read_text("utf-8")
    )
    assert set(REASONS) <= set(data["replies"])
    for reason in REASONS:
        verdict = input_policy.Verdict(sender_id="me", refusal=reason)
        assert verdict.reply == data["replies"][reason].strip()
    assert check("me", "hi").reply is None


def test_no_channel_keeps_a_reply_sentence_in_its_code():
    package = Path(input_policy.__file__).parent
    for source in package.glob("*.py"):
        code = source.read_text(encoding="utf-8")
        for reply in input_policy.REPLIES.values():
            assert reply[:40] not in code, source.name
        assert "can only read text" not in code.lower(), source.name


def test_http_errors_name_the_limit():
    assert http_error("sender") == {
        "status": "bad request",
        "reason": input_policy.ERROR_TEXTS["sender"],
    }
    assert str(MAX_SENDER_CHARS) in http_error("sender")["reason"]
    assert "JSON object" in http_error("body")["reason"]
