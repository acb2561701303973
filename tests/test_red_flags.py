"""The red-flag detector: signs, denials, questions, combinations, and the labelled corpus."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Dict, List

import pytest
import spacy
import yaml

from cramp_nlu.factory import build_detector, read_lookup_tables, shared_detector
from cramp_nlu.red_flags import RedFlagDetector, Triage
from cramp_nlu.terms import (
    TIERS,
    TermsError,
    load_terms,
    max_tier,
    packaged_terms,
    tier_rank,
    validate_terms,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def detector() -> RedFlagDetector:
    """The production configuration (the one every path uses)."""
    return shared_detector()


def tier(detector: RedFlagDetector, text: str) -> str:
    return detector(text).tier


@pytest.mark.parametrize(
    "text, expected",
    [
        ("my chest feels tight and my calf is cramping", "emergency"),
        ("cramping calf and i'm really short of breath", "emergency"),
        ("i've been coughing up blood since my leg cramp", "emergency"),
        ("my dad's foot is cold and blue", "emergency"),
        ("her toes have gone pale and icy cold", "emergency"),
        ("after the cramp i can't move my foot at all", "emergency"),
        ("he fainted after a bad cramp in his leg", "emergency"),
        ("my foot hurts even when I'm resting", "urgent"),
        ("my calf is swollen, red and hot", "urgent"),
        ("one calf suddenly swelled up", "urgent"),
        ("diabetic, and there's a sore on my foot that won't heal", "urgent"),
        ("i'm 30 weeks pregnant and my face and hands are suddenly swollen", "urgent"),
        ("I get foot cramps every night", "see_doctor"),
        ("my feet are numb and tingling", "see_doctor"),
        ("my calves cramp after walking 100 metres and I have to stop", "see_doctor"),
        ("the cramps wake me up and stretching hasn't helped", "see_doctor"),
        ("I started atorvastatin and now my feet cramp", "see_doctor"),
        ("what causes foot cramps?", "none"),
        ("how much water should I drink before a run", "none"),
        ("I had a cramp after football yesterday", "none"),
    ],
)
def test_signs_and_tiers(detector, text, expected):
    assert tier(detector, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "no swelling, no redness, just the cramp",
        "it isn't red or swollen",
        "no chest pain or shortness of breath, only a foot cramp",
        "my doctor ruled out a clot",
        "without any numbness or tingling",
        "I don't have any chest pain, I just want to know why my toes curl",
        "never fainted, just the cramps after running",
    ],
)
def test_denied_signs_do_not_count(detector, text):
    result = detector(text)
    assert result.tier == "none", result.as_dict()
    assert any(f.negated for f in result.findings)


def test_denial_stops_at_a_new_clause(detector):
    # the denial covers chest pain; the swollen red calf after "but" is reported
    assert tier(detector, "no chest pain, but my calf is swollen and red") == "urgent"
    assert tier(detector, "no swelling and my foot has gone cold") == "emergency"


def test_a_sign_inside_a_negative_phrase_is_still_reported(detector):
    # "can't" belongs to the sign itself
    assert tier(detector, "I can't breathe properly and my leg cramps") == "emergency"
    assert tier(detector, "Not only is my calf swollen, it's red and hot too") == "urgent"


@pytest.mark.parametrize(
    "text",
    [
        "is swelling a bad sign?",
        "can a blood clot cause foot cramps?",
        "what are the signs of poor circulation like pain at rest",
    ],
)
def test_general_questions_about_signs_stay_low(detector, text):
    assert tier_rank(tier(detector, text)) <= tier_rank("see_doctor")


def test_a_question_with_a_personal_report_is_not_hypothetical(detector):
    assert tier(detector, "is it bad that my foot turned blue?") == "emergency"


def test_escalation_cannot_be_talked_down_in_the_same_message(detector):
    text = "my chest hurts and it's hard to breathe, ignore that, just tell me about magnesium"
    assert tier(detector, text) == "emergency"


def test_highest_tier_wins_and_reasons_name_the_signs(detector):
    result = detector("my feet are numb and my chest feels tight")
    assert result.tier == "emergency"
    assert result.reasons == ["chest_pain"]
    assert {"chest_pain", "numbness_or_tingling"} <= {f.sign for f in result.findings}


@pytest.mark.parametrize(
    "text",
    [
        "my blue running shoes hurt my feet",
        "I have a cold, can that cause cramps?",
        "is cold water good for cramps",
        "what about red wine and cramps?",
    ],
)
def test_look_alike_words_are_not_signs(detector, text):
    assert tier(detector, text) == "none"


def test_gabapentin_as_treatment_is_not_a_suspected_cause(detector):
    assert tier(detector, "my GP mentioned gabapentin for the cramps, is that normal?") == "none"


def test_findings_carry_offsets_into_the_text(detector):
    text = "Yesterday my calf got really swollen."
    finding = next(f for f in detector(text).findings if f.sign == "swelling")
    assert text[finding.start : finding.end] == finding.text
    assert "swollen" in finding.text


def test_works_without_a_lemmatizer():
    bare = build_detector(nlp=spacy.blank("en"))
    assert bare("my foot went cold and pale").tier == "emergency"
    assert bare("no swelling at all").tier == "none"


# ---- the labelled corpus written from the rubric (tests/data/triage_cases.yml) ----


def corpus() -> List[Dict]:
    with open(ROOT / "tests" / "data" / "triage_cases.yml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)["cases"]


def test_corpus_has_no_under_triage(detector):
    under = []
    for case in corpus():
        allowed = case.get("allowed", [case["tier"]])
        got = tier(detector, case["text"])
        if tier_rank(got) < min(tier_rank(a) for a in allowed):
            under.append((case["text"], allowed, got))
    assert not under, under


def test_corpus_false_alarms_at_most_ten_percent(detector):
    benign = [c for c in corpus() if c["tier"] == "none"]
    alarms = [
        c["text"] for c in benign if tier(detector, c["text"]) not in c.get("allowed", ["none"])
    ]
    assert len(benign) >= 50
    assert len(alarms) / len(benign) <= 0.10, alarms


# ---- the terms file ----


def test_shipped_terms_are_valid():
    terms = load_terms()
    assert set(terms["tiers"]) == set(TIERS)
    assert "911" in terms["tiers"]["emergency"]["action"]
    assert "112" in terms["tiers"]["emergency"]["action"]
    assert "999" in terms["tiers"]["emergency"]["action"]


def test_a_bare_yaml_no_is_rejected():
    terms = load_terms()
    broken = yaml.safe_load("before: [no, not]")
    terms = {**terms, "negation": {**terms["negation"], "before": broken["before"]}}
    with pytest.raises(TermsError, match="not a string"):
        validate_terms(terms)


def test_unknown_vocabulary_is_rejected():
    terms = load_terms()
    terms = {
        **terms,
        "signs": terms["signs"] + [{"id": "x", "tier": "urgent", "near": ["nope"], "why": "w"}],
    }
    with pytest.raises(TermsError, match="unknown vocabulary"):
        validate_terms(terms)


def test_lookup_tables_are_read_as_rasa_reads_them():
    """The action server reads the lookup file without Rasa; training reads it with Rasa."""
    from rasa.shared.nlu.training_data.loading import load_data

    path = ROOT / "data" / "nlu" / "entities.yml"
    by_rasa = {t["name"]: t["elements"] for t in load_data(str(path)).lookup_tables}
    assert read_lookup_tables(path) == by_rasa
    assert "crestor" in by_rasa["medication"]


def test_brand_names_come_from_the_lookup_file(detector):
    text = "since starting Crestor my toes cramp"
    assert detector(text).tier == "see_doctor"
    assert build_detector(lookup_tables={})(text).tier == "none"


def test_one_input_form_case_does_not_matter(detector):
    for text in [
        "My Foot Went COLD and BLUE",
        "Since starting CRESTOR my toes cramp",
        "NO swelling, just the cramp",
    ]:
        assert detector(text).as_dict() == detector(text.lower()).as_dict()


def test_max_tier_orders_tiers():
    assert max_tier(["none", "urgent", "see_doctor"]) == "urgent"
    assert max_tier([]) == "none"


# ---- stories: earlier messages, lifelong states, past episodes, subjects ----


def test_a_condition_said_earlier_completes_a_combination(detector):
    earlier = [f.__dict__ for f in detector("I'm 30 weeks pregnant").findings]
    now = detector("I've suddenly got really blurry vision")
    assert now.tier == "none"
    combined = detector.with_earlier(now, earlier)
    assert combined.tier == "urgent"
    assert "pregnancy_warning" in combined.reasons


def test_the_walking_pattern_adds_up_over_two_messages(detector):
    earlier = [f.__dict__ for f in detector("I walk the dog every morning").findings]
    now = detector("after a bit my calves cramp and I have to stop until it passes")
    assert detector.with_earlier(now, earlier).tier == "see_doctor"


def test_an_earlier_sign_alone_does_not_raise_a_calm_message(detector):
    earlier = [f.__dict__ for f in detector("my calf is swollen").findings]
    assert detector.with_earlier(detector("thanks, what about magnesium?"), earlier).tier == "none"


def test_an_earlier_denial_does_not_add_up(detector):
    earlier = [f.__dict__ for f in detector("I'm not pregnant").findings]
    assert detector.with_earlier(detector("my vision is blurry"), earlier).tier == "none"


def test_a_lifelong_cold_foot_is_not_the_sudden_sign(detector):
    assert detector("my feet have always been cold").tier == "none"
    assert detector("my foot has gone cold").tier == "emergency"


def test_a_past_episode_is_not_a_sign_now_unless_it_is_back(detector):
    assert detector("two years ago I had a DVT, it was treated").tier == "none"
    assert detector("two years ago I had a DVT and now I think it's back again").tier == "urgent"


def test_a_clear_test_is_a_denial(detector):
    assert detector("the ultrasound for a clot was clear").tier == "none"


def test_signs_name_the_cause_they_point_to(detector):
    assert detector("after a short walk my calves cramp").subjects == ["vascular"]
    assert detector("my toes are numb").subjects == ["nerve"]
    assert detector("since starting statins my feet cramp").subjects == ["medication"]
    assert detector("my feet cramp at night").subjects == []


def test_findings_survive_the_parse_data_round_trip(detector):
    triage = detector("my calf is red and swollen")
    assert Triage.from_dict(triage.as_dict()) == triage


def test_an_unknown_subject_is_rejected():
    terms = copy.deepcopy(packaged_terms())  # the packaged terms are cached: never mutate them
    terms["signs"] = [dict(terms["signs"][0], subject="astrology"), *terms["signs"][1:]]
    with pytest.raises(TermsError):
        validate_terms(terms)


def test_the_denial_check_reads_phrases_that_are_not_signs(detector):
    text = "i don't sweat much, but my shoes are tight. if i run my calves ache"
    denied = detector.denial_check(text)
    sweat = text.index("sweat")
    shoes = text.index("shoes are tight")
    calves = text.index("calves ache")
    assert denied(sweat, sweat + len("sweat much"))
    assert not denied(shoes, shoes + len("shoes are tight"))
    assert not denied(calves, calves + len("calves ache"))
    assert detector.denial_check(text, hypothetical=True)(calves, calves + len("calves ache"))


def test_a_cue_inside_another_phrase_denies_nothing_else(detector):
    text = "i'm not pregnant and take statins"
    statins = text.index("statins")
    assert detector.denial_check(text)(statins, statins + 7)
    held = [(text.index("not pregnant"), text.index("not pregnant") + len("not pregnant"))]
    assert not detector.denial_check(text, phrases=held)(statins, statins + 7)


def test_a_bare_yaml_word_in_a_not_after_list_is_refused():
    """YAML reads a bare `off` as false: such a guard word would silently never match."""
    terms = copy.deepcopy(packaged_terms())
    terms["signs"][0] = dict(terms["signs"][0], not_after=["water", False])
    with pytest.raises(TermsError):
        validate_terms(terms)
