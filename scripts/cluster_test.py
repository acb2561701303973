#!/usr/bin/env python3
"""Several Rasa replicas behind nginx, sharing PostgreSQL (tracker store) and Redis (lock store).

    .venv/bin/python scripts/cluster_test.py [--conversations 20] [--concurrency 4] [--replicas 2]

What it does, all on 127.0.0.1 and free ports, bounded by --timeout (default 20 minutes):

1. scripts/services.sh (installs and starts PostgreSQL, Redis, nginx from Debian's packages);
2. a throw-away PostgreSQL role and database (dropped at the end, unless --keep-db);
3. the action server, then --replicas `rasa run` processes (one Sanic worker each) with
   deploy/endpoints.production.yml and DB_* / REDIS_* / ACTION_ENDPOINT_URL pointing at the local
   services, and a private nginx built from deploy/nginx/proxy.conf: round robin for REST (so the
   turns of one conversation alternate replicas), ip_hash for socket.io;
4. conversations over REST through nginx: first some one at a time (turns must alternate strictly
   between replicas; PostgreSQL is restarted in the middle of one of them, between a cause and
   "how do I treat that?"), then the rest --concurrency at a time (PostgreSQL is restarted once more
   while they run), then a burst: two messages of one conversation sent at the same instant
   (the Redis lock must serialise them, both stored once);
5. checks, per conversation: every turn answered (HTTP 200, at least one message); the topic slot
   after each turn as scripted, read from a replica other than the one that answered (so the cause
   -> treat_ follow-up crosses replicas); the tracker's user messages equal the sent ones, in order;
   the tracker read from every replica is the same;
6. hostile input on PostgreSQL, each request to every replica: a NUL character in the sender ID
   (psycopg2 raises ValueError, which Rasa's stock SQL store turns into sys.exit), a sender ID
   longer than the sender_id column, a NUL in the message, SQL in the sender ID: no 5xx, a reply
   or a 4xx refusal (the REST channel refuses unstorable sender IDs), every replica still up
   and answering, and the messages' marker text in no replica's log.

Prints a summary; exit status 0 only if every check passed. Stops every process it started and
drops the database even on failure or Ctrl-C. `--stock-store` / `--stock-lock` run Rasa's own
`type: SQL` tracker store / `type: redis` lock store instead of cramp_ops/tracker_store.py /
cramp_ops/lock_store.py, to show what those lose (a turn after a database restart; one of two
simultaneous turns).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import requests

from cramp_harness.conversations import FOLLOW_UP, Turn, check_topic, cramp_conversation
from cramp_harness.nginx import start_nginx
from cramp_harness.processes import Supervisor, stop_on_time_limit_or_signal, wait_until
from cramp_harness.servers import ROOT, start_actions, start_rasa

TOKEN = "cluster-" + secrets.token_hex(8)


# ---- helpers: privileges, PostgreSQL ---------------------------------------------------------------
def as_root(cmd: Sequence[str]) -> List[str]:
    return list(cmd) if os.geteuid() == 0 else ["sudo", *cmd]


def as_postgres(cmd: Sequence[str]) -> List[str]:
    return (
        ["runuser", "-u", "postgres", "--", *cmd]
        if os.geteuid() == 0
        else ["sudo", "-u", "postgres", *cmd]
    )


def psql(sql: str) -> str:
    done = subprocess.run(
        as_postgres(["psql", "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql]),
        capture_output=True,
        text=True,
        cwd="/",
    )
    if done.returncode != 0:
        raise RuntimeError(f"psql failed: {done.stderr.strip()}")
    return done.stdout.strip()


def pg_cluster() -> Dict[str, str]:
    """Version, name and port of the online PostgreSQL cluster (pg_lsclusters)."""
    out = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        version, name, port, status = line.split()[:4]
        if status.startswith("online"):
            return {"version": version, "name": name, "port": port}
    raise RuntimeError(f"no PostgreSQL cluster online:\n{out}")


def restart_postgres(cluster: Dict[str, str]) -> float:
    started = time.monotonic()
    subprocess.run(
        as_root(["pg_ctlcluster", cluster["version"], cluster["name"], "restart"]),
        check=True,
        capture_output=True,
    )
    return time.monotonic() - started


# ---- conversations ----------------------------------------------------------------------------------
@dataclass
class TurnResult:
    text: str
    status: int = 0
    replies: int = 0
    replica: str = ""
    seconds: float = 0.0
    topic: Optional[str] = None
    error: str = ""


@dataclass
class Conversation:
    sender: str
    turns: List[Turn]
    results: List[TurnResult] = field(default_factory=list)
    problems: List[str] = field(default_factory=list)
    tracker_equal: bool = False
    order_ok: bool = False


class Cluster:
    def __init__(self, nginx_url: str, replicas: Dict[str, str]) -> None:
        self.nginx_url = nginx_url
        self.replicas = replicas  # "127.0.0.1:port" -> base URL
        self.http = threading.local()

    def session(self) -> requests.Session:
        if not hasattr(self.http, "session"):
            self.http.session = requests.Session()
        return self.http.session

    def post(self, sender: str, text: str) -> TurnResult:
        result = TurnResult(text)
        started = time.monotonic()
        try:
            response = self.session().post(
                f"{self.nginx_url}/webhooks/rest/webhook",
                json={"sender": sender, "message": text},
                timeout=90,
            )
            result.status = response.status_code
            result.replica = response.headers.get("X-Upstream", "")
            if response.ok:
                result.replies = len(response.json())
        except (requests.RequestException, ValueError) as error:
            result.error = type(error).__name__
        result.seconds = time.monotonic() - started
        return result

    def tracker(self, replica: str, sender: str) -> Dict:
        response = self.session().get(
            f"{self.replicas[replica]}/conversations/{sender}/tracker",
            params={"token": TOKEN},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    def other(self, replica: str) -> str:
        others = [r for r in self.replicas if r != replica]
        return others[0] if others else next(iter(self.replicas))

    def run(
        self,
        conversation: Conversation,
        pause_before: Optional[int] = None,
        pause: Optional[callable] = None,
    ) -> Conversation:
        for index, turn in enumerate(conversation.turns):
            if pause_before == index and pause:
                pause()
            result = self.post(conversation.sender, turn.text)
            conversation.results.append(result)
            if result.status != 200 or result.replies == 0:
                conversation.problems.append(
                    f"turn {index + 1} {turn.text!r}: HTTP {result.status or result.error}, "
                    f"{result.replies} replies"
                )
                continue
            try:  # read the slot from another replica than the one that answered
                slots = self.tracker(self.other(result.replica), conversation.sender)["slots"]
                result.topic = slots.get("topic")
            except requests.RequestException as error:
                conversation.problems.append(f"turn {index + 1}: tracker read failed: {error}")
                continue
            mismatch = check_topic(turn, result.topic)
            if mismatch:
                conversation.problems.append(f"turn {index + 1} {mismatch}")
        return conversation

    def verify_tracker(
        self, conversation: Conversation, sent: Optional[List[str]] = None, ordered: bool = True
    ) -> None:
        sent = sent if sent is not None else [t.text for t in conversation.turns]
        trackers = {}
        for replica in self.replicas:
            try:
                trackers[replica] = self.tracker(replica, conversation.sender)
            except requests.RequestException as error:
                conversation.problems.append(f"tracker from {replica}: {error}")
                return
        events = [t["events"] for t in trackers.values()]
        conversation.tracker_equal = all(e == events[0] for e in events[1:])
        if not conversation.tracker_equal:
            conversation.problems.append("trackers differ between replicas")
        stored = [e.get("text") for e in events[0] if e["event"] == "user"]
        conversation.order_ok = stored == sent if ordered else sorted(stored) == sorted(sent)
        if not conversation.order_ok:
            conversation.problems.append(f"user events {stored} != sent {sent}")
        bots_per_user = _bot_messages_per_user_turn(events[0])
        if any(count == 0 for count in bots_per_user):
            conversation.problems.append(f"a stored user turn has no bot message: {bots_per_user}")


def _bot_messages_per_user_turn(events: List[Dict]) -> List[int]:
    counts: List[int] = []
    for event in events:
        if event["event"] == "user":
            counts.append(0)
        elif event["event"] == "bot" and counts:
            counts[-1] += 1
    return counts


def follow_up_ok(conversation: Conversation) -> bool:
    """The turn "how do I treat that?" ended with the scripted treat_<cause> topic."""
    for turn, result in zip(conversation.turns, conversation.results, strict=False):
        if turn.text == FOLLOW_UP:
            return result.status == 200 and result.topic == turn.topic
    return False


def alternates(results: List[TurnResult]) -> bool:
    replicas = [r.replica for r in results]
    return (
        all(a != b for a, b in zip(replicas, replicas[1:], strict=False)) and len(set(replicas)) > 1
    )


def percentile(values: List[float], q: float) -> float:
    ordered = sorted(values)
    return (
        ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] if ordered else 0.0
    )


# ---- main -------------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument(
        "--sequential",
        type=int,
        default=4,
        help="how many of them run one at a time first (strict alternation)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=5,
        help="odd, so that round robin keeps moving each conversation between replicas",
    )
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument(
        "--bursts",
        type=int,
        default=6,
        help="conversations that get two messages at the same instant",
    )
    parser.add_argument("--no-db-restart", action="store_true", help="do not restart PostgreSQL")
    parser.add_argument(
        "--stock-store",
        action="store_true",
        help="Rasa's own SQL tracker store instead of cramp_ops/tracker_store.py",
    )
    parser.add_argument(
        "--stock-lock",
        action="store_true",
        help="Rasa's own Redis lock store instead of cramp_ops/lock_store.py",
    )
    parser.add_argument(
        "--skip-services", action="store_true", help="do not run scripts/services.sh"
    )
    parser.add_argument("--keep-db", action="store_true", help="keep the test database")
    parser.add_argument("--redis-db", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=1200, help="seconds for the whole run")
    parser.add_argument(
        "--workdir", type=Path, help="logs go here (default: a temporary directory)"
    )
    args = parser.parse_args()

    started = time.monotonic()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cluster-test-"))
    workdir.mkdir(parents=True, exist_ok=True)
    procs = Supervisor(workdir)
    db = f"cramps_ct_{uuid.uuid4().hex[:8]}"
    db_password = secrets.token_hex(16)
    db_created = False
    failures: List[str] = []

    cleaned = threading.Event()

    def cleanup() -> None:
        if cleaned.is_set():
            return
        cleaned.set()
        procs.stop_all()
        if db_created and not args.keep_db:
            try:
                psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
                psql(f'DROP ROLE IF EXISTS "{db}"')
                print(f"==> dropped database and role {db}")
            except Exception as error:  # noqa: BLE001 - report, keep cleaning
                print(f"!!  could not drop {db}: {error}", file=sys.stderr)

    watchdog = stop_on_time_limit_or_signal(args.timeout, cleanup)

    try:
        if not args.skip_services:
            print("==> scripts/services.sh", flush=True)
            subprocess.run(["bash", str(ROOT / "scripts" / "services.sh")], check=True)
        cluster = pg_cluster()
        print(
            f"==> PostgreSQL {cluster['version']} on 127.0.0.1:{cluster['port']}: "
            f"creating role and database {db}",
            flush=True,
        )
        psql(f"CREATE ROLE \"{db}\" LOGIN PASSWORD '{db_password}'")
        db_created = True
        psql(f'CREATE DATABASE "{db}" OWNER "{db}"')

        endpoints = ROOT / "deploy" / "endpoints.production.yml"
        if args.stock_store or args.stock_lock:
            text = endpoints.read_text()
            if args.stock_store:
                text = re.sub(r"type: cramp_ops\.tracker_store\.\w+", "type: SQL", text)
            if args.stock_lock:
                text = re.sub(r"type: cramp_ops\.lock_store\.\w+", "type: redis", text)
            endpoints = workdir / "endpoints.stock.yml"
            endpoints.write_text(text)
        procs.env.update(
            {
                "DB_HOST": "127.0.0.1",
                "DB_PORT": cluster["port"],
                "DB_NAME": db,
                "DB_USER": db,
                "DB_PASSWORD": db_password,
                "REDIS_HOST": "127.0.0.1",
                "REDIS_PORT": "6379",
                "REDIS_DB": str(args.redis_db),
                "REDIS_PASSWORD": "",
            }
        )
        print("==> starting the action server", flush=True)
        actions = start_actions(procs)
        procs.env["ACTION_ENDPOINT_URL"] = f"{actions.url}/webhook"
        shown = endpoints.relative_to(ROOT) if endpoints.is_relative_to(ROOT) else endpoints.name
        print(
            f"==> starting {args.replicas} Rasa replicas ({shown}"
            f"{', Rasa stock SQL store' if args.stock_store else ''}"
            f"{', Rasa stock Redis lock' if args.stock_lock else ''}); loading the model",
            flush=True,
        )
        replicas = [
            start_rasa(procs, f"rasa{i + 1}", endpoints, token=TOKEN, wait=False)
            for i in range(args.replicas)
        ]  # the models load at the same time
        for replica in replicas:
            procs.wait_ready(replica)
            print(f"    {replica.name} on {replica.url}, ready after {replica.ready_after:.0f}s")
        nginx = start_nginx(procs, "nginx", [r.port for r in replicas])
        print(f"==> nginx on {nginx.url} (REST round robin, socket.io ip_hash)", flush=True)
        client = Cluster(nginx.url, {f"127.0.0.1:{r.port}": r.url for r in replicas})

        # the stores really are shared: rows in PostgreSQL, not Rasa's in-memory fallback
        run_id = uuid.uuid4().hex[:6]
        conversations = [
            Conversation(f"ct-{run_id}-{i:02d}", cramp_conversation(i))
            for i in range(args.conversations)
        ]
        sequential, concurrent = (
            conversations[: args.sequential],
            conversations[args.sequential :],
        )

        # ---- phase 1: one at a time, strict alternation, a database restart mid-conversation ----
        print(f"==> phase 1: {len(sequential)} conversations one at a time", flush=True)
        restarts: List[str] = []
        for index, conversation in enumerate(sequential):
            pause_before = pause = None
            if index == min(1, len(sequential) - 1) and not args.no_db_restart:
                follow = [t.text for t in conversation.turns].index(FOLLOW_UP)

                def pause(conversation=conversation, follow=follow) -> None:
                    seconds = restart_postgres(cluster)
                    restarts.append(
                        f"between turns {follow} and {follow + 1} of {conversation.sender} "
                        f"(cause, then {FOLLOW_UP!r}), {seconds:.1f}s"
                    )
                    print(f"    PostgreSQL restarted {restarts[-1]}", flush=True)

                pause_before = follow
            client.run(conversation, pause_before, pause)
            if not alternates(conversation.results):
                conversation.problems.append(
                    f"turns did not alternate replicas: {[r.replica for r in conversation.results]}"
                )

        # ---- phase 2: concurrently, with a database restart while they run ----
        print(
            f"==> phase 2: {len(concurrent)} conversations, {args.concurrency} at a time",
            flush=True,
        )
        if concurrent and not args.no_db_restart:

            def restart_under_load() -> None:
                # a turn answered per worker: every one of them has a conversation in flight
                wait_until(
                    lambda: (
                        sum(len(c.results) for c in concurrent)
                        >= min(args.concurrency, len(concurrent))
                    ),
                    300,
                    "phase 2 under way",
                )
                seconds = restart_postgres(cluster)
                restarts.append(
                    f"while phase 2 ran ({args.concurrency} conversations in flight), {seconds:.1f}s"
                )
                print(f"    PostgreSQL restarted {restarts[-1]}", flush=True)

            restarter = threading.Thread(target=restart_under_load, daemon=True)
            restarter.start()
        with cf.ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(client.run, concurrent))
        if concurrent and not args.no_db_restart:
            restarter.join(timeout=60)

        for conversation in conversations:
            client.verify_tracker(conversation)

        # ---- phase 3: two messages of one conversation at the same instant (Redis lock) ----
        bursts = []
        if args.bursts:
            print(
                f"==> phase 3: {args.bursts} conversations get two messages at the same instant",
                flush=True,
            )
        for i in range(args.bursts):
            burst = Conversation(f"ct-{run_id}-burst{i}", [])
            opening = client.post(burst.sender, "hello")
            pair = ["what is a foot cramp", "any evidence magnesium tablets work"]
            gate = threading.Barrier(2)

            def send(text: str, sender=burst.sender, gate=gate) -> TurnResult:
                gate.wait()
                return client.post(sender, text)

            with cf.ThreadPoolExecutor(2) as pool:
                results = list(pool.map(send, pair))
            burst.results = [opening, *results]
            for result in burst.results:
                if result.status != 200 or result.replies == 0:
                    burst.problems.append(f"{result.text!r}: HTTP {result.status or result.error}")
            client.verify_tracker(burst, ["hello", *pair], ordered=False)
            bursts.append(burst)

        def fallbacks() -> int:
            return sum(
                _count(r.log, "Falling back to use the 'InMemoryTrackerStore'") for r in replicas
            )

        fallbacks_before_phase4 = fallbacks()

        # ---- phase 4: hostile input on PostgreSQL, to every replica ----
        marker = f"ct-private-{uuid.uuid4().hex[:8]}"
        hostile = {
            "NUL in sender ID": (f"ct-nul\u0000{run_id}", f"hello {marker}"),
            "300-character sender ID": ("s" * 300 + run_id, f"what is a foot cramp {marker}"),
            "NUL in message": (f"ct-{run_id}-nulmsg", f"cramp\u0000 {marker}"),
            "SQL in sender ID": (f"x'; DROP TABLE events; -- {run_id}", f"hello {marker}"),
        }
        print(f"==> phase 4: hostile input, each to all {len(replicas)} replicas", flush=True)
        hostile_ok = 0
        for name, (sender, text) in hostile.items():
            results = [client.post(sender, text) for _ in replicas]
            # handled = answered, or refused with a 4xx (channels/rest.py refuses sender IDs a
            # tracker store cannot keep); a 5xx, an error or a silent 200 is a failure
            bad = [
                r
                for r in results
                if not ((r.status == 200 and r.replies > 0) or 400 <= (r.status or 0) < 500)
            ]
            if bad:
                failures.append(
                    f"hostile input {name!r}: "
                    + ", ".join(f"{r.replica or '?'} HTTP {r.status or r.error}" for r in bad)
                )
            else:
                hostile_ok += 1
        try:  # a store that gives up on such input exits the replica just after it answered
            wait_until(lambda: not all(r.alive() for r in replicas), 2.0, "a replica exiting")
        except TimeoutError:
            pass  # all alive: what should happen
        dead = [r.name for r in replicas if not r.alive()]
        if dead:
            failures.append(f"replicas died during phase 4: {dead} (see their logs)")
        after = Conversation(f"ct-{run_id}-after", [])
        for replica in replicas:
            if replica.name in dead:
                continue
            try:
                check = client.session().post(
                    f"{replica.url}/webhooks/rest/webhook",
                    json={"sender": after.sender, "message": "what is a foot cramp"},
                    timeout=90,
                )
                topic = client.tracker(f"127.0.0.1:{replica.port}", after.sender)["slots"].get(
                    "topic"
                )
                problem = (
                    None
                    if check.status_code == 200 and check.json() and topic == "definition"
                    else f"HTTP {check.status_code}, topic {topic!r}"
                )
            except (requests.RequestException, ValueError) as error:
                problem = f"{type(error).__name__} (not serving)"
                dead.append(replica.name)
            if problem:
                failures.append(f"{replica.name} after phase 4: {problem}")
        leaked = [r.name for r in replicas if _count(r.log, marker)]
        if leaked:
            failures.append(f"the users' text reached the log of {leaked}")

        # ---- summary ----
        all_convs = conversations + bursts
        turns = [r for c in all_convs for r in c.results]
        answered = sum(1 for r in turns if r.status == 200 and r.replies > 0)
        follow_ok = sum(1 for c in conversations if follow_up_ok(c))
        crossed = sum(
            1
            for c in conversations
            for a, b in zip(c.results, c.results[1:], strict=False)
            if b.text == FOLLOW_UP and a.replica != b.replica
        )
        switching = sum(1 for c in concurrent if len({r.replica for r in c.results}) > 1)
        latencies = [r.seconds for r in turns if r.status == 200]
        per_replica: Dict[str, int] = {}
        for r in turns:
            per_replica[r.replica] = per_replica.get(r.replica, 0) + 1
        print()
        print("==> summary")
        print(
            f"    replicas: {len(replicas)} behind nginx; turns per replica: "
            + ", ".join(f"{k or '?'}={v}" for k, v in sorted(per_replica.items()))
        )
        print(
            f"    conversations: {len(conversations)} scripted ({len(sequential)} sequential, "
            f"{len(concurrent)} concurrent x{args.concurrency}) + {len(bursts)} bursts; turns: {len(turns)}"
        )
        print(f"    every turn answered:           {answered}/{len(turns)}")
        print(
            f"    strict alternation (phase 1):  "
            f"{sum(1 for c in sequential if alternates(c.results))}/{len(sequential)}"
        )
        print(f"    concurrent convs on >1 replica: {switching}/{len(concurrent)}")
        print(
            f"    cause -> 'how do I treat that?' gave treat_<cause>: {follow_ok}/{len(conversations)} "
            f"({crossed} of these follow-ups answered by the other replica)"
        )
        print(
            f"    tracker user events == sent, in order: "
            f"{sum(c.order_ok for c in conversations)}/{len(conversations)}; "
            f"bursts both stored once: {sum(c.order_ok for c in bursts)}/{len(bursts)}"
        )
        print(
            f"    same tracker from every replica: {sum(c.tracker_equal for c in all_convs)}/{len(all_convs)}"
        )
        print(
            f"    hostile input (NUL/long/SQL sender IDs, NUL text): {hostile_ok}/{len(hostile)} answered or refused "
            f"by every replica; replicas alive after: {len(replicas) - len(dead)}/{len(replicas)}; "
            f"message text in logs: {'yes: ' + ', '.join(leaked) if leaked else 'no'}"
        )
        print(
            f"    PostgreSQL restarts: {len(restarts)}"
            + "".join(f"\n      - {r}" for r in restarts)
        )
        if latencies:
            print(
                f"    latency per turn: p50 {statistics.median(latencies) * 1000:.0f} ms, "
                f"p95 {percentile(latencies, 95) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms"
            )
        for c in all_convs:
            for problem in c.problems:
                failures.append(f"{c.sender}: {problem}")
        store_errors = fallbacks_before_phase4
        retries = sum(_count(r.log, "database unavailable") for r in replicas)
        print(
            f"    tracker store: {retries} retried reads/writes while PostgreSQL was away; turns "
            f"answered from Rasa's in-memory fallback (not stored): {store_errors} in phases 1-3, "
            f"{fallbacks() - store_errors} in phase 4 (sender IDs PostgreSQL cannot store; expected)"
        )
        if store_errors:
            failures.append(
                f"{store_errors} turns fell back to Rasa's in-memory store (not stored, "
                f"no context) in phases 1-3"
            )
    except Exception as error:  # noqa: BLE001 - any failure to set up is a failure of the test
        failures.append(f"{type(error).__name__}: {error}")
    finally:
        watchdog.cancel()
        cleanup()

    elapsed = time.monotonic() - started
    if failures:
        print(f"\nFAIL ({len(failures)} problems, {elapsed:.0f}s):")
        for failure in failures[:40]:
            print(f"  - {failure}")
        print(f"logs: {workdir}")
        return 1
    print(f"\nPASS ({elapsed:.0f}s)")
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def _count(log: Path, needle: str) -> int:
    try:
        return log.read_text(errors="replace").count(needle)
    except OSError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
