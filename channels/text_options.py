"""Shared helpers for the text-only messaging channels (Telegram, Slack, Twilio SMS/WhatsApp).

* Settings come from environment variables, never from credentials.yml. A channel whose variables
  are missing is *disabled*: the server starts, one log line says so, and its webhook answers 503.
* Buttons are rendered as numbered options appended to the text ("1. What causes them?"); a reply
  that is just a number ("2", " 2. ") is mapped back to that option's payload. The mapping is
  stateless: it reads the sender's tracker from the tracker store (the last bot turn's buttons), so
  any Rasa replica can answer the next message.
* Custom JSON payloads (e.g. the escalation banner for web widgets) are dropped: the text already
  carries the message, and nothing of it may reach a platform API.
"""

from __future__ import annotations

import inspect
import logging
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Text

import yaml
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

#: a reply that is only an option number: "2", " 2. ", "2)", "#2"
CHOICE = re.compile(r"^\s*#?\s*(\d{1,2})\s*[.)]?\s*$")
#: this module's wording, inside this package
TEXTS_RESOURCE = "data/text_options.yml"


def _texts() -> Dict[str, str]:
    raw = yaml.safe_load(resources.files("channels").joinpath(TEXTS_RESOURCE).read_text("utf-8"))
    return {key: " ".join(str(value).split()) for key, value in raw.items()}


#: the line under the options, so people know they can answer with a number (read once)
OPTIONS_HINT = _texts()["options_hint"]


# ---------------------------------------------------------------- settings from the environment
@dataclass
class EnvSettings:
    """Values of a channel's environment variables, and which required ones are missing."""

    values: Dict[str, str] = field(default_factory=dict)
    missing: List[str] = field(default_factory=list)

    def get(self, name: str, default: Optional[str] = None) -> Optional[str]:
        return self.values.get(name) or default

    @property
    def disabled_reason(self) -> Optional[str]:
        """Why the channel is off (None when every required variable is set)."""
        if not self.missing:
            return None
        return f"missing environment variable(s) {', '.join(self.missing)}"


def read_env(
    required: Sequence[str],
    optional: Sequence[str] = (),
    environ: Optional[Mapping[str, str]] = None,
) -> EnvSettings:
    """Reads `required` and `optional` variables; empty values count as missing."""
    environ = os.environ if environ is None else environ
    settings = EnvSettings()
    for name in list(required) + list(optional):
        value = (environ.get(name) or "").strip()
        if value:
            settings.values[name] = value
        elif name in required:
            settings.missing.append(name)
    return settings


def log_disabled(channel: str, reason: str) -> None:
    """The one log line for a disabled channel (logged as channels.<name>)."""
    logging.getLogger(f"channels.{channel.lower()}").warning(
        f"{channel} channel disabled: {reason}; its webhook answers 503 until this is fixed."
    )


def disabled_response(channel: str, reason: str) -> HTTPResponse:
    """What a disabled channel's webhook answers."""
    return response.json({"status": "disabled", "channel": channel, "reason": reason}, status=503)


def add_health_route(blueprint: Any, channel: str, reason: Callable[[], Optional[str]]) -> None:
    """GET / on the channel's blueprint: ok, or 503 with the reason it is disabled."""

    @blueprint.route("/", methods=["GET"])
    async def health(_: Request) -> HTTPResponse:
        if reason():
            return disabled_response(channel, reason())
        return response.json({"status": "ok"})


def ignore_yaml_secrets(
    channel: str, credentials: Optional[Dict[str, Any]], allowed: Iterable[str]
) -> Dict[str, Any]:
    """The allowed (non-secret) options from credentials.yml; anything else is ignored with a warning."""
    credentials = dict(credentials or {})
    allowed = set(allowed)
    unexpected = sorted(k for k in credentials if k not in allowed)
    if unexpected:
        logger.warning(
            f"{channel} channel: ignoring {', '.join(unexpected)} in credentials.yml; "
            f"secrets and ids come from environment variables only."
        )
    return {k: v for k, v in credentials.items() if k in allowed}


# ---------------------------------------------------------------- numbered options
def render_options(text: Optional[Text], buttons: Sequence[Dict[str, Any]]) -> Text:
    """The text followed by one numbered line per button title."""
    lines = [
        f"{i}. {button.get('title') or button.get('payload', '')}"
        for i, button in enumerate(buttons, start=1)
    ]
    parts = [text.strip()] if text and text.strip() else []
    if lines:
        parts.append("\n".join(lines) + "\n" + OPTIONS_HINT)
    return "\n\n".join(parts)


def parse_choice(text: Optional[Text]) -> Optional[int]:
    """The option number when the whole message is a number, else None."""
    match = CHOICE.match(text or "")
    return int(match.group(1)) if match else None


def _event_buttons(event: Any) -> List[Dict[str, Any]]:
    data = getattr(event, "data", None) or {}
    return list(data.get("buttons") or data.get("quick_replies") or [])


def offered_buttons(events: Iterable[Any]) -> List[Dict[str, Any]]:
    """The buttons of the last bot message with buttons in the last bot turn (after the last user
    message); empty when that turn offered none."""
    from rasa.shared.core.events import BotUttered, UserUttered

    for event in reversed(list(events)):
        if isinstance(event, UserUttered):
            return []
        if isinstance(event, BotUttered):
            buttons = _event_buttons(event)
            if buttons:
                return buttons
    return []


async def _retrieve(tracker_store: Any, sender_id: Text) -> Any:
    retrieve = getattr(tracker_store, "retrieve", None) or getattr(
        tracker_store, "retrieve_full_tracker", None
    )
    if retrieve is None:
        return None
    tracker = retrieve(sender_id)
    if inspect.isawaitable(tracker):
        tracker = await tracker
    return tracker


async def resolve_choice(
    request: Request, sender_id: Text, text: Optional[Text]
) -> tuple[Optional[Text], Optional[Dict[str, Any]]]:
    """Maps a numbered reply to the payload of the option it names.

    Returns the text to hand to Rasa and, when a number was mapped, metadata recording it. Any
    problem (no agent, no tracker, number out of range) leaves the text unchanged.
    """
    number = parse_choice(text)
    if number is None:
        return text, None
    agent = getattr(request.app.ctx, "agent", None)
    tracker_store = getattr(agent, "tracker_store", None)
    if tracker_store is None:
        return text, None
    try:
        tracker = await _retrieve(tracker_store, str(sender_id))
    except Exception as error:  # a store outage must not lose the message
        logger.warning(f"Could not read the tracker to resolve option {number}: {error}")
        return text, None
    buttons = offered_buttons(tracker.events) if tracker is not None else []
    if 1 <= number <= len(buttons) and buttons[number - 1].get("payload"):
        button = buttons[number - 1]
        return button["payload"], {
            "numbered_choice": number,
            "typed": text,
            "option": button.get("title"),
        }
    return text, None


def merge_metadata(*parts: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    merged: Dict[str, Any] = {}
    for part in parts:
        if part:
            merged.update(part)
    return merged or None


# ---------------------------------------------------------------- long texts
def split_text(text: Text, limit: int) -> List[Text]:
    """Splits a text into pieces of at most `limit` characters, at paragraph, line or word breaks."""
    text = text.strip()
    pieces: List[Text] = []
    while len(text) > limit:
        cut = -1
        for separator in ("\n\n", "\n", " "):
            cut = text.rfind(separator, 0, limit + 1)
            if cut > 0:
                break
        if cut <= 0:
            cut = limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces


class TextOnlyOutput:
    """Mixin for output channels: numbered options instead of buttons, custom JSON dropped.

    Put it first among the bases so these methods win over the platform channel's own.
    """

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_message(recipient_id, render_options(text, buttons))

    async def send_quick_replies(
        self, recipient_id: Text, text: Text, quick_replies: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_message(recipient_id, render_options(text, quick_replies))

    async def send_elements(
        self, recipient_id: Text, elements: Iterable[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        for element in elements:
            title = " : ".join(p for p in (element.get("title"), element.get("subtitle")) if p)
            await self.send_text_message(
                recipient_id, render_options(title, element.get("buttons") or [])
            )

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        # e.g. {"escalation": {...}} for web widgets: the text already says it
        logger.debug(f"{type(self).__name__}: dropped a custom payload ({', '.join(json_message)})")
