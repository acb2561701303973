"""Signs told the roundabout way (cramp_nlu.sign_meaning) and signs said of something else
(the terms' `attach_to`): meaning adds what the rules miss, and a word alone does not escalate."""

from __future__ import annotations

import copy

import pytest

from cramp_nlu.encoder import shared_encoder
from cramp_nlu.factory import shared_detector
from cramp_nlu.sign_meaning import SignMeaning
from cramp_nlu.terms import TermsError, packaged_terms, validate_terms


@pytest.fixture(scope="module")
def read():
    detector = shared_detector()
    meaning = SignMeaning(packaged_terms(), shared_encoder().encode)

    def triage(text):
        found = detector(text)
        return detector.with_findings(found, meaning.findings(text, found))

    return triage


@pytest.mark.parametrize(
    "text, sign",
    [
        # our own sentences, written for this test (not from any corpus); what the rules miss
        ("For years he has had no feeling left in the soles of his feet.", "numbness_or_tingling"),
        ("Most nights now the little one wakes up in tears holding her legs.", "sleep_or_mobility"),
    ],
)
def test_a_sign_told_the_roundabout_way_is_found_by_meaning(read, text, sign):
    triage = read(text)
    assert triage.tier == "see_doctor"
    added = [f for f in triage.findings if f.by_meaning]
    assert [f.sign for f in added] == [sign]
    assert added[0].text and added[0].text in text  # the person's own words, for the escalation


@pytest.mark.parametrize(
    "text",
    [
        "My calf cramped near the end of the race yesterday.",
        "A cramp in my arch during yoga, then it let go.",
        "Is numbness in the toes something to worry about?",  # a question reports nothing
        "I'm 20 weeks pregnant and got a leg cramp last night.",
    ],
)
def test_an_ordinary_cramp_adds_nothing(read, text):
    assert not [f for f in read(text).findings if f.by_meaning]


def test_meaning_only_adds_what_the_rules_did_not_find(read):
    triage = read("My feet are numb and tingly all the time.")
    assert "numbness_or_tingling" in {f.sign for f in triage.findings}
    assert not [f for f in triage.findings if f.by_meaning]


@pytest.mark.parametrize(
    "text, tier",
    [
        ("I drink two litres of water daily and eat a banana every day.", "none"),
        ("My heartburn left my throat on fire all night.", "none"),
        ("The magnesium spray tingled a bit at first.", "none"),
        ("My calves cramp daily now.", "see_doctor"),
        ("my feet are burning and tingling", "see_doctor"),
    ],
)
def test_a_loose_word_counts_only_when_said_of_the_cramps_or_the_legs(text, tier):
    assert shared_detector()(text).tier == tier


def test_only_see_doctor_signs_may_be_found_by_meaning():
    terms = copy.deepcopy(packaged_terms())
    chest = next(s for s in terms["signs"] if s["id"] == "chest_pain")
    chest["told_as"] = ["my chest feels odd"]
    with pytest.raises(TermsError):
        validate_terms(terms)


# ---- the escalation says why in the person's own words --------------------------------------------
def _escalation(text):
    from cramp_nlu.escalation import wording

    triage = shared_detector()(text)
    return wording().message(triage.tier, triage.reasons, triage.as_dict()["findings"])["text"]


def test_the_escalation_quotes_what_the_person_said():
    text = _escalation("since yesterday my left calf is swollen and red")
    assert "You said: “" in text and "swollen" in text.split("You said:")[1].split("\n")[0]


def test_the_quote_never_names_a_sign_that_was_denied():
    said = _escalation("no swelling at all, but my chest feels tight and my calf cramps")
    quoted = said.split("You said:")[1].split("\n")[0]
    assert "chest" in quoted and "swell" not in quoted


def test_no_quote_without_findings():
    from cramp_nlu.escalation import wording

    text = wording().message("urgent", ["possible_vein_clot"])["text"]
    assert "You said" not in text and "Why:" in text
