"""Rasa's SQL tracker store, made to survive a database restart without losing a turn.

With Rasa 3.6's own `SQLTrackerStore` on PostgreSQL, the first turn each replica handles after the
database restarted (or after any dropped connection: failover, a proxy's idle timeout) runs on a
dead pooled connection. The read fails, Rasa's `FailSafeTrackerStore` logs an error and answers the
turn from an empty in-memory tracker (no context: "how do I treat that?" loses its cause), and that
turn is then never written to the database. `scripts/cluster_test.py --stock-store` shows it.

This subclass changes these things and nothing else (same table, same queries):

* the engine checks a pooled connection before using it (SQLAlchemy `pool_pre_ping`), so a dead
  connection is replaced instead of failing the turn;
* Rasa's `session_scope` takes *any* `ValueError` raised while a session is open for "the
  POSTGRESQL_SCHEMA schema does not exist" and calls `sys.exit(1)`. psycopg2 raises `ValueError`
  for a string with a NUL character, so one REST request whose `sender` contains "\u0000" stops
  the whole Rasa server (seen here with the stock store). Here only the schema check itself can
  end the process; any other error fails that read or write like any database error (Rasa then
  answers the turn without storing it);
* database errors are logged without their SQL parameters (SQLAlchemy `hide_parameters`): those
  hold sender IDs (phone numbers over SMS) and the users' messages;
* a read or write that fails because the database is unreachable (`OperationalError`) is retried
  with back-off for up to `retry_seconds` (default 20), without blocking the event loop, so a turn
  that arrives while the database restarts waits for it instead of being answered without context
  and dropped. The retry log line carries no SQL parameters (they hold the sender ID).

Use it in an endpoints file (an installed module: Rasa finds it from any working directory):

    tracker_store:
      type: cramp_ops.tracker_store.ReconnectingSQLTrackerStore
      dialect: postgresql
      url: ${DB_HOST}  # a bare host name; see the pitfall in deploy/endpoints.production.yml
      ...

Caution: if Rasa cannot import the class (a typo in `type:`), it falls back to an in-memory store
with only a warning; `python -m cramp_ops.endpoints_check FILE` (run by the image build and
tests/test_deploy_config.py) refuses such a file, and the cluster test checks the replicas share
state.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any, Awaitable, Callable, Generator, Iterable, Optional, Text, TypeVar

import rasa.shared.utils.cli
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs, ensure_schema_exists
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.orm import Session

from cramp_ops.rasa_internals import require_written_for

logger = logging.getLogger(__name__)
T = TypeVar("T")


class ReconnectingSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` with pre-pinged pooled connections and retries while the database is
    away."""

    def __init__(self, *args: Any, retry_seconds: float = 20.0, **kwargs: Any) -> None:
        require_written_for("cramp_ops.tracker_store's copy of SQLTrackerStore.save (_write)")
        super().__init__(*args, **kwargs)
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(
            url, pool_pre_ping=True, hide_parameters=True, **create_engine_kwargs(url)
        )
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        self.retry_seconds = float(retry_seconds)

    @contextlib.contextmanager
    def session_scope(self) -> Generator["Session", None, None]:
        """Rasa's session scope, exiting only when the configured schema is really missing."""
        session = self.sessionmaker()
        try:
            try:
                ensure_schema_exists(session)
            except ValueError as missing:
                rasa.shared.utils.cli.print_error_and_exit(
                    f"Requested PostgreSQL schema '{missing}' was not found in the database."
                )
            yield session
        finally:
            session.close()

    async def _retrying(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        deadline = time.monotonic() + self.retry_seconds
        delay = 0.25
        while True:
            try:
                return await call()
            except sa.exc.OperationalError as error:
                if time.monotonic() + delay > deadline:
                    raise
                reason = str(getattr(error, "orig", error)).strip().splitlines()
                logger.warning(
                    "tracker store %s: database unavailable (%s: %s); retrying in %.2fs",
                    what,
                    type(getattr(error, "orig", error)).__name__,
                    reason[0] if reason else "",
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        return await self._retrying("read", lambda: SQLTrackerStore.retrieve(self, sender_id))

    async def retrieve_full_tracker(self, conversation_id: Text) -> Optional[DialogueStateTracker]:
        return await self._retrying(
            "read", lambda: SQLTrackerStore.retrieve_full_tracker(self, conversation_id)
        )

    async def keys(self) -> Iterable[Text]:
        return await self._retrying("keys", lambda: SQLTrackerStore.keys(self))

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)  # to an event broker, once (none is configured here)
        # a failed commit wrote nothing; a retry recomputes which events are not stored yet
        await self._retrying("write", lambda: self._write(tracker))

    async def _write(self, tracker: DialogueStateTracker) -> None:
        """The database half of `SQLTrackerStore.save` (Rasa 3.6), unchanged."""
        with self.session_scope() as session:
            for event in self._additional_events(session, tracker):
                data = event.as_dict()
                intent = data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY)
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=intent,
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.commit()
