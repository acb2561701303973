"""Red-flag triage inside the one action that answers each user turn.

Every action that answers a user message derives from `TriagedAction`: it escalates first (the
escalation speaks before any answer), sets `urgency` for this message, and writes `topic` (the
first topic answered) and `topics` (every topic answered this turn) once.
So a turn costs one action-server call, and no rule can answer a message without triage
(tests/test_dialogue_triage.py checks every rule and story).

The tier normally comes from the NLU component (`triage` in the parse data). Rasa replaces the
parse data of a message that starts with "/" (button payloads, or someone typing
"/ask_magnesium ...") after the NLU ran, so for those the same detector, built once when the
action server starts, triages the text here: the safety check cannot be skipped.
"""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import Restarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.history import earlier_findings, highest_urgency
from cramp_nlu.escalation import wording
from cramp_nlu.factory import shared_detector
from cramp_nlu.red_flags import Triage
from cramp_nlu.terms import tier_rank

EventList = List[Dict[Text, Any]]

#: built while the action server starts (rasa_sdk imports this module), never on a user's turn
DETECTOR = shared_detector()


def triage_of(message: Dict[str, Any]) -> Dict[str, Any]:
    """The NLU component's verdict, or the same detector's when the message skipped NLU."""
    triage = message.get("triage")
    if isinstance(triage, dict) and triage.get("tier"):
        return triage
    return DETECTOR(message.get("text") or "").as_dict()


def reported_signs(message: Dict[str, Any]) -> List[str]:
    """The red-flag signs a message reports (denied ones left out)."""
    return [f["sign"] for f in triage_of(message).get("findings", []) if not f.get("negated")]


@dataclass(frozen=True)
class Verdict:
    """One turn's triage, computed once: the message's own (`own`) and together with what the
    earlier messages reported (`in_context`: "I'm pregnant", then "suddenly my vision is blurry"
    is urgent). The turn's tier is the one in context."""

    own: Dict[str, Any]
    in_context: Dict[str, Any]

    @property
    def tier(self) -> str:
        return self.in_context["tier"]


def verdict_of(message: Dict[str, Any], events: List[Dict[str, Any]]) -> Verdict:
    own = triage_of(message)
    earlier = earlier_findings(events)
    if not earlier:
        return Verdict(own, own)
    return Verdict(own, DETECTOR.with_earlier(Triage.from_dict(own), earlier).as_dict())


def escalate(dispatcher: CollectingDispatcher, tracker: Tracker) -> Verdict:
    """Speak first when this message reports a sign (or an earlier one still needs attention);
    returns this turn's verdict."""
    verdict = verdict_of(tracker.latest_message or {}, list(tracker.events))
    tier = verdict.tier
    escalation = wording().message(
        tier, verdict.in_context.get("reasons", []), verdict.in_context.get("findings", [])
    )
    if escalation:
        # the custom part lets a widget render a banner; text-only channels drop it
        dispatcher.utter_message(text=escalation["text"], json_message=escalation["custom"])
    earlier = highest_urgency(tracker.events)
    if tier_rank(earlier) >= tier_rank("urgent") and tier_rank(tier) < tier_rank(earlier):
        # an escalation cannot be talked away by a later, calmer message
        dispatcher.utter_message(text=wording().reminder_text(earlier))
    return verdict


@dataclass
class Reply:
    """What an answering action did besides triage: the topic it answered (and any other topics,
    when the message asked two things), other events, and whether the conversation starts over
    (the reset comes first, so this turn's slots survive it)."""

    topic: Optional[str] = None
    events: EventList = field(default_factory=list)
    restart: bool = False
    also: List[str] = field(default_factory=list)

    @property
    def topics(self) -> List[str]:
        return ([self.topic] if self.topic else []) + [t for t in self.also if t != self.topic]


class TriagedAction(Action, metaclass=ABCMeta):
    """Base of every action that answers a user turn: triage, then `reply`, then the slots.
    (Abstract, so rasa_sdk does not register the base itself.)"""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> EventList:
        verdict = escalate(dispatcher, tracker)
        reply = await self.reply(dispatcher, tracker, domain, verdict)
        reset = [Restarted()] if reply.restart else []
        return [
            *reset,
            SlotSet("urgency", verdict.tier),
            SlotSet("topic", reply.topic),
            SlotSet("topics", reply.topics),
            *reply.events,
        ]

    @abstractmethod
    async def reply(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
        verdict: Verdict,
    ) -> Reply:
        """Answer the turn (after any escalation was sent); `verdict.tier` is its urgency."""
