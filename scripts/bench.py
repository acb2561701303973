#!/usr/bin/env python3
"""Load benchmark: our assistant against Rasa's own `rasa init` bot, served the same way.

    .venv/bin/python scripts/bench.py [--levels 1,10,50] [--seconds 30] [--skip-train --train-seconds S]

Both bots run as one `rasa run` process (one Sanic worker) on 127.0.0.1, REST channel, SQLite
tracker store in a temporary file; ours also has its action server, as in production. For each
level of concurrent simulated users (default 1, 10 and 50) every user holds multi-turn
conversations back to back (ours: greeting, two knowledge questions, a cause, "how do I treat
that?", thanks; the init bot: "hi", "I am sad", "yes", "I am feeling great", "are you a bot?", "bye"),
each conversation with a new sender ID, for --seconds seconds (a user stops after the turn that
crosses the time limit; at most --max-turns turns per level). It prints per level: throughput
(answered turns per second), p50/p95/p99 latency, errors (HTTP error, timeout or no bot message);
then the servers' resident memory (peak while loaded, Rasa and action server), model load time
(process start to "/" answering: Rasa loads the model before it listens), training time
(`rasa train` into a temporary directory with an empty cache, or --train-seconds with --skip-train;
`rasa init --no-prompt` for the init bot, which trains it), and our figures as ratios to the init
bot's. All loops are bounded (--timeout for the whole run, default 1 hour); every process it
starts is stopped at the end. Nothing is written to models/ or the repository.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import aiohttp

from cramp_harness.conversations import MOODBOT_CONVERSATION, Turn, cramp_conversation
from cramp_harness.processes import Supervisor, stop_on_time_limit_or_signal, wait_until
from cramp_harness.servers import BIN, MODEL, ROOT, start_actions, start_rasa, write_endpoints


# ---- machine --------------------------------------------------------------------------------------
def machine() -> Dict[str, str]:
    info = {"nproc": str(os.cpu_count()), "python": platform.python_version()}
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        info["cpu"] = next(
            (
                line.split(":", 1)[1].strip()
                for line in cpuinfo.splitlines()
                if line.startswith("model name")
            ),
            "?",
        )
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        info["ram"] = f"{mem_kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        pass
    return info


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


# ---- load -----------------------------------------------------------------------------------------
@dataclass
class Level:
    users: int
    latencies: List[float] = field(default_factory=list)
    errors: int = 0
    error_kinds: Dict[str, int] = field(default_factory=dict)
    error_sample: Dict[str, str] = field(default_factory=dict)
    conversations: int = 0
    seconds: float = 0.0
    peak_rss: Dict[str, int] = field(default_factory=dict)

    def record_error(self, kind: str, detail: str = "") -> None:
        self.errors += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1
        self.error_sample.setdefault(kind, detail[:200])

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[
            min(len(ordered), max(1, math.ceil(q / 100 * len(ordered)))) - 1
        ]  # nearest rank


async def run_level(
    url: str,
    users: int,
    seconds: float,
    max_turns: int,
    conversation: callable,
    request_timeout: float,
) -> Level:
    level = Level(users)
    deadline = time.monotonic() + seconds
    turns_left = [max_turns]
    timeout = aiohttp.ClientTimeout(total=request_timeout)
    connector = aiohttp.TCPConnector(limit=0)

    async def user(index: int, session: aiohttp.ClientSession) -> None:
        number = 0
        while time.monotonic() < deadline:
            sender = f"bench-{uuid.uuid4().hex[:12]}"
            turns: List[Turn] = conversation(index * 1000 + number)
            number += 1
            level.conversations += 1
            for turn in turns:
                if time.monotonic() >= deadline or turns_left[0] <= 0:
                    return
                turns_left[0] -= 1
                started = time.perf_counter()
                try:
                    async with session.post(
                        url, json={"sender": sender, "message": turn.text}
                    ) as response:
                        body = await response.read()
                        elapsed = time.perf_counter() - started
                        if response.status != 200:
                            level.record_error(f"HTTP {response.status}")
                        elif not json.loads(body):
                            level.record_error("no bot message")
                        else:
                            level.latencies.append(elapsed)
                except asyncio.TimeoutError:
                    level.record_error("timeout")
                except (aiohttp.ClientError, ValueError, OSError) as error:
                    level.record_error(type(error).__name__, str(error))
                    await asyncio.sleep(0.2)  # a refused connection fails at once: do not spin

    started = time.monotonic()
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        await asyncio.gather(*(user(i, session) for i in range(users)))
    level.seconds = time.monotonic() - started
    return level


def wait_idle(procs: Supervisor, names: Sequence[str], timeout: float = 30) -> None:
    """Until the servers use under 5 % of a core over half a second: turns whose clients timed
    out are finished before the next level starts (a warning, not a failure, if they never are)."""
    last = {"cpu": -1.0, "at": 0.0}

    def idle() -> bool:
        cpu, at = sum(procs[name].cpu_seconds() for name in names), time.monotonic()
        quiet = last["cpu"] >= 0 and (cpu - last["cpu"]) / (at - last["at"]) < 0.05
        last.update(cpu=cpu, at=at)
        return quiet

    try:
        wait_until(idle, timeout, f"{', '.join(names)} idle", interval=0.5)
    except TimeoutError as error:
        print(f"    note: {error}", flush=True)


class RssSampler(threading.Thread):
    """Peak resident memory of named processes (with their children), sampled every 0.5 s."""

    def __init__(self, procs: Supervisor, names: Sequence[str]) -> None:
        super().__init__(daemon=True)
        self.procs, self.names = procs, list(names)
        self.peak: Dict[str, int] = {name: 0 for name in names}
        self.stopped = threading.Event()

    def sample(self) -> None:
        for name in self.names:
            self.peak[name] = max(self.peak[name], self.procs[name].rss_bytes())

    def run(self) -> None:
        while not self.stopped.wait(0.5):
            self.sample()


@dataclass
class BotResult:
    name: str
    train_seconds: Optional[float]
    load_seconds: float = 0.0
    idle_rss: Dict[str, int] = field(default_factory=dict)
    peak_rss: Dict[str, int] = field(default_factory=dict)
    levels: List[Level] = field(default_factory=list)


def bench_bot(
    result: BotResult,
    procs: Supervisor,
    rasa_name: str,
    url: str,
    levels: Sequence[int],
    seconds: float,
    max_turns: int,
    conversation,
    processes: Sequence[str],
    request_timeout: float,
) -> None:
    # warm-up: one conversation (first TensorFlow calls are slow), not counted
    asyncio.run(run_level(url, 1, 10, len(conversation(0)), conversation, request_timeout))
    result.idle_rss = {name: procs[name].rss_bytes() for name in processes}
    sampler = RssSampler(procs, processes)
    sampler.start()
    try:
        for users in levels:
            print(
                f"    {result.name}: {users:>3} users for {seconds:.0f}s (load average {loadavg()})",
                flush=True,
            )
            level = asyncio.run(
                run_level(url, users, seconds, max_turns, conversation, request_timeout)
            )
            sampler.sample()
            result.levels.append(level)
            wait_idle(procs, processes)  # let the servers drain between levels
    finally:
        sampler.stopped.set()
        sampler.join()
    result.peak_rss = dict(sampler.peak)


# ---- report ---------------------------------------------------------------------------------------
def mib(value: int) -> str:
    return f"{value / 2**20:.0f} MiB"


def ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}x" if theirs and theirs == theirs and ours == ours else "n/a"


def report(ours: BotResult, init: Optional[BotResult], info: Dict[str, str]) -> None:
    print()
    print(
        f"==> machine: {info.get('nproc')} cores ({info.get('cpu', '?')}), {info.get('ram', '?')} RAM, "
        f"Python {info.get('python')}"
    )
    for bot in [ours] + ([init] if init else []):
        print(f"\n{bot.name}")
        print(
            f"  {'users':>5}  {'turns':>6}  {'turns/s':>8}  {'p50 ms':>8}  {'p95 ms':>8}  {'p99 ms':>8}  "
            f"{'errors':>6}  conversations"
        )
        for level in bot.levels:
            errors = f"{level.errors}" + (
                f" {level.error_kinds} e.g. {level.error_sample}" if level.errors else ""
            )
            print(
                f"  {level.users:>5}  {len(level.latencies):>6}  {level.throughput:>8.1f}  "
                f"{level.pct(50) * 1000:>8.0f}  {level.pct(95) * 1000:>8.0f}  {level.pct(99) * 1000:>8.0f}  "
                f"{errors:>6}  {level.conversations}"
            )
        memory = ", ".join(
            f"{name} {mib(bot.idle_rss.get(name, 0))} idle / {mib(peak)} peak"
            for name, peak in bot.peak_rss.items()
        )
        print(f"  memory (RSS): {memory}")
        print(
            f"  model load (start to ready): {bot.load_seconds:.1f}s; training: "
            + (f"{bot.train_seconds:.0f}s" if bot.train_seconds is not None else "not measured")
        )
    if not init:
        return
    print(
        "\nours / rasa init bot (throughput: higher is better; latency, memory, times: lower is better)"
    )
    for mine, theirs in zip(ours.levels, init.levels, strict=True):
        print(
            f"  {mine.users:>3} users: throughput {ratio(mine.throughput, theirs.throughput)}, "
            f"p50 {ratio(mine.pct(50), theirs.pct(50))}, p95 {ratio(mine.pct(95), theirs.pct(95))}, "
            f"p99 {ratio(mine.pct(99), theirs.pct(99))}"
        )
    rasa_ours, rasa_init = ours.peak_rss.get("rasa", 0), init.peak_rss.get("rasa", 0)
    print(
        f"  memory: Rasa process {ratio(rasa_ours, rasa_init)}, "
        f"with our action server {ratio(sum(ours.peak_rss.values()), rasa_init)}"
    )
    print(
        f"  model load {ratio(ours.load_seconds, init.load_seconds)}, training "
        + (
            ratio(ours.train_seconds, init.train_seconds)
            if ours.train_seconds is not None and init.train_seconds
            else "n/a"
        )
    )


# ---- main -----------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--levels", default="1,10,50", help="concurrent users per level")
    parser.add_argument("--seconds", type=float, default=30, help="length of each level")
    parser.add_argument("--max-turns", type=int, default=5000, help="turns per level at most")
    parser.add_argument("--request-timeout", type=float, default=60)
    parser.add_argument("--skip-train", action="store_true", help="do not time `rasa train`")
    parser.add_argument("--train-seconds", type=float, help="our training time, with --skip-train")
    parser.add_argument(
        "--skip-baseline", action="store_true", help="do not build and measure the init bot"
    )
    parser.add_argument("--model", type=Path, default=MODEL, help="our model to serve")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds for the whole run")
    parser.add_argument("--workdir", type=Path, help="keep logs and the init bot here")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",") if x.strip()]

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    procs = Supervisor(workdir)
    stopped = threading.Event()

    def stop_everything() -> None:
        if not stopped.is_set():
            stopped.set()
            procs.stop_all()

    watchdog = stop_on_time_limit_or_signal(args.timeout, stop_everything)

    info = machine()
    print(
        f"==> machine: {info.get('nproc')} cores, {info.get('ram')}, {info.get('cpu')}; "
        f"load average {loadavg()}",
        flush=True,
    )
    try:
        # ---- training times ----
        ours = BotResult(
            "foot-cramp assistant (ours)", args.train_seconds if args.skip_train else None
        )
        if not args.skip_train:
            print(
                "==> timing `rasa train` of our assistant into a temporary directory (empty cache)",
                flush=True,
            )
            ours.train_seconds = procs.run(
                "train",
                [
                    BIN / "rasa",
                    "train",
                    "--out",
                    workdir / "trained",
                    "--fixed-model-name",
                    "bench",
                ],
                timeout=1800,
                cwd=ROOT,
                env={"RASA_CACHE_DIRECTORY": str(workdir / "cache-ours")},
            )
            print(f"    {ours.train_seconds:.0f}s", flush=True)
        init: Optional[BotResult] = None
        initdir = workdir / "initbot"
        if not args.skip_baseline:
            print("==> `rasa init --no-prompt` (creates and trains Rasa's example bot)", flush=True)
            initdir.mkdir(exist_ok=True)
            init = BotResult("rasa init bot", None)
            init.train_seconds = procs.run(
                "init",
                [BIN / "rasa", "init", "--no-prompt", "--init-dir", initdir],
                timeout=1800,
                cwd=workdir,
                env={"RASA_CACHE_DIRECTORY": str(workdir / "cache-init")},
            )
            print(f"    {init.train_seconds:.0f}s", flush=True)

        # ---- ours ----
        print(f"==> serving our assistant ({args.model.name}) with its action server", flush=True)
        actions = start_actions(procs)
        endpoints = write_endpoints(
            workdir / "endpoints.ours.yml", actions.url, workdir / "ours.db"
        )
        rasa = start_rasa(procs, "rasa", endpoints, model=args.model, token=None)
        ours.load_seconds = rasa.ready_after
        print(f"    ready after {ours.load_seconds:.1f}s", flush=True)
        bench_bot(
            ours,
            procs,
            "rasa",
            f"{rasa.url}/webhooks/rest/webhook",
            levels,
            args.seconds,
            args.max_turns,
            lambda i: cramp_conversation(i, knowledge_questions=2),
            ["rasa", "actions"],
            args.request_timeout,
        )
        procs.stop("rasa")
        procs.stop("actions")

        # ---- the init bot ----
        if init is not None:
            model = sorted((initdir / "models").glob("*.tar.gz"))[-1]
            print(f"==> serving the rasa init bot ({model.name})", flush=True)
            endpoints = workdir / "endpoints.init.yml"
            endpoints.write_text(
                f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {workdir / 'init.db'}\n"
            )
            rasa = start_rasa(
                procs,
                "rasa",
                endpoints,
                model=model,
                cwd=initdir,
                token=None,
                credentials=initdir / "credentials.yml",
            )
            init.load_seconds = rasa.ready_after
            print(f"    ready after {init.load_seconds:.1f}s", flush=True)
            bench_bot(
                init,
                procs,
                "rasa",
                f"{rasa.url}/webhooks/rest/webhook",
                levels,
                args.seconds,
                args.max_turns,
                lambda i: MOODBOT_CONVERSATION,
                ["rasa"],
                args.request_timeout,
            )
        report(ours, init, info)
    finally:
        watchdog.cancel()
        stop_everything()
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
