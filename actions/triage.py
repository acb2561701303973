"""Red-flag escalation: runs first on every user turn and speaks before any answer.

The tier normally comes from the NLU component (`triage` in the parse data). A message that
bypassed NLU (Rasa reads text starting with "/" as an intent) is triaged here with the same
detector, so typing "/ask_magnesium ..." cannot skip the safety check.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import config
from actions.history import highest_urgency
from cramp_nlu.red_flags import RedFlagDetector, default_detector, load_terms, tier_rank

#: the escalation headlines by tier (from cramp_nlu/data/red_flags.yml)
HEADLINES = {name: spec["headline"] for name, spec in load_terms()["tiers"].items()
             if spec.get("headline")}


def detector() -> RedFlagDetector:
    return default_detector(config.SPACY_MODEL)


def triage_of(message: Dict[str, Any]) -> Dict[str, Any]:
    """The NLU component's verdict, or our own when the message skipped NLU."""
    triage = message.get("triage")
    if isinstance(triage, dict) and triage.get("tier"):
        return triage
    return detector()(message.get("text") or "").as_dict()


def escalation_text(tier: str, reasons: List[str]) -> str:
    """Headline, the action to take, and why, in that order."""
    return detector().escalation_text(tier, reasons)


def reminder_text(earlier_tier: str) -> str:
    return ("Before anything else: what you told me earlier still needs attention. "
            + detector().tier_actions[earlier_tier])


def triage_turn(dispatcher: CollectingDispatcher, tracker: Tracker) -> Tuple[str, List[Dict[Text, Any]]]:
    """Escalate if this message reports a sign; returns its tier and the slot events.

    Shared by `action_triage` and the cramp-check form, whose turns do not pass through rules.
    """
    triage = triage_of(tracker.latest_message or {})
    tier = triage["tier"]
    if tier != "none":
        # the custom part lets a widget render the escalation as a banner; text-only
        # channels (channels/) drop it, since the text already says everything
        dispatcher.utter_message(
            text=escalation_text(tier, triage.get("reasons", [])),
            json_message={"escalation": {"tier": tier, "action": detector().tier_actions[tier]}},
        )
    earlier = highest_urgency(tracker.events)
    if tier_rank(earlier) >= tier_rank("urgent") and tier_rank(tier) < tier_rank(earlier):
        # an escalation cannot be talked away by a later, calmer message
        dispatcher.utter_message(text=reminder_text(earlier))
    return tier, [SlotSet("urgency", tier), SlotSet("topic", None)]


def reported_signs(message: Dict[str, Any]) -> List[str]:
    """The red-flag signs a message reports (denied ones left out)."""
    findings = triage_of(message).get("findings", [])
    return [f["sign"] for f in findings if not f.get("negated")]


class ActionTriage(Action):
    """Sets `urgency` for this message, clears `topic`, and escalates when a sign is reported."""

    def name(self) -> Text:
        return "action_triage"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        _, events = triage_turn(dispatcher, tracker)
        return events
