"""One input policy for every channel: which sender IDs, texts and metadata the assistant takes.

Why: a tracker store must be able to keep every sender ID (PostgreSQL refuses NUL, its sender_id
column is VARCHAR(255), and no store can encode a lone surrogate), NLU time grows with the length
of a message while one Sanic worker serves everyone, and a message a channel cannot read must
still be answered, not dropped with an exception in the log. So every channel (REST, socket.io,
Telegram, Slack, Twilio) asks `check()` and either hands the cleaned message to Rasa or sends the
refusal's `reply` over its own connection; where nobody can be answered (no usable sender ID) it
answers the request with `http_error()` and a 400.

The sentences live in `data/input_policy.yml` inside this package; this module holds the rules.
Pure Python: no Rasa or Sanic import, so the rules are unit-tested on their own.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any, Dict, Optional, Tuple

import yaml

#: a longer message is cut here: NLU time grows with length and one Sanic worker serves everyone
MAX_MESSAGE_CHARS = 5_000
#: the tracker store's sender_id column is VARCHAR(255)
MAX_SENDER_CHARS = 255
#: metadata is stored with every user event; more than this (as JSON) is not a client's metadata
MAX_METADATA_CHARS = 10_000
TEXTS_RESOURCE = "data/input_policy.yml"
#: why a message was refused; each has a reply in the texts file
REASONS = ("sender", "not_text", "empty", "metadata")
#: the HTTP 400 bodies the texts file must hold
ERRORS = ("sender", "body")

#: C0 and C1 control characters except tab and newline, and lone surrogates (not encodable)
_UNWANTED_IN_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
#: in a sender ID nothing of that is allowed, not even tab or newline
_UNSTORABLE_IN_ID = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


class InputPolicyError(ValueError):
    """The texts file is missing a reply or an error message."""


def _load_texts() -> Tuple[Dict[str, str], Dict[str, str]]:
    """The replies and HTTP errors, checked at import so a broken file stops the server at start."""
    raw = yaml.safe_load(resources.files("channels").joinpath(TEXTS_RESOURCE).read_text("utf-8"))
    replies = (raw or {}).get("replies") or {}
    errors = (raw or {}).get("errors") or {}
    for section, table, keys in (("replies", replies, REASONS), ("errors", errors, ERRORS)):
        missing = [key for key in keys if not str(table.get(key) or "").strip()]
        if missing:
            raise InputPolicyError(f"{TEXTS_RESOURCE}: {section} needs {', '.join(missing)}")
    errors = {
        key: str(text).strip().replace("{max_sender_chars}", str(MAX_SENDER_CHARS))
        for key, text in errors.items()
    }
    return {key: str(text).strip() for key, text in replies.items()}, errors


REPLIES, ERROR_TEXTS = _load_texts()


@dataclass(frozen=True)
class Verdict:
    """The policy's answer for one incoming message: the cleaned message, or why it was refused."""

    sender_id: Optional[str] = None
    text: Optional[str] = None
    metadata: Optional[Dict[str, Any]] = None
    #: one of REASONS, None when the message may go to Rasa
    refusal: Optional[str] = None

    @property
    def accepted(self) -> bool:
        return self.refusal is None

    @property
    def reply(self) -> Optional[str]:
        """The short message for the person when refused (None when accepted)."""
        return REPLIES[self.refusal] if self.refusal else None


def clean_sender(value: Any) -> Optional[str]:
    """The sender ID as text a tracker store can keep, else None. Numbers (Telegram chat IDs)
    become their decimal text; an ID is never altered otherwise, since it names a conversation."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if (
        not isinstance(value, str)
        or not value.strip()
        or len(value) > MAX_SENDER_CHARS
        or _UNSTORABLE_IN_ID.search(value)
    ):
        return None
    return value


def clean_text(value: Any) -> Optional[str]:
    """The message text without control characters (newline and tab kept, CR/CRLF become a
    newline), cut at MAX_MESSAGE_CHARS; None when the message is not text at all."""
    if not isinstance(value, str):
        return None
    text = _UNWANTED_IN_TEXT.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    return text[:MAX_MESSAGE_CHARS]


def parse_metadata(value: Any) -> Tuple[bool, Optional[Dict[str, Any]]]:
    """(readable, metadata). Nothing, a JSON object or its text is readable; malformed JSON,
    JSON that is not an object and oversized metadata are not. Never raises."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return True, None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            return False, None
    if not isinstance(value, dict):
        return False, None
    try:
        size = len(json.dumps(value))
    except (TypeError, ValueError, RecursionError):
        return False, None
    return (True, value) if size <= MAX_METADATA_CHARS else (False, None)


def check(sender: Any, message: Any, metadata: Any = None) -> Verdict:
    """The verdict for one message. The sender is checked first: nothing can be stored or
    answered under an unusable ID; then the metadata, then the text."""
    sender_id = clean_sender(sender)
    if sender_id is None:
        return Verdict(refusal="sender")
    readable, parsed = parse_metadata(metadata)
    if not readable:
        return Verdict(sender_id, refusal="metadata")
    text = clean_text(message)
    if text is None:
        return Verdict(sender_id, metadata=parsed, refusal="not_text")
    if not text.strip():
        # NLU has nothing to read: asking for the question beats a fallback guess
        return Verdict(sender_id, text, parsed, refusal="empty")
    return Verdict(sender_id, text, parsed)


def http_error(key: str) -> Dict[str, str]:
    """The JSON body of a 400 for `key` ("sender" or "body"), where no reply can reach anyone."""
    return {"status": "bad request", "reason": ERROR_TEXTS[key]}
