"""Scripted multi-turn conversations with the expected `topic` slot after each turn.

Shared by scripts/cluster_test.py, scripts/bench.py and tests/test_persistence.py. A `Turn` with
`topic=ANY` is not checked; `topic=None` means the slot must be null after that turn. The cause
openings are phrasings from tests/data/contract_cases.yml and the README; the follow-up
"how do I treat that?" must give the matching treat_ topic (the evaluation contract).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import List, Optional, Tuple

ANY = object()


@dataclass(frozen=True)
class Turn:
    text: str
    topic: object = ANY  # expected slot value after the turn: a topic ID, None, or ANY


#: one opening per cause: (message, cause topic); "how do I treat that?" then gives treat_<cause>
CAUSES: List[Tuple[str, str]] = [
    ("can wearing high heels cause foot cramps", "cause_footwear"),
    ("why do my feet cramp at night?", "cause_night"),
    ("does low sodium cause muscle cramps", "cause_electrolytes"),
    ("does sciatica cause foot cramps", "cause_nerve"),
    ("why am I getting foot cramps now that I'm pregnant", "cause_pregnancy"),
    ("is PAD a reason for leg cramps when walking", "cause_vascular"),
    ("can lasix cause cramps in your feet", "cause_medication"),
    ("can being dehydrated give me foot cramps", "cause_dehydration"),
]
FOLLOW_UP = "how do I treat that?"
GREETINGS = ["hello", "hi there", "hey", "good morning"]
THANKS = ["thanks a lot", "thank you", "cheers, that was useful"]
KNOWLEDGE: List[Tuple[str, str]] = [
    ("what is a foot cramp", "definition"),
    ("any evidence magnesium tablets work", "magnesium"),
    ("what usually causes cramps in the foot", "causes"),
    ("what signs mean I should get my cramps checked", "see_doctor"),
]


def treat_of(cause_topic: str) -> str:
    return "treat_" + cause_topic.split("_", 1)[1]


def cramp_conversation(index: int, knowledge_questions: int = 2) -> List[Turn]:
    """Greeting, knowledge question(s), a cause, the follow-up, thanks (5 to 7 turns).

    `index` rotates through the causes and phrasings, so consecutive conversations differ.
    """
    cause_text, cause = CAUSES[index % len(CAUSES)]
    knowledge = list(
        itertools.islice(
            itertools.cycle(KNOWLEDGE),
            index % len(KNOWLEDGE),
            index % len(KNOWLEDGE) + knowledge_questions,
        )
    )
    return (
        [Turn(GREETINGS[index % len(GREETINGS)])]
        + [Turn(text, topic) for text, topic in knowledge]
        + [
            Turn(cause_text, cause),
            Turn(FOLLOW_UP, treat_of(cause)),
            Turn(THANKS[index % len(THANKS)], None),
        ]
    )


#: Rasa's `rasa init` example bot (moodbot): six turns its stories and rules answer
MOODBOT_CONVERSATION: List[Turn] = [
    Turn(t) for t in ("hi", "I am sad", "yes", "I am feeling great", "are you a bot?", "bye")
]


def check_topic(turn: Turn, actual: Optional[str]) -> Optional[str]:
    """None when the slot matches the expectation, else a short description of the mismatch."""
    if turn.topic is ANY or actual == turn.topic:
        return None
    return f"{turn.text!r}: topic {actual!r}, expected {turn.topic!r}"
