"""Conversations survive a restart of the Rasa server: the SQLite tracker store (the default).

The real action server and `rasa run` (tests/support/servers.py) keep the conversation in a SQLite
file in the test's work directory. We hold a conversation, stop Rasa (cleanly, then with SIGKILL
as in a crash), start it again on the same file, and check the conversation goes on where it was:
earlier events all there, and "how do I treat that?" after a cause still gives that cause's
treatment. With several replicas on PostgreSQL, the same (including a database restart in the
middle of a conversation) is checked by scripts/cluster_test.py.
"""
from __future__ import annotations

import signal
import sqlite3
import uuid
from typing import Dict, List

import pytest

from support.conversations import FOLLOW_UP
from support.servers import Servers

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def servers(tmp_path_factory) -> Servers:
    running = Servers(workdir=tmp_path_factory.mktemp("persistence"))
    try:
        running.start_actions()
        running.start_rasa()
        yield running
    finally:
        running.stop()


def restart_rasa(servers: Servers, sig: int) -> None:
    """Stop the Rasa server with `sig` and start it again on the same SQLite file and port."""
    rasa = [p for p in servers.processes if "actions" not in p.args]
    assert len(rasa) == 1
    rasa[0].send_signal(sig)
    rasa[0].wait(timeout=60)
    servers.processes.remove(rasa[0])
    servers.start_rasa()


def user_texts(events: List[Dict]) -> List[str]:
    return [e["text"] for e in events if e["event"] == "user"]


def stored_rows(servers: Servers, sender: str) -> int:
    with sqlite3.connect(servers.tracker_db) as db:
        return db.execute("SELECT COUNT(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()[0]


def test_the_conversation_continues_after_a_clean_restart(servers):
    sender = f"persist-{uuid.uuid4().hex[:10]}"
    sent = ["hello", "why do my feet cramp at night?"]
    for text in sent:
        assert servers.say(sender, text)
    assert servers.slots(sender)["topic"] == "cause_night"
    before = servers.tracker(sender)["events"]
    assert stored_rows(servers, sender) == len(before)

    restart_rasa(servers, signal.SIGTERM)

    after = servers.tracker(sender)["events"]
    assert after == before  # every earlier event, unchanged, in order
    assert servers.slots(sender)["topic"] == "cause_night"
    replies = servers.say(sender, FOLLOW_UP)
    assert replies and replies[0].get("text")
    assert servers.slots(sender)["topic"] == "treat_night"
    assert user_texts(servers.tracker(sender)["events"]) == sent + [FOLLOW_UP]


def test_nothing_is_lost_when_the_server_is_killed(servers):
    sender = f"persist-{uuid.uuid4().hex[:10]}"
    sent = ["hi there", "can wearing high heels cause foot cramps"]
    for text in sent:
        assert servers.say(sender, text)
    assert servers.slots(sender)["topic"] == "cause_footwear"
    before = servers.tracker(sender)["events"]

    restart_rasa(servers, signal.SIGKILL)  # no shutdown handlers: what a crash leaves behind

    assert servers.tracker(sender)["events"] == before
    servers.say(sender, FOLLOW_UP)
    assert servers.slots(sender)["topic"] == "treat_footwear"
    servers.say(sender, "thank you")
    assert user_texts(servers.tracker(sender)["events"]) == sent + [FOLLOW_UP, "thank you"]
    assert stored_rows(servers, sender) == len(servers.tracker(sender)["events"])
