"""The cramp check after a story, in-process (no servers): five personas tell their facts in one
or two messages, start the check, and answer "not sure" to every question it still asks.

The check must skip what the story told, and the summary must still rank the fitting cause first
or second with the right tier. The earlier messages carry no `triage` of their own, so no earlier
escalation lifts the summary's tier: the tier checked here is the answers' own.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import pytest
from conftest import DEFAULT_SLOTS, entity, slot_event, user_event
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.cramp_check import (
    FORM_NAME,
    ActionCrampCheckSummary,
    ActionStartCrampCheck,
    ValidateCrampCheckForm,
    article_medicines,
    with_story_answers,
)
from actions.cramp_check_rules import NOT_SURE, answers_tier, cramp_check, facts_from
from cramp_nlu.terms import TIERS, tier_rank

CHECK = cramp_check()


@dataclass
class Conversation:
    """The slots and events of one session, as the action server would see them."""

    events: List[Dict[str, Any]] = field(default_factory=list)
    slots: Dict[str, Any] = field(
        default_factory=lambda: {
            **DEFAULT_SLOTS,
            **{s: None for s in CHECK.slots},
            "check_retry": None,
            "check_stopped": None,
            "likely_causes": None,
            "requested_slot": None,
        }
    )
    asked: List[str] = field(default_factory=list)

    def say(self, text: str, intent: str, entities: List[Dict] = ()) -> Dict[str, Any]:
        event = user_event(text, intent)
        event["parse_data"]["entities"] = list(entities)
        self.events.append(event)
        intent_data = {"name": intent, "confidence": 0.9}
        return {"text": text, "intent": intent_data, "entities": list(entities)}

    def tracker(self, latest: Dict[str, Any], in_form: bool) -> Tracker:
        return Tracker(
            "persona",
            dict(self.slots),
            latest,
            list(self.events),
            False,
            None,
            {"name": FORM_NAME} if in_form else {},
            "action_listen",
        )

    def run(self, action, latest: Dict[str, Any], in_form: bool, domain) -> List[Dict]:
        dispatcher = CollectingDispatcher()
        events = asyncio.run(action.run(dispatcher, self.tracker(latest, in_form), domain))
        for event in events:
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]
                self.events.append(slot_event(event["name"], event["value"]))
        return dispatcher.messages

    def next_question(self) -> Optional[str]:
        return next((s for s in CHECK.slots if self.slots[s] is None), None)

    def answer_not_sure(self, domain) -> None:
        """The form asks each open question in order; the person says "not sure" to each."""
        while (slot := self.next_question()) is not None:
            assert len(self.asked) < len(CHECK.slots), f"{slot} asked again: {self.asked}"
            self.asked.append(slot)
            self.slots["requested_slot"] = slot
            latest = self.say("not sure", "out_of_scope")
            latest["intent"]["confidence"] = 0.3
            self.slots[slot] = "not sure"  # the form's from_text mapping
            self.events.append(slot_event(slot, "not sure"))
            self.run(ValidateCrampCheckForm(), latest, True, domain)
            assert self.slots[slot] == NOT_SURE
        self.slots["requested_slot"] = None


def check_after(story: List[Dict[str, Any]], domain) -> tuple:
    """Tell the story, run the check answering "not sure": (the summary's json part, the final
    answers, the answers the start pre-filled, the conversation)."""
    talk = Conversation()
    for message in story:
        talk.say(message["text"], "report_symptoms", message.get("entities", []))
    latest = talk.say("could you go through the cramp check with me", "start_cramp_check")
    talk.run(ActionStartCrampCheck(), latest, False, domain)
    prefilled = {s: talk.slots[s] for s in CHECK.slots if talk.slots[s] is not None}
    talk.answer_not_sure(domain)
    answers = {s: talk.slots[s] for s in CHECK.slots}
    messages = talk.run(ActionCrampCheckSummary(), latest, False, domain)
    summary = messages[0]["custom"]["cramp_check"]
    return summary, answers, prefilled, talk


def said(text: str, *entities: Dict[str, Any]) -> Dict[str, Any]:
    return {"text": text, "entities": list(entities)}


AT_LEAST_SEE_DOCTOR = {t for t in TIERS if tier_rank(t) >= tier_rank("see_doctor")}

#: persona: (what they tell before the check, the questions that tells, the causes that fit (one
#: of them first or second), the tiers that are right)
PERSONAS = {
    "a runner who sweats a lot": (
        [
            said("I'm doing my first ultra this spring, so lots of long training runs."),
            said("I come back soaked, I sweat so much"),
        ],
        {"check_timing", "check_fluids"},
        {"cause_dehydration", "cause_electrolytes"},
        {"none"},
    ),
    "calf pain after a short walk that eases with rest": (
        [said("Walking the dog my calves cramp after a few hundred yards, it eases when I rest.")],
        {"check_timing"},
        {"cause_vascular"},
        {"see_doctor"},
    ),
    "a statin user": (
        [
            said(
                "My doctor put me on simvastatin for cholesterol in the spring",
                entity("medication", "statin", "simvastatin"),
            ),
            said("since then my calves cramp in bed"),
        ],
        {"check_medicines", "check_timing"},
        {"cause_medication"},
        {"see_doctor"},
    ),
    "a pregnant person": (
        [said("I'm 31 weeks pregnant with twins and my legs keep seizing up")],
        {"check_pregnant"},
        {"cause_pregnancy"},
        {"none"},
    ),
    "a diabetic with numb feet": (
        [
            said("I was diagnosed with type 1 diabetes as a teenager."),
            said("These days the soles of my feet go numb and tingle"),
        ],
        # the red-flag question is always asked (one sign told does not stand in for all)
        {"check_conditions"},
        {"cause_nerve"},
        AT_LEAST_SEE_DOCTOR,
    ),
}


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_a_story_then_not_sure_to_the_rest(persona, domain):
    story, prefilled_slots, fitting, tiers = PERSONAS[persona]
    summary, answers, prefilled, talk = check_after(story, domain)
    # what the story told is not asked again
    assert prefilled_slots <= set(prefilled), prefilled
    assert not prefilled_slots & set(talk.asked)
    assert all(answers[s] == NOT_SURE for s in talk.asked)
    # the fitting cause comes first or second
    assert fitting & set(summary["likely_causes"][:2]), summary
    # the tier is the answers' own (no earlier escalation is in these events)
    # (with what the story told for the always-asked red-flag question)
    merged = with_story_answers(CHECK, answers, list(talk.events))
    rules_tier, _ = answers_tier(CHECK, facts_from(merged, article_medicines()))
    assert summary["tier"] == rules_tier
    assert rules_tier in tiers


def test_the_runner_gets_both_fluid_causes_first(domain):
    story, *_ = PERSONAS["a runner who sweats a lot"]
    summary, *_ = check_after(story, domain)
    assert set(summary["likely_causes"][:2]) == {"cause_dehydration", "cause_electrolytes"}


def test_short_walk_pain_is_see_doctor_from_the_answers(domain):
    story, *_ = PERSONAS["calf pain after a short walk that eases with rest"]
    summary, answers, *_ = check_after(story, domain)
    assert answers["check_timing"] == "short_walk"
    assert summary["likely_causes"][0] == "cause_vascular"
    assert summary["tier"] == "see_doctor"


def test_a_reply_with_several_facts_skips_the_questions_it_answered(domain):
    talk = Conversation()
    latest = talk.say("start the cramp check", "start_cramp_check")
    talk.run(ActionStartCrampCheck(), latest, False, domain)
    assert talk.next_question() == "check_timing"
    text = "at night, most days, ever since I started a new job on my feet"
    talk.slots["requested_slot"] = "check_timing"
    latest = talk.say(text, "report_symptoms")
    talk.slots["check_timing"] = text
    talk.events.append(slot_event("check_timing", text))
    talk.run(ValidateCrampCheckForm(), latest, True, domain)
    assert talk.slots["check_timing"] == "night"
    assert talk.slots["check_frequency"] == "most_days"
    assert talk.slots["check_footwear"] == ["standing"]
    talk.answer_not_sure(domain)
    assert "check_frequency" not in talk.asked and "check_footwear" not in talk.asked
    assert talk.asked[0] == "check_duration"


def test_the_red_flag_question_is_asked_even_after_a_sign_was_told(domain):
    """One sign in the story (numb soles) must not stand in for the question about all of them."""
    story, *_ = PERSONAS["a diabetic with numb feet"]
    _, _, prefilled, talk = check_after(story, domain)
    assert "check_red_flags" not in prefilled
    assert "check_red_flags" in talk.asked
