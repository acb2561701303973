"""The cramp check's rules table: reading answers, ranking causes, the tier."""

from __future__ import annotations

import copy

import pytest
import yaml

from actions import config
from actions.cramp_check_rules import (
    ARTICLE_MEDICINE,
    NOT_SURE,
    SKIPPED,
    CrampCheckError,
    answers_tier,
    cramp_check,
    facts_from,
    parse_cramp_check,
    rank_causes,
    read_answer,
)

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


def facts(**answers):
    return facts_from(answers, ARTICLE_MEDICINES)


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


def test_tier_reasons_are_given(check):
    tier, whys = answers_tier(check, facts(check_red_flags=["pain_at_rest"]))
    assert tier == "urgent" and any("rest" in why for why in whys)


def raw_rules():
    return yaml.safe_load(config.CRAMP_CHECK_FILE.read_text(encoding="utf-8"))


def test_the_shipped_file_parses_and_covers_every_cause(check):
    assert {r.target for r in check.causes} == {
        "cause_dehydration",
        "cause_footwear",
        "cause_electrolytes",
        "cause_medication",
        "cause_vascular",
        "cause_nerve",
        "cause_pregnancy",
        "cause_night",
    }


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
    # the article gives no duration: the long-cramp rule is a precaution and says so
    longer = tier_why(check, "check_duration", "longer")
    assert "brief" in longer and "to be safe" in longer
    assert "appointment quickly" in tier_why(check, "check_timing", "short_walk")
    # numbness is the rubric's sign, not the article's
    assert "article" not in tier_why(check, "check_red_flags", "numbness")
