"""The real-message corpus (tests/data/real): big enough, consistent, and its frozen part frozen.

The frozen part is the headline measurement only while nothing was written from it: its cases
never change (a checksum each), its sites are not in the development part, and no training
example, red-flag term or question wording contains one of its messages.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cramp_harness import real_corpus

ROOT = Path(__file__).resolve().parent.parent


def _words(text: str) -> list:
    return re.findall(r"[a-z0-9']+", text.lower())


def test_the_corpus_is_consistent_and_the_frozen_part_unchanged():
    assert real_corpus.check() == []


def test_the_corpus_is_big_enough_to_measure():
    dev, frozen = real_corpus.load(real_corpus.DEV), real_corpus.load(real_corpus.FROZEN)
    assert len(frozen) >= 200
    assert len(dev) + len(frozen) >= 600
    benign = [c for c in frozen if c["urgency"] == ["none"]]
    needs_care = [c for c in frozen if "none" not in c["urgency"]]
    assert len(benign) >= 50 and len(needs_care) >= 30


def test_a_changed_frozen_case_is_caught(monkeypatch):
    frozen = real_corpus.load(real_corpus.FROZEN)
    changed = [dict(frozen[0], urgency=["emergency"]), *frozen[1:]]
    original = real_corpus.load
    monkeypatch.setattr(
        real_corpus, "load", lambda p: changed if p == real_corpus.FROZEN else original(p)
    )
    assert any("was changed" in problem for problem in real_corpus.check())


def test_the_training_examples_are_the_development_part_as_generated():
    """data/nlu/real_dev.yml is exactly what `scripts/real_corpus.py training` writes from dev.yml:
    no hand-written example and nothing from the frozen part."""
    assert real_corpus.TRAINING.read_text(encoding="utf-8") == real_corpus.training_yaml()


@pytest.mark.parametrize(
    "written",
    [
        *sorted((ROOT / "data" / "nlu").glob("*.yml")),
        *sorted((ROOT / "tests" / "nlu").glob("*.yml")),
        ROOT / "cramp_nlu" / "data" / "red_flags.yml",
        ROOT / "cramp_nlu" / "data" / "question_kinds.yml",
    ],
    ids=lambda p: p.name,
)
def test_nothing_is_written_from_a_frozen_message(written):
    """No run of ten words of a frozen message appears in training data, terms or wordings."""
    text = " ".join(_words(written.read_text(encoding="utf-8")))
    for case in real_corpus.load(real_corpus.FROZEN):
        for run in real_corpus.word_runs(case["text"]):
            assert run not in text, f"{written.name} holds frozen words: {run!r}"
