#!/usr/bin/env python3
"""Score the real assistant on real-style messages: topic accuracy, under-triage, false alarms.

    .venv/bin/python scripts/real_eval.py                     # tests/data/real_messages.yml
    .venv/bin/python scripts/real_eval.py tests/data/real_messages.yml ../shared/eval/dev-set.yml
    .venv/bin/python scripts/real_eval.py --url http://127.0.0.1:5005 --token secret  # running
    .venv/bin/python scripts/real_eval.py --min-topic-accuracy 0.85 --max-under-triage-urgent 0 \\
        --max-under-triage-see-doctor 2 --max-false-alarm-rate 0.10   # as a gate (exit 1)

Without --url it starts one action server and one Rasa (HTTP API on, a random token, SQLite store
in a temporary directory, free loopback ports) with the project's harness (`cramp_harness`), runs
every case of every corpus against them, and stops them. Each case is a fresh conversation (a new
sender ID): its `text`, or its `turns` sent in order over REST (/webhooks/rest/webhook); after the
last turn the tracker's slots are read (/conversations/<sender>/tracker?token=...):

  topic    must be one of the case's `topics` ([] = no knowledge answer: the slot stays null;
           a `null` member means "no topic is also fine")
  urgency  must be one of `urgency` (default [none]); none < see_doctor < urgent < emergency

--snapshot HEAD runs the servers from the committed tree (git archive into the temporary directory)
instead of the working tree, so a measurement is not disturbed by edits in progress. After the run
the servers' logs are scanned: an action-server exception means the safety net answered instead of
the real code path, so the run fails (--allow-errors to report only) and the logs are kept.

A turn given as a mapping {text, topics, urgency} with labels is checked after that turn as well
("earlier turns" line; its under-triage counts towards the gate). Cases run a few at a time
(--jobs; the turns of one case always in order).

It prints, per corpus: topic accuracy (overall and per `kind`; a case with a list of kinds counts
under each), under-triage per tier (cases whose urgency was below every acceptable tier, grouped by
the lowest acceptable tier), false alarms (urgency above `none` on cases whose only acceptable tier
is `none`: benign and denied stories), other over-triage, and every miss with the message, what was
expected and what came back. Thresholds are checked on every corpus given; any broken one -> exit 1.
The corpus files are read as given: nothing outside this repository is needed.
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import requests
import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT / "tests" / "data" / "real_messages.yml"
TIERS = ["none", "see_doctor", "urgent", "emergency"]
RANK = {tier: i for i, tier in enumerate(TIERS)}


# ---- the corpus ----------------------------------------------------------------------------------
@dataclass
class Turn:
    text: str
    topics: Optional[List[Optional[str]]] = None  # None: not checked after this turn
    urgency: Optional[List[str]] = None
    best: Optional[str] = None  # the single best-fitting topic, where the corpus names one


@dataclass
class Case:
    index: int
    turns: List[Turn]
    kinds: List[str]
    source: str

    @property
    def last(self) -> Turn:
        return self.turns[-1]

    @property
    def label(self) -> str:
        return " | ".join(t.text for t in self.turns)


def acceptable_topics(topics: Optional[Sequence]) -> List[Optional[str]]:
    """[] (or a missing list) means: no knowledge answer, the slot stays null."""
    return list(topics) if topics else [None]


def load_cases(path: Path) -> List[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    cases = []
    for index, raw in enumerate(data["cases"]):
        if "turns" in raw:
            turns = [
                Turn(t)
                if isinstance(t, str)
                else Turn(
                    t["text"],
                    acceptable_topics(t["topics"]) if "topics" in t else None,
                    t.get("urgency") or (["none"] if "topics" in t else None),
                )
                for t in raw["turns"]
            ]
        else:
            turns = [Turn(raw["text"])]
        # the case's labels apply to its last turn
        turns[-1].topics = acceptable_topics(raw.get("topics"))
        turns[-1].urgency = list(raw.get("urgency") or ["none"])
        turns[-1].best = raw.get("best")
        kind = raw.get("kind")
        source = str(raw.get("source") or "")
        if kind is None:
            kinds = ["public_page" if source.startswith("http") else "question"]
        else:
            kinds = [kind] if isinstance(kind, str) else list(kind)
        cases.append(Case(index, turns, kinds, source))
    return cases


# ---- talking to the assistant --------------------------------------------------------------------
@dataclass
class Observed:
    topic: Optional[str]
    urgency: str
    seconds: float
    error: str = ""


@dataclass
class Result:
    case: Case
    turns: List[Observed] = field(default_factory=list)

    @property
    def final(self) -> Observed:
        return self.turns[-1]


class Assistant:
    def __init__(self, url: str, token: str, timeout: float = 120) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def run_case(self, case: Case) -> Result:
        sender = f"real-eval-{uuid.uuid4().hex[:16]}"
        result = Result(case)
        with requests.Session() as http:
            for turn in case.turns:
                started = time.perf_counter()
                error = ""
                try:
                    reply = http.post(
                        f"{self.url}/webhooks/rest/webhook",
                        json={"sender": sender, "message": turn.text},
                        timeout=self.timeout,
                    )
                    reply.raise_for_status()
                    if not reply.json():
                        error = "no reply"
                except (requests.RequestException, ValueError) as exc:
                    error = f"REST error: {exc}"
                seconds = time.perf_counter() - started
                try:
                    tracker = http.get(
                        f"{self.url}/conversations/{sender}/tracker",
                        params={"token": self.token},
                        timeout=self.timeout,
                    )
                    tracker.raise_for_status()
                    slots = tracker.json().get("slots", {})
                except (requests.RequestException, ValueError) as exc:
                    slots, error = {}, error or f"tracker error: {exc}"
                result.turns.append(
                    Observed(slots.get("topic"), slots.get("urgency") or "none", seconds, error)
                )
        return result


# ---- scoring -------------------------------------------------------------------------------------
def under(got: str, allowed: Sequence[str]) -> bool:
    return RANK.get(got, 0) < min(RANK[t] for t in allowed)


def over(got: str, allowed: Sequence[str]) -> bool:
    return RANK.get(got, 0) > max(RANK[t] for t in allowed)


def shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


@dataclass
class Score:
    name: str
    cases: int = 0
    topic_ok: int = 0
    best_cases: int = 0  # cases that name a best-fitting topic
    best_ok: int = 0
    per_kind: Dict[str, List[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    under_by_tier: Counter = field(default_factory=Counter)  # lowest acceptable tier -> count
    at_least_by_tier: Counter = field(default_factory=Counter)  # lowest acceptable tier -> cases
    benign: int = 0
    alarms: int = 0
    alarms_by_tier: Counter = field(default_factory=Counter)
    over_other: int = 0
    earlier_checked: int = 0
    earlier_topic_ok: int = 0
    earlier_under: int = 0
    earlier_under_urgent: int = 0
    earlier_under_see_doctor: int = 0
    errors: int = 0
    misses: List[Tuple[str, Case, int, Observed]] = field(default_factory=list)

    @property
    def topic_accuracy(self) -> float:
        return self.topic_ok / self.cases if self.cases else 0.0

    @property
    def best_accuracy(self) -> float:
        return self.best_ok / self.best_cases if self.best_cases else 0.0

    @property
    def under_see_doctor_rate(self) -> float:
        cases = self.at_least_by_tier["see_doctor"]
        return self.under_by_tier["see_doctor"] / cases if cases else 0.0

    @property
    def under_urgent(self) -> int:
        return (
            self.under_by_tier["urgent"]
            + self.under_by_tier["emergency"]
            + self.earlier_under_urgent
        )

    @property
    def under_see_doctor(self) -> int:
        return self.under_by_tier["see_doctor"] + self.earlier_under_see_doctor

    @property
    def false_alarm_rate(self) -> float:
        return self.alarms / self.benign if self.benign else 0.0


def score(name: str, results: Sequence[Result]) -> Score:
    s = Score(name)
    for result in results:
        case = result.case
        for position, (turn, seen) in enumerate(zip(case.turns, result.turns, strict=True)):
            if seen.error:
                s.errors += 1
            if turn.topics is None and turn.urgency is None:
                continue
            last = position == len(case.turns) - 1
            topic_hit = turn.topics is None or seen.topic in turn.topics
            allowed = turn.urgency or TIERS
            lowest = min(allowed, key=RANK.__getitem__)
            problems = []
            if not topic_hit:
                problems.append("TOPIC")
            if under(seen.urgency, allowed):
                problems.append(f"UNDER({lowest})")
            elif over(seen.urgency, allowed):
                problems.append("FALSE-ALARM" if allowed == ["none"] else "over")
            if seen.error:
                problems.append("ERROR")
            if last:
                s.cases += 1
                s.topic_ok += topic_hit
                if turn.best:
                    s.best_cases += 1
                    s.best_ok += seen.topic == turn.best
                for kind in case.kinds:
                    s.per_kind[kind][0] += topic_hit
                    s.per_kind[kind][1] += 1
                s.at_least_by_tier[lowest] += 1
                if under(seen.urgency, allowed):
                    s.under_by_tier[lowest] += 1
                if allowed == ["none"]:
                    s.benign += 1
                    if seen.urgency != "none":
                        s.alarms += 1
                        s.alarms_by_tier[seen.urgency] += 1
                elif over(seen.urgency, allowed):
                    s.over_other += 1
            else:
                s.earlier_checked += 1
                s.earlier_topic_ok += topic_hit
                if under(seen.urgency, allowed):
                    s.earlier_under += 1
                    if lowest == "see_doctor":
                        s.earlier_under_see_doctor += 1
                    else:
                        s.earlier_under_urgent += 1
            if problems:
                s.misses.append((" ".join(problems), case, position, seen))
    return s


def report(s: Score, results: Sequence[Result], width: int) -> None:
    print(f"\n=== {s.name}: {s.cases} cases, {sum(len(r.turns) for r in results)} turns")
    print(f"topic accuracy      {s.topic_ok}/{s.cases} ({s.topic_accuracy:.1%})")
    if s.best_cases:
        print(f"best topic          {s.best_ok}/{s.best_cases} ({s.best_accuracy:.1%})")
    for kind in sorted(s.per_kind):
        ok, total = s.per_kind[kind]
        print(f"    {kind:20} {ok:3}/{total:<3} ({ok / total:.0%})")
    print(
        "under-triage        (cases whose urgency was below every acceptable tier, "
        "by lowest acceptable tier)"
    )
    for tier in TIERS[1:]:
        print(f"    {tier:20} {s.under_by_tier[tier]:3} of {s.at_least_by_tier[tier]}")
    print(
        f"    urgent+emergency {s.under_by_tier['urgent'] + s.under_by_tier['emergency']:6}"
        f"   see_doctor {s.under_by_tier['see_doctor']}"
    )
    tiers = ", ".join(f"{t} {s.alarms_by_tier[t]}" for t in TIERS[1:] if s.alarms_by_tier[t])
    print(
        f"false alarms        {s.alarms}/{s.benign} benign/denied cases "
        f"({s.false_alarm_rate:.1%}){f': {tiers}' if tiers else ''}"
    )
    print(f"other over-triage   {s.over_other} (above every acceptable tier, not benign)")
    if s.earlier_checked:
        print(
            f"earlier turns       {s.earlier_checked} checked: topic {s.earlier_topic_ok} ok, "
            f"under-triage {s.earlier_under}"
        )
    if s.errors:
        print(f"ERRORS              {s.errors} turns without a usable reply or tracker")
    seconds = [o.seconds for r in results for o in r.turns]
    if seconds:
        q = statistics.quantiles(seconds, n=20) if len(seconds) >= 2 else [seconds[0]] * 19
        print(
            f"turn latency        p50 {statistics.median(seconds) * 1000:.0f} ms, "
            f"p95 {q[18] * 1000:.0f} ms"
        )
    print(
        f"misses              {len(s.misses)}"
        f" ({sum(1 for m in s.misses if m[2] == len(m[1].turns) - 1)} cases"
        f", {sum(1 for m in s.misses if m[2] != len(m[1].turns) - 1)} earlier turns)"
    )
    for problems, case, position, seen in s.misses:
        turn = case.turns[position]
        where = f" turn {position + 1}/{len(case.turns)}" if len(case.turns) > 1 else ""
        context = ""
        if position:
            context = shorten(" | ".join(t.text for t in case.turns[:position]), 60) + " || "
        print(f"  #{case.index:<3} {problems:24} [{','.join(case.kinds)}]{where}")
        print(f"       {context}{shorten(turn.text, width)}")
        expected_topics = ", ".join(str(t) for t in (turn.topics or ["(any)"]))
        expected_tiers = ", ".join(turn.urgency or ["(any)"])
        if turn.best:
            expected_topics += f"; best {turn.best}"
        print(
            f"       expected topic [{expected_topics}] urgency [{expected_tiers}]"
            f"  got topic {seen.topic} urgency {seen.urgency}"
            f"{'  ' + seen.error if seen.error else ''}"
        )


#: the gates: (option, what it bounds, its value on a score, at least (True) or at most, format)
GATES = (
    ("min_topic_accuracy", "topic accuracy", "topic_accuracy", True, "{:.1%}"),
    ("min_best_accuracy", "best-topic accuracy", "best_accuracy", True, "{:.1%}"),
    (
        "max_under_triage_see_doctor_rate",
        "see_doctor rated none",
        "under_see_doctor_rate",
        False,
        "{:.1%}",
    ),
    ("max_under_triage_urgent", "urgent/emergency under-triaged", "under_urgent", False, "{}"),
    ("max_under_triage_see_doctor", "see_doctor under-triaged", "under_see_doctor", False, "{}"),
    ("max_false_alarm_rate", "false alarms", "false_alarm_rate", False, "{:.1%}"),
)


def gate(s: Score, args: argparse.Namespace) -> List[str]:
    broken = []
    for option, label, attribute, at_least, form in GATES:
        bound = getattr(args, option)
        if bound is None:
            continue
        value = getattr(s, attribute)
        if (value < bound) if at_least else (value > bound):
            sign = "<" if at_least else ">"
            broken.append(f"{s.name}: {label} {form.format(value)} {sign} {form.format(bound)}")
    if s.errors and not args.allow_errors:
        broken.append(f"{s.name}: {s.errors} turns without a usable reply or tracker")
    return broken


# ---- servers -------------------------------------------------------------------------------------
def export_snapshot(revision: str, workdir: Path) -> Path:
    """The committed tree of `revision` (git archive) in <workdir>/code: the servers then run that
    code and data, whatever is being edited in the working tree meanwhile."""
    code = workdir / "code"
    code.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision], capture_output=True, timeout=120, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(code)], input=archive, check=True, timeout=120)
    return code


def start_servers(procs, model: Path, code: Path = ROOT) -> Tuple[str, str]:
    """One action server and one Rasa on free ports under the Supervisor `procs`, run from `code`
    (the repository, or a snapshot of it: then its packages come first on PYTHONPATH, before the
    editable install). Returns Rasa's URL and its API token."""
    from cramp_harness.processes import free_port, http_ok
    from cramp_harness.servers import ACTIONS_TIMEOUT, BIN, start_rasa, write_endpoints

    token = secrets.token_hex(16)
    workdir = procs.workdir
    if code != ROOT:
        procs.env["PYTHONPATH"] = str(code)
    started = time.monotonic()
    port = free_port()
    actions = procs.spawn(
        "actions",
        [BIN / "cramp-actions", "--port", port, "--actions", "actions"],
        ready=http_ok(f"http://127.0.0.1:{port}/health"),
        timeout=ACTIONS_TIMEOUT,
        port=port,
        cwd=code,
        env={"SANIC_HOST": "127.0.0.1"},
    )
    endpoints = write_endpoints(workdir / "endpoints.yml", actions.url, workdir / "tracker.db")
    rasa = start_rasa(
        procs,
        "rasa",
        endpoints,
        model=model,
        cwd=code,
        token=token,
        credentials=code / "credentials.yml",
        wait=False,
    )
    procs.wait_ready(actions)
    procs.wait_ready(rasa)
    print(
        f"servers ready in {time.monotonic() - started:.0f}s (Rasa {rasa.url}, "
        f"actions {actions.url}, logs {workdir})",
        flush=True,
    )
    return rasa.url, token


#: what in a server log means a turn was not answered by the real code path
LOG_FAILURES = {
    "actions": ("Exception occurred during execution of request",),
    "rasa": (
        "Encountered an exception while running action",
        "Failed to run custom action",
        "Traceback (most recent call last)",
    ),
}


def log_failures(workdir: Path) -> Dict[str, int]:
    """Failures the servers logged during the run (the safety net still answers the user when the
    action server fails, so a reply alone does not prove the real answer path ran)."""
    found = {}
    for name, needles in LOG_FAILURES.items():
        try:
            text = (workdir / f"{name}.log").read_text(errors="replace")
        except OSError:
            continue
        count = sum(text.count(needle) for needle in needles)
        if count:
            found[name] = count
    return found


def describe(model: Path) -> str:
    """What was measured: the commit (and whether the tree had local changes) and the model."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    stamp = (
        time.strftime("%Y-%m-%d %H:%M", time.localtime(model.stat().st_mtime))
        if model.exists()
        else "missing"
    )
    return f"code {commit or '?'}, model {model.name} ({stamp})"


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "corpora",
        nargs="*",
        type=Path,
        default=[DEFAULT_CORPUS],
        help="case files (default tests/data/real_messages.yml)",
    )
    parser.add_argument("--url", help="an already running Rasa with the HTTP API on")
    parser.add_argument("--token", default="", help="its API token (with --url)")
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "cramps.tar.gz")
    parser.add_argument(
        "--snapshot",
        metavar="REV",
        help="run the servers from the committed tree of REV (e.g. HEAD), exported "
        "to a temporary directory, instead of the working tree",
    )
    parser.add_argument("--jobs", type=int, default=4, help="cases in flight at once")
    parser.add_argument("--width", type=int, default=160, help="message characters shown per miss")
    parser.add_argument("--min-topic-accuracy", type=float)
    parser.add_argument("--min-best-accuracy", type=float, help="cases that name a best topic")
    parser.add_argument(
        "--max-under-triage-see-doctor-rate",
        type=float,
        help="share of see_doctor cases rated none",
    )
    parser.add_argument(
        "--max-under-triage-urgent",
        type=int,
        help="under-triaged cases whose lowest acceptable tier is urgent/emergency",
    )
    parser.add_argument(
        "--max-under-triage-see-doctor",
        type=int,
        help="under-triaged cases whose lowest acceptable tier is see_doctor",
    )
    parser.add_argument("--max-false-alarm-rate", type=float)
    parser.add_argument(
        "--allow-errors",
        action="store_true",
        help="do not fail on turns without a reply (they are still reported)",
    )
    parser.add_argument(
        "--keep-workdir",
        action="store_true",
        help="keep the servers' logs (kept anyway when a server logged an error)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=1800,
        help="seconds for the whole run; then everything started is stopped",
    )
    args = parser.parse_args(argv)

    corpora = [(path, load_cases(path)) for path in args.corpora]
    began = time.monotonic()
    procs = workdir = watchdog = None
    failed = keep = False
    try:
        if args.url:
            url, token = args.url, args.token
        else:
            from cramp_harness.processes import Supervisor, stop_on_time_limit_or_signal

            if not args.model.exists():
                print(f"no model at {args.model}: train first (make train)", file=sys.stderr)
                return 2
            workdir = Path(tempfile.mkdtemp(prefix="real-eval-"))
            procs = Supervisor(workdir, env={"PYTHONUNBUFFERED": "1"})
            # nothing started here outlives the script: time limit, Ctrl-C, SIGTERM stop it all
            watchdog = stop_on_time_limit_or_signal(args.timeout, lambda: procs.stop_all(grace=10))
            code = ROOT
            if args.snapshot:
                code = export_snapshot(args.snapshot, workdir)
                what = subprocess.run(
                    ["git", "-C", str(ROOT), "rev-parse", "--short", args.snapshot],
                    capture_output=True,
                    text=True,
                ).stdout
                print(
                    f"measuring code {what.strip()} (snapshot of {args.snapshot}), "
                    f"model {args.model.name}",
                    flush=True,
                )
            else:
                print(f"measuring {describe(args.model)}", flush=True)
            url, token = start_servers(procs, args.model, code)
        assistant = Assistant(url, token)
        broken: List[str] = []
        for path, cases in corpora:
            ran = time.monotonic()
            with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
                results = list(pool.map(assistant.run_case, cases))
            s = score(path.name, results)
            report(s, results, args.width)
            print(f"ran {len(cases)} cases in {time.monotonic() - ran:.0f}s")
            broken += gate(s, args)
        if workdir is not None:
            try:
                procs.wait_logs_quiet(timeout=10)
            except TimeoutError:
                pass
            failures = log_failures(workdir)
            if failures:
                keep = True
                line = (
                    "server errors during the run (these figures are not the real answer "
                    f"path): {failures}; logs in {workdir}"
                )
                print(f"\n!! {line}")
                if not args.allow_errors:
                    broken.append(line)
        print(f"\ntotal time {time.monotonic() - began:.0f}s")
        for line in broken:
            print(f"THRESHOLD BROKEN: {line}")
        failed = bool(broken)
    except BaseException:
        keep = True
        raise
    finally:
        if watchdog is not None:
            watchdog.cancel()
        if procs is not None:
            procs.stop_all(grace=20)
        if workdir is not None and (args.keep_workdir or keep):
            print(f"server logs kept in {workdir}")
        elif workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
