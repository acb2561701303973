"""The evaluation contract, end to end: real action server + Rasa server over REST.

After each user message the tracker holds `topic` (the knowledge topic answered, or null) and
`urgency` (the tier of that message). These tests talk to the session's shared servers
(tests/conftest.py) as the evaluation does.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Dict, List

import pytest
import yaml

from cramp_harness.servers import Servers
from cramp_nlu.terms import tier_rank

pytestmark = pytest.mark.integration
CASES = yaml.safe_load((Path(__file__).parent / "data" / "contract_cases.yml").read_text())["cases"]


def fresh() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def first_turn(servers: Servers, text: str) -> Dict:
    sender = fresh()
    replies = servers.say(sender, text)
    slots = servers.slots(sender)
    return {"replies": replies, "topic": slots.get("topic"), "urgency": slots.get("urgency")}


@pytest.fixture(scope="module")
def results(servers) -> List[Dict]:
    return [
        {**case, "allowed": case.get("urgency", ["none"]), **first_turn(servers, case["text"])}
        for case in CASES
    ]


def test_no_under_triage(results):
    under = [
        (r["text"], r["urgency"], r["allowed"])
        for r in results
        if tier_rank(r["urgency"]) < min(tier_rank(t) for t in r["allowed"])
    ]
    assert not under


def test_topic_accuracy_at_least_ninety_percent(results):
    wrong = [
        (r["text"], r["topic"], r["topics"])
        for r in results
        if r["topic"] not in (r["topics"] or [None])
    ]
    assert len(wrong) / len(results) <= 0.10, wrong


def test_false_alarms_at_most_ten_percent(results):
    calm = [r for r in results if r["allowed"] == ["none"]]
    alarms = [(r["text"], r["urgency"]) for r in calm if r["urgency"] != "none"]
    assert len(alarms) / len(calm) <= 0.10, alarms


def test_escalation_comes_first_and_names_the_number(servers):
    replies = servers.say(
        fresh(), "my chest hurts and I can't breathe, anyway is magnesium any good"
    )
    assert "911" in replies[0]["text"] and "112" in replies[0]["text"]
    assert len(replies) >= 2  # the question is still answered, after the escalation


def test_follow_up_gives_the_matching_treatment(servers):
    sender = fresh()
    servers.say(sender, "can wearing high heels cause foot cramps")
    assert servers.slots(sender)["topic"] == "cause_footwear"
    servers.say(sender, "how do I treat that?")
    assert servers.slots(sender)["topic"] == "treat_footwear"
    assert servers.slots(sender)["urgency"] == "none"


def test_medicine_named_in_the_question_is_named_in_the_answer(servers):
    replies = servers.say(fresh(), "does furosemide cause cramps in the feet?")
    assert "furosemide" in " ".join(r.get("text", "") for r in replies).lower()


def test_slots_reset_on_a_turn_without_a_topic(servers):
    sender = fresh()
    servers.say(sender, "what is a charley horse")
    assert servers.slots(sender)["topic"] == "definition"
    servers.say(sender, "thanks a lot")
    assert servers.slots(sender)["topic"] is None


def test_a_typed_intent_cannot_skip_triage(servers):
    sender = fresh()
    servers.say(sender, "/ask_magnesium")
    slots = servers.slots(sender)
    assert slots["topic"] == "magnesium" and slots["urgency"] == "none"


def test_restart_clears_the_conversation(servers):
    sender = fresh()
    servers.say(sender, "what causes foot cramps")
    assert servers.slots(sender)["topic"] == "causes"
    replies = servers.say(sender, "let's start over")
    assert "restarted" in replies[0]["text"].lower()
    tracker = servers.tracker(sender)  # events after the last restart only
    assert not any(
        e["event"] == "user" and "causes" in e.get("text", "") for e in tracker["events"]
    )
    assert tracker["slots"]["topic"] is None
