"""Scripted conversations as Rasa stores them, written through Rasa's own `SQLTrackerStore`.

For tests/test_report.py and tests/test_export.py: each `Script` is one sender, its events the
ones the real servers write (checked against a live tracker: user, action, bot, slot, active_loop
and session events in that order), so the report and the export read exactly what production
stores. Every text a person "typed" is kept in `Script.typed`, to check it never leaks.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.slots import AnySlot
from rasa.shared.core.trackers import DialogueStateTracker

FORM = "cramp_check_form"
SLOTS = (
    "topic",
    "urgency",
    "check_stopped",
    "likely_causes",
    "requested_slot",
    "check_timing",
    "check_frequency",
    "check_red_flags",
    "time",
)


class Script:
    """One sender's conversation(s), built turn by turn."""

    def __init__(self, sender: str, start: float, channel: str = "rest") -> None:
        self.sender = sender
        self.channel = channel
        self.t = start
        self.events: List[Event] = []
        self.typed: List[str] = []
        self.bot_texts: List[str] = []
        self.session()

    def _at(self) -> float:
        self.t += 1.0
        return self.t

    def session(self, at: Optional[float] = None) -> "Script":
        """A new Rasa session (what action_session_start writes)."""
        if at is not None:
            self.t = at
        self.events += [
            ActionExecuted("action_session_start", timestamp=self._at()),
            SessionStarted(timestamp=self._at()),
            ActionExecuted("action_listen", timestamp=self._at()),
        ]
        return self

    def say(
        self,
        text: str,
        intent: str,
        confidence: float = 0.95,
        *,
        action: Optional[str] = None,
        topic: Optional[str] = None,
        urgency: str = "none",
        buttons: Sequence[str] = (),
        before: Iterable[Event] = (),
        after: Iterable[Event] = (),
        answer: bool = True,
    ) -> "Script":
        """A user message and the answering action's events (`answer=False`: the form's)."""
        self.typed.append(text)
        parse = {
            "intent": {"name": intent, "confidence": confidence},
            "entities": [],
            "text": text,
            "intent_ranking": [{"name": intent, "confidence": confidence}],
        }
        self.events.append(
            UserUttered(
                text,
                parse["intent"],
                parse_data=parse,
                input_channel=self.channel,
                timestamp=self._at(),
            )
        )
        self.events += [self._stamp(e) for e in before]
        if action:
            self.events.append(ActionExecuted(action, timestamp=self._at()))
            reply = f"bot reply {len(self.bot_texts)} to {self.sender}"
            self.bot_texts.append(reply)
            data: Dict[str, Any] = {
                "buttons": [{"title": f"button {p}", "payload": p} for p in buttons]
            }
            self.events.append(BotUttered(reply, data=data, timestamp=self._at()))
            if answer:
                self.events += [
                    SlotSet("urgency", urgency, timestamp=self._at()),
                    SlotSet("topic", topic, timestamp=self._at()),
                ]
        self.events += [self._stamp(e) for e in after]
        self.events.append(ActionExecuted("action_listen", timestamp=self._at()))
        return self

    def _stamp(self, event: Event) -> Event:
        event.timestamp = self._at()
        return event

    # ---- the project's turns ----
    def ask(
        self,
        text: str,
        topic: str,
        confidence: float = 0.95,
        urgency: str = "none",
        intent: Optional[str] = None,
    ) -> "Script":
        return self.say(
            text,
            intent or f"ask_{topic}",
            confidence,
            action="action_answer_topic",
            topic=topic,
            urgency=urgency,
            buttons=["/tell_more"],
        )

    def small_talk(self, text: str, intent: str = "greet") -> "Script":
        return self.say(text, intent, action="action_small_talk")

    def fallback(
        self,
        text: str,
        offered: Sequence[str],
        intent: str = "nlu_fallback",
        confidence: float = 0.3,
    ) -> "Script":
        return self.say(
            text,
            intent,
            confidence,
            action="action_suggest_topics",
            buttons=[f"/ask_{t}" for t in offered] + ["/help"],
        )

    def feedback(self, text: str, helpful: bool) -> "Script":
        intent = "feedback_helpful" if helpful else "feedback_unhelpful"
        return self.say(text, intent, action="action_small_talk")

    def start_check(self, text: str) -> "Script":
        return self.say(
            text,
            "start_cramp_check",
            action="action_start_cramp_check",
            after=[
                ActionExecuted(FORM),
                ActiveLoop(FORM),
                SlotSet("requested_slot", "check_timing"),
            ],
        )

    def check_answer(
        self, text: str, slot: str = "check_timing", intent: str = "deny", urgency: str = "none"
    ) -> "Script":
        """An answer in the form: the slot first holds the person's own words (from_text)."""
        return self.say(
            text,
            intent,
            before=[SlotSet(slot, text)],
            after=[
                ActionExecuted(FORM),
                SlotSet("urgency", urgency),
                SlotSet(slot, "night"),
                SlotSet("topic", None),
                SlotSet("requested_slot", "check_frequency"),
            ],
        )

    def check_last_answer(self, text: str, urgency: str = "none") -> "Script":
        return self.say(
            text,
            "deny",
            before=[SlotSet("check_red_flags", text)],
            after=[
                ActionExecuted(FORM),
                SlotSet("urgency", urgency),
                SlotSet("topic", None),
                SlotSet("requested_slot", None),
                ActiveLoop(None),
                ActionExecuted("action_cramp_check_summary"),
                BotUttered("summary"),
                SlotSet("likely_causes", ["cause_night"]),
                SlotSet("urgency", urgency),
            ],
        )

    def check_stop(self, text: str) -> "Script":
        return self.say(
            text,
            "stop_form",
            before=[SlotSet("check_frequency", text)],
            after=[
                ActionExecuted(FORM),
                SlotSet("urgency", "none"),
                SlotSet("check_stopped", True),
                SlotSet("requested_slot", None),
                SlotSet("topic", None),
                ActiveLoop(None),
                ActionExecuted("action_cramp_check_summary"),
                BotUttered("paused"),
                SlotSet("check_stopped", None),
            ],
        )

    def resume_check(self, text: str) -> "Script":
        return self.start_check(text)


def write_store(path: Path, scripts: Iterable[Script]) -> Path:
    """A SQLite tracker store at `path` holding the scripts, saved by Rasa's SQLTrackerStore."""
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path))
    slots = [AnySlot(name, mappings=[{}]) for name in SLOTS]

    async def fill() -> None:
        for script in scripts:
            await store.save(
                DialogueStateTracker.from_events(script.sender, script.events, slots=slots)
            )

    asyncio.run(fill())
    store.engine.dispose()
    return path


def endpoints_for(db: Path) -> Path:
    """An endpoints file next to `db` naming it as the SQLite tracker store."""
    path = db.with_name("endpoints.yml")
    path.write_text(f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {db}\n")
    return path
