"""Small talk and starting over, each one action per turn (triaged like every other turn).

The sentences are the domain's responses; this module only picks one: `utter_<intent>` for the
small-talk intents ("thanks, but now my chest hurts" still escalates first).
"""

from __future__ import annotations

from typing import Any, Dict, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.topics import escalation_is_enough
from actions.triage import Reply, TriagedAction, Verdict

#: the intents data/rules/conversation.yml sends to action_small_talk
SMALL_TALK_INTENTS: Tuple[str, ...] = (
    "greet",
    "goodbye",
    "thank",
    "bot_challenge",
    "ask_source",
    "help",
    "out_of_scope",
    "deny",
    "stop_form",
)
#: small-talk intents whose response is not simply `utter_<intent>`
RESPONSE_OF_INTENT: Dict[str, str] = {"stop_form": "utter_deny"}
#: anything else that reaches small talk (e.g. a typed "/intent" payload) gets the help menu
DEFAULT_RESPONSE = "utter_help"


def response_for(intent: str) -> str:
    """The domain response that answers a small-talk intent."""
    if intent not in SMALL_TALK_INTENTS:
        return DEFAULT_RESPONSE
    return RESPONSE_OF_INTENT.get(intent, f"utter_{intent}")


class ActionSmallTalk(TriagedAction):
    """Greetings, thanks, goodbyes, "are you a bot?", help, out of scope, "no"."""

    def name(self) -> Text:
        return "action_small_talk"

    async def reply(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
        verdict: Verdict,
    ) -> Reply:
        if escalation_is_enough(verdict.tier):
            # "thanks, but now my chest hurts": "you're welcome" after "call 911" would dilute it
            return Reply()
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""
        dispatcher.utter_message(response=response_for(intent))
        return Reply()


class ActionStartOver(TriagedAction):
    """Our own "start over" (Rasa's built-in restart overrides an active form, and answers like
    "at rest" can look like it): say so and reset the conversation."""

    def name(self) -> Text:
        return "action_start_over"

    async def reply(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
        verdict: Verdict,
    ) -> Reply:
        dispatcher.utter_message(response="utter_restart")
        return Reply(restart=True)
