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
import sys
import uuid
from typing import Dict, List

import pytest

from support.conversations import FOLLOW_UP
from support.servers import ROOT, Servers

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


# ---- the production stores (deploy/), without servers ----------------------------------------------
# Rasa imports them from its working directory (the repository root); here that root goes on the path
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

def test_the_reconnecting_store_reads_and_writes_like_rasas_own(tmp_path):
    import asyncio

    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from deploy.tracker_store import ReconnectingSQLTrackerStore

    db = tmp_path / "tracker.db"
    ours = ReconnectingSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(db))
    events = [ActionExecuted("action_session_start", timestamp=1.0), SessionStarted(timestamp=1.0),
              ActionExecuted("action_listen", timestamp=1.2),
              UserUttered("hello", {"name": "greet", "confidence": 1.0}, timestamp=2.0)]
    tracker = DialogueStateTracker.from_events("someone", events)
    asyncio.run(ours.save(tracker))
    tracker.update(ActionExecuted("action_listen", timestamp=3.0))
    asyncio.run(ours.save(tracker))  # only the new event is appended
    assert ours.engine.pool._pre_ping
    stock = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(db))

    def dump(found) -> list:
        return [e.as_dict() for e in found.events]
    assert dump(asyncio.run(ours.retrieve_full_tracker("someone"))) == dump(tracker)
    assert dump(asyncio.run(ours.retrieve("someone"))) == dump(asyncio.run(stock.retrieve("someone")))
    assert list(asyncio.run(ours.keys())) == ["someone"]


def _redis_up() -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379 (scripts/services.sh starts one)")
def test_two_replicas_never_get_the_same_ticket(tmp_path):
    """deploy/lock_store.py: tickets issued at the same time by two processes' stores are unique.

    (Rasa's own RedisLockStore does GET-modify-SET and hands out duplicates here: two replicas
    then run one conversation's turns at once, and a turn goes missing from the stored tracker.)
    """
    import threading

    from deploy.lock_store import AtomicRedisLockStore

    stores = [AtomicRedisLockStore(host="127.0.0.1", port=6379, db=15, key_prefix="pytest")
              for _ in range(2)]
    conversation = f"lock-{uuid.uuid4().hex}"
    tickets = [[] for _ in stores]
    start = threading.Barrier(len(stores))

    def issue(index: int) -> None:
        start.wait()
        for _ in range(100):
            tickets[index].append(stores[index].issue_ticket(conversation, lock_lifetime=60))

    threads = [threading.Thread(target=issue, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    issued = tickets[0] + tickets[1]
    assert len(issued) == 200 and len(set(issued)) == 200
    lock = stores[0].get_lock(conversation)
    assert sorted(t.number for t in lock.tickets) == sorted(issued)
    for number in issued:  # finishing every ticket removes the lock
        stores[number % 2].cleanup(conversation, number)
    assert stores[0].get_lock(conversation) is None
