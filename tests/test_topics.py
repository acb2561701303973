"""Choosing the topic of a turn: intent, entities, the previous topic and the triage tier."""

from __future__ import annotations

import pytest

from actions.knowledge import TOPIC_IDS
from actions.topics import (
    escalation_answers,
    followup_treatment,
    resolve_topic,
    resolve_topics,
    sharpen,
    subject_in_context,
    subjects_in,
)

CAUSES = [t for t in TOPIC_IDS if t.startswith("cause_")]
TREATMENTS = [t for t in TOPIC_IDS if t.startswith("treat_")]


def ent(entity, value):
    return {"entity": entity, "value": value}


def resolve(intent, entities=(), previous=None, urgency="none", ranking=(), earlier=()):
    return resolve_topic(
        intent=intent,
        entities=entities,
        previous_topic=previous,
        urgency=urgency,
        earlier_entities=earlier,
        intent_ranking=ranking,
    )


# ---------------------------------------------------------------- intent -> topic


@pytest.mark.parametrize("topic_id", TOPIC_IDS)
def test_knowledge_intent_gives_its_topic(topic_id):
    assert resolve(f"ask_{topic_id}") == topic_id


@pytest.mark.parametrize(
    "intent",
    [
        "greet",
        "goodbye",
        "thank",
        "affirm",
        "deny",
        "help",
        "out_of_scope",
        "bot_challenge",
        "tell_more",
        "nlu_fallback",
        "ask_cause_gout",
        None,
    ],
)
def test_non_knowledge_intents_give_no_topic(intent):
    assert resolve(intent) is None


def test_specific_intent_is_not_overridden_by_an_entity():
    # a specific question keeps its topic even when an entity points elsewhere
    assert resolve("ask_cause_night", [ent("condition", "pregnancy")]) == "cause_night"
    assert resolve("ask_treat_footwear", [ent("medication", "statin")]) == "treat_footwear"
    assert resolve("ask_magnesium", [ent("time", "night")]) == "magnesium"


# ---------------------------------------------------------------- sharpening general questions


@pytest.mark.parametrize(
    "entities, cause",
    [
        ([ent("condition", "pregnancy")], "pregnancy"),
        ([ent("condition", "Pregnancy")], "pregnancy"),
        ([ent("condition", "diabetes")], "nerve"),
        ([ent("condition", "nerve")], "nerve"),
        ([ent("condition", "circulation")], "vascular"),
        ([ent("time", "night")], "night"),
        ([ent("activity", "running")], "dehydration"),
        ([ent("activity", "exercise")], "dehydration"),
        ([ent("medication", "furosemide")], "medication"),
        ([ent("medication", "metformin")], "medication"),  # any medicine is the medication cause
        # two entities naming the same cause are still one subject
        ([ent("condition", "diabetes"), ent("condition", "nerve")], "nerve"),
        ([ent("medication", "statin"), ent("medication", "naproxen")], "medication"),
    ],
)
def test_general_question_with_one_subject_is_sharpened(entities, cause):
    assert resolve("ask_causes", entities) == f"cause_{cause}"
    assert resolve("ask_treatment", entities) == f"treat_{cause}"
    assert sharpen("causes", entities) == f"cause_{cause}"
    assert sharpen("treatment", entities) == f"treat_{cause}"


@pytest.mark.parametrize(
    "entities",
    [
        [ent("condition", "pregnancy"), ent("time", "night")],
        [ent("medication", "statin"), ent("condition", "diabetes")],
        [ent("activity", "running"), ent("time", "night")],
    ],
)
def test_general_question_with_two_subjects_stays_general(entities):
    assert resolve("ask_causes", entities) == "causes"
    assert resolve("ask_treatment", entities) == "treatment"


@pytest.mark.parametrize(
    "entities",
    [
        [],
        [ent("condition", "gout")],  # a value the article has no cause for
        [ent("activity", "standing")],  # an activity that names no cause
        [ent("time", "morning")],
        [ent("body_part", "calf")],  # an entity type that never sharpens
    ],
)
def test_general_question_without_a_known_subject_stays_general(entities):
    assert resolve("ask_causes", entities) == "causes"
    assert resolve("ask_treatment", entities) == "treatment"


@pytest.mark.parametrize("topic_id", [t for t in TOPIC_IDS if t not in ("causes", "treatment")])
def test_sharpen_leaves_other_topics_alone(topic_id):
    assert sharpen(topic_id, [ent("condition", "pregnancy")]) == topic_id


def test_subjects_in_keeps_order_and_drops_duplicates():
    entities = [
        ent("time", "night"),
        ent("condition", "pregnancy"),
        ent("time", "night"),
        ent("condition", "gout"),
    ]
    assert subjects_in(entities) == ["night", "pregnancy"]
    assert subjects_in([]) == []


def test_entity_generators_are_accepted():
    entities = (e for e in [ent("condition", "pregnancy")])
    assert resolve("ask_causes", entities) == "cause_pregnancy"


# ---------------------------------------------------------------- "how do I treat that?"


@pytest.mark.parametrize("cause", CAUSES)
def test_followup_after_a_cause_gives_its_treatment(cause):
    treatment = "treat_" + cause[len("cause_") :]
    assert treatment in TOPIC_IDS
    assert followup_treatment(cause) == treatment
    assert resolve("ask_followup_treatment", previous=cause) == treatment


@pytest.mark.parametrize("previous", TREATMENTS + ["magnesium"])
def test_followup_after_a_treatment_repeats_it(previous):
    assert resolve("ask_followup_treatment", previous=previous) == previous


@pytest.mark.parametrize(
    "previous", [None, "definition", "causes", "treatment", "see_doctor", "not_a_topic"]
)
def test_followup_without_a_cause_gives_general_treatment(previous):
    assert resolve("ask_followup_treatment", previous=previous) == "treatment"


def test_followup_ignores_entities_and_urgency():
    assert (
        resolve(
            "ask_followup_treatment",
            [ent("condition", "pregnancy")],
            previous="cause_night",
            urgency="urgent",
        )
        == "treat_night"
    )


# ---------------------------------------------------------------- report_symptoms


@pytest.mark.parametrize("urgency", ["see_doctor", "urgent", "emergency"])
def test_reported_symptoms_with_urgency_go_to_see_doctor(urgency):
    ranking = [
        {"name": "report_symptoms", "confidence": 0.8},
        {"name": "ask_cause_night", "confidence": 0.1},
    ]
    assert resolve("report_symptoms", urgency=urgency, ranking=ranking) == "see_doctor"
    assert resolve("report_symptoms", urgency=urgency) == "see_doctor"


def test_reported_symptoms_without_urgency_answer_the_best_ranked_question():
    ranking = [
        {"name": "report_symptoms", "confidence": 0.6},
        {"name": "greet", "confidence": 0.2},
        {"name": "ask_cause_night", "confidence": 0.1},
        {"name": "ask_magnesium", "confidence": 0.05},
    ]
    assert resolve("report_symptoms", urgency="none", ranking=ranking) == "cause_night"


def test_reported_symptoms_without_urgency_sharpen_a_general_question():
    ranking = [
        {"name": "report_symptoms", "confidence": 0.6},
        {"name": "ask_causes", "confidence": 0.3},
    ]
    assert (
        resolve("report_symptoms", [ent("condition", "pregnancy")], urgency="none", ranking=ranking)
        == "cause_pregnancy"
    )


def test_reported_symptoms_without_urgency_or_question_give_no_topic():
    ranking = [
        {"name": "report_symptoms", "confidence": 0.9},
        {"name": "ask_followup_treatment", "confidence": 0.05},
        {"name": "greet", "confidence": 0.05},
    ]
    assert resolve("report_symptoms", urgency="none", ranking=ranking) is None
    assert resolve("report_symptoms", urgency="none") is None


# ---------------------------------------------------------------- several topics, earlier turns


def test_other_questions_follow_the_turns_topic():
    questions = [{"name": "ask_cause_night"}, {"name": "ask_treat_night"}]
    assert resolve_topics("cause_night", questions, []) == ["cause_night", "treat_night"]


def test_at_most_two_topics_and_no_repeats():
    questions = [{"name": f"ask_{t}"} for t in ("magnesium", "magnesium", "definition", "causes")]
    assert resolve_topics("magnesium", questions, []) == ["magnesium", "definition"]


def test_non_knowledge_questions_are_ignored():
    assert resolve_topics(None, [{"name": "greet"}, {"name": "ask_source"}], []) == []


def test_a_general_question_is_sharpened_by_an_earlier_turn():
    earlier = [ent("medication", "atorvastatin")]
    assert sharpen("causes", [], earlier) == "cause_medication"
    # this message's own subject wins over an earlier one
    assert sharpen("causes", [ent("condition", "pregnancy")], earlier) == "cause_pregnancy"


def test_followup_without_a_previous_topic_uses_what_was_said_before():
    earlier = [ent("condition", "pregnancy")]
    assert resolve("ask_followup_treatment", previous=None, earlier=earlier) == "treat_pregnancy"


@pytest.mark.parametrize("urgency", ["urgent", "emergency"])
def test_from_urgent_on_what_to_do_is_the_escalation(urgency):
    questions = [{"name": "ask_treat_night"}, {"name": "ask_magnesium"}]
    assert resolve_topics("treatment", questions, [], urgency=urgency) == [
        "see_doctor",
        "magnesium",
    ]
    assert escalation_answers("cause_vascular") == "cause_vascular"


def test_below_urgent_what_to_do_is_answered():
    assert resolve_topics("treatment", [], [], urgency="see_doctor") == ["treatment"]


# ---------------------------------------------------------------- a follow-up on an earlier subject


def test_a_short_follow_up_that_points_back_takes_the_earlier_subject():
    topic = subject_in_context(
        "cause_dehydration", "could that be why my feet cramp?", [], earlier_subjects=["medication"]
    )
    assert topic == "cause_medication"
    assert subject_in_context("treatment", "what can I do about it?", [], [], ["pregnancy"]) == (
        "treat_pregnancy"
    )


def test_a_pattern_completed_now_sets_the_subject_without_pointing_back():
    text = "after a block my calves cramp and I have to stop"
    assert subject_in_context("cause_night", text, [], ["vascular"]) == "cause_vascular"
    assert subject_in_context("cause_night", text, [], [], ["vascular"]) == "cause_night"


def test_a_message_with_its_own_subject_keeps_it():
    text = "could my new shoes be why?"
    assert subject_in_context("cause_footwear", text, ["footwear"], ["nerve"], ["medication"]) == (
        "cause_footwear"
    )


def test_no_back_reference_or_two_earlier_subjects_change_nothing():
    assert subject_in_context("cause_night", "why at night?", [], [], ["medication"]) == (
        "cause_night"
    )
    assert subject_in_context("causes", "is that why?", [], [], ["medication", "pregnancy"]) == (
        "causes"
    )


def test_other_topics_are_not_retargeted():
    assert subject_in_context("magnesium", "does that help?", [], [], ["pregnancy"]) == "magnesium"
