"""Every figure of the operator report, counted from conversations (cramp_ops.turns).

Plain counts only; how a count may be shown (the "<5" rule) is cramp_ops.small_counts' job, so
the tests can check the true figures and the shown ones separately.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Dict, List, Optional, Sequence, Tuple

from actions.knowledge import TOPIC_IDS
from cramp_nlu.terms import TIERS
from cramp_ops.turns import CHECK_START_ACTION, Conversation, Selection, rated_answers, utc_day

#: an answer given although NLU was less sure of its intent than this counts as low-confidence
LOW_CONFIDENCE = 0.5
#: feedback given before any topic was answered (in the selection) is counted under this key
NO_TOPIC = "(no topic before it)"


@dataclass
class CheckCounts:
    """The guided check, counted per check (one start, possibly paused and resumed)."""

    started: int = 0
    finished: int = 0  # reached the summary
    stopped: int = 0  # paused with "stop" and not resumed to the end
    unfinished: int = 0  # left mid-way without a stop (the conversation ended)
    resumed: int = 0  # times a paused check was picked up again


@dataclass
class Figures:
    first_event: Optional[date] = None
    last_event: Optional[date] = None
    days: List[date] = field(default_factory=list)
    conversations: int = 0
    turns: int = 0
    turns_per_conversation: List[int] = field(default_factory=list)
    conversations_per_day: Counter = field(default_factory=Counter)
    turns_per_day: Counter = field(default_factory=Counter)
    channels: List[str] = field(default_factory=list)
    conversations_per_channel: Counter = field(default_factory=Counter)
    turns_per_channel: Counter = field(default_factory=Counter)
    conversations_per_day_channel: Counter = field(default_factory=Counter)  # (day, channel)
    turns_per_day_channel: Counter = field(default_factory=Counter)
    topics: Counter = field(default_factory=Counter)  # answers per topic
    tiers: Counter = field(default_factory=Counter)  # conversations by highest tier
    tiers_per_day: Counter = field(default_factory=Counter)  # (day, tier)
    fallbacks: int = 0
    fallbacks_per_day: Counter = field(default_factory=Counter)
    low_confidence: int = 0
    low_confidence_per_day: Counter = field(default_factory=Counter)
    offered: Counter = field(default_factory=Counter)  # topic -> times offered
    check: CheckCounts = field(default_factory=CheckCounts)
    helpful: Counter = field(default_factory=Counter)  # topic -> 👍 answers
    unhelpful: Counter = field(default_factory=Counter)  # topic -> 👎 answers
    low_confidence_threshold: float = LOW_CONFIDENCE

    @property
    def topic_answers(self) -> int:
        return sum(self.topics.values())

    @property
    def rated(self) -> Counter:
        return self.helpful + self.unhelpful

    @property
    def feedback_topics(self) -> List[str]:
        """Every topic, then feedback that came before any answer."""
        return list(TOPIC_IDS) + [NO_TOPIC]


def day_range(first: date, last: date) -> List[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _check(conversation: Conversation, counts: CheckCounts) -> None:
    state: Optional[str] = None  # None, "running", "paused"
    for turn in conversation.turns:
        if CHECK_START_ACTION in turn.actions:
            if state == "paused":
                counts.resumed += 1
                state = "running"
            elif state is None:
                counts.started += 1
                state = "running"
        if turn.check_stopped and state == "running":
            state = "paused"
        if turn.check_finished and state is not None:
            counts.finished += 1
            state = None
    if state == "paused":
        counts.stopped += 1
    elif state == "running":
        counts.unfinished += 1


def _low_confidence(turn, threshold: float) -> bool:
    return (
        not turn.fallback
        and turn.confidence is not None
        and turn.confidence < threshold
        and turn.feedback is None
    )


def compute(
    selection: Selection, low_confidence: float = LOW_CONFIDENCE, channels: Sequence[str] = ()
) -> Figures:
    """All the report's figures. Conversations count on the day (UTC) of their first message,
    turns on their own day; a conversation's channel is its first message's. `channels` (the
    configured ones) are listed even when nobody used them, then any other channel seen."""
    figures = Figures(low_confidence_threshold=low_confidence)
    if selection.first_event is not None:
        figures.first_event = utc_day(selection.first_event)
        figures.last_event = utc_day(selection.last_event)
        figures.days = day_range(figures.first_event, figures.last_event)
    seen = set()
    for conversation in selection.conversations:
        figures.conversations += 1
        figures.turns_per_conversation.append(len(conversation.turns))
        figures.conversations_per_day[conversation.day] += 1
        figures.conversations_per_channel[conversation.channel] += 1
        figures.conversations_per_day_channel[conversation.day, conversation.channel] += 1
        figures.tiers[conversation.tier] += 1
        figures.tiers_per_day[conversation.day, conversation.tier] += 1
        _check(conversation, figures.check)
        for turn in conversation.turns:
            figures.turns += 1
            seen.add(turn.channel)
            figures.turns_per_day[turn.day] += 1
            figures.turns_per_channel[turn.channel] += 1
            figures.turns_per_day_channel[turn.day, turn.channel] += 1
            if turn.topic:
                figures.topics[turn.topic] += 1
            if turn.fallback:
                figures.fallbacks += 1
                figures.fallbacks_per_day[turn.day] += 1
                figures.offered.update(turn.offered)
            if _low_confidence(turn, low_confidence):
                figures.low_confidence += 1
                figures.low_confidence_per_day[turn.day] += 1
    figures.channels = list(dict.fromkeys(channels)) + sorted(seen - set(channels))
    for conversations in selection.senders:
        for answer, helpful in rated_answers(conversations):
            topic = answer.topic if answer else NO_TOPIC
            (figures.helpful if helpful else figures.unhelpful)[topic] += 1
    return figures


def tier_rows(figures: Figures) -> List[Tuple[date, Dict[str, int]]]:
    """Per day: conversations by highest tier (every tier, zeros included)."""
    return [
        (day, {tier: figures.tiers_per_day[day, tier] for tier in TIERS}) for day in figures.days
    ]
