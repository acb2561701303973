"""Rasa's Redis lock store with atomic ticket updates, so replicas really take turns.

Rasa 3.6's `RedisLockStore` keeps each conversation's ticket lock as one JSON value and changes it
with GET, modify, SET, without a Redis transaction. When two replicas receive a message for the
same conversation at the same moment (a double-click, a platform retry, two browser tabs), both can
read the empty lock, both take ticket 0, and both run their turn at once. The SQL tracker store
then writes only the events beyond the row count it finds, so one of the two turns is silently
dropped from the conversation (seen with scripts/cluster_test.py --stock-lock: the reply was sent,
the user's message is missing from the stored conversation).

This subclass does every read-modify-write of a lock (issue a ticket, drop expired tickets, finish
serving, delete when nobody waits) inside a Redis WATCH/MULTI transaction that is retried when
another replica changed the lock in between. Same keys, same JSON, same waiting loop as Rasa's.

    lock_store:
      type: cramp_ops.lock_store.AtomicRedisLockStore
      url: ${REDIS_HOST}
      port: ${REDIS_PORT}
      ...
"""

from __future__ import annotations

import json
import logging
from typing import Any, Callable, Optional, Text, Tuple

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

#: what a transaction step returns: (value for the caller, lock to save or None to delete)
Step = Callable[[Optional[TicketLock]], Tuple[Any, Optional[TicketLock]]]


class AtomicRedisLockStore(RedisLockStore):
    """`RedisLockStore` whose lock updates are atomic across processes."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        # Rasa builds a custom lock store as `cls(endpoint_config=...)`
        if endpoint_config is not None:
            kwargs = {
                "host": endpoint_config.url or "localhost",
                **endpoint_config.kwargs,
                **kwargs,
            }
        super().__init__(**kwargs)

    def _transact(self, conversation_id: Text, step: Step) -> Any:
        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(raw)) if raw else None
                    result, new_lock = step(lock)
                    pipe.multi()
                    if new_lock is not None:
                        pipe.set(key, new_lock.dumps())
                    elif lock is not None:
                        pipe.delete(key)
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue  # another replica changed the lock: read it again

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def step(lock: Optional[TicketLock]) -> Tuple[int, TicketLock]:
            lock = lock or TicketLock(conversation_id)
            return lock.issue_ticket(lock_lifetime), lock

        try:
            return self._transact(conversation_id, step)
        except Exception as error:  # same contract as Rasa's
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: Text) -> None:
        def step(lock: Optional[TicketLock]) -> Tuple[None, Optional[TicketLock]]:
            if lock is not None:
                lock.remove_expired_tickets()
            return None, lock

        self._transact(conversation_id, step)

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        def step(lock: Optional[TicketLock]) -> Tuple[None, Optional[TicketLock]]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return None, lock

        self._transact(conversation_id, step)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """Finish serving `ticket_number`; delete the lock if nobody else waits (one
        transaction)."""

        def step(lock: Optional[TicketLock]) -> Tuple[None, Optional[TicketLock]]:
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return None, (lock if lock.is_someone_waiting() else None)

        self._transact(conversation_id, step)
