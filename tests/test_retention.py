"""cramp-retention (cramp_ops.retention) on a tracker store written by Rasa's own SQLTrackerStore."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from cramp_ops import retention

ROOT = Path(__file__).resolve().parents[1]
#: the console script pip installed next to this interpreter (pyproject.toml [project.scripts])
COMMAND = str(Path(sys.executable).with_name("cramp-retention"))
DAY = 86400.0
NOW = time.time()


def session(start: float, texts: List[str]) -> list:
    """One conversation session as Rasa stores it, the events `step` seconds apart from `start`."""
    events = [
        ActionExecuted("action_session_start", timestamp=start),
        SessionStarted(timestamp=start + 0.1),
        ActionExecuted("action_listen", timestamp=start + 0.2),
    ]
    for i, text in enumerate(texts):
        t = start + 1 + i * 10
        events += [
            UserUttered(text, {"name": "greet", "confidence": 1.0}, timestamp=t),
            BotUttered(f"reply to {text}", timestamp=t + 1),
            ActionExecuted("action_listen", timestamp=t + 2),
        ]
    return events


CONVERSATIONS = {
    # sender -> events; the newest event decides
    "old-1": session(NOW - 90 * DAY, ["hello", "why do my feet cramp?"]),
    "old-2": session(NOW - 31 * DAY, ["what is a foot cramp"]),
    "old-two-sessions": session(NOW - 60 * DAY, ["hi"]) + session(NOW - 40 * DAY, ["hi again"]),
    "new-1": session(NOW - 60, ["hello"]),
    "new-2": session(NOW - 29 * DAY, ["does magnesium help"]),
    # old first session, recent second one: the whole conversation is kept
    "mixed": session(NOW - 100 * DAY, ["long ago"]) + session(NOW - 2 * DAY, ["recently"]),
}


@pytest.fixture
def store_path(tmp_path) -> Path:
    """A SQLite tracker store filled through Rasa's SQLTrackerStore.save."""
    path = tmp_path / "tracker.db"
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path))

    async def fill() -> None:
        for sender, events in CONVERSATIONS.items():
            await store.save(DialogueStateTracker.from_events(sender, events))

    asyncio.run(fill())
    store.engine.dispose()
    return path


def counts(path: Path) -> dict:
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT sender_id, COUNT(*) FROM events GROUP BY sender_id")
        ).all()
    engine.dispose()
    return dict(rows)


def test_the_fixture_holds_every_event(store_path):
    assert counts(store_path) == {sender: len(events) for sender, events in CONVERSATIONS.items()}


def test_only_conversations_idle_for_longer_than_the_limit_are_deleted(store_path):
    before = counts(store_path)
    engine = retention.make_engine(sa.engine.make_url(f"sqlite:///{store_path}"))
    result = retention.apply_retention(engine, days=30, now=NOW)
    engine.dispose()
    after = counts(store_path)
    assert set(after) == {"new-1", "new-2", "mixed"}
    assert all(after[sender] == before[sender] for sender in after)  # kept whole
    assert result.conversations == 3
    assert result.events == before["old-1"] + before["old-2"] + before["old-two-sessions"]


def test_rasa_still_reads_the_kept_conversations(store_path):
    engine = retention.make_engine(sa.engine.make_url(f"sqlite:///{store_path}"))
    retention.apply_retention(engine, days=30, now=NOW)
    engine.dispose()
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(store_path))
    tracker = asyncio.run(store.retrieve_full_tracker("mixed"))
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == [
        "long ago",
        "recently",
    ]
    assert asyncio.run(store.retrieve("old-1")) is None


def test_dry_run_deletes_nothing(store_path):
    before = counts(store_path)
    engine = retention.make_engine(sa.engine.make_url(f"sqlite:///{store_path}"))
    result = retention.apply_retention(engine, days=30, now=NOW, dry_run=True)
    engine.dispose()
    assert counts(store_path) == before
    assert (result.conversations, result.dry_run) == (3, True)
    assert result.events == before["old-1"] + before["old-2"] + before["old-two-sessions"]


def test_deleted_text_is_not_left_in_the_sqlite_file(store_path):
    engine = retention.make_engine(sa.engine.make_url(f"sqlite:///{store_path}"))
    retention.apply_retention(engine, days=30, now=NOW)
    engine.dispose()
    raw = store_path.read_bytes()
    assert b"why do my feet cramp?" not in raw  # secure_delete zeroed the freed cells
    assert b"recently" in raw


def test_command_line_reads_the_store_from_an_endpoints_file(store_path, tmp_path):
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {store_path}\n")
    dry = subprocess.run(
        [COMMAND, "--days", "30", "--endpoints", str(endpoints), "--dry-run"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert dry.returncode == 0, dry.stderr
    assert "would delete 3 conversations" in dry.stdout
    done = subprocess.run(
        [COMMAND, "--days", "30", "--endpoints", str(endpoints)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "deleted 3 conversations" in done.stdout
    assert set(counts(store_path)) == {"new-1", "new-2", "mixed"}


def test_a_missing_sqlite_file_is_an_error_not_a_new_empty_database(tmp_path):
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        "tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: nowhere/tracker.db\n"
    )
    done = subprocess.run(
        [COMMAND, "--endpoints", str(endpoints)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 2
    assert "no SQLite tracker store" in done.stderr
    assert not (tmp_path / "nowhere").exists()


def test_the_default_endpoints_file_points_at_var_tracker_db():
    config = retention.store_config(ROOT / "endpoints.yml")
    assert (config["dialect"], config["db"]) == ("sqlite", "var/tracker.db")


def test_the_production_endpoints_give_a_postgresql_url_from_the_environment(monkeypatch):
    env = {
        "DB_HOST": "db.internal",
        "DB_PORT": "6543",
        "DB_NAME": "cramps",
        "DB_USER": "rasa",
        "DB_PASSWORD": "s3cret",
        "REDIS_HOST": "r",
        "REDIS_PORT": "6379",
        "REDIS_DB": "1",
        "REDIS_PASSWORD": "",
        "ACTION_ENDPOINT_URL": "http://actions:5055/webhook",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    url = retention.engine_url(retention.store_config(ROOT / "deploy" / "endpoints.production.yml"))
    assert (
        url.get_backend_name(),
        url.host,
        url.port,
        url.database,
        url.username,
        url.password,
    ) == ("postgresql", "db.internal", 6543, "cramps", "rasa", "s3cret")
    assert "s3cret" not in url.render_as_string(hide_password=True)


def test_a_store_that_is_not_sql_is_refused(tmp_path):
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text("tracker_store:\n  type: redis\n  url: localhost\n")
    with pytest.raises(retention.RetentionError):
        retention.store_config(endpoints)


def test_an_unreachable_database_is_a_clean_error(tmp_path):
    import socket

    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        "tracker_store:\n  type: SQL\n  dialect: postgresql\n  url: 127.0.0.1\n"
        f"  port: {port}\n  db: cramps\n  username: u\n  password: secret-pw\n"
    )
    done = subprocess.run(
        [COMMAND, "--endpoints", str(endpoints)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 2
    assert "cannot use the database" in done.stderr and "Traceback" not in done.stderr
    assert "secret-pw" not in done.stderr + done.stdout
