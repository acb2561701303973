"""Faults: with the action server down the user still gets a reply, and red flags still escalate.

`servers_without_actions` (tests/conftest.py): Rasa whose action endpoint points at a port nobody
listens on.
"""

from __future__ import annotations

import uuid

import pytest

from channels.safety_net import TROUBLE_TEXT

pytestmark = pytest.mark.integration


def sender() -> str:
    return f"fault-{uuid.uuid4().hex[:10]}"


def test_a_plain_question_gets_the_trouble_note(servers_without_actions):
    replies = servers_without_actions.say(sender(), "what is a foot cramp?")
    assert [r["text"] for r in replies] == [TROUBLE_TEXT]


def test_an_emergency_still_escalates_first(servers_without_actions):
    replies = servers_without_actions.say(sender(), "my chest hurts and I can't breathe")
    assert "911" in replies[0]["text"] and replies[0]["text"].startswith("🚨")
    banners = [r["custom"]["escalation"] for r in replies if "escalation" in r.get("custom", {})]
    assert banners and banners[0]["tier"] == "emergency"
    assert replies[-1]["text"] == TROUBLE_TEXT


def test_answers_resume_when_the_action_server_is_back(servers_without_actions):
    user = sender()
    servers_without_actions.say(user, "hello")
    servers_without_actions.start_actions()
    try:
        replies = servers_without_actions.say(user, "why do my feet cramp at night?")
        assert TROUBLE_TEXT not in [r.get("text") for r in replies]
        assert servers_without_actions.slots(user)["topic"] == "cause_night"
    finally:
        servers_without_actions.stop_actions()  # down again for whoever shares these servers
