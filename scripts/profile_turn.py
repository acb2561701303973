"""Where the time of one turn goes: NLU, each policy, the action-server call, the tracker store.

    .venv/bin/python scripts/profile_turn.py [--turns 60]

Starts the action server (as `make run` does), loads the trained model in this process (set up as
`cramp-rasa` sets it up) with the
project's endpoints (SQLite tracker store in a temporary directory), and sends knowledge questions
through Rasa's own message processor — the code path of every channel — timing each stage by
wrapping Rasa's methods. Prints mean and p50/p95 per stage, in milliseconds, and the share of the
turn each stage takes. HTTP handling of the channel is not included (see `make bench` for whole
REST turns).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Dict, List

from cramp_harness.processes import Supervisor
from cramp_harness.servers import MODEL, ROOT, start_actions, write_endpoints
from cramp_ops.launcher import (
    quiet_third_party_deprecations,
    validate_action_responses_with_one_validator,
)

QUESTIONS = [
    "why do my feet cramp at night?",
    "how do I stop that?",
    "tell me more",
    "can statins cause foot cramps?",
    "does magnesium help?",
    "thanks",
]

Timings = Dict[str, List[float]]


def timed(timings: Timings, stage: str, function: Callable) -> Callable:
    """Wrap a sync or async function so that each call's wall time lands in `timings[stage]`."""
    if asyncio.iscoroutinefunction(function):

        @functools.wraps(function)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                timings[stage].append((time.perf_counter() - started) * 1000)

        return async_wrapper

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            timings[stage].append((time.perf_counter() - started) * 1000)

    return wrapper


def instrument(timings: Timings) -> None:
    """Wrap the stages of a turn in Rasa's own classes (this process only)."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.lock_store import InMemoryLockStore
    from rasa.core.policies.memoization import MemoizationPolicy
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.core.processor import MessageProcessor
    from rasa.core.tracker_store import SQLTrackerStore

    stages = [
        (MessageProcessor, "parse_message", "NLU (parse_message)"),
        (MessageProcessor, "_predict_next_with_tracker", "policy prediction (whole graph)"),
        (RulePolicy, "predict_action_probabilities", "  RulePolicy"),
        (MemoizationPolicy, "predict_action_probabilities", "  MemoizationPolicy"),
        (RemoteAction, "run", "action-server call"),
        (RemoteAction, "_validate_action_result", "  response validation (jsonschema)"),
        (RemoteAction, "_utter_responses", "  rendering the action's messages"),
        (SQLTrackerStore, "retrieve", "tracker store: retrieve"),
        (SQLTrackerStore, "retrieve_full_tracker", "tracker store: retrieve full"),
        (SQLTrackerStore, "save", "tracker store: save"),
        (InMemoryLockStore, "lock", "lock store"),
    ]
    for cls, method, stage in stages:
        if method in cls.__dict__:  # only the class's own method: no double counting via super()
            setattr(cls, method, timed(timings, stage, cls.__dict__[method]))


async def run_turns(endpoints: Path, turns: int, timings: Timings) -> None:
    from rasa.core.agent import load_agent
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.core.utils import AvailableEndpoints

    agent = await load_agent(
        model_path=str(MODEL), endpoints=AvailableEndpoints.read_endpoints(str(endpoints))
    )
    handle = timed(timings, "whole turn (handle_message)", agent.handle_message)
    for warmup in range(len(QUESTIONS)):  # the first calls build caches and connections
        await agent.handle_message(
            UserMessage(QUESTIONS[warmup], CollectingOutputChannel(), sender_id="warm-up")
        )
    timings.clear()
    for number in range(turns):
        sender = f"profile-{number // len(QUESTIONS)}"
        text = QUESTIONS[number % len(QUESTIONS)]
        await handle(UserMessage(text, CollectingOutputChannel(), sender_id=sender))


def report(timings: Timings, turns: int) -> None:
    whole = statistics.mean(timings["whole turn (handle_message)"])
    print(f"\n{turns} turns; milliseconds per turn (mean of the stage's calls x calls per turn)")
    print(
        f"{'stage':36} {'calls/turn':>10} {'mean':>8} {'p50':>8} {'p95':>8} {'per turn':>9} {'share':>6}"
    )
    for stage, values in timings.items():
        values = sorted(values)
        per_turn = sum(values) / turns
        p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
        print(
            f"{stage:36} {len(values) / turns:10.1f} {statistics.mean(values):8.1f} "
            f"{statistics.median(values):8.1f} {p95:8.1f} {per_turn:9.1f} {per_turn / whole:6.0%}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--turns", type=int, default=60)
    args = parser.parse_args()
    quiet_third_party_deprecations()
    validate_action_responses_with_one_validator()  # as `cramp-rasa` runs it
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("rasa").setLevel(logging.WARNING)
    timings: Timings = defaultdict(list)
    with tempfile.TemporaryDirectory(prefix="profile-turn-") as workdir:
        procs = Supervisor(Path(workdir))
        try:
            actions = start_actions(procs)
            endpoints = write_endpoints(
                Path(workdir) / "endpoints.yml", actions.url, Path(workdir) / "tracker.db"
            )
            instrument(timings)
            asyncio.run(run_turns(endpoints, args.turns, timings))
        finally:
            procs.stop_all()
    report(timings, args.turns)
    print(f"\nmodel: {MODEL.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
