"""Triage inside the answering actions (actions/triage.py), run in-process on real trackers.

Every answering action derives from `TriagedAction`; these tests drive the base class through the
small-talk action, whose own reply (a domain response) always comes after any escalation.
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Tuple

import pytest
from rasa_sdk.events import Restarted
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import ActionAnswerTopic
from actions.conversation import ActionSmallTalk, ActionStartOver, response_for
from actions.topics import escalation_is_enough
from actions.triage import DETECTOR, TriagedAction
from cramp_nlu.escalation import wording
from cramp_nlu.factory import shared_detector


def slot(name: str, value: Any) -> Dict[str, Any]:
    return {"event": "slot", "timestamp": None, "name": name, "value": value}


def slot_sets(events) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def run_turn(tracker, domain) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """One small-talk turn: (events, the messages sent before the small-talk reply)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionSmallTalk().run(dispatcher, tracker, domain))
    if escalation_is_enough(slot_sets(events)["urgency"]):
        # from `urgent` on the escalation is the whole turn: no small talk dilutes it
        assert all(not m.get("response") for m in dispatcher.messages)
        return events, dispatcher.messages
    *before, reply = dispatcher.messages
    intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
    assert reply == {**reply, "response": response_for(intent)}  # the answer comes last
    assert all(not m.get("response") for m in before)
    return events, before


def test_the_action_server_triages_with_the_shared_detector():
    assert DETECTOR is shared_detector()


def test_every_answering_action_is_triaged():
    import actions.answers  # noqa: F401
    import actions.cramp_check  # noqa: F401
    import actions.fallback  # noqa: F401

    names = {cls().name() for cls in all_subclasses(TriagedAction)}
    assert {
        "action_answer_topic",
        "action_tell_more",
        "action_suggest_topics",
        "action_small_talk",
        "action_start_over",
        "action_start_cramp_check",
    } <= names


def all_subclasses(cls) -> List[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *all_subclasses(sub)]
    return found


@pytest.mark.parametrize(
    "text, intent, tier",
    [
        ("thanks, but now my chest hurts and I can't breathe", "thank", "emergency"),
        ("bye, my calf is swollen red and hot", "goodbye", "urgent"),
    ],
)
def test_no_small_talk_after_an_urgent_escalation(make_tracker, domain, text, intent, tier):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionSmallTalk().run(dispatcher, make_tracker(text, intent), domain))
    assert slot_sets(events)["urgency"] == tier
    assert [m["text"].split("\n")[0] for m in dispatcher.messages] == [wording().headlines[tier]]


def test_small_talk_after_a_see_doctor_sign_still_answers(make_tracker, domain):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("thanks! my cramps are getting more frequent", "thank")
    asyncio.run(ActionSmallTalk().run(dispatcher, tracker, domain))
    assert dispatcher.messages[-1]["response"] == "utter_thank"


def test_topic_and_urgency_are_written_once(make_tracker, domain):
    tracker = make_tracker(
        "why at night?", "ask_cause_night", triage={"tier": "none", "reasons": [], "findings": []}
    )
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionAnswerTopic().run(dispatcher, tracker, domain))
    names = [e["name"] for e in events if e.get("event") == "slot"]
    assert names.count("topic") == 1 and names.count("urgency") == 1


def test_escalation_speaks_before_the_answer(make_tracker, domain):
    tracker = make_tracker("why at night? my calf is red hot and swollen", "ask_cause_night")
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionAnswerTopic().run(dispatcher, tracker, domain))
    first, answer = dispatcher.messages
    assert first["text"].startswith(wording().headlines["urgent"])
    assert first["custom"]["escalation"]["headline"] == wording().headlines["urgent"]
    assert "Nocturnal" in answer["text"]
    assert slot_sets(events) == {
        "urgency": "urgent",
        "topic": "cause_night",
        "topics": ["cause_night"],
    }


def test_start_over_resets_then_keeps_this_turns_urgency(make_tracker, domain):
    tracker = make_tracker("start over, my foot went cold and blue", "start_over")
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionStartOver().run(dispatcher, tracker, domain))
    assert events[0] == Restarted()
    assert slot_sets(events) == {"urgency": "emergency", "topic": None, "topics": []}
    assert "911" in dispatcher.messages[0]["text"]
    assert dispatcher.messages[-1]["response"] == "utter_restart"


@pytest.mark.parametrize(
    "intent, response",
    [("greet", "utter_greet"), ("stop_form", "utter_deny"), ("ask_magnesium", "utter_help")],
)
def test_small_talk_responses_exist(domain, intent, response):
    assert response_for(intent) == response
    assert response in domain["responses"]


def test_triage_from_nlu_sets_urgency_and_escalates_emergency(make_tracker, domain):
    tracker = make_tracker(
        "my chest hurts and my calf is swollen",
        "report_symptoms",
        triage={"tier": "emergency", "reasons": ["chest_pain"], "findings": []},
    )
    events, messages = run_turn(tracker, domain)
    assert slot_sets(events) == {"urgency": "emergency", "topic": None, "topics": []}
    assert len(messages) == 1
    text = messages[0]["text"]
    assert text.startswith(wording().headlines["emergency"])
    assert "911" in text
    assert f"Why: {wording().whys['chest_pain']}" in text


@pytest.mark.parametrize(
    "tier, reason, expected",
    [
        ("urgent", "pain_at_rest", "today"),
        ("see_doctor", "swelling", "foot and ankle specialist"),
    ],
)
def test_triage_lower_tiers(make_tracker, domain, tier, reason, expected):
    tracker = make_tracker(
        "...", "report_symptoms", triage={"tier": tier, "reasons": [reason], "findings": []}
    )
    events, messages = run_turn(tracker, domain)
    assert slot_sets(events) == {"urgency": tier, "topic": None, "topics": []}
    text = messages[0]["text"]
    assert text.startswith(wording().headlines[tier])
    assert expected in text
    assert "911" not in text
    assert f"Why: {wording().whys[reason]}" in text


def test_triage_without_a_known_reason_has_no_why_line(make_tracker, domain):
    tracker = make_tracker(
        "...", "report_symptoms", triage={"tier": "urgent", "reasons": [], "findings": []}
    )
    _, messages = run_turn(tracker, domain)
    assert "Why:" not in messages[0]["text"]
    assert messages[0]["text"].startswith(wording().headlines["urgent"])


def test_triage_none_is_silent(make_tracker, domain):
    tracker = make_tracker(
        "what is a cramp?", "ask_definition", triage={"tier": "none", "reasons": [], "findings": []}
    )
    events, messages = run_turn(tracker, domain)
    assert slot_sets(events) == {"urgency": "none", "topic": None, "topics": []}
    assert messages == []


def test_triage_trusts_the_nlu_verdict(make_tracker, domain):
    # the component's verdict wins over the text (the detector is not run again)
    tracker = make_tracker(
        "my chest hurts and I can't breathe",
        "report_symptoms",
        triage={"tier": "none", "reasons": [], "findings": []},
    )
    events, messages = run_turn(tracker, domain)
    assert slot_sets(events)["urgency"] == "none"
    assert messages == []


def test_message_that_skipped_nlu_is_triaged_by_the_action(make_tracker, domain):
    tracker = make_tracker("/ask_magnesium my chest hurts and I can't breathe", "ask_magnesium")
    assert "triage" not in tracker.latest_message
    events, messages = run_turn(tracker, domain)
    assert slot_sets(events) == {"urgency": "emergency", "topic": None, "topics": []}
    assert len(messages) == 1
    assert messages[0]["text"].startswith(wording().headlines["emergency"])
    assert "911" in messages[0]["text"]


@pytest.mark.parametrize("triage", [None, {}, {"tier": ""}, "emergency"])
def test_missing_or_unusable_verdict_is_recomputed(make_tracker, domain, triage):
    tracker = make_tracker(
        "/ask_treat_night my foot went cold and blue", "ask_treat_night", triage=triage
    )
    events, messages = run_turn(tracker, domain)
    assert slot_sets(events)["urgency"] == "emergency"
    assert "911" in messages[0]["text"]


def test_calm_message_that_skipped_nlu_is_not_escalated(make_tracker, domain):
    tracker = make_tracker("/ask_magnesium", "ask_magnesium")
    events, messages = run_turn(tracker, domain)
    assert slot_sets(events) == {"urgency": "none", "topic": None, "topics": []}
    assert messages == []


@pytest.mark.parametrize("earlier", ["emergency", "urgent"])
def test_calm_message_after_an_escalation_gets_a_reminder(make_tracker, domain, earlier):
    tracker = make_tracker(
        "ok, what about magnesium?",
        "ask_magnesium",
        triage={"tier": "none", "reasons": [], "findings": []},
        events=[
            slot("urgency", earlier),
            slot("topic", None),
            slot("topic", "see_doctor"),
            slot("urgency", "none"),
            slot("topic", None),
        ],
    )
    events, messages = run_turn(tracker, domain)
    assert slot_sets(events) == {"urgency": "none", "topic": None, "topics": []}
    assert len(messages) == 1
    text = messages[0]["text"]
    assert "earlier still needs attention" in text
    assert wording().actions[earlier] in text
    assert ("911" in text) == (earlier == "emergency")


def test_reminder_without_nlu_verdict(make_tracker, domain):
    tracker = make_tracker("/ask_magnesium", "ask_magnesium", events=[slot("urgency", "emergency")])
    _, messages = run_turn(tracker, domain)
    assert "earlier still needs attention" in messages[0]["text"]
    assert "911" in messages[0]["text"]


def test_see_doctor_earlier_gives_no_reminder(make_tracker, domain):
    tracker = make_tracker(
        "thanks",
        "thank",
        triage={"tier": "none", "reasons": [], "findings": []},
        events=[slot("urgency", "see_doctor"), slot("urgency", "none")],
    )
    _, messages = run_turn(tracker, domain)
    assert messages == []


def test_emergency_of_an_earlier_session_gives_no_reminder(make_tracker, domain):
    tracker = make_tracker(
        "what is a cramp?",
        "ask_definition",
        triage={"tier": "none", "reasons": [], "findings": []},
        events=[
            slot("urgency", "emergency"),
            {"event": "session_started", "timestamp": None},
            slot("urgency", "none"),
        ],
    )
    _, messages = run_turn(tracker, domain)
    assert messages == []


def test_new_escalation_of_the_same_or_higher_tier_needs_no_reminder(make_tracker, domain):
    tracker = make_tracker(
        "my foot went cold and blue again",
        "report_symptoms",
        triage={"tier": "emergency", "reasons": ["cold_limb"], "findings": []},
        events=[slot("urgency", "urgent")],
    )
    _, messages = run_turn(tracker, domain)
    assert len(messages) == 1
    assert messages[0]["text"].startswith(wording().headlines["emergency"])
    assert "earlier still needs attention" not in messages[0]["text"]


def test_milder_escalation_after_an_emergency_still_reminds_of_it(make_tracker, domain):
    tracker = make_tracker(
        "my foot is a bit red too",
        "report_symptoms",
        triage={"tier": "see_doctor", "reasons": ["redness"], "findings": []},
        events=[slot("urgency", "emergency"), slot("topic", None)],
    )
    events, messages = run_turn(tracker, domain)
    assert slot_sets(events)["urgency"] == "see_doctor"
    text = "\n".join(m.get("text") or "" for m in messages)
    assert wording().headlines["see_doctor"] in text
    assert "911" in text  # the earlier emergency's action is repeated
