"""cramp_ops.lock_store against fakeredis: one in-process Redis server, a client per "replica".

fakeredis implements WATCH/MULTI/EXEC like Redis (a watched key changed by another client makes
EXEC fail with WatchError), so the race the store exists for can be forced deterministically: a
second replica issues a ticket between the first one's read and write. Rasa's own RedisLockStore
runs the same interleaving beside ours and hands out a duplicate ticket.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from typing import Callable, List

import fakeredis
import pytest
import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LockError, LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from cramp_ops.lock_store import AtomicRedisLockStore

CONVERSATION = "someone"


@pytest.fixture
def server(monkeypatch) -> fakeredis.FakeServer:
    """Every Redis client built from here on talks to this one in-process server."""
    shared = fakeredis.FakeServer()
    monkeypatch.setattr(
        redis, "StrictRedis", functools.partial(fakeredis.FakeStrictRedis, server=shared)
    )
    return shared


def replicas(cls: type, count: int = 2) -> List[RedisLockStore]:
    return [cls(host="redis.internal", key_prefix="cramps") for _ in range(count)]


def interleave(monkeypatch, other: RedisLockStore, issued: List[int]) -> None:
    """The first ticket anyone issues lets `other` issue one in between its read and its write."""
    original: Callable = TicketLock.issue_ticket
    interleaved = threading.Event()

    def issue_ticket(lock: TicketLock, lifetime: float) -> int:
        if not interleaved.is_set():
            interleaved.set()
            issued.append(other.issue_ticket(CONVERSATION, 60))
        return original(lock, lifetime)

    monkeypatch.setattr(TicketLock, "issue_ticket", issue_ticket)


def test_rasas_lock_gives_two_replicas_the_same_ticket(server, monkeypatch):
    first, second = replicas(RedisLockStore)
    issued: List[int] = []
    interleave(monkeypatch, second, issued)
    issued.append(first.issue_ticket(CONVERSATION, 60))
    assert issued == [0, 0]  # both replicas would run this conversation's turn at once


def test_ours_retries_and_gives_the_next_ticket(server, monkeypatch):
    first, second = replicas(AtomicRedisLockStore)
    issued: List[int] = []
    interleave(monkeypatch, second, issued)
    issued.append(first.issue_ticket(CONVERSATION, 60))
    assert issued == [0, 1]
    assert [t.number for t in first.get_lock(CONVERSATION).tickets] == [0, 1]


def test_tickets_issued_by_concurrent_replicas_are_unique(server):
    stores = replicas(AtomicRedisLockStore)
    tickets: List[List[int]] = [[] for _ in stores]
    start = threading.Barrier(len(stores))

    def issue(index: int) -> None:
        start.wait()
        for _ in range(100):
            tickets[index].append(stores[index].issue_ticket(CONVERSATION, lock_lifetime=60))

    threads = [threading.Thread(target=issue, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    issued = tickets[0] + tickets[1]
    assert sorted(issued) == list(range(200))
    for number in issued:  # finishing every ticket, on either replica, removes the lock
        stores[number % 2].cleanup(CONVERSATION, number)
    assert stores[0].get_lock(CONVERSATION) is None


def test_cleanup_keeps_the_lock_while_someone_waits(server):
    first, second = replicas(AtomicRedisLockStore)
    serving, waiting = first.issue_ticket(CONVERSATION), second.issue_ticket(CONVERSATION)
    first.cleanup(CONVERSATION, serving)
    assert [t.number for t in second.get_lock(CONVERSATION).tickets] == [waiting]
    second.cleanup(CONVERSATION, waiting)
    assert second.get_lock(CONVERSATION) is None


def test_update_lock_drops_only_expired_tickets(server):
    (store,) = replicas(AtomicRedisLockStore, 1)
    store.issue_ticket(CONVERSATION, lock_lifetime=0.01)
    kept = store.issue_ticket(CONVERSATION, lock_lifetime=60)
    time.sleep(0.05)
    store.update_lock(CONVERSATION)
    assert [t.number for t in store.get_lock(CONVERSATION).tickets] == [kept]
    store.update_lock("nobody")  # no lock: nothing to do, nothing created
    assert store.get_lock("nobody") is None


def test_finish_serving_leaves_the_other_tickets(server):
    (store,) = replicas(AtomicRedisLockStore, 1)
    done, other = store.issue_ticket(CONVERSATION), store.issue_ticket(CONVERSATION)
    store.finish_serving(CONVERSATION, done)
    assert [t.number for t in store.get_lock(CONVERSATION).tickets] == [other]


def test_two_replicas_take_turns_in_rasas_waiting_loop(server):
    stores = replicas(AtomicRedisLockStore)
    inside: List[str] = []

    async def turn(store: LockStore, name: str) -> None:
        async with store.lock(CONVERSATION, wait_time_in_seconds=0.01):
            inside.append(f"{name} in")
            await asyncio.sleep(0.05)
            inside.append(f"{name} out")

    async def both() -> None:
        await asyncio.gather(turn(stores[0], "a"), turn(stores[1], "b"))

    asyncio.run(both())
    assert inside in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])
    assert stores[0].get_lock(CONVERSATION) is None


def test_rasa_builds_it_from_an_endpoints_entry(server):
    config = EndpointConfig(
        url="redis.internal",
        type="cramp_ops.lock_store.AtomicRedisLockStore",
        port="6380",
        db="3",
        key_prefix="cramps",
    )
    store = LockStore.create(config)
    assert isinstance(store, AtomicRedisLockStore) and store.key_prefix == "cramps:lock:"
    connection = store.red.connection_pool.connection_kwargs
    assert (connection["host"], connection["port"], connection["db"]) == ("redis.internal", 6380, 3)


def test_an_unreachable_redis_is_a_lock_error(server):
    (store,) = replicas(AtomicRedisLockStore, 1)
    server.connected = False
    with pytest.raises(LockError):
        store.issue_ticket(CONVERSATION)
