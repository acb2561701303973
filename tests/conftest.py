"""Shared fixtures: real rasa_sdk trackers and dispatchers for running the custom actions
in-process, and the real servers the integration tests share (see "integration tests" below).

`make_tracker(...)` builds a `rasa_sdk.Tracker` the way the action server receives one from Rasa:
a `latest_message` parse (text, intent, entities, intent_ranking and, when the NLU pipeline ran,
the red-flag component's `triage`), the slots, and the session's events as plain dicts.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from cramp_harness.servers import Servers
from cramp_harness.standins import CHANNEL_VARS, Platforms

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DOMAIN_FILE = PROJECT_ROOT / "domain.yml"
TEST_DATA = Path(__file__).resolve().parent / "data"

DEFAULT_SLOTS: Dict[str, Any] = {
    "topic": None,
    "urgency": "none",
    "medication": None,
    "condition": None,
    "time": None,
    "activity": None,
}


def entity(name: str, value: str, text: Optional[str] = None) -> Dict[str, Any]:
    """An extracted entity as it appears in the parse data."""
    return {"entity": name, "value": value, "text": text if text is not None else value,
            "start": 0, "end": len(text if text is not None else value),
            "extractor": "RegexEntityExtractor"}


def slot_event(name: str, value: Any) -> Dict[str, Any]:
    """A `slot` event as stored in the tracker (what `SlotSet` becomes)."""
    return {"event": "slot", "timestamp": None, "name": name, "value": value}


def user_event(text: str, intent: Optional[str] = None) -> Dict[str, Any]:
    return {"event": "user", "timestamp": None, "text": text,
            "parse_data": {"text": text, "intent": {"name": intent, "confidence": 1.0},
                           "entities": []}}


def session_started() -> Dict[str, Any]:
    return {"event": "session_started", "timestamp": None}


def make_tracker(text: str, intent: Optional[str], entities: Iterable[Dict[str, Any]] = (),
                 slots: Optional[Dict[str, Any]] = None, events: Iterable[Dict[str, Any]] = (),
                 triage: Optional[Dict[str, Any]] = None,
                 intent_ranking: Optional[List[Dict[str, Any]]] = None) -> Tracker:
    """A real `rasa_sdk.Tracker` for one user turn.

    `triage` is the red-flag component's verdict in the parse data; leave it out for a message that
    skipped NLU (e.g. a "/intent" payload). `intent_ranking` defaults to the intent alone.
    """
    latest_message: Dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0} if intent else {},
        "entities": list(entities),
        "intent_ranking": (list(intent_ranking) if intent_ranking is not None
                           else ([{"name": intent, "confidence": 1.0}] if intent else [])),
    }
    if triage is not None:
        latest_message["triage"] = triage
    all_slots = {**DEFAULT_SLOTS, **(slots or {})}
    history = list(events) + [user_event(text, intent)]
    return Tracker(
        sender_id="test-user",
        slots=all_slots,
        latest_message=latest_message,
        events=history,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


@pytest.fixture(name="make_tracker")
def make_tracker_fixture():
    """The `make_tracker` helper, as a fixture."""
    return make_tracker


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    """domain.yml parsed into the dict the action server passes to `Action.run`."""
    with open(DOMAIN_FILE, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


# ---- integration tests: real servers, shared per pytest session ---------------------------------
# One set per distinct set-up; tests use their own sender IDs, so sharing a set is safe. A set is
# started only if a selected test uses it, and all the selected ones load their models at once.
#   servers                  action server + Rasa (project credentials: REST, socket.io, Telegram,
#                            Slack, Twilio against local stand-ins), INFO logs, the chat page
#   restartable_servers      Rasa on its own SQLite file, restarted by tests (same action server)
#   servers_without_actions  Rasa whose action server is down
# (in the last two the messaging channels have no secrets, so they are disabled)
SERVER_SETS = ("servers", "restartable_servers", "servers_without_actions")


@pytest.fixture(scope="session")
def platforms() -> Iterator[Platforms]:
    """Telegram, Slack and Twilio stand-ins on loopback (they must be up before Rasa starts)."""
    running = Platforms().start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def server_sets(request, tmp_path_factory, platforms) -> Iterator[Dict[str, Servers]]:
    """Every set the selected tests use, spawned together; each set's fixture waits for its own."""
    wanted = {name for item in request.session.items for name in item.fixturenames
              if name in SERVER_SETS}
    root = tmp_path_factory.mktemp("servers")
    no_channels = {name: "" for name in CHANNEL_VARS}  # never the developer's real secrets
    sets: Dict[str, Servers] = {}
    try:
        if wanted & {"servers", "restartable_servers"}:
            sets["servers"] = Servers(root / "default", env=platforms.env(), page=True)
            sets["servers"].start_actions(wait=False)
            if "servers" in wanted:
                sets["servers"].start_rasa(wait=False)
        if "restartable_servers" in wanted:
            sets["restartable_servers"] = Servers(root / "restartable", page=True, env=no_channels,
                                                  actions_port=sets["servers"].actions_port)
            sets["restartable_servers"].start_rasa(wait=False)
        if "servers_without_actions" in wanted:
            sets["servers_without_actions"] = Servers(root / "without-actions", page=True,
                                                      env=no_channels)
            sets["servers_without_actions"].start_rasa(wait=False)
        yield sets
    finally:
        for running in sets.values():
            running.stop()


@pytest.fixture(scope="session")
def servers(server_sets) -> Servers:
    server_sets["servers"].wait_ready()
    return server_sets["servers"]


@pytest.fixture(scope="session")
def restartable_servers(server_sets) -> Servers:
    shared = server_sets["servers"].procs
    shared.wait_ready(shared["actions"])  # its action server is the default set's
    server_sets["restartable_servers"].wait_ready()
    return server_sets["restartable_servers"]


@pytest.fixture(scope="session")
def servers_without_actions(server_sets) -> Servers:
    server_sets["servers_without_actions"].wait_ready()
    return server_sets["servers_without_actions"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed integration test shows the end of its servers' logs."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and call.when != "teardown":
        for value in getattr(item, "funcargs", {}).values():
            if isinstance(value, Servers):
                for name, tail in value.tails().items():
                    report.sections.append((f"{value.workdir.name}/{name}.log (end)", tail))
