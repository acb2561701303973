"""Conversations survive a restart of the Rasa server: the SQLite tracker store (the default).

The real action server and `rasa run` (`restartable_servers` in tests/conftest.py: a Rasa of its
own, since these tests restart it) keep the conversation in a SQLite file in its work directory.
We hold a conversation, stop Rasa (cleanly, then with SIGKILL as in a crash), start it again on
the same file, and check the conversation goes on where it was: earlier events all there, and
"how do I treat that?" after a cause still gives that cause's treatment. With several replicas
on PostgreSQL, the same (including a database restart in the middle of a conversation) is checked
by scripts/cluster_test.py.
"""

from __future__ import annotations

import signal
import sqlite3
import uuid
from typing import Dict, List

import pytest

from cramp_harness.conversations import FOLLOW_UP
from cramp_harness.servers import Servers

pytestmark = pytest.mark.integration


def user_texts(events: List[Dict]) -> List[str]:
    return [e["text"] for e in events if e["event"] == "user"]


def stored_rows(servers: Servers, sender: str) -> int:
    with sqlite3.connect(servers.tracker_db) as db:
        return db.execute("SELECT COUNT(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()[
            0
        ]


def test_the_conversation_continues_after_a_clean_restart(restartable_servers):
    servers = restartable_servers
    sender = f"persist-{uuid.uuid4().hex[:10]}"
    sent = ["hello", "why do my feet cramp at night?"]
    for text in sent:
        assert servers.say(sender, text)
    assert servers.slots(sender)["topic"] == "cause_night"
    before = servers.tracker(sender)["events"]
    assert stored_rows(servers, sender) == len(before)

    servers.restart_rasa(signal.SIGTERM)

    after = servers.tracker(sender)["events"]
    assert after == before  # every earlier event, unchanged, in order
    assert servers.slots(sender)["topic"] == "cause_night"
    replies = servers.say(sender, FOLLOW_UP)
    assert replies and replies[0].get("text")
    assert servers.slots(sender)["topic"] == "treat_night"
    assert user_texts(servers.tracker(sender)["events"]) == sent + [FOLLOW_UP]


def test_nothing_is_lost_when_the_server_is_killed(restartable_servers):
    servers = restartable_servers
    sender = f"persist-{uuid.uuid4().hex[:10]}"
    sent = ["hi there", "can wearing high heels cause foot cramps"]
    for text in sent:
        assert servers.say(sender, text)
    assert servers.slots(sender)["topic"] == "cause_footwear"
    before = servers.tracker(sender)["events"]

    servers.restart_rasa(signal.SIGKILL)  # no shutdown handlers: what a crash leaves behind

    assert servers.tracker(sender)["events"] == before
    servers.say(sender, FOLLOW_UP)
    assert servers.slots(sender)["topic"] == "treat_footwear"
    servers.say(sender, "thank you")
    assert user_texts(servers.tracker(sender)["events"]) == sent + [FOLLOW_UP, "thank you"]
    assert stored_rows(servers, sender) == len(servers.tracker(sender)["events"])
