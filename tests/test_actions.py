"""The custom actions, run in-process on real rasa_sdk trackers, as the action server runs them."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Tuple

import pytest
from conftest import user_event
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import ActionAnswerTopic, ActionTellMore
from actions.conversation import ActionSmallTalk, ActionStartOver
from actions.fallback import ActionSuggestTopics
from actions.feedback import PAYLOADS as FEEDBACK_PAYLOADS
from actions.knowledge import knowledge, phrases
from cramp_nlu.escalation import wording
from cramp_nlu.factory import shared_detector

KB = knowledge()
NO_FLAGS = {"tier": "none", "reasons": [], "findings": []}


def slot(name: str, value: Any) -> Dict[str, Any]:
    return {"event": "slot", "timestamp": None, "name": name, "value": value}


def medication(value: str) -> Dict[str, Any]:
    return {"entity": "medication", "value": value, "text": value, "start": 0, "end": len(value)}


def run(action, tracker, domain) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """Runs an action the way the action server does; returns (events, dispatched messages)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    return events, dispatcher.messages


def slot_sets(events) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def payloads(message) -> List[str]:
    """The answer's own buttons (the 👍 / 👎 feedback buttons are tested in test_feedback.py)."""
    return [
        b["payload"] for b in message.get("buttons") or [] if b["payload"] not in FEEDBACK_PAYLOADS
    ]


def test_actions_have_the_domain_names(domain):
    names = [
        ActionAnswerTopic().name(),
        ActionTellMore().name(),
        ActionSuggestTopics().name(),
        ActionSmallTalk().name(),
        ActionStartOver().name(),
    ]
    assert names == [
        "action_answer_topic",
        "action_tell_more",
        "action_suggest_topics",
        "action_small_talk",
        "action_start_over",
    ]
    assert set(names) <= set(domain["actions"])
    assert "utter_help" in domain["responses"] and "utter_rephrase" in domain["responses"]


# ---------------------------------------------------------------- ActionAnswerTopic


@pytest.mark.parametrize("topic_id", sorted(KB.topics))
def test_answer_states_the_topic_and_names_its_section(make_tracker, domain, topic_id):
    topic = KB[topic_id]
    events, messages = run(ActionAnswerTopic(), make_tracker("question", f"ask_{topic_id}"), domain)
    assert slot_sets(events) == {"urgency": "none", "topic": topic_id, "topics": [topic_id]}
    assert len(messages) == 1
    text = messages[-1]["text"]
    assert f"(From the article's section \u201c{topic.section}\u201d.)" in text
    # each part of the answer, then the section it comes from (its own, unless it names another)
    position = 0
    for section, texts in topic.answer_groups():
        part = " ".join(texts)
        assert text.index(part, position) < text.index(KB.citation(section), position)
        position = text.index(KB.citation(section), position)
    assert text.index(topic.answer_groups()[0][1][0]) < text.index(topic.section)


def test_answer_buttons_offer_more_and_two_related_topics(make_tracker, domain):
    _, messages = run(ActionAnswerTopic(), make_tracker("why at night?", "ask_cause_night"), domain)
    buttons = messages[-1]["buttons"]
    assert buttons[0] == {"title": "Tell me more", "payload": "/tell_more"}
    assert payloads(messages[-1])[1:] == ["/ask_treat_night", "/ask_cause_dehydration"]
    assert buttons[1]["title"] == KB["treat_night"].title


def test_answer_without_anything_more_offers_no_tell_me_more(make_tracker, domain):
    assert not KB["treat_nerve"].details and not KB["treat_nerve"].tell_more
    _, messages = run(ActionAnswerTopic(), make_tracker("nerve cramps?", "ask_treat_nerve"), domain)
    assert "/tell_more" not in payloads(messages[-1])
    assert payloads(messages[-1]) == [f"/ask_{r}" for r in KB["treat_nerve"].related[:2]]


@pytest.mark.parametrize("topic_id", ["causes", "treatment"])
def test_overview_answers_offer_more(make_tracker, domain, topic_id):
    _, messages = run(ActionAnswerTopic(), make_tracker("q", f"ask_{topic_id}"), domain)
    assert payloads(messages[-1]) == ["/tell_more"] + [
        f"/ask_{r}" for r in KB[topic_id].related[:2]
    ]


@pytest.mark.parametrize("topic_id", sorted(KB.topics))
def test_answer_buttons_are_valid_intents(make_tracker, domain, topic_id):
    _, messages = run(ActionAnswerTopic(), make_tracker("q", f"ask_{topic_id}"), domain)
    for payload in payloads(messages[-1]):
        assert payload.lstrip("/") in domain["intents"]
    assert len(payloads(messages[-1])) <= 3


def test_general_question_with_an_entity_answers_the_specific_cause(make_tracker, domain):
    tracker = make_tracker(
        "what causes cramps in pregnancy?",
        "ask_causes",
        entities=[{"entity": "condition", "value": "pregnancy"}],
    )
    events, messages = run(ActionAnswerTopic(), tracker, domain)
    assert slot_sets(events)["topic"] == "cause_pregnancy"
    assert "baby" in messages[-1]["text"]
    assert "7) Pregnancy" in messages[-1]["text"]


@pytest.mark.parametrize(
    "value, use",
    [
        ("furosemide", "diuretic"),
        ("Furosemide", "diuretic"),
        ("statin", "cholesterol"),
        ("naproxen", "anti-inflammatory"),
        ("raloxifene", "osteoporosis"),
        ("clonazepam", "seizures"),
        ("citalopram", "antidepressant"),
    ],
)
def test_named_medicine_is_named_in_the_answer(make_tracker, domain, value, use):
    tracker = make_tracker(
        f"can {value} cause cramps?", "ask_cause_medication", entities=[medication(value)]
    )
    events, messages = run(ActionAnswerTopic(), tracker, domain)
    text = messages[-1]["text"]
    assert slot_sets(events)["topic"] == "cause_medication"
    assert f"{value.lower().capitalize()}: the article names it" in text
    assert use in text
    assert "does not name" not in text
    assert KB["cause_medication"].answer in text
    assert text.index(value.lower().capitalize()) < text.index(KB["cause_medication"].answer)


@pytest.mark.parametrize(
    "kind, said, named",
    [
        ("diuretic", "water pills", "furosemide"),
        ("cholesterol medicine", "cholesterol pills", "statins"),
    ],
)
def test_a_kind_of_medicine_is_not_taken_for_the_one_the_article_names(
    make_tracker, domain, kind, said, named
):
    """ "water pills": the article names one diuretic, furosemide; the answer says so without
    telling the person that their own tablet is the one named."""
    tracker = make_tracker(
        f"do {said} cause cramps?", "ask_cause_medication", entities=[medication(kind)]
    )
    _, messages = run(ActionAnswerTopic(), tracker, domain)
    text = messages[-1]["text"]
    assert "the article names it" not in text
    note = text.split("\n")[0]
    medicine = KB.medicine_kinds[kind]
    assert note == phrases().text(
        "medicine_kind",
        kind=medicine.said,
        name=medicine.named,
        use=KB.all_medicines[medicine.medicine].use,
        which=medicine.which,
    )
    assert named in note and "does not say whether yours is" in note


def test_general_causes_question_about_a_medicine_names_it(make_tracker, domain):
    tracker = make_tracker(
        "can lasix give me cramps", "ask_causes", entities=[medication("furosemide")]
    )
    events, messages = run(ActionAnswerTopic(), tracker, domain)
    assert slot_sets(events)["topic"] == "cause_medication"
    assert "Furosemide: the article names it" in messages[-1]["text"]


def test_gabapentin_is_named_in_the_treatment_answer(make_tracker, domain):
    tracker = make_tracker(
        "does gabapentin help?", "ask_treat_medication", entities=[medication("gabapentin")]
    )
    events, messages = run(ActionAnswerTopic(), tracker, domain)
    assert slot_sets(events)["topic"] == "treat_medication"
    text = messages[-1]["text"]
    assert "Gabapentin: the article names it" in text
    assert "anticonvulsant" in text
    # the article's context: a provider prescribing it, never a suggestion to take it
    note = text.split("\n")[0]
    assert "provider may prescribe" in note and "may ease" in note


def test_which_medicines_names_the_six_the_article_names(make_tracker, domain):
    tracker = make_tracker("which medicines can cause foot cramps?", "ask_cause_medication")
    _, messages = run(ActionAnswerTopic(), tracker, domain)
    text = messages[-1]["text"]
    for name in ("naproxen", "raloxifene", "statins", "furosemide", "clonazepam", "citalopram"):
        assert name in text, name
    assert "have been linked to" in text and "in some people" in text


@pytest.mark.parametrize("topic_id", ["cause_medication", "treat_medication", "magnesium"])
def test_our_safety_rule_follows_the_citation_marked_as_ours(make_tracker, domain, topic_id):
    topic = KB[topic_id]
    _, messages = run(ActionAnswerTopic(), make_tracker("q", f"ask_{topic_id}"), domain)
    text = messages[-1]["text"]
    note = phrases().text("own_note", note=topic.own_note)
    assert text.endswith(note)
    assert "not the article's" in note
    assert text.index(topic.section) < text.index(topic.own_note)


def test_unknown_medicine_on_the_treatment_topic(make_tracker, domain):
    tracker = make_tracker(
        "does amitriptyline help cramps?",
        "ask_treat_medication",
        entities=[medication("amitriptyline")],
    )
    _, messages = run(ActionAnswerTopic(), tracker, domain)
    text = messages[-1]["text"]
    assert "The article does not name amitriptyline" in text
    assert "gabapentin" in text and "100" not in text


def test_unknown_medicine_is_said_not_to_be_named(make_tracker, domain):
    tracker = make_tracker(
        "does metformin cause cramps?", "ask_cause_medication", entities=[medication("metformin")]
    )
    events, messages = run(ActionAnswerTopic(), tracker, domain)
    text = messages[-1]["text"]
    assert slot_sets(events)["topic"] == "cause_medication"
    assert "The article does not name metformin" in text
    assert "100" in text and "provider" in text
    assert "the article names it" not in text


def test_known_and_unknown_medicines_together(make_tracker, domain):
    tracker = make_tracker(
        "statins and metformin?",
        "ask_cause_medication",
        entities=[medication("statin"), medication("metformin")],
    )
    _, messages = run(ActionAnswerTopic(), tracker, domain)
    text = messages[-1]["text"]
    assert "Statin: the article names it" in text
    assert "does not name metformin" in text


def test_repeated_medicine_is_noted_once(make_tracker, domain):
    tracker = make_tracker(
        "lasix, furosemide",
        "ask_cause_medication",
        entities=[medication("furosemide"), medication("furosemide")],
    )
    _, messages = run(ActionAnswerTopic(), tracker, domain)
    assert messages[-1]["text"].count("Furosemide: the article names it") == 1


def test_medicine_note_only_on_medicine_topics(make_tracker, domain):
    tracker = make_tracker(
        "night cramps on statins", "ask_cause_night", entities=[medication("statin")]
    )
    events, messages = run(ActionAnswerTopic(), tracker, domain)
    assert slot_sets(events)["topic"] == "cause_night"
    assert "the article names it" not in messages[-1]["text"]
    assert "does not name" not in messages[-1]["text"]


def test_non_medication_entities_are_not_treated_as_medicines(make_tracker, domain):
    tracker = make_tracker(
        "pills?", "ask_cause_medication", entities=[{"entity": "condition", "value": "pregnancy"}]
    )
    _, messages = run(ActionAnswerTopic(), tracker, domain)
    assert "does not name" not in messages[-1]["text"]
    assert messages[-1]["text"].startswith(KB["cause_medication"].answer)


def test_followup_after_a_cause_answers_its_treatment(make_tracker, domain):
    tracker = make_tracker(
        "how do I treat that?",
        "ask_followup_treatment",
        events=[slot("topic", "cause_night"), slot("topic", None)],
    )
    events, messages = run(ActionAnswerTopic(), tracker, domain)
    assert slot_sets(events)["topic"] == "treat_night"
    assert "dorsiflexion night splint" in messages[-1]["text"]


def test_followup_with_no_previous_topic_answers_general_treatment(make_tracker, domain):
    tracker = make_tracker("how do I treat it?", "ask_followup_treatment")
    events, _ = run(ActionAnswerTopic(), tracker, domain)
    assert slot_sets(events)["topic"] == "treatment"


def test_followup_ignores_topics_of_an_earlier_session(make_tracker, domain):
    tracker = make_tracker(
        "how do I treat that?",
        "ask_followup_treatment",
        events=[slot("topic", "cause_pregnancy"), {"event": "session_started", "timestamp": None}],
    )
    events, _ = run(ActionAnswerTopic(), tracker, domain)
    assert slot_sets(events)["topic"] == "treatment"


def test_reported_see_doctor_signs_get_the_see_doctor_answer(make_tracker, domain):
    tracker = make_tracker(
        "my feet tingle and I get cramps",
        "report_symptoms",
        triage={"tier": "see_doctor", "reasons": ["numbness_or_tingling"], "findings": []},
        intent_ranking=[
            {"name": "report_symptoms", "confidence": 0.9},
            {"name": "ask_cause_night", "confidence": 0.05},
        ],
    )
    events, messages = run(ActionAnswerTopic(), tracker, domain)
    assert slot_sets(events) == {
        "urgency": "see_doctor",
        "topic": "see_doctor",
        "topics": ["see_doctor"],
    }
    assert messages[0]["text"].startswith(wording().headlines["see_doctor"])
    assert all(t in messages[-1]["text"] for _, ts in KB["see_doctor"].answer_groups() for t in ts)


@pytest.mark.parametrize(
    "text, tier, reason",
    [
        ("my calf is red and swollen", "urgent", "possible_vein_clot"),
        ("leg cramp and now my chest hurts and my calf is swollen", "emergency", "chest_pain"),
    ],
)
def test_reported_urgent_signs_get_the_action_once_and_nothing_after(
    make_tracker, domain, text, tier, reason
):
    """An emergency is not followed by routine advice: the escalation (the action, once, and
    why) is the whole turn, with no general see-a-doctor answer and no "Tell me more" buttons."""
    tracker = make_tracker(
        text,
        "report_symptoms",
        triage={"tier": tier, "reasons": [reason], "findings": []},
        intent_ranking=[
            {"name": "report_symptoms", "confidence": 0.9},
            {"name": "ask_see_doctor", "confidence": 0.05},
        ],
    )
    events, messages = run(ActionAnswerTopic(), tracker, domain)
    assert slot_sets(events) == {"urgency": tier, "topic": "see_doctor", "topics": ["see_doctor"]}
    assert len(messages) == 1
    (escalation,) = messages
    assert escalation["text"] == wording().message(tier, [reason])["text"]
    assert escalation["text"].count(wording().actions[tier]) == 1
    assert f"Why: {wording().whys[reason]}" in escalation["text"]
    assert not escalation.get("buttons")


def test_asking_when_to_see_a_doctor_with_an_emergency_gets_the_escalation_only(
    make_tracker, domain
):
    tracker = make_tracker(
        "my chest hurts and my leg is swollen, should I see a doctor?",
        "ask_see_doctor",
        triage={"tier": "emergency", "reasons": ["chest_pain"], "findings": []},
    )
    events, messages = run(ActionAnswerTopic(), tracker, domain)
    assert slot_sets(events)["topic"] == "see_doctor"
    assert len(messages) == 1 and "911" in messages[0]["text"]


def test_a_question_asked_alongside_an_emergency_is_answered_after_it(make_tracker, domain):
    tracker = make_tracker(
        "my chest hurts and my calf is swollen, does magnesium help?",
        "report_symptoms",
        triage={"tier": "emergency", "reasons": ["chest_pain"], "findings": []},
        intent_ranking=[
            {"name": "report_symptoms", "confidence": 0.6},
            {"name": "ask_magnesium", "confidence": 0.35},
        ],
    )
    events, messages = run(ActionAnswerTopic(), tracker, domain)
    assert slot_sets(events) == {
        "urgency": "emergency",
        "topic": "magnesium",
        "topics": ["magnesium"],
    }
    escalation, answer = messages
    assert "911" in escalation["text"]
    assert KB["magnesium"].answer in answer["text"]


def test_a_report_not_worded_as_a_question_is_not_answered_as_one(make_tracker, domain):
    tracker = make_tracker(
        "my calf is red and swollen and i take magnesium",
        "report_symptoms",
        triage={"tier": "urgent", "reasons": ["possible_vein_clot"], "findings": []},
        intent_ranking=[
            {"name": "report_symptoms", "confidence": 0.6},
            {"name": "ask_magnesium", "confidence": 0.35},
        ],
    )
    events, messages = run(ActionAnswerTopic(), tracker, domain)
    assert slot_sets(events)["topic"] == "see_doctor"
    assert len(messages) == 1


def test_reported_symptoms_without_urgency_answer_the_closest_question(make_tracker, domain):
    tracker = make_tracker(
        "I get cramps at night",
        "report_symptoms",
        slots={"urgency": "none"},
        intent_ranking=[
            {"name": "report_symptoms", "confidence": 0.7},
            {"name": "ask_cause_night", "confidence": 0.2},
        ],
    )
    events, _ = run(ActionAnswerTopic(), tracker, domain)
    assert slot_sets(events)["topic"] == "cause_night"


@pytest.mark.parametrize("intent", ["greet", "tell_more", "nlu_fallback", None])
def test_no_knowledge_question_gives_help(make_tracker, domain, intent):
    events, messages = run(ActionAnswerTopic(), make_tracker("hmm", intent), domain)
    assert slot_sets(events) == {"urgency": "none", "topic": None, "topics": []}
    assert [m["response"] for m in messages] == ["utter_help"]


# ---------------------------------------------------------------- ActionTellMore


def test_tell_more_gives_the_details_of_the_last_topic(make_tracker, domain):
    tracker = make_tracker(
        "tell me more",
        "tell_more",
        events=[slot("topic", "cause_night"), slot("urgency", "none"), slot("topic", None)],
    )
    events, messages = run(ActionTellMore(), tracker, domain)
    assert slot_sets(events)["topic"] == "cause_night"
    text = messages[-1]["text"]
    for detail in KB["cause_night"].details:
        assert f"\u2022 {detail}" in text
    assert KB["cause_night"].answer not in text
    assert "8) Nocturnal Cramps" in text
    assert payloads(messages[-1]) == [f"/ask_{r}" for r in KB["cause_night"].related]


def test_tell_more_follows_the_latest_topic(make_tracker, domain):
    tracker = make_tracker(
        "more",
        "tell_more",
        events=[
            slot("topic", "cause_night"),
            slot("topic", None),
            slot("topic", "cause_electrolytes"),
            slot("topic", None),
        ],
    )
    events, messages = run(ActionTellMore(), tracker, domain)
    assert slot_sets(events)["topic"] == "cause_electrolytes"
    assert "hypokalaemia" in messages[-1]["text"]
    assert "Magnesium" in messages[-1]["text"]


def test_tell_more_offers_all_related_topics(make_tracker, domain):
    tracker = make_tracker("more", "tell_more", events=[slot("topic", "causes")])
    _, messages = run(ActionTellMore(), tracker, domain)
    assert len(messages[-1]["buttons"]) == 8  # every cause, not just the first two


@pytest.mark.parametrize("topic_id", ["causes", "treatment"])
def test_tell_more_after_an_overview_offers_its_sub_topics_truthfully(
    make_tracker, domain, topic_id
):
    tracker = make_tracker("more", "tell_more", events=[slot("topic", topic_id)])
    events, messages = run(ActionTellMore(), tracker, domain)
    assert slot_sets(events)["topic"] == topic_id
    text = messages[-1]["text"]
    assert text == KB[topic_id].tell_more
    assert "all the article says" not in text and "everything the article says" not in text
    assert payloads(messages[-1]) == [f"/ask_{r}" for r in KB[topic_id].related]


def test_tell_more_on_a_topic_whose_answer_said_it_all(make_tracker, domain):
    tracker = make_tracker("more", "tell_more", events=[slot("topic", "treat_nerve")])
    events, messages = run(ActionTellMore(), tracker, domain)
    assert slot_sets(events)["topic"] == "treat_nerve"
    assert messages[-1]["text"].startswith(
        "That is everything the article says on treating cramps from nerve damage"
    )
    assert payloads(messages[-1]) == [f"/ask_{r}" for r in KB["treat_nerve"].related]


def test_tell_more_cites_each_detail_to_its_own_section(make_tracker, domain):
    tracker = make_tracker("more", "tell_more", events=[slot("topic", "magnesium")])
    _, messages = run(ActionTellMore(), tracker, domain)
    text = messages[-1]["text"]
    assert f"\u201c{KB['cause_electrolytes'].section}\u201d" in text
    assert f"\u201c{KB['magnesium'].section}\u201d" not in text
    assert text.endswith(phrases().text("own_note", note=KB["magnesium"].own_note))
    tracker = make_tracker("more", "tell_more", events=[slot("topic", "see_doctor")])
    _, messages = run(ActionTellMore(), tracker, domain)
    lines = messages[-1]["text"].split("\n")
    # the conclusion (see a specialist straight away), the circulation section for pain at rest,
    # then the conclusion again (no replacement for professional advice)
    cited = [line for line in lines if line.startswith("(From")]
    assert cited == [
        KB.citation("conclusion"),
        KB.citation("What Are the 8 Causes of Cramps? \u2013 5) Peripheral Vascular Disease"),
        KB.citation("conclusion"),
    ]


def test_a_yes_that_reports_an_emergency_gets_only_the_escalation(make_tracker, domain):
    tracker = make_tracker(
        "yes, but now my foot has gone cold and blue",
        "affirm",
        triage={"tier": "emergency", "reasons": ["cold_limb"], "findings": []},
        events=[slot("topic", "cause_night")],
    )
    events, messages = run(ActionTellMore(), tracker, domain)
    assert slot_sets(events) == {"urgency": "emergency", "topic": None, "topics": []}
    assert len(messages) == 1 and "911" in messages[0]["text"]


def test_an_explicit_tell_me_more_is_still_answered_after_an_escalation(make_tracker, domain):
    tracker = make_tracker(
        "tell me more, my foot has gone cold",
        "tell_more",
        triage={"tier": "emergency", "reasons": ["cold_limb"], "findings": []},
        events=[slot("topic", "cause_night")],
    )
    events, messages = run(ActionTellMore(), tracker, domain)
    assert slot_sets(events) == {
        "urgency": "emergency",
        "topic": "cause_night",
        "topics": ["cause_night"],
    }
    assert "911" in messages[0]["text"] and "8) Nocturnal Cramps" in messages[1]["text"]


@pytest.mark.parametrize(
    "events",
    [
        [],
        [slot("topic", None)],
        [slot("topic", "cause_night"), {"event": "session_started", "timestamp": None}],
    ],
)
def test_tell_more_without_a_topic_gives_help(make_tracker, domain, events):
    events_out, messages = run(
        ActionTellMore(), make_tracker("more", "tell_more", events=events), domain
    )
    assert slot_sets(events_out) == {"urgency": "none", "topic": None, "topics": []}
    assert [m["response"] for m in messages] == ["utter_help"]


# ---------------------------------------------------------------- ActionSuggestTopics


def test_fallback_offers_three_closest_topics_and_all_topics(make_tracker, domain):
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.7},
        {"name": "ask_cause_night", "confidence": 0.4},
        {"name": "greet", "confidence": 0.2},
        {"name": "ask_followup_treatment", "confidence": 0.15},
        {"name": "ask_treat_night", "confidence": 0.1},
        {"name": "ask_magnesium", "confidence": 0.05},
        {"name": "ask_see_doctor", "confidence": 0.01},
    ]
    tracker = make_tracker("blah cramps zzz", "nlu_fallback", intent_ranking=ranking)
    events, messages = run(ActionSuggestTopics(), tracker, domain)
    assert slot_sets(events) == {"urgency": "none", "topic": None, "topics": []}
    assert len(messages) == 1
    assert messages[-1]["response"] == "utter_rephrase"
    assert payloads(messages[-1]) == [
        "/ask_cause_night",
        "/ask_treat_night",
        "/ask_magnesium",
        "/help",
    ]
    assert messages[-1]["buttons"][-1] == {"title": "Show all topics", "payload": "/help"}
    assert messages[-1]["buttons"][0]["title"] == KB["cause_night"].title


def test_fallback_with_fewer_candidates(make_tracker, domain):
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.7},
        {"name": "ask_definition", "confidence": 0.2},
        {"name": "ask_definition", "confidence": 0.1},
        {"name": "thank", "confidence": 0.05},
    ]
    tracker = make_tracker("???", "nlu_fallback", intent_ranking=ranking)
    _, messages = run(ActionSuggestTopics(), tracker, domain)
    assert payloads(messages[-1]) == ["/ask_definition", "/help"]


def test_fallback_without_knowledge_candidates_still_offers_all_topics(make_tracker, domain):
    tracker = make_tracker(
        "???",
        "nlu_fallback",
        intent_ranking=[
            {"name": "nlu_fallback", "confidence": 0.9},
            {"name": "greet", "confidence": 0.1},
        ],
    )
    _, messages = run(ActionSuggestTopics(), tracker, domain)
    assert messages[-1]["buttons"] == [{"title": "Show all topics", "payload": "/help"}]


def test_fallback_after_an_urgent_escalation_offers_no_menu(make_tracker, domain):
    tracker = make_tracker(
        "blah my foot went cold and blue zzz",
        "nlu_fallback",
        intent_ranking=[
            {"name": "nlu_fallback", "confidence": 0.9},
            {"name": "ask_cause_night", "confidence": 0.1},
        ],
    )
    events, messages = run(ActionSuggestTopics(), tracker, domain)
    assert slot_sets(events) == {"urgency": "emergency", "topic": None, "topics": []}
    assert len(messages) == 1 and not messages[0].get("buttons")
    assert "911" in messages[0]["text"]


# ---------------------------------------------------------------- stories: two questions, earlier turns


def question(intent: str, confidence: float = 0.9) -> Dict[str, Any]:
    return {"name": intent, "confidence": confidence}


def test_two_questions_get_two_answers_first_one_first(make_tracker, domain):
    tracker = make_tracker(
        "why do my feet cramp in heels and what shoes should I wear?",
        "ask_cause_footwear",
        questions=[question("ask_cause_footwear"), question("ask_treat_footwear")],
        triage=NO_FLAGS,
    )
    events, messages = run(ActionAnswerTopic(), tracker, domain)
    assert slot_sets(events) == {
        "urgency": "none",
        "topic": "cause_footwear",
        "topics": ["cause_footwear", "treat_footwear"],
    }
    assert [
        KB[t].answer in m["text"]
        for t, m in zip(["cause_footwear", "treat_footwear"], messages, strict=True)
    ] == [True, True]
    # the buttons (tell me more about `topic`) sit under the first answer only
    assert payloads(messages[0]) and not messages[1].get("buttons")


def test_the_same_topic_asked_twice_is_answered_once(make_tracker, domain):
    tracker = make_tracker(
        "why at night? why does it happen at night?",
        "ask_cause_night",
        questions=[question("ask_cause_night"), question("ask_cause_night", 0.8)],
        triage=NO_FLAGS,
    )
    events, messages = run(ActionAnswerTopic(), tracker, domain)
    assert slot_sets(events)["topics"] == ["cause_night"]
    assert len(messages) == 1


def test_a_general_question_takes_the_cause_told_in_an_earlier_turn(make_tracker, domain):
    pregnant = {
        "entity": "condition",
        "value": "pregnancy",
        "text": "pregnant",
        "start": 0,
        "end": 8,
    }
    tracker = make_tracker(
        "what can I do about the cramps?",
        "ask_treatment",
        events=[user_event("I'm six months pregnant", "report_symptoms", entities=[pregnant])],
        triage=NO_FLAGS,
    )
    events, _ = run(ActionAnswerTopic(), tracker, domain)
    assert slot_sets(events)["topic"] == "treat_pregnancy"


def test_urgent_what_to_do_is_answered_by_the_escalation(make_tracker, domain):
    triage = shared_detector()("my mum's calf is red, hot and swollen").as_dict()
    tracker = make_tracker(
        "my mum's calf is red, hot and swollen. What should we do?",
        "ask_treatment",
        questions=[question("ask_treatment")],
        triage=triage,
    )
    events, messages = run(ActionAnswerTopic(), tracker, domain)
    assert slot_sets(events)["urgency"] == "urgent"
    assert slot_sets(events)["topic"] == "see_doctor"
    # only the escalation: no general advice dilutes it
    assert len(messages) == 1 and messages[0]["text"].startswith(wording().headlines["urgent"])


def test_a_sign_told_earlier_adds_up_with_one_told_now(make_tracker, domain):
    detector = shared_detector()
    earlier = user_event(
        "I'm pregnant", "report_symptoms", triage=detector("I'm pregnant").as_dict()
    )
    now = "I've suddenly got really blurry vision and my feet are cramping"
    tracker = make_tracker(now, "report_symptoms", events=[earlier], triage=detector(now).as_dict())
    events, messages = run(ActionAnswerTopic(), tracker, domain)
    assert detector(now).tier == "none"  # on its own the message says nothing urgent
    assert slot_sets(events)["urgency"] == "urgent"
    assert messages[0]["text"].startswith(wording().headlines["urgent"])


def test_a_follow_up_pointing_back_is_about_the_earlier_medicine(make_tracker, domain):
    statin = medication("atorvastatin")
    tracker = make_tracker(
        "could that be why my feet have started cramping?",
        "ask_cause_dehydration",
        events=[user_event("I take atorvastatin", "ask_cause_medication", entities=[statin])],
        triage=NO_FLAGS,
    )
    events, _ = run(ActionAnswerTopic(), tracker, domain)
    assert slot_sets(events)["topic"] == "cause_medication"


def test_a_pattern_completed_over_two_messages_sets_the_subject(make_tracker, domain):
    detector = shared_detector()
    walk = "I walk the dog every morning"
    now = "after a block my calves cramp and I have to stop until it passes. is that normal?"
    tracker = make_tracker(
        now,
        "ask_cause_night",
        events=[user_event(walk, "report_symptoms", triage=detector(walk).as_dict())],
        triage=detector(now).as_dict(),
    )
    events, _ = run(ActionAnswerTopic(), tracker, domain)
    assert slot_sets(events)["urgency"] == "see_doctor"
    assert slot_sets(events)["topic"] == "cause_vascular"


def test_an_unsure_story_about_cramps_gets_its_best_topic_not_a_rephrase(make_tracker, domain):
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.7},
        {"name": "ask_causes", "confidence": 0.25},
        {"name": "ask_cause_footwear", "confidence": 0.2},
        {"name": "greet", "confidence": 0.1},
    ]
    tracker = make_tracker(
        "my toes do this strange thing in the pool, they curl right under and lock",
        "nlu_fallback",
        intent_ranking=ranking,
    )
    events, messages = run(ActionSuggestTopics(), tracker, domain)
    assert slot_sets(events) == {"urgency": "none", "topic": "causes", "topics": ["causes"]}
    assert not any(m.get("response") == "utter_rephrase" for m in messages)
    assert KB["causes"].section in messages[0]["text"]
    assert payloads(messages[-1]) == ["/ask_cause_footwear", "/help"]


def test_a_short_unclear_message_still_gets_the_rephrase_menu(make_tracker, domain):
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.7},
        {"name": "ask_causes", "confidence": 0.3},
    ]
    tracker = make_tracker("foot zzz?", "nlu_fallback", intent_ranking=ranking)
    _, messages = run(ActionSuggestTopics(), tracker, domain)
    assert messages[-1]["response"] == "utter_rephrase"


def test_the_medicine_rule_is_said_once_in_a_turn(make_tracker, domain):
    """An escalation for a suspected medicine says our 'do not stop ...' rule; the answer after it
    leaves its own copy of the rule out."""
    tracker = make_tracker(
        "since starting atorvastatin my feet cramp, is it the tablets?",
        "ask_cause_medication",
        triage={
            "tier": "see_doctor",
            "reasons": ["medicine_suspected"],
            "findings": [],
        },
    )
    _, messages = run(ActionAnswerTopic(), tracker, domain)
    said = " ".join(m.get("text") or "" for m in messages).lower()
    assert said.count("a safety rule of this assistant, not the article's words") == 1
