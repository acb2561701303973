"""The guided cramp check over REST with the shared real servers: four personas end to end."""

from __future__ import annotations

import uuid
from typing import List

import pytest

from cramp_harness.servers import Servers

pytestmark = pytest.mark.integration


def talk(servers: Servers, messages: List[str]) -> tuple:
    sender = f"persona-{uuid.uuid4().hex[:10]}"
    replies = []
    for text in messages:
        replies = servers.say(sender, text)
    summary = "\n".join(r.get("text") or "" for r in replies)
    return servers.slots(sender), summary


def test_a_pregnant_runner(servers):
    # the first message already answers when (running), how often and the pregnancy question:
    # the check skips them and starts with how long a cramp lasts
    slots, summary = talk(
        servers,
        [
            "hi, I'm 24 weeks pregnant and still running three times a week",
            "help me figure out my cramps",
            "a minute or so",
            "none",
            "none of these",
            "neither",
            "I sweat loads",
            "none",
        ],
    )
    assert slots["likely_causes"][0] == "cause_pregnancy"
    assert "cause_dehydration" in slots["likely_causes"]
    assert "Cramps in pregnancy" in summary and "not a diagnosis" in summary


def test_a_statin_user_with_night_cramps(servers):
    slots, summary = talk(
        servers,
        [
            "can you check my cramps",
            "at night in bed",
            "most nights",
            "a few minutes",
            "no",
            "I take atorvastatin",
            "none",
            "neither",
            "neither",
            "none",
        ],
    )
    assert slots["likely_causes"][:2] == ["cause_medication", "cause_night"]
    assert slots["urgency"] == "see_doctor"
    assert "Book an appointment" in summary


def test_a_diabetic_with_numbness(servers):
    slots, summary = talk(
        servers,
        [
            "help me work out my cramps",
            "any time",
            "a few times a week",
            "seconds",
            "no",
            "none",
            "I have type 2 diabetes",
            "neither",
            "neither",
            "numbness in my toes",
        ],
    )
    assert slots["likely_causes"][0] == "cause_nerve"
    assert slots["urgency"] in ("see_doctor", "urgent")


def test_someone_with_pain_at_rest(servers):
    slots, summary = talk(
        servers,
        [
            "start the cramp check",
            "at rest",
            "every day",
            "ten minutes or longer",
            "no",
            "none",
            "none of these",
            "neither",
            "neither",
            "my foot hurts even when I'm resting",
        ],
    )
    assert slots["likely_causes"][0] == "cause_vascular"
    assert slots["urgency"] in ("urgent", "emergency")
    assert "today" in summary or "emergency" in summary
