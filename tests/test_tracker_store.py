"""cramp_ops.tracker_store on SQLite: what its docstring promises, without a database server.

The database "goes away" by renaming its directory (SQLite then raises the same OperationalError
class as a PostgreSQL restart does) and psycopg2's ValueError for a NUL character is raised where
psycopg2 raises it, on executing the statement. Rasa's stock store is run beside ours each time the
difference is the point, so a test shows the bug it guards against.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import List, Tuple

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from cramp_ops import tracker_store
from cramp_ops.tracker_store import ReconnectingSQLTrackerStore

PHONE = "+15551234567"  # over SMS the sender ID is a phone number: it must stay out of logs
PSYCOPG2_NUL = "A string literal cannot contain NUL (0x00) characters."


def conversation(sender: str) -> DialogueStateTracker:
    events: List[Event] = [
        ActionExecuted("action_session_start", timestamp=1.0),
        SessionStarted(timestamp=1.0),
        ActionExecuted("action_listen", timestamp=1.2),
        UserUttered(
            "my calf cramps at night", {"name": "ask_cause_night", "confidence": 1.0}, timestamp=2.0
        ),
    ]
    return DialogueStateTracker.from_events(sender, events)


def dump(tracker: DialogueStateTracker) -> list:
    return [event.as_dict() for event in tracker.events]


def rows(db: Path) -> int:
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as connection:
        count = connection.execute(sa.text("SELECT COUNT(*) FROM events")).scalar_one()
    engine.dispose()
    return count


@pytest.fixture
def db(tmp_path) -> Path:
    (tmp_path / "db").mkdir()
    return tmp_path / "db" / "tracker.db"


def ours(db: Path, retry_seconds: float = 20.0) -> ReconnectingSQLTrackerStore:
    return ReconnectingSQLTrackerStore(
        Domain.empty(), dialect="sqlite", db=str(db), retry_seconds=retry_seconds
    )


def psycopg2_refuses_nul(store: SQLTrackerStore) -> None:
    """Make the store's driver raise psycopg2's ValueError for a NUL in any parameter."""

    @sa.event.listens_for(store.engine, "before_cursor_execute")
    def _refuse(_conn, _cursor, _statement, parameters, _context, _many) -> None:
        values = parameters.values() if isinstance(parameters, dict) else parameters
        if any("\x00" in str(value) for value in values):
            raise ValueError(PSYCOPG2_NUL)


async def while_database_away(db: Path, seconds: float, call) -> Tuple[object, int]:
    """Run `call()` with the database unreachable for its first `seconds`; count event-loop ticks."""
    away = db.parent.with_name("away")
    db.parent.rename(away)
    asyncio.get_running_loop().call_later(seconds, away.rename, db.parent)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        return await call(), ticks
    finally:
        ticker.cancel()


# ---- same table, same queries as Rasa's store ------------------------------------------------------
def test_it_reads_and_writes_like_rasas_own(db):
    store = ours(db)
    tracker = conversation("someone")
    asyncio.run(store.save(tracker))
    tracker.update(ActionExecuted("action_listen", timestamp=3.0))
    asyncio.run(store.save(tracker))  # only the new event is appended
    assert rows(db) == len(tracker.events)
    stock = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(db))
    assert dump(asyncio.run(store.retrieve_full_tracker("someone"))) == dump(tracker)
    assert dump(asyncio.run(store.retrieve("someone"))) == dump(
        asyncio.run(stock.retrieve("someone"))
    )
    assert list(asyncio.run(store.keys())) == ["someone"]


def test_rasa_builds_it_from_an_endpoints_entry(db):
    config = EndpointConfig(
        type="cramp_ops.tracker_store.ReconnectingSQLTrackerStore",
        dialect="sqlite",
        db=str(db),
        retry_seconds=5,
    )
    store = TrackerStore.create(config, Domain.empty())
    assert isinstance(store, ReconnectingSQLTrackerStore) and store.retry_seconds == 5.0


def test_pooled_connections_are_pinged_and_parameters_hidden(db):
    engine = ours(db).engine
    assert engine.pool._pre_ping and engine.hide_parameters


# ---- the database goes away and comes back ---------------------------------------------------------
def test_a_read_waits_for_the_database_and_keeps_the_event_loop_running(db, caplog):
    store = ours(db)
    asyncio.run(store.save(conversation(PHONE)))
    caplog.set_level(logging.WARNING, logger=tracker_store.__name__)
    found, ticks = asyncio.run(while_database_away(db, 0.6, lambda: store.retrieve(PHONE)))
    assert dump(found) == dump(conversation(PHONE))  # context kept, not an empty tracker
    assert ticks >= 5  # other turns went on while this one waited
    retries = [r for r in caplog.records if "database unavailable" in r.getMessage()]
    assert retries and PHONE not in caplog.text


def test_a_write_during_the_outage_is_stored_once(db):
    store = ours(db)
    tracker = conversation("someone")
    asyncio.run(store.save(tracker))
    tracker.update(UserUttered("how do I treat that?", timestamp=5.0))
    asyncio.run(while_database_away(db, 0.6, lambda: store.save(tracker)))
    assert rows(db) == len(tracker.events)
    assert dump(asyncio.run(store.retrieve_full_tracker("someone"))) == dump(tracker)


def test_it_gives_up_after_retry_seconds(db):
    store = ours(db, retry_seconds=0.5)
    db.parent.rename(db.parent.with_name("gone"))
    started = time.monotonic()
    with pytest.raises(sa.exc.OperationalError):
        asyncio.run(store.retrieve("someone"))
    assert time.monotonic() - started < 2.5


# ---- a NUL character in the sender ID (psycopg2: ValueError) ---------------------------------------
def test_rasas_store_exits_on_a_nul_sender(db):
    stock = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(db))
    psycopg2_refuses_nul(stock)
    with pytest.raises(SystemExit):
        asyncio.run(stock.retrieve("nul\x00sender"))


def test_ours_fails_only_that_turn_and_keeps_serving(db):
    store = ours(db)
    psycopg2_refuses_nul(store)
    with pytest.raises(ValueError, match="NUL"):
        asyncio.run(store.retrieve("nul\x00sender"))
    served = FailSafeTrackerStore(store)  # how Rasa wraps it: the turn is answered, not stored
    assert asyncio.run(served.retrieve("nul\x00sender")) is None
    asyncio.run(served.save(conversation("nul\x00sender")))
    asyncio.run(store.save(conversation("next")))
    assert dump(asyncio.run(store.retrieve("next"))) == dump(conversation("next"))


def test_a_missing_postgresql_schema_still_stops_the_server(db, monkeypatch):
    def missing(_session) -> None:
        raise ValueError("cramps")

    monkeypatch.setattr(tracker_store, "ensure_schema_exists", missing)
    with pytest.raises(SystemExit):
        asyncio.run(ours(db).retrieve("someone"))


# ---- SQL parameters (sender IDs, messages) stay out of errors and logs -----------------------------
def drop_events_table(store: SQLTrackerStore) -> None:
    with store.engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE events"))


def test_a_database_error_does_not_carry_the_sender_id(db, caplog):
    stock = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(db))
    store = ours(db, retry_seconds=0)
    drop_events_table(stock)
    with pytest.raises(sa.exc.OperationalError) as stock_error:
        asyncio.run(stock.retrieve(PHONE))
    assert PHONE in str(stock_error.value)  # what Rasa's store would log

    with pytest.raises(sa.exc.OperationalError) as error:
        asyncio.run(store.retrieve(PHONE))
    assert PHONE not in str(error.value) and "no such table" in str(error.value)
    caplog.set_level(logging.DEBUG)
    assert asyncio.run(FailSafeTrackerStore(store).retrieve(PHONE)) is None  # Rasa logs the error
    assert "no such table" in caplog.text and PHONE not in caplog.text
