"""The NLU training data looks like real messages: every knowledge intent has stories."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import List, Tuple

import pytest
from rasa.shared.nlu.training_data.loading import load_data

ROOT = Path(__file__).resolve().parent.parent
#: the share of each knowledge intent's examples that are multi-sentence stories
MIN_STORY_SHARE = 0.25
NOT_KNOWLEDGE = {"ask_source", "ask_followup_treatment"}


def is_story(text: str) -> bool:
    """At least two sentences (end punctuation followed by more text)."""
    return len([s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]) >= 2


def examples(folder: Path) -> List[Tuple[str, str]]:
    data = load_data(str(folder))
    return [(m.get("intent"), m.get("text")) for m in data.intent_examples]


TRAINING = examples(ROOT / "data" / "nlu")
KNOWLEDGE = sorted({i for i, _ in TRAINING if i.startswith("ask_") and i not in NOT_KNOWLEDGE})


def test_story_check_counts_sentences():
    assert is_story("My calf locks up. Any tips?")
    assert not is_story("why do my calves lock up at night?")


@pytest.mark.parametrize("intent", KNOWLEDGE)
def test_a_quarter_of_each_knowledge_intent_are_stories(intent):
    texts = [t for i, t in TRAINING if i == intent]
    stories = [t for t in texts if is_story(t)]
    assert len(stories) / len(texts) >= MIN_STORY_SHARE, (intent, len(stories), len(texts))


def test_no_held_out_example_is_in_training():
    held_out = {t.lower() for _, t in examples(ROOT / "tests" / "nlu")}
    assert not held_out & {t.lower() for _, t in TRAINING}


def test_no_training_example_is_repeated():
    repeated = [t for t, n in Counter(t.lower() for _, t in TRAINING).items() if n > 1]
    assert not repeated, repeated
