"""A flood on loopback while ordinary people chat: does everyone else still get answered in time?

Linux routes all of 127.0.0.0/8 to the loopback interface, so one machine can play many client
addresses: the flooder sends from 127.0.0.2, ordinary users from 127.0.0.3 and up (each their own
address, as people at home are). Rasa must not exempt those (the harness exempts only 127.0.0.1).

The run alternates phases, so a drift in the machine's speed (other people's work) falls on both
sides alike: `rounds` times a baseline phase (the users alone) and a flood phase (the users and the
flooder), each `seconds` long. Users talk at the normal rate: one message, wait for the answer,
think for `think` seconds. The flooder sends `factor` times that rate, without waiting: over REST
a fresh conversation per message (the per-address limit), and over socket.io one conversation
(both limits), with one red-flag message in every twenty. Afterwards the tracker store (SQLite) is
read: every flooder message that was refused must be missing from it, every accepted one there.

Used by scripts/flood_test.py (own servers, prints figures) and tests/test_flood.py (the shared
servers, asserts the bounds).
"""

from __future__ import annotations

import itertools
import json
import math
import queue
import sqlite3
import statistics
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import requests
from requests.adapters import HTTPAdapter

QUESTIONS = [
    "why do my feet cramp at night?",
    "what is a foot cramp?",
    "how do I treat foot cramps?",
    "does magnesium help with cramps?",
    "can dehydration cause foot cramps?",
    "how can I prevent foot cramps?",
    "when should I see a doctor about foot cramps?",
    "my toes cramp when I run, why?",
]
RED_FLAG = "my chest hurts and I can't breathe"
FLOODER = "127.0.0.2"
FIRST_USER = 3  # 127.0.0.3 and up


class SourceAddressAdapter(HTTPAdapter):
    """requests from a chosen local address (on Linux any 127.x.y.z reaches 127.0.0.1)."""

    def __init__(self, source: str, **kwargs: Any) -> None:
        self.source = source
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


def session_from(address: str) -> requests.Session:
    session = requests.Session()
    adapter = SourceAddressAdapter(address, pool_maxsize=8)
    session.mount("http://", adapter)
    return session


def percentile(values: List[float], share: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


@dataclass
class Tally:
    """What happened in one phase."""

    latencies: List[float] = field(default_factory=list)  # ordinary users' turns, seconds
    unanswered: int = 0  # ordinary turns without a 200 and a reply
    user_limited: int = 0  # ordinary turns refused by a limit (must stay 0)
    flood_sent: int = 0
    flood_accepted: int = 0
    flood_limited: int = 0
    flood_errors: int = 0
    flood_escalations: int = 0  # red-flag messages refused that still carried the escalation
    flood_red_flags_limited: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def user(url: str, address: str, stop: threading.Event, tally: Tally, think: float) -> None:
    """One person: ask, wait for the answer, think, ask again (one conversation per phase)."""
    http = session_from(address)
    sender = f"user-{address}-{uuid.uuid4().hex[:8]}"
    for question in itertools.cycle(QUESTIONS):
        if stop.is_set():
            return
        started = time.perf_counter()
        try:
            answer = http.post(
                f"{url}/webhooks/rest/webhook",
                json={"sender": sender, "message": question},
                timeout=60,
            )
            elapsed = time.perf_counter() - started
            with tally.lock:
                if answer.status_code == 429:
                    tally.user_limited += 1
                elif answer.status_code == 200 and answer.json():
                    tally.latencies.append(elapsed)
                else:
                    tally.unanswered += 1
        except requests.RequestException:
            with tally.lock:
                tally.unanswered += 1
        stop.wait(think)


def rest_flooder(
    url: str, stop: threading.Event, tally: Tally, interval: float, accepted: List[str]
) -> None:
    """Sends every `interval` seconds without waiting (a few connections), a new sender each time."""
    http = session_from(FLOODER)
    counter = itertools.count()
    jobs: "queue.Queue[Optional[int]]" = queue.Queue()

    def worker() -> None:
        while True:
            number = jobs.get()
            if number is None:
                return
            red = number % 20 == 7
            sender = f"flood-{uuid.uuid4().hex}"
            text = RED_FLAG if red else QUESTIONS[number % len(QUESTIONS)]
            try:
                answer = http.post(
                    f"{url}/webhooks/rest/webhook",
                    json={"sender": sender, "message": text},
                    timeout=60,
                )
            except requests.RequestException:
                with tally.lock:
                    tally.flood_errors += 1
                continue
            with tally.lock:
                if answer.status_code == 429:
                    tally.flood_limited += 1
                    body = answer.json()
                    assert answer.headers.get("Retry-After"), "429 without Retry-After"
                    assert body.get("reason") and body.get("retry_after"), body
                    if red:
                        tally.flood_red_flags_limited += 1
                        if any("custom" in m for m in body.get("messages", [])):
                            tally.flood_escalations += 1
                elif answer.status_code == 200:
                    tally.flood_accepted += 1
                    accepted.append(sender)
                else:
                    tally.flood_errors += 1

    workers = [threading.Thread(target=worker, daemon=True) for _ in range(4)]
    for thread in workers:
        thread.start()
    next_at = time.perf_counter()
    while not stop.is_set():
        jobs.put(next(counter))
        with tally.lock:
            tally.flood_sent += 1
        next_at += interval
        stop.wait(max(0.0, next_at - time.perf_counter()))
    for _ in workers:
        jobs.put(None)
    for thread in workers:
        thread.join(timeout=70)


def socketio_flooder(
    url: str, stop: threading.Event, interval: float, limit_text: str
) -> Dict[str, Any]:
    """One socket.io conversation from the flooder's address, sending every `interval` seconds."""
    import socketio

    http = session_from(FLOODER)
    replies: "queue.Queue[Dict[str, Any]]" = queue.Queue()
    client = socketio.Client(reconnection=False, http_session=http)
    client.on("bot_uttered", replies.put)
    confirmed: "queue.Queue[Any]" = queue.Queue()
    client.on("session_confirm", confirmed.put)
    client.connect(url, transports=["polling"], socketio_path="/socket.io", wait_timeout=30)
    session = f"flood-sio-{uuid.uuid4().hex}"
    client.emit("session_request", {"session_id": session})
    confirmed.get(timeout=30)
    sent = 0
    next_at = time.perf_counter()
    while not stop.is_set():
        client.emit(
            "user_uttered", {"message": QUESTIONS[sent % len(QUESTIONS)], "session_id": session}
        )
        sent += 1
        next_at += interval
        stop.wait(max(0.0, next_at - time.perf_counter()))
    time.sleep(3)  # the last answers
    received = []
    while True:
        try:
            received.append(replies.get_nowait())
        except queue.Empty:
            break
    client.eio.disconnect(abort=True)
    limited = sum(1 for r in received if limit_text in (r.get("text") or ""))
    return {"session": session, "sent": sent, "limited": limited, "replies": len(received)}


def stored_user_messages(tracker_db: Path, senders: List[str]) -> Dict[str, int]:
    """User messages stored per sender (read straight from the SQLite tracker store)."""
    counts: Dict[str, int] = {}
    connection = sqlite3.connect(f"file:{tracker_db}?mode=ro", uri=True, timeout=30)
    try:
        for chunk in range(0, len(senders), 500):
            part = senders[chunk : chunk + 500]
            marks = ",".join("?" * len(part))
            rows = connection.execute(
                f"SELECT sender_id, COUNT(*) FROM events WHERE type_name = 'user' "
                f"AND sender_id IN ({marks}) GROUP BY sender_id",
                part,
            ).fetchall()
            counts.update({sender: count for sender, count in rows})
    finally:
        connection.close()
    return counts


def flood_senders(tracker_db: Path) -> List[str]:
    connection = sqlite3.connect(f"file:{tracker_db}?mode=ro", uri=True, timeout=30)
    try:
        rows = connection.execute(
            "SELECT DISTINCT sender_id FROM events WHERE sender_id LIKE 'flood-%'"
        ).fetchall()
    finally:
        connection.close()
    return [row[0] for row in rows]


def run_phase(
    url: str,
    users: int,
    seconds: float,
    think: float,
    flood: bool,
    factor: float,
    limit_text: str,
    accepted: List[str],
    sio_runs: List[Dict[str, Any]],
) -> Tally:
    tally = Tally()
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=user, args=(url, f"127.0.0.{FIRST_USER + i}", stop, tally, think), daemon=True
        )
        for i in range(users)
    ]
    flood_rate = factor / think  # messages per second: `factor` times one person's pace
    if flood:
        # three quarters over REST (fresh conversations), a quarter over socket.io (one conversation)
        threads.append(
            threading.Thread(
                target=rest_flooder,
                args=(url, stop, tally, 1 / (flood_rate * 0.75), accepted),
                daemon=True,
            )
        )

        def sio() -> None:
            sio_runs.append(socketio_flooder(url, stop, 1 / (flood_rate * 0.25), limit_text))

        threads.append(threading.Thread(target=sio, daemon=True))
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=90)
    return tally


def run(
    url: str,
    tracker_db: Path,
    *,
    users: int = 10,
    seconds: float = 20,
    rounds: int = 2,
    think: float = 3.0,
    factor: float = 20,
    limits: Any = None,
    log: Any = print,
) -> Dict[str, Any]:
    """Alternating baseline and flood phases; the figures, and what the tracker store holds."""
    from channels.rate_limit import reply_text
    from channels.settings import Limits

    limits = limits or Limits.from_env({})
    limit_text = reply_text(1)[:40]  # the reply's opening words (before the number of seconds)
    baseline, flooded = Tally(), Tally()
    accepted: List[str] = []
    sio_runs: List[Dict[str, Any]] = []
    started = time.perf_counter()
    flood_time = 0.0
    first_flood: Optional[float] = None
    last_flood = 0.0
    for number in range(rounds):
        for flood in (False, True):
            phase_started = time.perf_counter()
            tally = run_phase(
                url, users, seconds, think, flood, factor, limit_text, accepted, sio_runs
            )
            if flood:
                flood_time += time.perf_counter() - phase_started
                first_flood = phase_started if first_flood is None else first_flood
                last_flood = time.perf_counter()
            target = flooded if flood else baseline
            for name in (
                "unanswered user_limited flood_sent flood_accepted flood_limited flood_errors "
                "flood_escalations flood_red_flags_limited"
            ).split():
                setattr(target, name, getattr(target, name) + getattr(tally, name))
            target.latencies += tally.latencies
            log(
                f"round {number + 1} {'flood   ' if flood else 'baseline'}: {len(tally.latencies)} "
                f"turns, p95 {percentile(tally.latencies, 0.95) * 1000:.0f} ms"
                + (
                    f"; flooder sent {tally.flood_sent} over REST, {tally.flood_limited} limited"
                    if flood
                    else ""
                )
            )

    # the tracker store: nothing the flooder sent beyond the limit is there
    rest_stored = stored_user_messages(tracker_db, accepted)
    all_flood = flood_senders(tracker_db)
    stored_flood_senders = set(all_flood)
    sio_sessions = {run["session"] for run in sio_runs}
    rest_flood_stored = sum(
        count
        for sender, count in stored_user_messages(tracker_db, all_flood).items()
        if sender not in sio_sessions
    )
    sio_stored = stored_user_messages(tracker_db, sorted(sio_sessions))
    sio_sent = sum(run["sent"] for run in sio_runs)
    sio_limited = sum(run["limited"] for run in sio_runs)
    # most the address bucket can let through from the first flood message to the last (REST and
    # socket.io share it): a full bucket, then the refill rate
    span = last_flood - (first_flood or last_flood)
    allowed_most = limits.address_burst + span * limits.address_per_minute / 60
    p95_base = percentile(baseline.latencies, 0.95)
    p95_flood = percentile(flooded.latencies, 0.95)
    result = {
        "users": users,
        "seconds_per_phase": seconds,
        "rounds": rounds,
        "think_seconds": think,
        "flood_factor": factor,
        "flood_messages_per_second": round(factor / think, 2),
        "baseline_turns": len(baseline.latencies),
        "flood_turns": len(flooded.latencies),
        "unanswered": baseline.unanswered + flooded.unanswered,
        "users_limited": baseline.user_limited + flooded.user_limited,
        "p50_baseline_ms": round(statistics.median(baseline.latencies) * 1000, 1),
        "p50_flood_ms": round(statistics.median(flooded.latencies) * 1000, 1),
        "p95_baseline_ms": round(p95_base * 1000, 1),
        "p95_flood_ms": round(p95_flood * 1000, 1),
        "p95_ratio": round(p95_flood / p95_base, 2),
        "flood_rest_sent": flooded.flood_sent,
        "flood_rest_accepted": flooded.flood_accepted,
        "flood_rest_limited": flooded.flood_limited,
        "flood_rest_errors": flooded.flood_errors,
        "flood_red_flags_limited": flooded.flood_red_flags_limited,
        "flood_red_flags_limited_with_escalation": flooded.flood_escalations,
        "flood_sio_sent": sio_sent,
        "flood_sio_limited_replies": sio_limited,
        "flood_sio_stored": sum(sio_stored.values()),
        "flood_rest_stored": rest_flood_stored,
        "flood_rest_accepted_stored": sum(rest_stored.values()),
        "flood_stored_senders": len(stored_flood_senders),
        "flood_allowed_at_most": math.floor(allowed_most),
        "flood_seconds": round(flood_time, 1),
        "run_seconds": round(time.perf_counter() - started, 1),
    }
    return result


def check(result: Dict[str, Any], max_p95_ratio: float = 1.5) -> List[str]:
    """What the issue asks of a flood; the failures (empty when all hold)."""
    failures = []
    if result["unanswered"] or result["users_limited"]:
        failures.append(
            f"ordinary turns unanswered {result['unanswered']}, limited {result['users_limited']}"
        )
    if result["p95_ratio"] > max_p95_ratio:
        failures.append(f"p95 under flood is {result['p95_ratio']}x the baseline's")
    if not result["flood_rest_limited"] or not result["flood_sio_limited_replies"]:
        failures.append("the flooder got no limit replies")
    if result["flood_red_flags_limited"] != result["flood_red_flags_limited_with_escalation"]:
        failures.append("a refused red-flag message came back without its escalation")
    if result["flood_rest_stored"] != result["flood_rest_accepted"]:
        failures.append(
            f"REST flood: {result['flood_rest_stored']} stored, "
            f"{result['flood_rest_accepted']} accepted"
        )
    sio_accepted = result["flood_sio_sent"] - result["flood_sio_limited_replies"]
    if result["flood_sio_stored"] != sio_accepted:
        failures.append(
            f"socket.io flood: {result['flood_sio_stored']} stored, {sio_accepted} accepted"
        )
    stored = result["flood_rest_stored"] + result["flood_sio_stored"]
    if stored > result["flood_allowed_at_most"]:
        failures.append(f"flooder stored {stored}, more than the limit allows")
    return failures


def dumps(result: Dict[str, Any]) -> str:
    return json.dumps(result, indent=2)
