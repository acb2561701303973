"""The cramp-check form actions, run in-process with real trackers and dispatchers."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

import pytest
from conftest import DEFAULT_SLOTS, entity, slot_event, user_event
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.cramp_check import (
    ActionCrampCheckSummary,
    ActionStartCrampCheck,
    ValidateCrampCheckForm,
    known_answers,
    summary_text,
    with_story_answers,
)
from actions.cramp_check_rules import cramp_check
from actions.knowledge import knowledge, phrases
from actions.topics import followup_treatment
from cramp_nlu.escalation import wording

KB = knowledge()

CHECK_SLOTS = [
    "check_timing",
    "check_frequency",
    "check_duration",
    "check_pregnant",
    "check_medicines",
    "check_conditions",
    "check_footwear",
    "check_fluids",
    "check_red_flags",
]


def form_tracker(
    text: str,
    intent: Optional[str],
    requested: Optional[str],
    filled: Dict[str, Any] = None,
    candidate: Any = None,
    events: List[Dict] = (),
    triage: Optional[Dict] = None,
    entities: List[Dict] = (),
    confidence: float = 0.95,
) -> Tracker:
    """A tracker as the form's validation action receives it during the check."""
    slots = {
        **DEFAULT_SLOTS,
        **{s: None for s in CHECK_SLOTS},
        "check_retry": None,
        "check_stopped": None,
        "likely_causes": None,
        "requested_slot": requested,
        **(filled or {}),
    }
    history = list(events) + [user_event(text, intent)]
    if requested and candidate is not None:
        slots[requested] = candidate
        history.append(slot_event(requested, candidate))
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": list(entities),
        "triage": triage or {"tier": "none", "reasons": [], "findings": []},
    }
    return Tracker(
        "u1",
        slots,
        latest,
        history,
        False,
        None,
        {"name": "cramp_check_form"} if requested else {},
        "action_listen",
    )


def run(action, tracker, domain):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}, dispatcher.messages


def test_free_text_answer_is_read(domain):
    tracker = form_tracker(
        "mostly when I'm in bed at night",
        "ask_cause_night",
        "check_timing",
        candidate="mostly when I'm in bed at night",
        confidence=0.5,
    )
    slots, _ = run(ValidateCrampCheckForm(), tracker, domain)
    assert slots["check_timing"] == "night"
    assert slots["urgency"] == "none"


def test_side_question_is_answered_and_the_question_asked_again(domain):
    text = "wait, do magnesium supplements actually help?"
    tracker = form_tracker(text, "ask_magnesium", "check_frequency", candidate=text)
    slots, messages = run(ValidateCrampCheckForm(), tracker, domain)
    assert slots["check_frequency"] is None  # the form asks it again
    assert slots["topic"] == "magnesium"
    assert "Cochrane" in messages[0]["text"]
    assert messages[-1]["response"] == "utter_cramp_check_back"


def test_an_unclear_answer_is_asked_once_more_then_noted_as_not_sure(domain):
    tracker = form_tracker(
        "purple elephants",
        "out_of_scope",
        "check_duration",
        candidate="purple elephants",
        confidence=0.4,
    )
    slots, messages = run(ValidateCrampCheckForm(), tracker, domain)
    assert slots["check_duration"] is None and slots["check_retry"] == "check_duration"
    assert messages[0]["text"] == phrases().text(
        "cramp_check.unclear_answer", example=cramp_check().question("check_duration").example
    )
    assert "for example" in messages[0]["text"]
    tracker = form_tracker(
        "bananas",
        "out_of_scope",
        "check_duration",
        candidate="bananas",
        filled={"check_retry": "check_duration"},
        confidence=0.4,
    )
    slots, _ = run(ValidateCrampCheckForm(), tracker, domain)
    assert slots["check_duration"] == "not_sure" and slots["check_retry"] is None


def test_an_emergency_answer_escalates_and_ends_the_check(domain):
    text = "my foot has gone cold and blue"
    triage = {"tier": "emergency", "reasons": ["cold_limb"], "findings": []}
    tracker = form_tracker(
        text,
        "report_symptoms",
        "check_duration",
        candidate=text,
        filled={"check_timing": "night"},
        triage=triage,
    )
    slots, messages = run(ValidateCrampCheckForm(), tracker, domain)
    assert "911" in messages[0]["text"]
    assert slots["urgency"] == "emergency"
    assert all(slots[s] == "not_asked" for s in CHECK_SLOTS if s != "check_timing")


def test_stop_ends_the_form_and_marks_it_stopped(domain):
    tracker = form_tracker(
        "stop", "stop_form", "check_duration", candidate="stop", filled={"check_timing": "night"}
    )
    slots, messages = run(ValidateCrampCheckForm(), tracker, domain)
    assert slots["check_stopped"] is True and slots["requested_slot"] is None
    assert slots["check_duration"] is None  # asked again on resuming
    assert "check_timing" not in slots  # earlier answers are kept


def test_an_answer_that_looks_like_stop_or_restart_is_still_an_answer(domain):
    tracker = form_tracker("at rest", "start_over", "check_timing", candidate="at rest")
    slots, _ = run(ValidateCrampCheckForm(), tracker, domain)
    assert slots["check_timing"] == "rest" and "check_stopped" not in slots


def test_summary_after_a_stop_says_paused_and_keeps_the_answers(domain):
    tracker = form_tracker(
        "stop", "stop_form", None, filled={"check_timing": "night", "check_stopped": True}
    )
    slots, messages = run(ActionCrampCheckSummary(), tracker, domain)
    assert messages[0]["response"] == "utter_cramp_check_stopped"
    assert slots == {"check_stopped": None}


def test_start_prefills_what_was_said_earlier(domain):
    earlier = user_event("I'm 30 weeks pregnant and take lasix", "ask_cause_pregnancy")
    earlier["parse_data"]["entities"] = [
        {"entity": "condition", "value": "pregnancy"},
        {"entity": "medication", "value": "furosemide"},
    ]
    assert known_answers([earlier]) == {"check_pregnant": "yes", "check_medicines": ["furosemide"]}
    tracker = form_tracker(
        "help me figure out my cramps", "start_cramp_check", None, events=[earlier]
    )
    slots, messages = run(ActionStartCrampCheck(), tracker, domain)
    assert slots["check_pregnant"] == "yes"
    assert [m["response"] for m in messages] == [
        "utter_cramp_check_intro",
        "utter_cramp_check_known",
    ]


def told(text: str, entities: List[Dict] = ()) -> Dict[str, Any]:
    """An earlier user message of the session, with the entities the NLU found."""
    event = user_event(text, "report_symptoms")
    event["parse_data"]["entities"] = list(entities)
    return event


def test_start_prefills_every_answer_the_earlier_story_states(domain):
    earlier = [
        told("I coach football and on match days I'm sweating buckets."),
        told("I'm on my feet all day in old work boots and it happens most days"),
    ]
    assert known_answers(earlier) == {
        "check_timing": "exercise",
        "check_fluids": ["sweating"],
        "check_footwear": ["standing", "shoes"],
        "check_frequency": "most_days",
    }
    tracker = form_tracker("can you run the cramp check", "start_cramp_check", None, events=earlier)
    slots, messages = run(ActionStartCrampCheck(), tracker, domain)
    assert slots["check_footwear"] == ["standing", "shoes"]
    assert slots["check_frequency"] == "most_days"
    assert "check_duration" not in slots  # nothing was said about it: the form asks
    assert messages[-1]["response"] == "utter_cramp_check_known"


def test_the_walk_then_rest_pattern_is_prefilled_from_the_story():
    earlier = [told("After about five minutes walking my calves cramp and I have to stand still")]
    assert known_answers(earlier)["check_timing"] == "short_walk"


def test_an_earlier_denial_does_not_prefill_a_yes():
    earlier = [
        told(
            "No swelling or redness, I'm definitely not pregnant and I don't take statins",
            [entity("medication", "statin", "statins")],
        ),
        told("Could diabetes be behind it? I don't sweat much either."),
    ]
    known = known_answers(earlier)
    assert known.get("check_pregnant") != "yes"
    assert "check_red_flags" not in known
    assert "check_medicines" not in known
    assert "check_conditions" not in known  # a question about diabetes is not having it
    assert "check_fluids" not in known


def test_earlier_messages_that_disagree_leave_the_question_open():
    earlier = [told("they come at night"), told("actually it's mostly during exercise")]
    assert "check_timing" not in known_answers(earlier)


def test_one_reply_with_several_facts_fills_every_question_it_answers(domain):
    text = "at night, most days, since I started the new job on my feet"
    tracker = form_tracker(
        text,
        "report_symptoms",
        "check_timing",
        candidate=text,
        filled={"check_footwear": ["shoes"]},
        confidence=0.5,
    )
    slots, _ = run(ValidateCrampCheckForm(), tracker, domain)
    assert slots["check_timing"] == "night"
    assert slots["check_frequency"] == "most_days"  # not asked next
    assert "check_footwear" not in slots  # answered before: kept as it was
    assert "check_duration" not in slots and "check_pregnant" not in slots


def test_a_plain_reply_fills_only_its_own_question(domain):
    tracker = form_tracker("no", "deny", "check_pregnant", candidate="no")
    slots, _ = run(ValidateCrampCheckForm(), tracker, domain)
    assert slots["check_pregnant"] == "no"
    assert not set(slots) & (set(CHECK_SLOTS) - {"check_pregnant"})


def test_an_unclear_answer_still_fills_the_later_questions_it_answers(domain):
    text = "hmm, it's every day and I sweat a lot"
    tracker = form_tracker(text, "report_symptoms", "check_timing", candidate=text, confidence=0.4)
    slots, _ = run(ValidateCrampCheckForm(), tracker, domain)
    assert slots["check_timing"] is None and slots["check_retry"] == "check_timing"
    assert slots["check_frequency"] == "most_days" and slots["check_fluids"] == ["sweating"]


def test_summary_ranks_causes_and_sets_the_contract_slots(domain):
    answers = {
        "check_timing": "night",
        "check_frequency": "most_days",
        "check_duration": "minutes",
        "check_pregnant": "no",
        "check_medicines": ["statin"],
        "check_conditions": ["none"],
        "check_footwear": ["neither"],
        "check_fluids": ["neither"],
        "check_red_flags": ["none"],
    }
    tracker = form_tracker("none", "deny", None, filled=answers)
    slots, messages = run(ActionCrampCheckSummary(), tracker, domain)
    assert slots["likely_causes"] == ["cause_medication", "cause_night"]
    assert slots["urgency"] == "see_doctor"
    text = messages[0]["text"]
    assert text.index("Medicines as a cause") < text.index("Night cramps")
    assert "Book an appointment" in text and "not a diagnosis" in text
    assert all(slots[s] is None for s in CHECK_SLOTS)  # ready for a new check


def test_summary_keeps_an_earlier_higher_tier(domain):
    answers = {s: "not_asked" for s in CHECK_SLOTS}
    tracker = form_tracker(
        "ok", "affirm", None, filled=answers, events=[slot_event("urgency", "emergency")]
    )
    slots, messages = run(ActionCrampCheckSummary(), tracker, domain)
    assert slots["urgency"] == "emergency"
    assert "911" in messages[0]["text"]


def test_an_emergency_answer_is_not_followed_by_a_summary(domain):
    """The check's last turn after an emergency answer: the escalation said what to do and why;
    no causes or self-care follow it."""
    answers = {s: "not_asked" for s in CHECK_SLOTS}
    answers["check_timing"] = "night"
    tracker = form_tracker(
        "my foot has gone cold and blue",
        "report_symptoms",
        None,
        filled={**answers, "urgency": "emergency"},
        events=[slot_event("urgency", "emergency")],
    )
    slots, messages = run(ActionCrampCheckSummary(), tracker, domain)
    assert messages == []
    assert slots["urgency"] == "emergency" and "cause_night" in slots["likely_causes"]
    # the cold, blue foot told in this very message counts for the red-flag question too (as a
    # skin-colour sign: a reason to see a provider, not a cause the article ties it to)
    merged = with_story_answers(cramp_check(), answers, tracker.events)
    assert "skin_colour" in merged["check_red_flags"]
    assert "cause_vascular" not in slots["likely_causes"]


# ---------------------------------------------------------------- the summary's text


def cause_lines(text):
    return [line for line in text.split("\n") if line[:1].isdigit()]


@pytest.mark.parametrize("cause", [t for t in KB.topics if t.startswith("cause_")])
def test_each_cause_line_cites_the_section_of_its_own_sentences(cause):
    (line,) = cause_lines(summary_text([cause], "none", []))
    topics = cramp_check().summary.advice_topics(cause, followup_treatment(cause))
    for topic_id in topics:
        topic = KB[topic_id]
        sentence = f"{topic.advice_text} (From the article's section \u201c{topic.section}\u201d.)"
        assert sentence in line, (cause, topic_id)
    treatment = KB[followup_treatment(cause)]
    if KB[cause].section not in {KB[t].section for t in topics}:
        assert KB[cause].section not in line  # never the cause's section for the treatment
    assert treatment.id in topics


def test_the_footwear_line_carries_advice():
    (line,) = cause_lines(summary_text(["cause_footwear"], "none", []))
    assert "well-fitted, supportive shoes" in line
    assert "The right shoes make a real difference." not in line


def test_short_walk_pattern_puts_the_appointment_first():
    text = summary_text(["cause_vascular"], "see_doctor", ["w"])
    lines = text.split("\n")
    assert lines[0] == phrases().text(
        "cramp_check.summary.action", action=wording().actions["see_doctor"]
    )
    (line,) = cause_lines(text)
    assert line.index("appointment quickly") < line.index("physical therapy")
    assert "diagnosed" in line


SEE_DOCTOR_POINTS = [
    "frequent, severe or persistent",
    "swelling",
    "redness",
    "muscle weakness",
    "colour of the skin",
    "sleep",
    "get around",
    "do not improve",
    "self-care",
    "even at rest",
    "appointment quickly",
    "Numbness",
]


@pytest.mark.parametrize(
    "causes, tier",
    [
        ([], "none"),
        (["cause_night"], "none"),
        (["cause_vascular", "cause_nerve"], "see_doctor"),
        (["cause_medication"], "see_doctor"),
    ],
)
def test_the_summary_is_no_diagnosis_and_gives_the_full_see_doctor_list(causes, tier):
    text = summary_text(causes, tier, [])
    assert "point to" not in text and "your cause" not in text.lower()
    assert "Nothing you told me" not in text and "right now" not in text
    if causes:
        assert phrases().text("cramp_check.summary.causes_heading") in text
    see_doctor = text[text.index(phrases().text("cramp_check.summary.see_doctor_heading")) :]
    for point in SEE_DOCTOR_POINTS:
        assert point in see_doctor or point in text, point
    # the rubric's numbness is marked as our rule, not the article's
    numbness = next(line for line in text.split("\n") if line.startswith("\u2022 Numbness"))
    assert numbness.endswith(wording().labels["ours"])
    assert text.endswith(KB.disclaimer)
    if tier != "none":
        assert text.startswith(
            phrases().text("cramp_check.summary.action", action=wording().actions[tier])
        )


WEAKER_THAN_AN_ESCALATION = ["appointment", "Book", "book", "self-care such as", "Drink", "shoes"]


@pytest.mark.parametrize("tier", ["urgent", "emergency"])
@pytest.mark.parametrize("with_action", [True, False])
def test_from_urgent_on_the_summary_is_never_weaker_than_the_escalation(tier, with_action):
    """No home advice and no "book an appointment" after an urgent or emergency escalation: the
    action (unless the escalation just said it), then the one line that the rest can wait."""
    causes = ["cause_vascular", "cause_footwear", "cause_dehydration"]
    whys = [r.why for r in cramp_check().tiers if r.target == "urgent"]
    text = summary_text(causes, tier, whys, with_action=with_action)
    lines = text.split("\n")
    assert lines[-1] == phrases().text("cramp_check.summary.urgent_rest_waits")
    assert phrases().text("cramp_check.summary.causes_heading") not in text
    assert phrases().text("cramp_check.summary.see_doctor_heading") not in text
    for weaker in WEAKER_THAN_AN_ESCALATION:
        assert weaker not in text.replace(wording().actions[tier], ""), weaker
    if with_action:
        assert lines[0] == phrases().text(
            "cramp_check.summary.action", action=wording().actions[tier]
        )
    else:
        assert lines == [phrases().text("cramp_check.summary.urgent_rest_waits")]


@pytest.mark.parametrize(
    "tier, whys",
    [
        ("see_doctor", ["a", "b", "c"]),  # two earlier reasons win the two "Why:" lines
        ("urgent", ["rest"]),  # the tier rose: the medicine's reason is not among the whys
        ("emergency", []),
        ("none", []),
    ],
)
def test_a_suspected_medicine_always_brings_the_rule_of_ours(tier, whys):
    rule = wording().own_rule_text("medicine_suspected")
    assert "do not stop a prescribed medicine on your own" in rule.lower()
    text = summary_text(["cause_medication"], tier, whys, own_rules=["medicine_suspected"])
    assert text.count(rule) == 1
    # said once, even when the medicine's reason is itself among the whys
    reason = wording().reason_text("medicine_suspected")
    text = summary_text(
        ["cause_medication"], "see_doctor", [reason], own_rules=["medicine_suspected"]
    )
    assert text.count(rule) == 1


def test_the_summary_action_brings_the_medicine_rule_for_a_named_or_suspected_medicine(domain):
    answers = {s: "not_sure" for s in CHECK_SLOTS}
    answers.update(
        check_frequency="most_days",
        check_duration="longer",
        check_medicines=["statin"],
        check_red_flags=["pain_at_rest"],
    )
    tracker = form_tracker(
        "my foot hurts even when I'm resting",
        "report_symptoms",
        None,
        filled={**answers, "urgency": "urgent"},
        events=[slot_event("urgency", "urgent")],
    )
    slots, messages = run(ActionCrampCheckSummary(), tracker, domain)
    assert slots["urgency"] == "urgent"
    text = messages[0]["text"]
    assert wording().own_rule_text("medicine_suspected") in text
    assert "appointment" not in text and "Book" not in text
    # a medicine the person only suspects ("since starting these tablets"), none the article names
    answers.update(check_medicines=["other"], check_red_flags=["none"], check_duration="minutes")
    tracker = form_tracker(
        "no",
        "deny",
        None,
        filled=answers,
        events=[user_event("my cramps started when I began these new tablets", "report_symptoms")],
    )
    slots, messages = run(ActionCrampCheckSummary(), tracker, domain)
    assert wording().own_rule_text("medicine_suspected") in messages[0]["text"]


def test_nothing_in_the_see_doctor_list_repeats_a_cause_line():
    text = summary_text(["cause_vascular"], "see_doctor", [])
    assert text.count(KB["cause_vascular"].advice) == 1


def test_an_urgent_last_answer_says_the_action_once_in_its_turn(domain):
    """Pain at rest as the last answer: the escalation above gives the action and why; the summary
    right after it does not repeat them."""
    answers = {
        "check_timing": "rest",
        "check_frequency": "most_days",
        "check_duration": "longer",
        "check_pregnant": "no",
        "check_medicines": ["none"],
        "check_conditions": ["none"],
        "check_footwear": ["neither"],
        "check_fluids": ["neither"],
        "check_red_flags": ["pain_at_rest"],
    }
    tracker = form_tracker(
        "my foot hurts even when I'm resting",
        "report_symptoms",
        None,
        filled={**answers, "urgency": "urgent"},
        events=[slot_event("urgency", "urgent")],
    )
    slots, messages = run(ActionCrampCheckSummary(), tracker, domain)
    assert slots["urgency"] == "urgent" and slots["likely_causes"][0] == "cause_vascular"
    text = messages[0]["text"]
    assert wording().actions["urgent"] not in text and not text.startswith("What to do")
    # never weaker than the escalation: no appointment to book, no self-care, the rest can wait
    assert "appointment" not in text and KB["treat_vascular"].answer not in text
    assert text == phrases().text("cramp_check.summary.urgent_rest_waits")
