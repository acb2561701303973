"""What earlier turns of this session said, derived from the tracker's events (no extra slots)."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

from cramp_nlu.terms import max_tier


def session_events(events: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Events since the current session started."""
    events = list(events)
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") == "session_started":
            return events[index + 1 :]
    return events


def _slot_values(events: Iterable[Dict[str, Any]], slot: str) -> List[Any]:
    return [
        e.get("value")
        for e in session_events(events)
        if e.get("event") == "slot" and e.get("name") == slot
    ]


def last_topic(events: Iterable[Dict[str, Any]]) -> Optional[str]:
    """The last topic answered in this session (the `topic` slot is cleared each turn)."""
    return next((v for v in reversed(_slot_values(events, "topic")) if v), None)


def highest_urgency(events: Iterable[Dict[str, Any]]) -> str:
    """The most urgent tier any earlier message of this session reached."""
    return max_tier(v for v in _slot_values(events, "urgency") if v)


def earlier_messages(events: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The parse data of this session's user messages before the one being answered, oldest
    first: what the person told us before this turn."""
    users = [e for e in session_events(events) if e.get("event") == "user"]
    return [e.get("parse_data") or {} for e in users[:-1]]


def _triage_items(events: Iterable[Dict[str, Any]], key: str) -> List[Any]:
    return [
        item
        for parse in earlier_messages(events)
        for item in ((parse.get("triage") or {}).get(key) or [])
    ]


def earlier_findings(events: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Red-flag findings of the earlier messages (the NLU's triage of each): signs said over
    several messages add up."""
    return _triage_items(events, "findings")


def earlier_subjects(events: Iterable[Dict[str, Any]]) -> List[str]:
    """The article's causes earlier messages' red-flag signs pointed to (numb feet: nerve)."""
    return _triage_items(events, "subjects")


def earlier_entities(events: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Entities of the earlier messages, oldest first."""
    return [entity for parse in earlier_messages(events) for entity in parse.get("entities") or []]
