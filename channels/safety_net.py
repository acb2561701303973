"""Never silence: a reply and the red-flag escalation even when the action server is down.

Every turn of this assistant ends in at least one bot message. When a user message produces none
(the action server is unreachable or failed: Rasa logs the error and carries on without the
action's messages), the channel answers by itself, inside the Rasa process: first the escalation
for any red flag in the text (the same detector and wording as the answering actions), then a short
"having trouble" note with what to do meanwhile (its wording: `data/safety_net.yml`).

Channels use it by wrapping the `on_new_message` callback they receive in `blueprint()`:

    def blueprint(self, on_new_message):
        return super().blueprint(with_safety_net(on_new_message))
"""

from __future__ import annotations

import logging
from importlib import resources
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

import yaml
from rasa.core.channels.channel import OutputChannel, UserMessage

from cramp_nlu.escalation import wording
from cramp_nlu.factory import shared_detector

logger = logging.getLogger(__name__)

#: the trouble note's wording, inside this package (the emergency action comes from the red-flag
#: terms file, so the emergency numbers are written once)
TEXTS_RESOURCE = "data/safety_net.yml"


def trouble_text(raw: Optional[Dict[str, Any]] = None) -> str:
    """The "having trouble" note, with the emergency tier's action filled in."""
    if raw is None:
        text = resources.files("channels").joinpath(TEXTS_RESOURCE).read_text("utf-8")
        raw = yaml.safe_load(text)
    return " ".join(str(raw["trouble"]).split()).format(emergency=wording().actions["emergency"])


#: read once, when Rasa loads the channels (never on a failing turn)
TROUBLE_TEXT = trouble_text()


class CountingOutputChannel(OutputChannel):
    """Passes every message on to the real channel and counts them."""

    def __init__(self, inner: OutputChannel) -> None:
        self.inner = inner
        self.sent = 0

    def name(self) -> Text:  # type: ignore[override]
        # responses can have channel-specific variations: keep the real channel's name
        return self.inner.name()

    def __getattr__(self, attribute: str) -> Any:
        # channel-specific attributes (e.g. a collector's `messages`) stay reachable
        return getattr(self.inner, attribute)

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        self.sent += 1
        await self.inner.send_response(recipient_id, message)


def escalation(text: str) -> Optional[Dict[str, Any]]:
    """The escalation message for a text that reports a red flag (None when it reports none or
    triage failed). Also used for a message the rate limits refuse (`channels.rate_limit`)."""
    try:
        triage = shared_detector()(text or "")
        return wording().message(triage.tier, triage.reasons, triage.as_dict()["findings"])
    except Exception:  # whatever follows must go out whatever happens
        logger.exception("safety net: triage failed")
        return None


def safety_messages(text: str) -> List[Dict[str, Any]]:
    """The escalation for the message (if it reports a sign) and the trouble note."""
    messages: List[Dict[str, Any]] = []
    found = escalation(text)
    if found:
        messages.append(found)
    messages.append({"text": TROUBLE_TEXT})
    return messages


def with_safety_net(
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
) -> Callable[[UserMessage], Awaitable[Any]]:
    """Wraps a channel's message handler so that no user message goes unanswered.
    Channels call it while Rasa starts, so the detector is built then, not on a failing turn."""
    shared_detector()

    async def handle(message: UserMessage) -> Any:
        counter = CountingOutputChannel(message.output_channel)
        message.output_channel = counter
        result = None
        try:
            result = await on_new_message(message)
        except Exception:
            logger.exception("safety net: handling the message failed")
        if counter.sent == 0:
            logger.warning("safety net: no reply was produced; answering from the channel")
            for reply in safety_messages(message.text or ""):
                await counter.inner.send_response(message.sender_id, dict(reply))
        return result

    return handle
