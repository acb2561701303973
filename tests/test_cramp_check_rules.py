"""The cramp check's rules table: reading answers, ranking causes, the tier."""

from __future__ import annotations

import copy

import pytest
import yaml

from actions import config
from actions.cramp_check import stated_signs
from actions.cramp_check_rules import (
    ARTICLE_MEDICINE,
    NOT_ASKED,
    NOT_SURE,
    SKIPPED,
    CrampCheckError,
    agreed_answer,
    answers_tier,
    cramp_check,
    facts_from,
    parse_cramp_check,
    rank_causes,
    read_answer,
    read_unprompted,
    stated_medicines,
    stated_text,
)
from cramp_nlu.escalation import wording
from cramp_nlu.terms import SUBJECTS

ARTICLE_MEDICINES = ["naproxen", "raloxifene", "statin", "furosemide", "clonazepam", "citalopram"]


@pytest.fixture(scope="module")
def check():
    return cramp_check()


def read(check, slot, text, **kwargs):
    return read_answer(
        check.question(slot),
        text,
        skip_words=check.skip_words,
        unsure_words=check.unsure_words,
        **kwargs,
    )


@pytest.mark.parametrize(
    "slot, text, expected",
    [
        ("check_timing", "mostly at night in bed", "night"),
        ("check_timing", "after a short walk, then I have to stop", "short_walk"),
        ("check_timing", "when I'm out running", "exercise"),
        ("check_timing", "any_time", "any_time"),  # a button payload
        ("check_frequency", "pretty much every night", "most_days"),
        ("check_frequency", "now and then", "occasional"),
        ("check_duration", "just a few seconds", "seconds"),
        ("check_pregnant", "I'm not pregnant", "no"),
        ("check_pregnant", "yes, 30 weeks", "yes"),
        ("check_conditions", "type 2 diabetes and some nerve damage", ["diabetes", "nerve"]),
        ("check_footwear", "I'm a nurse so on my feet all day", ["standing"]),
        ("check_fluids", "i sweat loads and barely drink water", ["sweating", "low_fluids"]),
        ("check_red_flags", "none of these", ["none"]),
        ("check_timing", "dunno really", NOT_SURE),
        ("check_pregnant", "skip", SKIPPED),
        ("check_timing", "purple elephants", None),
        ("check_timing", "after short walks", "short_walk"),  # a plural still matches
        # a denied phrase is no answer, a phrase that holds the negation is one
        ("check_conditions", "no diabetes or anything", ["none"]),
        ("check_footwear", "no, my shoes are fine", ["neither"]),
        ("check_fluids", "I don't drink much water", ["low_fluids"]),
        ("check_timing", "never at night", None),
        ("check_frequency", "not every day, just now and then", "occasional"),
    ],
)
def test_reading_answers(check, slot, text, expected):
    assert read(check, slot, text) == expected


def test_medicines_come_from_the_nlu_entities(check):
    assert read(check, "check_medicines", "I take Lipitor", medicines=["statin"]) == ["statin"]
    assert read(check, "check_medicines", "nope, none") == ["none"]


def test_red_flags_come_from_the_triage_signs_so_denials_hold(check):
    # "no swelling but numb toes": the triage reported only numbness
    answer = read(
        check, "check_red_flags", "no swelling but numb toes", signs=["numbness_or_tingling"]
    )
    assert answer == ["numbness"]


def unprompted(check, slot, text, **kwargs):
    return read_unprompted(check, check.question(slot), text, **kwargs)


@pytest.mark.parametrize(
    "slot, text, expected",
    [
        ("check_fluids", "I do triathlons and sweat buckets in summer", ["sweating"]),
        ("check_timing", "I do triathlons and sweat buckets in summer", "exercise"),
        (
            "check_footwear",
            "I work in a warehouse in steel toe boots, standing",
            ["shoes", "standing"],
        ),
        ("check_frequency", "they come back most days now", "most_days"),
        ("check_timing", "they come back most days now", None),
        ("check_conditions", "my GP says I have peripheral artery disease", ["circulation"]),
        ("check_pregnant", "we found out I'm pregnant last month", "yes"),
        # the walk-then-rest pattern, as the red-flag component reads it
        (
            "check_timing",
            "walking to the bus my calf seizes up and I have to stop until it passes",
            "short_walk",
        ),
    ],
)
def test_a_story_states_answers(check, slot, text, expected):
    assert unprompted(check, slot, text, signs=stated_signs({"text": text})) == expected


@pytest.mark.parametrize(
    "slot, text",
    [
        # denied or hypothetical
        ("check_fluids", "I don't really sweat much"),
        ("check_fluids", "if it's hot I might sweat"),
        ("check_conditions", "I'm not diabetic and my circulation was checked and is fine"),
        ("check_footwear", "my boots are fine"),
        # a question about something else, not about the person
        ("check_pregnant", "Can pregnancy cause leg cramps?"),
        ("check_timing", "Do runners get cramps more?"),
        # words that mean something only as the reply to the question
        ("check_red_flags", "no, nothing else"),
        ("check_footwear", "both of my calves"),
        ("check_timing", "I stand all day"),
        ("check_duration", "I walk for an hour each morning"),
        ("check_frequency", "I always stretch first"),
        ("check_pregnant", "yes, that's right"),
        # "not sure" is an answer only when asked
        ("check_timing", "I'm not sure what sets them off"),
        # a one-answer question told two different answers
        ("check_timing", "I swim a lot and they come at night"),
    ],
)
def test_a_story_states_no_answer_that_is_not_clear(check, slot, text):
    assert unprompted(check, slot, text) is None


def test_a_stated_denial_is_the_no_answer():
    check = cramp_check()
    assert unprompted(check, "check_pregnant", "I'm not pregnant, no chance") == "no"
    assert unprompted(check, "check_fluids", "I drink plenty of water") == ["neither"]


def test_a_denied_red_flag_is_no_answer_but_the_reported_one_is(check):
    text = "no swelling or redness, but my toes tingle"
    assert unprompted(check, "check_red_flags", text, signs=stated_signs({"text": text})) == [
        "numbness"
    ]


def test_a_question_about_the_person_still_tells(check):
    assert stated_text("Why do my calves cramp at night? Can statins cause it?") == (
        "why do my calves cramp at night?"
    )
    assert unprompted(check, "check_timing", "Why do my calves cramp at night?") == "night"


@pytest.mark.parametrize(
    "text, named, expected",
    [
        ("I take Lipitor every morning", [("statin", "Lipitor")], ["statin"]),
        ("I don't take any statins", [("statin", "statins")], []),
        ("do statins cause cramps?", [("statin", "statins")], []),
        ("I'm not pregnant and take statins", [("statin", "statins")], ["statin"]),
        ("on water tablets", [("furosemide", "lasix")], ["furosemide"]),  # not shown: kept
    ],
)
def test_stated_medicines(check, text, named, expected):
    assert stated_medicines(check, text, named) == expected


def test_earlier_answers_agree_or_are_asked(check):
    timing, fluids = check.question("check_timing"), check.question("check_fluids")
    assert agreed_answer(timing, ["night", "night"]) == "night"
    assert agreed_answer(timing, ["night", "exercise"]) is None
    assert agreed_answer(fluids, [["sweating"], ["low_fluids", "sweating"]]) == [
        "sweating",
        "low_fluids",
    ]


def test_a_question_sign_must_be_a_red_flag_sign():
    raw = copy.deepcopy(raw_rules())
    raw["questions"][0]["signs"] = {"walks_funny": "short_walk"}
    with pytest.raises(CrampCheckError, match="unknown signs"):
        parse_cramp_check(raw)


def facts(**answers):
    return facts_from(answers, ARTICLE_MEDICINES)


def test_not_sure_skipped_and_unasked_are_no_facts():
    assert facts(check_timing=NOT_SURE, check_fluids=[SKIPPED], check_duration=NOT_ASKED) == {}


ALL_NOT_SURE = {slot: NOT_SURE for slot in cramp_check().slots}


@pytest.mark.parametrize(
    "told, first_two, tier",
    [
        ({"check_timing": "short_walk"}, "cause_vascular", "see_doctor"),
        ({"check_fluids": ["sweating"]}, "cause_electrolytes", "none"),
        ({"check_medicines": ["statin"]}, "cause_medication", "see_doctor"),
        ({"check_pregnant": "yes"}, "cause_pregnancy", "none"),
        (
            {"check_conditions": ["diabetes"], "check_red_flags": ["numbness"]},
            "cause_nerve",
            "see_doctor",
        ),
    ],
)
def test_not_sure_to_the_rest_keeps_the_stated_facts_in_front(check, told, first_two, tier):
    answers = facts(**{**ALL_NOT_SURE, **told})
    assert first_two in rank_causes(check, answers)[:2]
    assert answers_tier(check, answers)[0] == tier
    assert rank_causes(check, answers) == rank_causes(check, facts(**told))


@pytest.mark.parametrize(
    "answers, causes, tier",
    [
        # a pregnant runner who sweats a lot
        (
            {"check_timing": "exercise", "check_pregnant": "yes", "check_fluids": ["sweating"]},
            ["cause_pregnancy", "cause_dehydration", "cause_electrolytes"],
            "none",
        ),
        # a statin user with night cramps most nights
        (
            {
                "check_timing": "night",
                "check_medicines": ["statin"],
                "check_frequency": "most_days",
            },
            ["cause_medication", "cause_night"],
            "see_doctor",
        ),
        # a diabetic with numbness
        (
            {"check_conditions": ["diabetes"], "check_red_flags": ["numbness"]},
            ["cause_nerve"],
            "see_doctor",
        ),
        # pain at rest
        (
            {"check_timing": "rest", "check_red_flags": ["pain_at_rest"]},
            ["cause_vascular"],
            "urgent",
        ),
        # cramps after a short walk with known poor circulation
        (
            {"check_timing": "short_walk", "check_conditions": ["circulation"]},
            ["cause_vascular"],
            "see_doctor",
        ),
        # on their feet all day in tight shoes
        ({"check_footwear": ["both"]}, ["cause_footwear", "cause_night"], "none"),
        # an unnamed medicine is not one of the article's
        ({"check_medicines": ["other"]}, [], "none"),
        # nothing specific, or only "not sure"
        ({"check_timing": NOT_SURE, "check_pregnant": SKIPPED}, [], "none"),
    ],
)
def test_causes_and_tier(check, answers, causes, tier):
    assert rank_causes(check, facts(**answers)) == causes
    assert answers_tier(check, facts(**answers))[0] == tier


def test_article_medicine_is_derived(check):
    assert ARTICLE_MEDICINE in facts(check_medicines=["furosemide"])["check_medicines"]
    assert ARTICLE_MEDICINE not in facts(check_medicines=["metformin"])["check_medicines"]
    # a water pill or a cholesterol pill is a medicine asked about, not one of the article's six
    for kind in ("diuretic", "cholesterol medicine"):
        told = facts(check_medicines=[kind])["check_medicines"]
        assert told == [kind] and ARTICLE_MEDICINE not in told
        assert "cause_medication" not in rank_causes(check, facts(check_medicines=[kind]))


def test_tier_reasons_are_given(check):
    tier, whys = answers_tier(check, facts(check_red_flags=["pain_at_rest"]))
    assert tier == "urgent" and any("rest" in why for why in whys)


def raw_rules():
    return yaml.safe_load(config.CRAMP_CHECK_FILE.read_text(encoding="utf-8"))


def test_the_shipped_file_parses_and_covers_every_cause(check):
    assert {r.target for r in check.causes} == {f"cause_{s}" for s in SUBJECTS}


@pytest.mark.parametrize(
    "mutate, message",
    [
        (
            lambda r: r["causes"].append(
                {"cause": "cause_gout", "when": {"check_timing": "night"}}
            ),
            "unknown cause",
        ),
        (
            lambda r: r["causes"].append(
                {"cause": "cause_night", "when": {"check_timing": "noon"}}
            ),
            "unknown answer",
        ),
        (
            lambda r: r["tiers"].append({"tier": "panic", "when": {"check_timing": "night"}}),
            "unknown tier",
        ),
    ],
)
def test_malformed_rules_are_rejected(mutate, message):
    raw = copy.deepcopy(raw_rules())
    mutate(raw)
    with pytest.raises(CrampCheckError, match=message):
        parse_cramp_check(raw)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda r: r.pop("summary"), "summary"),
        (lambda r: r["summary"]["advice"].update(cause_gout=["treat_night"]), "unknown cause"),
        (lambda r: r["summary"]["advice"].update(cause_night=["treat_gout"]), "unknown topics"),
        (lambda r: r["summary"]["see_doctor"].append({"sign": "sore_elbow"}), "unknown sign"),
        (
            lambda r: r["summary"]["see_doctor"].append({"topic": "see_doctor", "use": "title"}),
            "unknown use",
        ),
        (lambda r: r["summary"].update(see_doctor=[]), "empty"),
    ],
)
def test_malformed_summary_is_rejected(mutate, message):
    raw = copy.deepcopy(raw_rules())
    mutate(raw)
    with pytest.raises(CrampCheckError, match=message):
        parse_cramp_check(raw)


def test_summary_of_the_shipped_file(check):
    # poor circulation: the appointment (the cause's advice) before the treatment
    assert check.summary.advice_topics("cause_vascular", "treat_vascular") == (
        "cause_vascular",
        "treat_vascular",
    )
    assert check.summary.advice_topics("cause_night", "treat_night") == ("treat_night",)
    signs = [item.sign for item in check.summary.see_doctor if item.sign]
    assert signs == ["numbness_or_tingling"]


def tier_why(check, slot, value):
    return next(r.why for r in check.tiers if r.when.get(slot) == (value,))


def test_tier_reasons_say_what_the_article_or_rubric_supports(check):
    assert all(rule.why for rule in check.tiers)
    ours = wording().labels["ours"]
    # the article gives no duration: the long-cramp rule is a precaution of ours and says so,
    # never "as the article advises", and "persistent" keeps its meaning (cramps that keep coming)
    longer = tier_why(check, "check_duration", "longer")
    assert longer.endswith(ours) and "article" not in longer.replace(ours, "")
    assert "persistent" not in longer
    walk = tier_why(check, "check_timing", "short_walk")
    assert "appointment quickly" in walk and "5) Peripheral Vascular Disease" in walk
    # numbness is the rubric's sign, not the article's, and not tied to nerve damage
    numbness = tier_why(check, "check_red_flags", "numbness")
    assert numbness.endswith(ours) and "nerve damage" not in numbness
    # "immediate medical attention" is said as the article says it, with its section
    rest = tier_why(check, "check_red_flags", "pain_at_rest")
    assert "immediate medical attention" in rest and "5) Peripheral Vascular Disease" in rest
    assert "now, today at the latest" in wording().actions["urgent"]
    # the medicine rule of ours is labelled as ours, after what the article says
    medicine = tier_why(check, "check_medicines", "article_medicine")
    assert medicine.endswith(wording().own_rule_text("medicine_suspected"))
    assert "What Is the Treatment for Cramps?" in medicine


def test_skin_colour_and_numbness_are_no_cause_the_article_describes(check):
    """The article ties neither to poor circulation nor to nerve damage: they stay reasons to see
    a provider, and add to no cause."""
    for value in ("skin_colour", "numbness"):
        facts = {"check_red_flags": [value]}
        assert rank_causes(check, facts) == [], value
        assert answers_tier(check, facts)[0] == "see_doctor", value
    # what the article does tie: pain at rest to circulation, weakness to nerve damage
    assert rank_causes(check, {"check_red_flags": ["pain_at_rest"]}) == ["cause_vascular"]
    assert rank_causes(check, {"check_red_flags": ["weakness"]}) == ["cause_nerve"]
