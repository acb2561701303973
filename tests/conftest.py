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

from cramp_harness.server_sets import ServerSets
from cramp_harness.servers import Servers
from cramp_harness.standins import Platforms

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
    return {
        "entity": name,
        "value": value,
        "text": text if text is not None else value,
        "start": 0,
        "end": len(text if text is not None else value),
        "extractor": "RegexEntityExtractor",
    }


def slot_event(name: str, value: Any) -> Dict[str, Any]:
    """A `slot` event as stored in the tracker (what `SlotSet` becomes)."""
    return {"event": "slot", "timestamp": None, "name": name, "value": value}


def user_event(
    text: str,
    intent: Optional[str] = None,
    entities: Iterable[Dict[str, Any]] = (),
    triage: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """A user message as the tracker stores it (with the NLU's entities and triage, if given)."""
    parse_data: Dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0},
        "entities": list(entities),
    }
    if triage is not None:
        parse_data["triage"] = triage
    return {"event": "user", "timestamp": None, "text": text, "parse_data": parse_data}


def session_started() -> Dict[str, Any]:
    return {"event": "session_started", "timestamp": None}


def make_tracker(
    text: str,
    intent: Optional[str],
    entities: Iterable[Dict[str, Any]] = (),
    slots: Optional[Dict[str, Any]] = None,
    events: Iterable[Dict[str, Any]] = (),
    triage: Optional[Dict[str, Any]] = None,
    intent_ranking: Optional[List[Dict[str, Any]]] = None,
    questions: Optional[List[Dict[str, Any]]] = None,
) -> Tracker:
    """A real `rasa_sdk.Tracker` for one user turn.

    `triage` is the red-flag component's verdict in the parse data; leave it out for a message that
    skipped NLU (e.g. a "/intent" payload). `intent_ranking` defaults to the intent alone.
    """
    latest_message: Dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0} if intent else {},
        "entities": list(entities),
        "intent_ranking": (
            list(intent_ranking)
            if intent_ranking is not None
            else ([{"name": intent, "confidence": 1.0}] if intent else [])
        ),
    }
    if triage is not None:
        latest_message["triage"] = triage
    if questions is not None:
        latest_message["questions"] = questions
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
# One set per distinct set-up (cramp_harness/server_sets.py), started if a selected test uses it.
@pytest.fixture(scope="session")
def platforms() -> Iterator[Platforms]:
    """Telegram, Slack and Twilio stand-ins on loopback (they must be up before Rasa starts)."""
    running = Platforms().start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def server_sets(request, tmp_path_factory, platforms) -> Iterator[ServerSets]:
    # every fixture the selected tests use, in the order they first use it
    wanted = dict.fromkeys(name for item in request.session.items for name in item.fixturenames)
    sets = ServerSets(tmp_path_factory.mktemp("servers"), platforms, wanted)
    yield sets
    sets.stop()


@pytest.fixture(scope="session")
def servers(server_sets) -> Servers:
    return server_sets.get("servers")


@pytest.fixture(scope="session")
def restartable_servers(server_sets) -> Servers:
    return server_sets.get("restartable_servers")


@pytest.fixture(scope="session")
def servers_without_actions(server_sets) -> Servers:
    return server_sets.get("servers_without_actions")


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
