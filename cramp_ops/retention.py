"""Delete conversations whose last event is older than N days from the SQL tracker store.

    .venv/bin/cramp-retention --days 30                 # endpoints.yml: var/tracker.db
    .venv/bin/cramp-retention --days 30 --dry-run       # only count
    DB_HOST=... DB_PORT=... DB_NAME=... DB_USER=... DB_PASSWORD=... \\
      .venv/bin/cramp-retention --days 30 --endpoints deploy/endpoints.production.yml

Conversations are health data and, over SMS/WhatsApp, keyed by a phone number: keep them no longer
than needed. The command reads the `tracker_store` of an endpoints file the way Rasa does (${VAR}s
from the environment, Rasa's own URL building, so the same `url` pitfall applies), and works on
Rasa's `events` table (`SQLTrackerStore.SQLEvent`: id, sender_id, type_name, timestamp, intent_name,
action_name, data). A conversation (sender_id) is deleted whole, all its sessions, when its newest
event is older than the cut-off; a conversation with any newer event is kept whole. It prints how
many conversations and events it deleted (or would delete, with --dry-run).

Deleted rows do not linger: SQLite deletes with `PRAGMA secure_delete` (freed pages are zeroed);
PostgreSQL gets a `VACUUM` of the table afterwards (skip with --no-vacuum). Safe to run while Rasa
serves: each batch is one transaction. (A conversation that comes back to life in the very second
it is deleted can have its current session written back by Rasa; it is then young and kept.)
Exit status: 0 on success, 2 when the store is not an SQL store, the SQLite file does not exist
or the database cannot be reached.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional

os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
warnings.filterwarnings("ignore", message=".*URL.create.*")

import sqlalchemy as sa  # noqa: E402

with warnings.catch_warnings():  # Rasa's imports print deprecation warnings of its dependencies
    warnings.simplefilter("ignore")
    import rasa.core.tracker_store  # noqa: E402,F401
    import rasa.utils.endpoints  # noqa: E402,F401

BATCH = 500  # conversations per DELETE statement (keeps the IN list and the transaction small)
#: how long conversations are kept unless --days says otherwise (cramp-export-nlu uses it too)
DEFAULT_DAYS = 30


class RetentionError(Exception):
    """The endpoints file does not describe an SQL tracker store we can clean."""


@dataclass
class Result:
    conversations: int
    events: int
    cutoff: float
    dry_run: bool


def events_table() -> sa.Table:
    """Rasa's own definition of the `events` table."""
    from rasa.core.tracker_store import SQLTrackerStore

    return SQLTrackerStore.SQLEvent.__table__


def store_config(endpoints: Path) -> Dict[str, Any]:
    """The `tracker_store` section, with ${VAR}s expanded exactly as `rasa run` expands them."""
    from rasa.utils.endpoints import read_endpoint_config

    if not endpoints.is_file():
        raise RetentionError(f"no endpoints file {endpoints}")
    config = read_endpoint_config(str(endpoints), "tracker_store")
    if config is None:
        raise RetentionError(
            f"{endpoints} has no tracker_store (Rasa keeps conversations in memory)"
        )
    store_type = (config.type or "").strip()
    if store_type.lower() != "sql" and not store_type.endswith("SQLTrackerStore"):
        raise RetentionError(f"tracker store type {store_type!r} is not an SQL store")
    return {"url": config.url, **config.kwargs}


def engine_url(config: Dict[str, Any], base: Optional[Path] = None) -> sa.engine.URL:
    """The database URL Rasa's SQLTrackerStore builds from the same settings (a relative SQLite
    path is taken from `base`, default the working directory, as Rasa does)."""
    from rasa.core.tracker_store import SQLTrackerStore, validate_port

    base = Path.cwd() if base is None else base
    host = config.get("url")
    if host and "://" in str(host):
        print(
            "warning: the tracker store's url contains '://': Rasa (and this command) use it "
            "as the whole database URL and ignore db, port, username and password",
            file=sys.stderr,
        )
    url = SQLTrackerStore.get_db_url(
        config.get("dialect", "sqlite"),
        host,
        validate_port(config.get("port")),
        config.get("db", "rasa.db"),
        config.get("username"),
        config.get("password"),
        None,
        config.get("query"),
    )
    url = sa.engine.make_url(url) if isinstance(url, str) else url
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        path = Path(url.database)
        path = path if path.is_absolute() else base / path
        if not path.is_file():  # SQLite would silently create an empty database
            raise RetentionError(f"no SQLite tracker store at {path}")
        url = url.set(database=str(path))
    return url


def make_engine(url: sa.engine.URL) -> sa.engine.Engine:
    from rasa.core.tracker_store import create_engine_kwargs

    # hide_parameters: an error message must not carry sender IDs into a log
    engine = sa.create_engine(url, hide_parameters=True, **create_engine_kwargs(url))
    if url.get_backend_name() == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _secure_delete(dbapi_connection, _record) -> None:  # zero the freed pages
            dbapi_connection.execute("PRAGMA secure_delete = ON")

    return engine


def stale_conversations(connection: sa.engine.Connection, cutoff: float) -> List[str]:
    events = events_table()
    query = (
        sa.select(events.c.sender_id)
        .group_by(events.c.sender_id)
        .having(sa.func.max(events.c.timestamp) < cutoff)
    )
    return [row[0] for row in connection.execute(query)]


def apply_retention(
    engine: sa.engine.Engine,
    days: float,
    dry_run: bool = False,
    now: Optional[float] = None,
    vacuum: bool = True,
) -> Result:
    """Delete (or with `dry_run` count) every conversation whose newest event is older than
    `days`."""
    if days < 0:
        raise ValueError("days must be >= 0")
    events = events_table()
    cutoff = (time.time() if now is None else now) - days * 86400
    if not sa.inspect(engine).has_table(events.name):
        return Result(0, 0, cutoff, dry_run)
    with engine.connect() as connection:
        senders = stale_conversations(connection, cutoff)
    deleted = 0
    for start in range(0, len(senders), BATCH):
        chunk = senders[start : start + BATCH]
        with engine.begin() as connection:
            # re-check inside the transaction: a conversation that got a new event since is kept
            young = sa.select(events.c.sender_id).where(
                events.c.sender_id.in_(chunk), events.c.timestamp >= cutoff
            )
            condition = sa.and_(events.c.sender_id.in_(chunk), events.c.sender_id.not_in(young))
            if dry_run:
                deleted += connection.execute(
                    sa.select(sa.func.count()).select_from(events).where(condition)
                ).scalar_one()
            else:
                deleted += connection.execute(events.delete().where(condition)).rowcount
    if vacuum and not dry_run and deleted and engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text(f"VACUUM {events.name}"))
    return Result(len(senders), deleted, cutoff, dry_run)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--days",
        type=float,
        default=DEFAULT_DAYS,
        help=f"keep conversations with an event in the last DAYS days (default {DEFAULT_DAYS})",
    )
    parser.add_argument(
        "--endpoints",
        type=Path,
        default=Path("endpoints.yml"),
        help="endpoints file with the tracker_store (default endpoints.yml)",
    )
    parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")
    parser.add_argument("--no-vacuum", action="store_true", help="PostgreSQL: skip the VACUUM")
    args = parser.parse_args(argv)
    try:
        url = engine_url(store_config(args.endpoints))
    except RetentionError as error:
        print(f"retention: {error}", file=sys.stderr)
        return 2
    engine = make_engine(url)
    try:
        result = apply_retention(engine, args.days, args.dry_run, vacuum=not args.no_vacuum)
    except sa.exc.OperationalError as error:
        reason = str(getattr(error, "orig", error)).strip().splitlines()
        print(
            f"retention: cannot use the database {url.render_as_string(hide_password=True)}: "
            f"{reason[0] if reason else error}",
            file=sys.stderr,
        )
        return 2
    finally:
        engine.dispose()
    when = datetime.fromtimestamp(result.cutoff, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    verb = "would delete" if result.dry_run else "deleted"
    print(
        f"retention: conversations with no event since {when} ({args.days:g} days) "
        f"in {url.render_as_string(hide_password=True)}"
    )
    print(f"retention: {verb} {result.conversations} conversations, {result.events} events")
    return 0
