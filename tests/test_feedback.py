"""'Was this helpful?': when the buttons ride on an answer, and what 👍 / 👎 get back."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import config
from actions.answers import ActionAnswerTopic
from actions.feedback import PAYLOADS, ActionFeedback, time_to_ask
from actions.knowledge import knowledge

NONE = {"tier": "none", "reasons": [], "findings": []}


def slot(name: str, value: Any) -> Dict[str, Any]:
    return {"event": "slot", "timestamp": None, "name": name, "value": value}


def asked() -> Dict[str, Any]:
    """A bot message that carried the feedback buttons."""
    return {
        "event": "bot",
        "text": "answer",
        "data": {"buttons": [{"payload": p} for p in PAYLOADS]},
    }


def payloads(messages: List[Dict[str, Any]]) -> List[str]:
    return [b["payload"] for m in messages for b in m.get("buttons") or []]


def answer(make_tracker, domain, events, text="why at night?", triage=NONE):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text, "ask_cause_night", events=events, triage=triage)
    asyncio.run(ActionAnswerTopic().run(dispatcher, tracker, domain))
    return dispatcher.messages


def test_the_first_answer_of_a_session_asks(make_tracker, domain):
    assert set(PAYLOADS) <= set(payloads(answer(make_tracker, domain, [])))


def test_not_asked_again_until_enough_answers(make_tracker, domain):
    events = [asked(), slot("topic", "cause_night")]
    assert not set(PAYLOADS) & set(payloads(answer(make_tracker, domain, events)))
    events += [slot("topic", "treat_night")] * (config.FEEDBACK_EVERY - 2)
    assert set(PAYLOADS) <= set(payloads(answer(make_tracker, domain, events)))


def test_a_new_session_asks_again():
    events = [asked(), slot("topic", "cause_night"), {"event": "session_started"}]
    assert time_to_ask(events)


def test_never_after_an_escalation(make_tracker, domain):
    triage = {"tier": "see_doctor", "reasons": ["frequent"], "findings": []}
    messages = answer(
        make_tracker, domain, [], text="why at night? it's every night now", triage=triage
    )
    assert not set(PAYLOADS) & set(payloads(messages))


def test_buttons_come_after_the_answers_own(make_tracker, domain):
    found = payloads(answer(make_tracker, domain, []))
    assert found[-2:] == list(PAYLOADS) and found[0] == "/tell_more"


def run_feedback(make_tracker, domain, intent, events):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("/" + intent, intent, events=events, triage=NONE)
    result = asyncio.run(ActionFeedback().run(dispatcher, tracker, domain))
    return result, dispatcher.messages


def test_thumbs_up_thanks_and_answers_no_topic(make_tracker, domain):
    events, messages = run_feedback(
        make_tracker, domain, "feedback_helpful", [slot("topic", "cause_night")]
    )
    assert len(messages) == 1 and not messages[0].get("buttons")
    assert {"event": "slot", "timestamp": None, "name": "topic", "value": None} in events


@pytest.mark.parametrize("previous", ["cause_night", None])
def test_thumbs_down_offers_close_topics_and_the_see_a_doctor_advice(
    make_tracker, domain, previous
):
    _, messages = run_feedback(
        make_tracker, domain, "feedback_unhelpful", [slot("topic", previous)]
    )
    kb = knowledge()
    offered = payloads(messages)
    assert offered[-1] == "/ask_see_doctor"
    if previous:
        assert (
            offered[:-1]
            == [f"/ask_{t}" for t in kb[previous].related if t != "see_doctor"][
                : config.FALLBACK_SUGGESTIONS
            ]
        )
    assert all(t in messages[0]["text"] for _, ts in kb["see_doctor"].answer_groups() for t in ts)
