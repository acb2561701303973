"""The cramp-check form actions, run in-process with real trackers and dispatchers."""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.cramp_check import (
    ActionCrampCheckSummary, ActionStartCrampCheck, ValidateCrampCheckForm, known_answers,
)
from conftest import DEFAULT_SLOTS, slot_event, user_event

CHECK_SLOTS = ["check_timing", "check_frequency", "check_duration", "check_pregnant",
               "check_medicines", "check_conditions", "check_footwear", "check_fluids",
               "check_red_flags"]


def form_tracker(text: str, intent: Optional[str], requested: Optional[str],
                 filled: Dict[str, Any] = None, candidate: Any = None, events: List[Dict] = (),
                 triage: Optional[Dict] = None, entities: List[Dict] = (),
                 confidence: float = 0.95) -> Tracker:
    """A tracker as the form's validation action receives it during the check."""
    slots = {**DEFAULT_SLOTS, **{s: None for s in CHECK_SLOTS}, "check_retry": None,
             "check_stopped": None,
             "likely_causes": None, "requested_slot": requested, **(filled or {})}
    history = list(events) + [user_event(text, intent)]
    if requested and candidate is not None:
        slots[requested] = candidate
        history.append(slot_event(requested, candidate))
    latest = {"text": text, "intent": {"name": intent, "confidence": confidence},
              "entities": list(entities),
              "triage": triage or {"tier": "none", "reasons": [], "findings": []}}
    return Tracker("u1", slots, latest, history, False, None,
                   {"name": "cramp_check_form"} if requested else {}, "action_listen")


def run(action, tracker, domain):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}, dispatcher.messages


def test_free_text_answer_is_read(domain):
    tracker = form_tracker("mostly when I'm in bed at night", "ask_cause_night", "check_timing",
                           candidate="mostly when I'm in bed at night", confidence=0.5)
    slots, _ = run(ValidateCrampCheckForm(), tracker, domain)
    assert slots["check_timing"] == "night"
    assert slots["urgency"] == "none"


def test_side_question_is_answered_and_the_question_asked_again(domain):
    text = "wait, do magnesium supplements actually help?"
    tracker = form_tracker(text, "ask_magnesium", "check_frequency", candidate=text)
    slots, messages = run(ValidateCrampCheckForm(), tracker, domain)
    assert slots["check_frequency"] is None  # the form asks it again
    assert slots["topic"] == "magnesium"
    assert "Cochrane" in messages[0]["text"]
    assert messages[-1]["response"] == "utter_cramp_check_back"


def test_an_unclear_answer_is_asked_once_more_then_noted_as_not_sure(domain):
    tracker = form_tracker("purple elephants", "out_of_scope", "check_duration",
                           candidate="purple elephants", confidence=0.4)
    slots, messages = run(ValidateCrampCheckForm(), tracker, domain)
    assert slots["check_duration"] is None and slots["check_retry"] == "check_duration"
    assert "for example" in messages[0]["text"]
    tracker = form_tracker("bananas", "out_of_scope", "check_duration", candidate="bananas",
                           filled={"check_retry": "check_duration"}, confidence=0.4)
    slots, _ = run(ValidateCrampCheckForm(), tracker, domain)
    assert slots["check_duration"] == "not_sure" and slots["check_retry"] is None


def test_an_emergency_answer_escalates_and_ends_the_check(domain):
    text = "my foot has gone cold and blue"
    triage = {"tier": "emergency", "reasons": ["cold_limb"], "findings": []}
    tracker = form_tracker(text, "report_symptoms", "check_duration", candidate=text,
                           filled={"check_timing": "night"}, triage=triage)
    slots, messages = run(ValidateCrampCheckForm(), tracker, domain)
    assert "911" in messages[0]["text"]
    assert slots["urgency"] == "emergency"
    assert all(slots[s] == "not_asked" for s in CHECK_SLOTS if s != "check_timing")


def test_stop_ends_the_form_and_marks_it_stopped(domain):
    tracker = form_tracker("stop", "stop_form", "check_duration", candidate="stop",
                           filled={"check_timing": "night"})
    slots, messages = run(ValidateCrampCheckForm(), tracker, domain)
    assert slots["check_stopped"] is True and slots["requested_slot"] is None
    assert slots["check_duration"] is None  # asked again on resuming
    assert "check_timing" not in slots  # earlier answers are kept


def test_an_answer_that_looks_like_stop_or_restart_is_still_an_answer(domain):
    tracker = form_tracker("at rest", "start_over", "check_timing", candidate="at rest")
    slots, _ = run(ValidateCrampCheckForm(), tracker, domain)
    assert slots["check_timing"] == "rest" and "check_stopped" not in slots


def test_summary_after_a_stop_says_paused_and_keeps_the_answers(domain):
    tracker = form_tracker("stop", "stop_form", None,
                           filled={"check_timing": "night", "check_stopped": True})
    slots, messages = run(ActionCrampCheckSummary(), tracker, domain)
    assert messages[0]["response"] == "utter_cramp_check_stopped"
    assert slots == {"check_stopped": None}


def test_start_prefills_what_was_said_earlier(domain):
    earlier = user_event("I'm 30 weeks pregnant and take lasix", "ask_cause_pregnancy")
    earlier["parse_data"]["entities"] = [
        {"entity": "condition", "value": "pregnancy"}, {"entity": "medication", "value": "furosemide"}]
    assert known_answers([earlier]) == {"check_pregnant": "yes", "check_medicines": ["furosemide"]}
    tracker = form_tracker("help me figure out my cramps", "start_cramp_check", None,
                           events=[earlier])
    slots, messages = run(ActionStartCrampCheck(), tracker, domain)
    assert slots["check_pregnant"] == "yes"
    assert [m["response"] for m in messages] == ["utter_cramp_check_intro", "utter_cramp_check_known"]


def test_summary_ranks_causes_and_sets_the_contract_slots(domain):
    answers = {"check_timing": "night", "check_frequency": "most_days", "check_duration": "minutes",
               "check_pregnant": "no", "check_medicines": ["statin"], "check_conditions": ["none"],
               "check_footwear": ["neither"], "check_fluids": ["neither"], "check_red_flags": ["none"]}
    tracker = form_tracker("none", "deny", None, filled=answers)
    slots, messages = run(ActionCrampCheckSummary(), tracker, domain)
    assert slots["likely_causes"] == ["cause_medication", "cause_night"]
    assert slots["urgency"] == "see_doctor"
    text = messages[0]["text"]
    assert text.index("Medicines as a cause") < text.index("Night cramps")
    assert "Book an appointment" in text and "not a diagnosis" in text
    assert all(slots[s] is None for s in CHECK_SLOTS)  # ready for a new check


def test_summary_keeps_an_earlier_higher_tier(domain):
    answers = {s: "not_asked" for s in CHECK_SLOTS}
    tracker = form_tracker("ok", "affirm", None, filled=answers,
                           events=[slot_event("urgency", "emergency")])
    slots, messages = run(ActionCrampCheckSummary(), tracker, domain)
    assert slots["urgency"] == "emergency"
    assert "911" in messages[0]["text"]
