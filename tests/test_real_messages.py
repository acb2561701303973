"""The real-message evaluation corpus itself (tests/data/real_messages.yml): size, coverage, valid
labels, sources, and kept apart from the NLU training and held-out data. Fast: no servers, no model.

The corpus is scored against the real assistant by scripts/real_eval.py; this only checks that what
it measures stays meaningful (enough benign stories to measure false alarms, enough see-a-doctor and
worse stories to measure under-triage, every topic and tier represented).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest
import yaml

from cramp_nlu.terms import SUBJECTS, TIERS

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "real_messages.yml"
NLU_FILES = sorted((ROOT / "data" / "nlu").glob("*.yml")) + sorted(
    (ROOT / "tests" / "nlu").glob("*.yml")
)

CAUSES = SUBJECTS
#: the 21 topic IDs of the evaluation contract (README)
TOPIC_IDS = {
    "definition",
    "causes",
    "treatment",
    "magnesium",
    "see_doctor",
    *(f"cause_{c}" for c in CAUSES),
    *(f"treat_{c}" for c in CAUSES),
}
KINDS = {
    "story",
    "letter",
    "typo",
    "third_person",
    "multi_question",
    "greeting_question",
    "multi_turn",
    "question",
    "benign",
    "denied",
    "figurative",
    "long_standing",
    "past_episode",
    "claudication",
    "diabetic_numbness",
    "persistent",
    "rest_pain",
}
#: messages shorter than this ("hello", "tell me more") are too generic to count as copied
MIN_WORDS_COPIED = 4
#: NLU examples at least this long must not appear inside a corpus message
MIN_WORDS_EXAMPLE_INSIDE = 8

CASES: List[Dict] = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))["cases"]


def lowest(urgency: List[str]) -> str:
    return min(urgency, key=TIERS.index)


def messages(case: Dict) -> List[str]:
    if "turns" in case:
        return [t if isinstance(t, str) else t["text"] for t in case["turns"]]
    return [case["text"]]


def labelled_turns(case: Dict) -> Iterator[Dict]:
    """Every set of labels in the case: the case's own (its last turn) and any per-turn ones."""
    yield {"topics": case.get("topics"), "urgency": case.get("urgency")}
    for turn in case.get("turns", []):
        if isinstance(turn, dict):
            yield {k: turn[k] for k in ("topics", "urgency") if k in turn}


def kinds(case: Dict) -> List[str]:
    kind = case.get("kind")
    return [kind] if isinstance(kind, str) else list(kind or [])


def normalise(text: str) -> str:
    """Lower case, Rasa entity annotations unwrapped ([Lasix](medication) -> lasix), punctuation
    dropped, whitespace collapsed: so a copy is found whatever its punctuation or annotation."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # [text](entity)
    text = re.sub(r"\[([^\]]*)\]\{[^}]*\}", r"\1", text)  # [text]{"entity": ...}
    text = re.sub(r"[^\w\s]", " ", text.lower())
    return " ".join(text.split())


def nlu_examples() -> List[str]:
    examples = []
    for path in NLU_FILES:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu", []) or []:
            raw = block.get("examples") if isinstance(block, dict) else None
            if isinstance(raw, str):
                examples += [
                    line.strip()[2:] for line in raw.splitlines() if line.strip().startswith("- ")
                ]
    return [normalise(e) for e in examples if e.strip()]


# ---- size and coverage ---------------------------------------------------------------------------
def test_at_least_150_cases():
    assert len(CASES) >= 150, len(CASES)


def test_every_topic_id_is_covered():
    covered = {
        t for case in CASES for labels in labelled_turns(case) for t in (labels.get("topics") or [])
    }
    missing = TOPIC_IDS - covered
    assert not missing, sorted(missing)


def test_topic_ids_are_the_knowledge_files():
    knowledge_file = ROOT / "data" / "knowledge" / "topics.yml"
    knowledge = yaml.safe_load(knowledge_file.read_text(encoding="utf-8"))
    assert {t["id"] for t in knowledge["topics"]} == TOPIC_IDS


def test_every_tier_is_required_somewhere():
    required = {lowest(case["urgency"]) for case in CASES}
    assert required == set(TIERS), required


def test_at_least_40_benign_or_denied_cases():
    benign = [case for case in CASES if case["urgency"] == ["none"]]
    assert len(benign) >= 40, len(benign)
    assert sum("denied" in kinds(c) for c in benign) >= 10


def test_at_least_40_see_doctor_or_worse_cases():
    serious = [case for case in CASES if lowest(case["urgency"]) != "none"]
    assert len(serious) >= 40, len(serious)
    assert sum(lowest(c["urgency"]) in ("urgent", "emergency") for c in serious) >= 15


@pytest.mark.parametrize(
    "kind",
    [
        "story",
        "letter",
        "typo",
        "third_person",
        "multi_question",
        "greeting_question",
        "multi_turn",
        "figurative",
        "denied",
        "claudication",
        "diabetic_numbness",
        "persistent",
        "long_standing",
    ],
)
def test_every_voice_is_represented(kind):
    assert sum(kind in kinds(case) for case in CASES) >= 2, kind


def test_some_cases_come_from_public_pages():
    assert sum(case["source"].startswith("http") for case in CASES) >= 30


# ---- valid labels --------------------------------------------------------------------------------
def case_problems(case: Dict) -> List[str]:
    """What is wrong with one case's shape and labels (empty when nothing is)."""
    problems = []
    if ("text" in case) == ("turns" in case):
        return ["exactly one of text / turns"]
    if "turns" in case:
        if len(case["turns"]) < 2:
            problems.append("a conversation has at least two turns")
        problems += [
            f"unknown turn keys {turn}"
            for turn in case["turns"]
            if not isinstance(turn, str) and not set(turn) <= {"text", "topics", "urgency"}
        ]
    if not all(isinstance(m, str) and m.strip() for m in messages(case)):
        problems.append("empty message")
    if "topics" not in case or "urgency" not in case:
        problems.append("the last turn needs topics and urgency")
    for labels in labelled_turns(case):
        topics = labels.get("topics")
        if topics is not None:
            if not isinstance(topics, list) or not all(t is None or t in TOPIC_IDS for t in topics):
                problems.append(f"bad topics {topics}")
            elif len(set(topics)) != len(topics):
                problems.append(f"duplicate topic in {topics}")
        urgency = labels.get("urgency")
        if urgency is not None and (
            not isinstance(urgency, list) or not urgency or not all(t in TIERS for t in urgency)
        ):
            problems.append(f"bad urgency {urgency}")
    if not kinds(case) or not set(kinds(case)) <= KINDS:
        problems.append(f"bad kind {kinds(case)}")
    if ("multi_turn" in kinds(case)) != ("turns" in case):
        problems.append("kind multi_turn if and only if turns")
    source = case.get("source")
    if source != "written" and not re.match(r"https?://\S+$", str(source)):
        problems.append(f"source must be a URL or 'written', not {source!r}")
    return problems


def test_every_case_is_well_formed_with_valid_labels():
    bad = {i: p for i, case in enumerate(CASES) if (p := case_problems(case))}
    assert not bad, bad


def test_every_case_has_a_source():
    assert all(case.get("source") for case in CASES)
    assert not [c for c in CASES if c["source"] != "written" and not c["source"].startswith("http")]


def test_no_duplicate_messages():
    firsts = [normalise(" | ".join(messages(case))) for case in CASES]
    duplicates = {m for m in firsts if firsts.count(m) > 1}
    assert not duplicates, duplicates


# ---- kept apart from training and the held-out NLU split -----------------------------------------
@pytest.fixture(scope="module")
def examples() -> List[str]:
    found = nlu_examples()
    assert len(found) > 500, "the NLU files were not read"
    return found


def test_no_corpus_message_is_in_the_nlu_data(examples):
    """A message is copied when it is a training example, or when a long one (eight words or
    more) sits inside one; a short message inside a retold story ("I'm six months pregnant")
    is a coincidence of everyday words, not a copy."""
    whole = {normalise(e) for e in examples}
    joined = "\n".join(f" {normalise(e)} " for e in examples)  # word boundaries on both sides
    copied: List[Optional[str]] = []
    for case in CASES:
        for message in messages(case):
            text = normalise(message)
            words = len(text.split())
            if words >= MIN_WORDS_COPIED and (
                text in whole or (words >= 8 and f" {text} " in joined)
            ):
                copied.append(message)
    assert not copied, copied


def test_no_long_nlu_example_is_inside_a_corpus_message(examples):
    corpus = [f" {normalise(m)} " for case in CASES for m in messages(case)]
    inside = [
        e
        for e in examples
        if len(e.split()) >= MIN_WORDS_EXAMPLE_INSIDE
        and any(f" {e} " in message for message in corpus)
    ]
    assert not inside, inside
