"""The knowledge file: its loader, its contract, and its coverage of the source article."""

from __future__ import annotations

import copy
import hashlib
import re
from pathlib import Path

import pytest
import yaml

from actions import config
from actions.knowledge import (
    PHRASE_FIELDS,
    PHRASES_FILE,
    TOPIC_IDS,
    KnowledgeError,
    cause_and_treatment_pairs,
    knowledge,
    load_knowledge,
    load_phrases,
    parse_knowledge,
    parse_phrases,
    phrases,
    topic_for_intent,
)

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE_FILE = ROOT / "data" / "knowledge" / "topics.yml"
FACTS_FILE = Path(__file__).resolve().parent / "data" / "article_facts.yml"
# The article itself is not in the repository: its headings and hashes of its 8-word runs are
# (scripts/article_fingerprint.py), enough to check sections and paraphrasing.
FINGERPRINT = yaml.safe_load(
    (Path(__file__).resolve().parent / "data" / "article_fingerprint.yml").read_text(
        encoding="utf-8"
    )
)

EXPECTED_IDS = {
    "definition",
    "causes",
    "cause_dehydration",
    "cause_footwear",
    "cause_electrolytes",
    "cause_medication",
    "cause_vascular",
    "cause_nerve",
    "cause_pregnancy",
    "cause_night",
    "treatment",
    "treat_dehydration",
    "treat_footwear",
    "treat_electrolytes",
    "treat_medication",
    "treat_vascular",
    "treat_nerve",
    "treat_pregnancy",
    "treat_night",
    "magnesium",
    "see_doctor",
}
ARTICLE_MEDICINES = {
    "naproxen",
    "raloxifene",
    "statin",
    "furosemide",
    "clonazepam",
    "citalopram",
    "gabapentin",
}
MAX_ANSWER_WORDS = 90


def raw_knowledge() -> dict:
    with open(KNOWLEDGE_FILE, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def load_facts() -> list:
    with open(FACTS_FILE, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def topic_text(topic) -> str:
    """Everything a topic can say: answer, details, and the notes on the medicines it names."""
    parts = [topic.answer, *topic.details]
    parts += [f"{m.name} {m.use}" for m in topic.medicines]
    return " ".join(" ".join(parts).split()).lower()


@pytest.fixture(scope="module")
def kb():
    return load_knowledge(KNOWLEDGE_FILE)


def write_yaml(tmp_path: Path, data) -> Path:
    path = tmp_path / "topics.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


# ---------------------------------------------------------------- the loader and its contract


def test_topic_ids_are_exactly_the_contract(kb):
    assert len(TOPIC_IDS) == 21
    assert set(TOPIC_IDS) == EXPECTED_IDS
    assert set(kb.topics) == EXPECTED_IDS
    assert len(raw_knowledge()["topics"]) == 21


def test_process_knowledge_is_the_project_file():
    assert Path(config.KNOWLEDGE_FILE).resolve() == KNOWLEDGE_FILE.resolve()
    loaded = knowledge()
    assert set(loaded.topics) == EXPECTED_IDS
    assert knowledge() is loaded  # read once per process


@pytest.mark.parametrize("topic_id", sorted(EXPECTED_IDS))
def test_every_topic_has_title_section_and_answer(kb, topic_id):
    topic = kb[topic_id]
    assert topic.id == topic_id
    for field in ("title", "section", "answer"):
        value = getattr(topic, field)
        assert isinstance(value, str) and value.strip(), f"{topic_id} has no {field}"
    assert all(isinstance(d, str) and d.strip() for d in topic.details)


@pytest.mark.parametrize("topic_id", sorted(EXPECTED_IDS))
def test_related_topics_exist(kb, topic_id):
    topic = kb[topic_id]
    assert topic.related, f"{topic_id} offers no next step"
    assert topic_id not in topic.related
    assert len(set(topic.related)) == len(topic.related)
    for related in topic.related:
        assert related in kb.topics


def test_sections_name_the_articles_sections(kb):
    headings = FINGERPRINT["headings"]
    assert kb["definition"].section == "What Is a Cramp?"
    assert kb["causes"].section == "What Are the 8 Causes of Cramps?"
    assert kb["treatment"].section == "What Is the Treatment for Cramps?"
    # the parts of the article without a heading, cited by name: exactly these three
    assert set(kb.article_parts) == {"introduction", "conclusion", "disclaimer"}
    for topic in kb.topics.values():
        # "<heading>" or "<heading> – <subsection>": every part is one of the article's headings,
        # for the answer and for each detail (a detail may come from another section)
        for part in topic.section.split(" \u2013 "):
            assert part in headings, (topic.id, part)
        cited = [
            *topic.detail_sections,
            *(section for _, section in topic.answer_parts),
            *([topic.advice_section] if topic.advice_section else []),
        ]
        for section in cited:
            if section in kb.article_parts:
                continue  # the introduction, the conclusion, the closing disclaimer
            for part in section.split(" \u2013 "):
                assert part in headings, (topic.id, part)
    numbered = sorted(kb[t].section for t in kb.topics if t.startswith("cause_"))
    assert [re.search(r"(\d)\)", s).group(1) for s in numbered] == list("12345678")


def test_what_the_introduction_and_conclusion_say_is_cited_to_them(kb):
    """Overexertion is named in the introduction (and the conclusion), the general measures with
    regular check-ups in the conclusion: never cited to the causes or treatment sections."""
    citation = {
        "introduction": kb.citation("introduction"),
        "conclusion": kb.citation("conclusion"),
    }
    assert citation["introduction"] != citation["conclusion"]
    for topic_id, words, part in [
        ("causes", "overexertion", "introduction"),
        ("treatment", "check-ups", "conclusion"),
        ("definition", "contracting involuntarily", "conclusion"),
    ]:
        topic = kb[topic_id]
        groups = topic.answer_groups() + topic.detail_groups()
        (section,) = {s for s, texts in groups if any(words in t for t in texts)}
        assert section == part, topic_id
    assert kb["treatment"].advice_section == "conclusion" and "check-ups" in kb["treatment"].advice
    assert all(
        kb.citation(section) != kb.citation(kb["causes"].section)
        for section, texts in kb["causes"].answer_groups()
        if any("overexertion" in t for t in texts)
    )


def test_the_articles_closing_caution_is_where_people_see_it(kb):
    """Do not delay or set aside professional advice because of something read here: in the
    disclaimer and in the see-a-doctor answer, cited to the article's closing disclaimer."""
    ((caution,),) = [
        texts for section, texts in kb["see_doctor"].answer_groups() if section == "disclaimer"
    ]
    assert "put off" in caution and "set it aside" in caution
    assert kb.disclaimer.endswith(caution)


def test_magnesium_is_cited_where_the_cochrane_paragraph_is(kb):
    assert kb["magnesium"].section == "What Is the Treatment for Cramps? \u2013 Nocturnal cramping"
    # its point on magnesium shortage is cited to the electrolyte cause, not to that section
    ((section, details),) = kb["magnesium"].detail_groups()
    assert section == kb["cause_electrolytes"].section and "shortage" in details[0]


def test_details_default_to_the_topic_section(kb):
    for topic in kb.topics.values():
        assert len(topic.detail_sections) == len(topic.details), topic.id
        assert [d for _, ds in topic.detail_groups() for d in ds] == list(topic.details)
    assert kb["cause_night"].detail_groups() == [
        (kb["cause_night"].section, list(kb["cause_night"].details))
    ]


def test_overviews_say_where_their_detail_is(kb):
    """ "tell me more" after causes/treatment must not claim that is all the article says."""
    for topic_id in ("causes", "treatment"):
        topic = kb[topic_id]
        assert not topic.details and topic.tell_more, topic_id
        assert "Pick one" in topic.tell_more and "all the article says" not in topic.tell_more
    assert not [t for t in kb.topics.values() if t.tell_more and t.details]


def test_every_treatment_and_the_circulation_cause_give_complete_advice(kb):
    """The cramp-check summary uses one topic's advice per line: a whole sentence of advice."""
    for topic_id in [t for t in EXPECTED_IDS if t.startswith("treat_")] + [
        "cause_vascular",
        "treatment",
    ]:
        advice = kb[topic_id].advice_text
        assert len(advice.split()) >= 12 and advice.endswith("."), topic_id
    assert "appointment" in kb["cause_vascular"].advice


def test_medication_answer_names_every_medicine_the_article_names(kb):
    answer = kb["cause_medication"].answer.lower()
    for medicine in kb["cause_medication"].medicines:
        assert medicine.name in answer, medicine.name


def test_our_own_safety_rules_are_not_in_the_articles_texts(kb):
    """ "Do not stop a prescribed medicine on your own" is ours (the rubric), so it is an
    `own_note`, said after the citation and marked as ours, never an answer or detail."""
    for topic in kb.topics.values():
        for text in (topic.answer, *topic.details, *(m.use for m in topic.medicines)):
            assert "on your own" not in text and "doses" not in text, (topic.id, text)
    assert "on your own" in kb["cause_medication"].own_note
    assert "on your own" in kb["treat_medication"].own_note
    assert "doses" in kb["magnesium"].own_note


def test_unnamed_medicine_texts(kb):
    not_named = kb["cause_medication"].not_named
    assert "{name}" in not_named and "100" in not_named
    assert "gabapentin" in kb["treat_medication"].not_named
    assert "100" not in kb["treat_medication"].not_named  # the count is about causes


def test_general_topics_list_their_specific_topics(kb):
    assert set(kb["causes"].related) == {t for t in EXPECTED_IDS if t.startswith("cause_")}
    assert set(kb["treatment"].related) == {t for t in EXPECTED_IDS if t.startswith("treat_")}


def test_article_metadata_and_disclaimer(kb):
    assert kb.article_title == "Foot Cramps: Causes & Treatment of a Foot Muscle Cramp"
    assert "Bawa" in kb.article_author
    # the title is the article's own (its 8-word runs are in the article's fingerprint)
    title = _words(kb.article_title)
    assert all(
        hashlib.sha1(" ".join(title[i : i + 8]).encode()).hexdigest()[:12]
        in FINGERPRINT["run_hashes"]
        for i in range(len(title) - 7)
    )
    assert kb.article_date_text == "21 July 2024"
    assert kb.source() == (
        "\u201cFoot Cramps: Causes & Treatment of a Foot Muscle Cramp\u201d by "
        "Dr. Vaishnavi Bawa, podiatrist (LifesLittleSteps), 21 July 2024"
    )
    assert "not a diagnosis" in kb.disclaimer
    assert "\n" not in kb.disclaimer


def test_medicines_of_the_article(kb):
    assert set(kb.all_medicines) == ARTICLE_MEDICINES
    assert {m.name for m in kb["cause_medication"].medicines} == ARTICLE_MEDICINES - {"gabapentin"}
    assert {m.name for m in kb["treat_medication"].medicines} == {"gabapentin"}
    assert kb["cause_medication"].medicine("  Furosemide ").use.startswith("a diuretic")
    assert kb["cause_medication"].medicine("metformin") is None
    assert kb["cause_night"].medicines == ()


def test_text_is_whitespace_normalised(kb):
    for topic in kb.topics.values():
        for text in (topic.answer, *topic.details):
            assert text == " ".join(text.split()), topic.id


def test_topic_for_intent():
    assert topic_for_intent("ask_cause_night") == "cause_night"
    assert topic_for_intent("ask_see_doctor") == "see_doctor"
    assert topic_for_intent("ask_magnesium") == "magnesium"
    assert topic_for_intent("ask_followup_treatment") is None
    assert topic_for_intent("ask_cause_gout") is None
    assert topic_for_intent("cause_night") is None
    assert topic_for_intent("report_symptoms") is None
    assert topic_for_intent("nlu_fallback") is None
    assert topic_for_intent(None) is None
    for topic_id in EXPECTED_IDS:
        assert topic_for_intent(f"ask_{topic_id}") == topic_id


def test_cause_and_treatment_pairs():
    pairs = cause_and_treatment_pairs()
    assert len(pairs) == 8
    for cause, treat in pairs:
        assert cause.startswith("cause_") and treat == "treat_" + cause[len("cause_") :]
    assert ("cause_night", "treat_night") in pairs


def test_loader_reads_the_real_file_from_a_copy(tmp_path):
    path = write_yaml(tmp_path, raw_knowledge())
    assert set(load_knowledge(path).topics) == EXPECTED_IDS


# ---------------------------------------------------------------- malformed files


def _without_topic_field(field):
    def mutate(raw):
        del raw["topics"][3][field]

    return mutate


def _duplicate(raw):
    raw["topics"].append(copy.deepcopy(raw["topics"][0]))


def _missing_topic(raw):
    raw["topics"] = [t for t in raw["topics"] if t["id"] != "magnesium"]


def _unknown_topic(raw):
    extra = copy.deepcopy(raw["topics"][0])
    extra["id"] = "cause_gout"
    raw["topics"].append(extra)


def _renamed_topic(raw):
    raw["topics"][-1]["id"] = "see_a_doctor"


def _unknown_related(raw):
    raw["topics"][0]["related"] = ["causes", "cause_gout"]


def _no_topics(raw):
    del raw["topics"]


MALFORMED = {
    "no_id": _without_topic_field("id"),
    "no_title": _without_topic_field("title"),
    "no_section": _without_topic_field("section"),
    "no_answer": _without_topic_field("answer"),
    "duplicate_id": _duplicate,
    "missing_topic": _missing_topic,
    "unknown_topic": _unknown_topic,
    "renamed_topic": _renamed_topic,
    "unknown_related": _unknown_related,
    "no_topics_key": _no_topics,
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_files_raise(tmp_path, case):
    raw = raw_knowledge()
    MALFORMED[case](raw)
    with pytest.raises(KnowledgeError):
        load_knowledge(write_yaml(tmp_path, raw))


# Malformed shapes must raise KnowledgeError, not load silently or crash with another error.


def _set_topic_field(index, field, value):
    def mutate(raw):
        raw["topics"][index][field] = value

    return mutate


def _topics_null(raw):
    raw["topics"] = None


def _topic_not_a_mapping(raw):
    raw["topics"].append("cause_gout")


def _medicine_without(field):
    def mutate(raw):
        medicine = {"name": "metformin", "use": "a diabetes medicine"}
        del medicine[field]
        next(t for t in raw["topics"] if t["id"] == "cause_medication")["medicines"].append(
            medicine
        )

    return mutate


def _article_null(raw):
    raw["article"] = None


def _article_date(value):
    def mutate(raw):
        raw["article"]["date"] = value

    return mutate


def _detail_mapping_without_section(raw):
    raw["topics"][0]["details"] = [{"text": "a point"}]


def _not_named_without_name(raw):
    next(t for t in raw["topics"] if t["id"] == "cause_medication")["not_named"] = "Not named."


UNCAUGHT = {
    "blank_answer": _set_topic_field(0, "answer", "   "),
    "blank_title": _set_topic_field(0, "title", "  "),
    "details_is_a_string": _set_topic_field(0, "details", "one long string, not a list"),
    "topics_null": _topics_null,
    "topic_not_a_mapping": _topic_not_a_mapping,
    "medicine_without_name": _medicine_without("name"),
    "medicine_without_use": _medicine_without("use"),
    "article_null": _article_null,
    "article_without_date": _article_date(None),
    "article_date_not_iso": _article_date("21 July 2024"),
    "detail_mapping_without_section": _detail_mapping_without_section,
    "blank_advice": _set_topic_field(0, "advice", "  "),
    "blank_tell_more": _set_topic_field(0, "tell_more", ""),
    "not_named_without_name": _not_named_without_name,
}


@pytest.mark.parametrize("case", sorted(UNCAUGHT))
def test_malformed_shapes_raise_knowledge_error(tmp_path, case):
    raw = raw_knowledge()
    UNCAUGHT[case](raw)
    with pytest.raises(KnowledgeError):
        load_knowledge(write_yaml(tmp_path, raw))


@pytest.mark.parametrize("content", ["", "- just\n- a list\n", "topics_typo: []\n", "42\n"])
def test_non_mapping_files_raise(tmp_path, content):
    path = tmp_path / "topics.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(KnowledgeError):
        load_knowledge(path)


def test_error_names_the_problem():
    raw = raw_knowledge()
    _missing_topic(raw)
    with pytest.raises(KnowledgeError, match="magnesium"):
        parse_knowledge(raw)
    raw = raw_knowledge()
    _unknown_related(raw)
    with pytest.raises(KnowledgeError, match="cause_gout"):
        parse_knowledge(raw)


def test_knowledge_error_is_a_value_error():
    assert issubclass(KnowledgeError, ValueError)


# ---------------------------------------------------------------- the article's facts

FACTS = load_facts()


def test_facts_file_is_well_formed():
    assert 60 <= len(FACTS) <= 100
    seen = set()
    for fact in FACTS:
        assert set(fact) == {"topic", "fact", "must_include"}, fact
        assert fact["topic"] in EXPECTED_IDS, fact
        assert fact["must_include"], fact
        for keyword in fact["must_include"]:
            assert isinstance(keyword, str) and keyword == keyword.lower() and keyword.strip()
        assert fact["fact"] not in seen, f"duplicate fact {fact['fact']!r}"
        seen.add(fact["fact"])


def test_every_topic_carries_some_fact():
    assert {fact["topic"] for fact in FACTS} == EXPECTED_IDS


@pytest.mark.parametrize("fact", FACTS, ids=[f"{f['topic']}:{f['fact'][:40]}" for f in FACTS])
def test_article_fact_is_in_its_topic(kb, fact):
    text = topic_text(kb[fact["topic"]])
    missing = [k for k in fact["must_include"] if k not in text]
    assert not missing, f"{fact['topic']} does not state: {fact['fact']} (missing {missing})"


def test_facts_check_can_fail(kb):
    """The coverage check is not vacuous: a fact from another topic is not found."""
    assert "angioplasty" not in topic_text(kb["cause_night"])
    assert "naproxen" not in topic_text(kb["treat_dehydration"])


# ---------------------------------------------------------------- short, paraphrased answers


@pytest.mark.parametrize("topic_id", sorted(EXPECTED_IDS))
def test_answers_are_short(kb, topic_id):
    words = len(kb[topic_id].answer.split())
    assert words < MAX_ANSWER_WORDS, f"{topic_id} answer has {words} words"


@pytest.mark.parametrize("topic_id", sorted(EXPECTED_IDS))
def test_details_are_short_points(kb, topic_id):
    for detail in kb[topic_id].details:
        assert len(detail.split()) < 60, detail


def _words(text: str):
    return re.findall(r"[a-z0-9]+", text.lower().replace("\u2019", "'"))


def test_answers_paraphrase_rather_than_copy_the_article(kb):
    """No run of 8 words of any answer or detail appears verbatim in the article."""
    n = FINGERPRINT["run_length"]
    article_runs = set(FINGERPRINT["run_hashes"])
    copied = []
    for topic in kb.topics.values():
        for text in (topic.answer, *topic.details):
            words = _words(text)
            for i in range(len(words) - n + 1):
                run = " ".join(words[i : i + n])
                if hashlib.sha1(run.encode()).hexdigest()[:12] in article_runs:
                    copied.append((topic.id, run))
    assert not copied, copied


# ---------------------------------------------------------------- the phrases around the knowledge


def test_phrases_file_has_every_phrase_with_its_fields():
    loaded = load_phrases(PHRASES_FILE)
    assert loaded.keys() == sorted(PHRASE_FIELDS)
    assert phrases() is phrases()  # read once per process
    assert phrases().text("citation", section="X") == "(From the article's section \u201cX\u201d.)"


def _raw_phrases():
    return yaml.safe_load(PHRASES_FILE.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda r: r.pop("citation"), "missing"),
        (lambda r: r.update(extra="x"), "unknown"),
        (lambda r: r.update(citation="(From {chapter}.)"), "fields"),
        (lambda r: r.update(citation="no field at all"), "fields"),
        (lambda r: r["cramp_check"]["summary"].update(action="  "), "non-empty"),
    ],
)
def test_malformed_phrases_raise(mutate, message):
    raw = _raw_phrases()
    mutate(raw)
    with pytest.raises(KnowledgeError, match=message):
        parse_phrases(raw)
