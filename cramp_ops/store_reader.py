"""Read-only access to Rasa's SQL tracker store, for `cramp-report` and `cramp-export-nlu`.

The endpoints file is read exactly as `cramp-retention` reads it (Rasa's ${VAR} expansion and URL
building, cramp_ops.retention), so all three commands find the same database. The connection is
read-only: SQLite is opened with `mode=ro` (a missing file is an error, never a new empty store),
PostgreSQL sessions start with `default_transaction_read_only`. Neither command can change the
conversations, whatever goes wrong in them.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa

from cramp_ops.retention import RetentionError, engine_url, events_table, store_config

#: the endpoints file does not name an SQL store we can read (same error as cramp-retention's)
StoreError = RetentionError


def read_only_engine(endpoints: Path) -> sa.engine.Engine:
    """An engine on the tracker store named by `endpoints` that cannot write."""
    from rasa.core.tracker_store import create_engine_kwargs

    url = engine_url(store_config(endpoints))
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise StoreError("an in-memory SQLite store holds nothing to read")
        uri = f"file:{quote(url.database)}?mode=ro"
        return sa.create_engine(
            "sqlite://", hide_parameters=True, creator=lambda: sqlite3.connect(uri, uri=True)
        )
    kwargs = create_engine_kwargs(url)
    options = " ".join(
        filter(
            None,
            [kwargs.get("connect_args", {}).get("options"), "-c default_transaction_read_only=on"],
        )
    )
    kwargs["connect_args"] = {**kwargs.get("connect_args", {}), "options": options}
    # hide_parameters: an error message must not carry sender IDs into a log
    return sa.create_engine(url, hide_parameters=True, **kwargs)


def has_events(engine: sa.engine.Engine) -> bool:
    """Whether Rasa has created its `events` table yet (a fresh store has none)."""
    return sa.inspect(engine).has_table(events_table().name)


def describe(engine: sa.engine.Engine) -> str:
    """The kind of store, for the report's header (no host, file name or user)."""
    return {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(
        engine.dialect.name, engine.dialect.name
    )
