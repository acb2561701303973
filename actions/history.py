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


def earlier_findings(events: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Red-flag findings of this session's earlier user messages (the NLU's triage of each),
    the message being answered left out: signs said over several messages add up."""
    users = [e for e in session_events(events) if e.get("event") == "user"]
    return [
        finding
        for event in users[:-1]
        for finding in (((event.get("parse_data") or {}).get("triage") or {}).get("findings") or [])
    ]


def earlier_subjects(events: Iterable[Dict[str, Any]]) -> List[str]:
    """The article's causes earlier messages' red-flag signs pointed to (numb feet: nerve)."""
    users = [e for e in session_events(events) if e.get("event") == "user"]
    return [
        subject
        for event in users[:-1]
        for subject in (((event.get("parse_data") or {}).get("triage") or {}).get("subjects") or [])
    ]


def earlier_entities(events: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Entities of this session's earlier user messages, oldest first (the last user message,
    the one being answered, left out): what the person told us before this turn."""
    users = [e for e in session_events(events) if e.get("event") == "user"]
    return [
        entity
        for event in users[:-1]
        for entity in ((event.get("parse_data") or {}).get("entities") or [])
    ]
