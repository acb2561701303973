"""Reading a story and its questions: sentences, question wording, kind and subject, at most two."""

from __future__ import annotations

from typing import List, Sequence, Tuple

import pytest

from cramp_nlu.intent_model import Ranked
from cramp_nlu.story_reading import (
    MAX_QUESTIONS,
    parse_wordings,
    read_story,
    split_sentences,
    worded_kind,
)

INTENTS = [
    "greet",
    "thank",
    "report_symptoms",
    "start_cramp_check",
    "ask_causes",
    "ask_treatment",
    "ask_followup_treatment",
    "ask_see_doctor",
    "ask_definition",
    "ask_magnesium",
    *[f"ask_{k}_{s}" for k in ("cause", "treat") for s in ("night", "dehydration", "vascular")],
]
KNOWLEDGE = [i for i in INTENTS if i.startswith("ask_")]


def ranking(*pairs: Tuple[str, float]) -> List[Ranked]:
    return [Ranked(i, c) for i, c in pairs]


def read(whole: List[Ranked], sentences: Sequence[Tuple[str, List[Ranked]]], signs=()):
    """read_story over (sentence text, its ranking) pairs, each text read as one sentence."""
    parsed = [(split_sentences(text)[0], ranked) for text, ranked in sentences]
    return read_story(whole, parsed, KNOWLEDGE, INTENTS, list(signs))


# ---------------------------------------------------------------- sentences and wording


def test_sentences_split_at_end_punctuation_and_line_breaks():
    parts = split_sentences("My calf locks up at night. It hurts!\nAny suggestions?")
    assert [p.text for p in parts] == [
        "My calf locks up at night.",
        "It hurts!",
        "Any suggestions?",
    ]
    assert [p.is_question for p in parts] == [False, False, True]


def test_two_questions_in_one_sentence_are_two_clauses():
    parts = split_sentences("Why does it happen and what can I do about it?")
    assert [p.text for p in parts] == ["Why does it happen", "what can I do about it?"]
    assert all(p.is_question for p in parts)


def test_a_statement_with_and_is_not_split():
    assert [p.text for p in split_sentences("my feet hurt and what a day it was")] == [
        "my feet hurt and what a day it was"
    ]


@pytest.mark.parametrize(
    "text, kind",
    [
        ("Any suggestions?", "treat"),
        ("Was that it?", "cause"),
        ("Should she?", "ask_see_doctor"),
        ("What even is that?", "ask_definition"),
        ("kindly let me know what to do about it", "treat"),
        ("Is it the clogs or the hours?", "cause"),
        ("The weather was lovely.", None),
    ],
)
def test_question_wording_says_the_kind_of_answer(text, kind):
    assert worded_kind(text) == kind


def test_a_question_without_a_mark_is_found_by_its_wording():
    assert split_sentences("let me know what helps")[0].is_question


def test_unknown_kinds_in_the_wording_file_are_rejected():
    with pytest.raises(ValueError):
        parse_wordings({"gossip": ["did you hear"]})


# ---------------------------------------------------------------- kind from the question, subject from the story


def test_a_generic_question_after_a_story_takes_the_story_subject():
    whole = ranking(("ask_cause_night", 0.6), ("ask_treat_night", 0.3), ("greet", 0.1))
    reading = read(
        whole,
        [
            ("My calves lock up every night.", ranking(("ask_cause_night", 0.9))),
            ("Any suggestions?", ranking(("ask_treatment", 0.7), ("ask_causes", 0.3))),
        ],
    )
    assert reading.intent.intent == "ask_treat_night"
    assert [q.intent for q in reading.questions] == ["ask_treat_night"]
    assert reading.ranking[0] == reading.intent


def test_a_one_sentence_question_keeps_its_own_reading():
    whole = ranking(("ask_followup_treatment", 0.8), ("ask_treat_night", 0.15))
    reading = read(whole, [("how do I treat that?", whole)])
    assert reading.intent.intent == "ask_followup_treatment"


def test_a_greeting_never_hides_the_question():
    whole = ranking(("greet", 0.55), ("ask_magnesium", 0.4))
    reading = read(
        whole,
        [
            ("Hi there!", ranking(("greet", 0.99))),
            ("Does magnesium help?", ranking(("ask_magnesium", 0.95))),
        ],
    )
    assert reading.intent.intent == "ask_magnesium"


def test_a_greeting_before_a_story_without_a_question_is_not_the_intent():
    whole = ranking(("greet", 0.5), ("ask_cause_dehydration", 0.45))
    reading = read(
        whole,
        [
            ("hiya", ranking(("greet", 0.99))),
            ("my feet cramp on long runs", ranking(("ask_cause_dehydration", 0.8))),
        ],
    )
    assert reading.intent.intent.startswith("ask_")


def test_two_questions_are_both_kept_most_asked_first():
    whole = ranking(("ask_cause_night", 0.5), ("ask_treat_night", 0.45))
    reading = read(
        whole,
        [
            ("Why do I get cramps at night", ranking(("ask_cause_night", 0.9))),
            ("what can I do?", ranking(("ask_treatment", 0.8))),
        ],
    )
    assert [q.intent for q in reading.questions] == ["ask_cause_night", "ask_treat_night"]


def test_never_more_than_two_questions():
    whole = ranking(("ask_magnesium", 0.5), ("ask_see_doctor", 0.3))
    asked = [
        ("Does magnesium help?", ranking(("ask_magnesium", 0.9))),
        ("Should I see a doctor?", ranking(("ask_see_doctor", 0.9))),
        ("What is a cramp?", ranking(("ask_definition", 0.9))),
    ]
    assert len(read(whole, asked).questions) == MAX_QUESTIONS


def test_a_sign_says_what_the_story_is_about():
    # "after a block I have to stand still": the walking pattern points to the vascular cause
    whole = ranking(("ask_cause_dehydration", 0.5), ("ask_cause_vascular", 0.2))
    reading = read(
        whole,
        [
            ("After a block my calves cramp and I stand still.", whole),
            ("Is that normal?", ranking(("ask_causes", 0.6), ("ask_definition", 0.3))),
        ],
        signs=["vascular"],
    )
    assert reading.intent.intent == "ask_cause_vascular"


def test_a_command_is_not_steered_by_its_sentences():
    whole = ranking(("start_cramp_check", 0.9), ("ask_causes", 0.05))
    reading = read(
        whole,
        [
            ("Let's do the check.", ranking(("start_cramp_check", 0.9))),
            ("Why do my feet cramp?", ranking(("ask_causes", 0.9))),
        ],
    )
    assert reading.intent.intent == "start_cramp_check"
    assert [q.intent for q in reading.questions] == ["ask_causes"]


def test_the_promoted_ranking_stays_a_distribution_led_by_the_reading():
    whole = ranking(("ask_cause_night", 0.5), ("ask_treatment", 0.3), ("greet", 0.2))
    reading = read(
        whole,
        [
            ("Night cramps again.", ranking(("ask_cause_night", 0.9))),
            ("Any tips?", ranking(("ask_treatment", 0.6), ("ask_causes", 0.4))),
        ],
    )
    confidences = [r.confidence for r in reading.ranking]
    assert confidences[0] == max(confidences)
    assert sum(confidences) == pytest.approx(1.0)
    assert len({r.intent for r in reading.ranking}) == len(reading.ranking)


@pytest.mark.parametrize(
    "text, kind",
    [
        ("She hasn't told her doctor. Should she?", "ask_see_doctor"),
        ("What should they drink after a match?", "treat"),
        ("should she drink more water", None),
    ],
)
def test_a_wording_ending_in_a_question_mark_matches_only_at_the_end(text, kind):
    assert worded_kind(text) == kind


def test_a_colon_ends_a_lead_in():
    parts = split_sentences("quick one: is it normal to get toe cramps in flip flops?")
    assert [p.text for p in parts] == [
        "quick one:",
        "is it normal to get toe cramps in flip flops?",
    ]
