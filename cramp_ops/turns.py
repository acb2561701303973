"""Rasa's stored events as conversations and turns, without any message text.

The query asks the database for the `type_name`, `intent_name` and `action_name` columns and, out
of the JSON `data` column, only these fields, extracted by the database itself:

* user events: the channel (`input_channel`) and the intent's confidence;
* slot events of the slots in `SLOTS_READ`: their value (never another slot: the guided check's
  slots are filled from the person's own words);
* bot events: the button payloads (the "did you mean" topics; a bot's own words, never a person's).

Neither the text of a message nor the rest of `data` ever reaches this process, and sender IDs
only group the events here: they are not in anything this module returns. `user_texts` is the one
exception, kept apart for the opt-in NLU export: it reads the text of the user events it is given.

A conversation is one Rasa session (a new one starts after `session_expiration_time` idle, 60
minutes in domain.yml); a turn is one user message with everything the assistant did about it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import sqlalchemy as sa

from actions.knowledge import TOPIC_IDS, topic_for_intent
from cramp_nlu.terms import TIERS, max_tier
from cramp_ops.retention import events_table

# What the report relies on, as named in domain.yml (tests/test_report.py checks each is there).
TOPIC_SLOT = "topic"
URGENCY_SLOT = "urgency"
CHECK_STOPPED_SLOT = "check_stopped"
CHECK_RESULT_SLOT = "likely_causes"
SLOTS_READ = (TOPIC_SLOT, URGENCY_SLOT, CHECK_STOPPED_SLOT, CHECK_RESULT_SLOT)
SUGGEST_ACTION = "action_suggest_topics"
CHECK_START_ACTION = "action_start_cramp_check"
FALLBACK_INTENT = "nlu_fallback"
#: feedback intents -> helpful? (the answer they rate: the last topic answered before them)
FEEDBACK_INTENTS: Dict[str, bool] = {"feedback_helpful": True, "feedback_unhelpful": False}
#: actions that are bookkeeping, not an answer
QUIET_ACTIONS = ("action_listen", "action_extract_slots", "action_session_start")
UNKNOWN_CHANNEL = "unknown"
PAYLOAD = re.compile(r"^/(\w+)")
CHANNEL_NAME = re.compile(r"^[\w.-]{1,40}$")


@dataclass
class Turn:
    """One user message and what the assistant did about it (no text)."""

    event_id: int
    timestamp: float
    channel: str
    intent: Optional[str]
    confidence: Optional[float]
    actions: List[str] = field(default_factory=list)
    topic: Optional[str] = None  # the last topic answered in the turn
    urgency: Optional[str] = None  # the highest tier set in the turn
    offered: List[str] = field(default_factory=list)  # "did you mean" topics, in button order
    check_stopped: bool = False
    check_finished: bool = False

    @property
    def day(self) -> date:
        return utc_day(self.timestamp)

    @property
    def fallback(self) -> bool:
        """Fell to the "did you mean" path: NLU unsure (nlu_fallback) or no rule fitted."""
        return self.intent == FALLBACK_INTENT or SUGGEST_ACTION in self.actions

    @property
    def feedback(self) -> Optional[bool]:
        """True / False for 👍 / 👎, None for any other message."""
        return FEEDBACK_INTENTS.get(self.intent or "")


@dataclass
class Conversation:
    """One session of one sender: its turns in order."""

    turns: List[Turn]

    @property
    def day(self) -> date:
        return self.turns[0].day

    @property
    def channel(self) -> str:
        return self.turns[0].channel

    @property
    def tier(self) -> str:
        """The highest urgency any message of the conversation reached."""
        return max_tier(t.urgency for t in self.turns if t.urgency)


@dataclass
class Selection:
    """What was read: each sender's conversations (in order; the sender itself is dropped) and
    the first and last event time of the selection."""

    senders: List[List[Conversation]]
    first_event: Optional[float] = None
    last_event: Optional[float] = None

    @property
    def conversations(self) -> List[Conversation]:
        return [c for sender in self.senders for c in sender]


def utc_day(timestamp: float) -> date:
    return datetime.fromtimestamp(timestamp, timezone.utc).date()


def _json(engine: sa.engine.Engine, column: sa.Column) -> sa.sql.ColumnElement:
    # `data` is TEXT: PostgreSQL needs a real cast to use JSON operators; SQLite's JSON functions
    # read the text as it is (a CAST there would turn it into a number)
    if engine.dialect.name == "sqlite":
        return sa.type_coerce(column, sa.JSON)
    return sa.cast(column, sa.JSON)


def event_query(
    engine: sa.engine.Engine, since: Optional[float] = None, until: Optional[float] = None
) -> sa.sql.Select:
    """The events of the selection, ordered by sender then id, with only the fields above."""
    events = events_table()
    data = _json(engine, events.c.data)
    kind = events.c.type_name
    query = sa.select(
        events.c.id,
        events.c.sender_id,
        kind,
        events.c.timestamp,
        events.c.intent_name,
        events.c.action_name,
        sa.case((kind == "user", data[("input_channel",)].as_string()), else_=None).label(
            "channel"
        ),
        sa.case(
            (kind == "user", data[("parse_data", "intent", "confidence")].as_float()), else_=None
        ).label("confidence"),
        sa.case(
            (
                sa.and_(kind == "slot", events.c.action_name.in_(SLOTS_READ)),
                data[("value",)].as_string(),
            ),
            else_=None,
        ).label("value"),
        sa.case((kind == "bot", data[("data", "buttons")].as_string()), else_=None).label(
            "buttons"
        ),
    ).where(kind.in_(("user", "action", "slot", "bot", "session_started")))
    if since is not None:
        query = query.where(events.c.timestamp >= since)
    if until is not None:
        query = query.where(events.c.timestamp < until)
    return query.order_by(events.c.sender_id, events.c.id)


def _truthy(value: object) -> bool:
    return value in (True, 1, "1", "true", "True")


def _channel(value: Optional[str]) -> str:
    return value if value and CHANNEL_NAME.match(value) else UNKNOWN_CHANNEL


def offered_topics(buttons: Optional[str]) -> List[str]:
    """The knowledge topics among a message's button payloads ("/ask_<topic>")."""
    try:
        parsed = json.loads(buttons) if buttons else []
    except ValueError:
        return []
    topics: List[str] = []
    for button in parsed if isinstance(parsed, list) else []:
        match = PAYLOAD.match(str(button.get("payload", "")) if isinstance(button, dict) else "")
        topic = topic_for_intent(match.group(1)) if match else None
        if topic and topic not in topics:
            topics.append(topic)
    return topics


class _SenderReader:
    """Folds one sender's rows (in id order) into conversations."""

    def __init__(self) -> None:
        self.conversations: List[Conversation] = []
        self.turns: List[Turn] = []
        self.last_action: Optional[str] = None

    def close_conversation(self) -> None:
        if self.turns:
            self.conversations.append(Conversation(self.turns))
        self.turns = []

    def add(self, row: sa.engine.Row) -> None:
        kind = row.type_name
        if kind == "session_started":
            self.close_conversation()
            return
        if kind == "user":
            self.turns.append(
                Turn(row.id, row.timestamp, _channel(row.channel), row.intent_name, row.confidence)
            )
            self.last_action = None
            return
        if not self.turns:  # before the first message of a session (e.g. slots at its start)
            return
        turn = self.turns[-1]
        if kind == "action":
            if row.action_name == "action_session_start":
                self.close_conversation()
            elif row.action_name and row.action_name not in QUIET_ACTIONS:
                turn.actions.append(row.action_name)
                self.last_action = row.action_name
        elif kind == "bot" and self.last_action == SUGGEST_ACTION:
            turn.offered += [t for t in offered_topics(row.buttons) if t not in turn.offered]
        elif kind == "slot":
            self._slot(turn, row.action_name, row.value)

    @staticmethod
    def _slot(turn: Turn, name: str, value: Optional[str]) -> None:
        if name == TOPIC_SLOT and value in TOPIC_IDS:
            turn.topic = value
        elif name == URGENCY_SLOT and value in TIERS:
            turn.urgency = max_tier([turn.urgency or value, value])
        elif name == CHECK_STOPPED_SLOT and _truthy(value):
            turn.check_stopped = True
        elif name == CHECK_RESULT_SLOT and value is not None:
            turn.check_finished = True


def fold(rows: Iterable[sa.engine.Row]) -> Selection:
    """Rows ordered by sender and id -> each sender's conversations, senders dropped."""
    selection = Selection([])
    reader: Optional[_SenderReader] = None
    sender: Optional[str] = None
    for row in rows:
        stamp = row.timestamp
        if stamp is not None:
            selection.first_event = min(stamp, selection.first_event or stamp)
            selection.last_event = max(stamp, selection.last_event or stamp)
        if row.sender_id != sender:
            if reader is not None:
                reader.close_conversation()
                selection.senders.append(reader.conversations)
            sender, reader = row.sender_id, _SenderReader()
        reader.add(row)
    if reader is not None:
        reader.close_conversation()
        selection.senders.append(reader.conversations)
    selection.senders = [s for s in selection.senders if s]
    return selection


def read_selection(
    engine: sa.engine.Engine, since: Optional[float] = None, until: Optional[float] = None
) -> Selection:
    """Every conversation with events in [since, until) (epoch seconds; None: unbounded)."""
    from cramp_ops.store_reader import has_events

    if not has_events(engine):
        return Selection([])
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True).execute(
            event_query(engine, since, until)
        )
        return fold(result)


def rated_answers(conversations: Sequence[Conversation]) -> Iterator[Tuple[Optional[Turn], bool]]:
    """(answered turn or None, helpful?) for one sender's conversations in order: each answer
    counted once, with the last feedback given on it (a 👍 then a 👎 counts as 👎)."""
    last_answer: Optional[Turn] = None
    votes: Dict[int, Tuple[Optional[Turn], bool]] = {}
    for conversation in conversations:
        for turn in conversation.turns:
            helpful = turn.feedback
            if helpful is not None:
                # keyed by the answer; a vote with no answer before it counts on its own
                key = last_answer.event_id if last_answer else -turn.event_id
                votes[key] = (last_answer, helpful)
            elif turn.topic:
                last_answer = turn
    return iter(votes.values())


def user_texts(engine: sa.engine.Engine, event_ids: Sequence[int]) -> Dict[int, str]:
    """The text of the given user events (for cramp-export-nlu only: this reads health data)."""
    events = events_table()
    text = _json(engine, events.c.data)[("text",)].as_string()
    found: Dict[int, str] = {}
    ids = list(event_ids)
    with engine.connect() as connection:
        for start in range(0, len(ids), 500):
            query = sa.select(events.c.id, text).where(
                events.c.id.in_(ids[start : start + 500]), events.c.type_name == "user"
            )
            found.update({row[0]: row[1] or "" for row in connection.execute(query)})
    return found
