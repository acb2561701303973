"""Every user-facing text against the article: paraphrased, never copied; hedged where it hedges;
the source named; the wording in data files, not in code.

The copying check reads every text a person can see (the knowledge file, the phrases around it,
the domain's responses, the red-flag terms file, the cramp-check table, the channels' data files,
the chat page's strings and its generated content.json), and also the messages the actions
assemble from them, and fails when a text shares a run of 8 or more consecutive words with the
article. The article itself is not in the repository: tests/data/article_fingerprint.yml holds its
headings and hashes of its 8-word runs (scripts/article_fingerprint.py). A heading or the title,
quoted as a citation (“What Is a Cramp?”), is excepted: naming a section is not copying it.

Hedges, in general: every sentence of the article that hedges ("can", "may", "prone to", "in some
individuals"; listed by hash in the fingerprint) has an entry in tests/data/article_hedges.yml that
says how to recognise a sentence of ours retelling it; every such sentence in every user-facing
text must keep a hedge. The list of hedged claims below also pins, per topic, the hedge each claim
keeps and wording that would strengthen it or add invented specifics (docs/content-review.md
explains how to review a change).

What is ours is said as ours: every reason an escalation gives either names the article section it
retells or is marked as a safety rule of this assistant, and never says "the article" without the
section.
"""

from __future__ import annotations

import ast
import hashlib
import html.parser
import importlib.util
import re
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

import pytest
import yaml

from actions.answers import details_text, send_answer
from actions.cramp_check import summary_text
from actions.cramp_check_rules import cramp_check
from actions.knowledge import PHRASES_FILE, knowledge, phrases
from cramp_nlu.escalation import wording
from cramp_nlu.terms import packaged_terms

ROOT = Path(__file__).resolve().parent.parent
FINGERPRINT = yaml.safe_load(
    (ROOT / "tests" / "data" / "article_fingerprint.yml").read_text(encoding="utf-8")
)
RUN = FINGERPRINT["run_length"]
ARTICLE_RUNS = set(FINGERPRINT["run_hashes"])
HEADINGS = set(FINGERPRINT["headings"])
KB = knowledge()
CITABLE = HEADINGS | {KB.article_title}
QUOTED = re.compile(r"\u201c([^\u201d]*)\u201d")
FIELD = re.compile(r"\{[a-z_]+\}")


def words(text: str) -> List[str]:
    """Tokenised as scripts/article_fingerprint.py tokenised the article."""
    return re.findall(r"[a-z0-9]+", text.lower().replace("\u2019", "'"))


def run_hash(run: List[str]) -> str:
    return hashlib.sha1(" ".join(run).encode()).hexdigest()[:12]


def is_citation(quoted: str) -> bool:
    """A quoted heading, heading path ("A – B") or the title."""
    quoted = quoted.strip()
    return quoted in CITABLE or all(p in HEADINGS for p in quoted.split(" \u2013 "))


def copied_runs(text: str) -> List[str]:
    """The 8-word runs of `text` that occur in the article, citations excepted."""
    found = []
    # a citation and a {field} break the text: no run reaches across them
    for segment in FIELD.split(
        QUOTED.sub(lambda m: " | " if is_citation(m.group(1)) else m.group(0), text)
    ):
        for part in segment.split(" | "):
            tokens = words(part)
            found += [
                " ".join(tokens[i : i + RUN])
                for i in range(len(tokens) - RUN + 1)
                if run_hash(tokens[i : i + RUN]) in ARTICLE_RUNS
            ]
    return found


def sentence_of(text: str, run: str) -> str:
    for sentence in re.split(r"(?<=[.!?])\s+|\n", text):
        if run in " ".join(words(sentence)):
            return sentence
    return text


# ---------------------------------------------------------------- every user-facing text


def _yaml(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def knowledge_texts() -> Iterator[Tuple[str, str]]:
    yield "topics.yml disclaimer", KB.disclaimer
    for topic in KB.topics.values():
        where = f"topics.yml {topic.id}"
        yield f"{where} title", topic.title
        yield f"{where} answer", topic.answer
        for i, detail in enumerate(topic.details):
            yield f"{where} details[{i}]", detail
        for key in ("tell_more", "advice", "own_note", "not_named"):
            if getattr(topic, key):
                yield f"{where} {key}", getattr(topic, key)
        for medicine in topic.medicines:
            yield f"{where} medicine {medicine.name}", medicine.use


def phrase_texts() -> Iterator[Tuple[str, str]]:
    for key in phrases().keys():
        yield f"phrases.yml {key}", phrases().raw(key)


def domain_texts() -> Iterator[Tuple[str, str]]:
    for name, variants in _yaml(ROOT / "domain.yml")["responses"].items():
        for variant in variants:
            yield f"domain.yml {name}", variant.get("text", "")
            for button in variant.get("buttons") or []:
                yield f"domain.yml {name} button", button["title"]


def terms_texts() -> Iterator[Tuple[str, str]]:
    terms = packaged_terms()
    for tier, spec in terms["tiers"].items():
        yield f"red_flags.yml {tier} headline", spec.get("headline") or ""
        yield f"red_flags.yml {tier} action", spec.get("action") or ""
    for entry in terms["signs"] + terms["combinations"]:
        yield f"red_flags.yml {entry['id']} why", entry.get("why") or ""
        if entry.get("why"):
            # as said: the why, its section or our mark, and any rule of ours
            yield f"red_flags.yml {entry['id']} reason", wording().reason_text(entry["id"])
    yield "red_flags.yml reminder", terms["reminder"]


def cramp_check_texts() -> Iterator[Tuple[str, str]]:
    check = cramp_check()
    for question in check.questions:
        yield f"cramp_check.yml {question.slot} example", question.example
    for rule in check.tiers:
        yield f"cramp_check.yml tier {rule.target} {sorted(rule.when)} why", rule.why


def channel_texts() -> Iterator[Tuple[str, str]]:
    for path in sorted((ROOT / "channels" / "data").glob("*.yml")):

        def walk(value, where):
            if isinstance(value, dict):
                for key, item in value.items():
                    yield from walk(item, f"{where} {key}")
            elif isinstance(value, str):
                yield where, value

        yield from walk(_yaml(path), f"channels/data/{path.name}")


JS_STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"|\'((?:[^\'\\\n]|\\.)*)\'')


class _PageText(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.texts: List[str] = []

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.texts.append(" ".join(data.split()))

    def handle_starttag(self, tag, attrs) -> None:
        shown = ("placeholder", "aria-label", "title", "alt")
        self.texts += [v for k, v in attrs if k in shown and v]


def page_content() -> Dict:
    """What scripts/build_web.sh writes into web/dist/content.json."""
    spec = importlib.util.spec_from_file_location(
        "build_web_content", ROOT / "scripts" / "build_web_content.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.page_content()


def widget_texts() -> Iterator[Tuple[str, str]]:
    source = (ROOT / "web" / "src" / "chat.js").read_text(encoding="utf-8")
    source = re.sub(r"/\*.*?\*/|//[^\n]*", "", source, flags=re.S)  # comments are not shown
    for match in JS_STRING.finditer(source):
        text = match.group(1) if match.group(1) is not None else match.group(2)
        if len(text.split()) >= 2:
            yield "web/src/chat.js", text
    page = _PageText()
    page.feed(
        re.sub(
            r"<!--.*?-->",
            "",
            (ROOT / "web" / "src" / "index.html").read_text(encoding="utf-8"),
            flags=re.S,
        )
    )
    for text in page.texts:
        yield "web/src/index.html", text


def page_content_texts() -> Iterator[Tuple[str, str]]:
    content = page_content()
    yield "content.json source", content["source"]
    yield "content.json note", content["note"]
    yield "content.json welcome", content["welcome"]["text"]
    for key, text in (content.get("ui") or {}).items():
        yield f"content.json ui {key}", text


def assembled_texts() -> Iterator[Tuple[str, str]]:
    """The messages the actions put together from the texts above."""
    from rasa_sdk.executor import CollectingDispatcher

    for topic in KB.topics.values():
        dispatcher = CollectingDispatcher()
        names = [m.name for m in topic.medicines] + ["metformin"] if topic.medicines else []
        names += list(KB.medicine_kinds) if topic.medicines else []  # "water pills"
        send_answer(dispatcher, KB, topic, names)
        yield f"answer {topic.id}", dispatcher.messages[0]["text"]
        if topic.details:
            yield f"tell more {topic.id}", details_text(topic)
    causes = [t for t in KB.topics if t.startswith("cause_")]
    own_rules = list(wording().own_rules)
    for tier in ("none", "see_doctor", "urgent", "emergency"):
        whys = [r.why for r in cramp_check().tiers]
        yield f"summary {tier}", summary_text(causes, tier, whys, own_rules=own_rules)
    yield "summary no cause", summary_text([], "none", [])
    for tier in ("see_doctor", "urgent", "emergency"):
        yield f"escalation {tier}", wording().message(tier, [])["text"]
        yield f"reminder {tier}", wording().reminder_text(tier)
    from channels.safety_net import TROUBLE_TEXT

    yield "safety net", TROUBLE_TEXT


SOURCES = {
    "knowledge": knowledge_texts,
    "phrases": phrase_texts,
    "domain": domain_texts,
    "terms": terms_texts,
    "cramp check": cramp_check_texts,
    "channels": channel_texts,
    "widget": widget_texts,
    "page content": page_content_texts,
    "assembled": assembled_texts,
}


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_no_text_copies_eight_words_of_the_article(source):
    texts = list(SOURCES[source]())
    assert texts, f"no texts found for {source}"
    copied = [
        (where, sentence_of(text, run), run) for where, text in texts for run in copied_runs(text)
    ]
    assert not copied, "sentences sharing 8+ consecutive words with the article:\n" + "\n".join(
        f"  {where}: {sentence!r}  (shares {run!r})" for where, sentence, run in copied
    )


def test_the_copying_check_can_fail_and_excepts_quoted_headings():
    heading = "2) Wearing Improper Shoe Gear Can Cause Cramping in the Feet"
    assert copied_runs(f"Read the part {heading} for more.")  # a heading used as prose is copying
    assert not copied_runs(f"(From the article's section \u201c{heading}\u201d.)")
    assert not copied_runs(f"\u201c{KB.article_title}\u201d by {KB.article_author}")
    # a quotation that is not a heading is still checked
    assert copied_runs("\u201cWearing Improper Shoe Gear Can Cause Cramping in the Feet, so\u201d")


# ---------------------------------------------------------------- hedges the article uses

#: The article's hedged claims. `topic`: where the knowledge file states it; `keep`: the hedge, one
#: of these must be in the topic's texts; `never`: wording that would drop or strengthen the hedge
#: or add a specific the article does not give.
HEDGED_CLAIMS: List[Dict] = [
    {
        "topic": "definition",
        "claim": "a typically brief episode of pain",
        "keep": ["typically short-lived"],
        "never": ["sharp", "always short"],
    },
    {
        "topic": "definition",
        "claim": "often caused by involuntary spasms",
        "keep": ["often caused"],
        "never": [],
    },
    {
        "topic": "definition",
        "claim": "can impact a person's mobility and overall comfort",
        "keep": ["can affect"],
        "never": ["hard to walk for a while"],
    },
    {
        "topic": "cause_dehydration",
        "claim": "hydration reduces, often due to intense exertion",
        "keep": ["often after"],
        "never": ["usually after"],
    },
    {
        "topic": "cause_dehydration",
        "claim": "the muscles might not receive the water they need",
        "keep": ["might not get"],
        "never": ["do not get"],
    },
    {
        "topic": "cause_dehydration",
        "claim": "intense activities can often trigger a foot cramp",
        "keep": ["can often"],
        "never": ["typical triggers"],
    },
    {
        "topic": "cause_dehydration",
        "claim": "fluid loss may lead to dehydration",
        "keep": ["may lead"],
        "never": [],
    },
    {
        "topic": "cause_medication",
        "claim": "over 100 medications potentially implicated",
        "keep": ["may be involved"],
        "never": [],
    },
    {
        "topic": "cause_medication",
        "claim": "certain statins have been linked to muscle effects",
        "keep": ["linked to"],
        "never": ["statins have muscle", "which have muscle side effects"],
    },
    {
        "topic": "cause_medication",
        "claim": "raloxifene can induce cramps in some individuals",
        "keep": ["in some people"],
        "never": [],
    },
    {
        "topic": "cause_medication",
        "claim": "clonazepam and citalopram have been reported to cause cramps in some instances",
        "keep": ["reported to cause"],
        "never": [],
    },
    {
        "topic": "cause_medication",
        "claim": "side effects may not affect all individuals",
        "keep": ["may not affect"],
        "never": [],
    },
    {
        "topic": "cause_vascular",
        "claim": "individuals with PVD may notice cramps that come back",
        "keep": ["may get"],
        "never": [],
    },
    {
        "topic": "cause_vascular",
        "claim": "pain at rest may suggest severely reduced circulation",
        "keep": ["may mean"],
        "never": [],
    },
    {
        "topic": "cause_vascular",
        "claim": "a primary care doctor may refer to a specialist",
        "keep": ["may send", "may refer"],
        "never": [],
    },
    {
        "topic": "cause_vascular",
        "claim": "quickly schedule a medical appointment",
        "keep": ["appointment quickly"],
        "never": [],
    },
    {
        "topic": "cause_nerve",
        "claim": "radiculopathy can cause cramping",
        "keep": ["may bring on"],
        "never": [],
    },
    {
        "topic": "cause_pregnancy",
        "claim": "weight gain can lead to nerve impingement",
        "keep": ["can press"],
        "never": [],
    },
    {
        "topic": "cause_pregnancy",
        "claim": "mild cramping does not typically put the baby at risk",
        "keep": ["do not usually"],
        "never": ["never", "no risk"],
    },
    {
        "topic": "cause_night",
        "claim": "people in demanding jobs may notice more night cramps",
        "keep": ["may notice"],
        "never": [],
    },
    {
        "topic": "cause_night",
        "claim": "dehydration can intensify nocturnal cramps",
        "keep": ["can make"],
        "never": [],
    },
    {
        "topic": "treat_dehydration",
        "claim": "hydration is key to preventing foot cramps",
        "keep": ["key to preventing"],
        "never": ["the main way", "the only way"],
    },
    {
        "topic": "treat_dehydration",
        "claim": "electrolyte drinks can be beneficial",
        "keep": ["can help"],
        "never": [],
    },
    {
        "topic": "treat_footwear",
        "claim": "ill-fitting shoes can contribute to foot cramps",
        "keep": ["can add to"],
        "never": [],
    },
    {
        "topic": "treat_footwear",
        "claim": "supportive shoes can reduce the occurrence of cramps",
        "keep": ["can make them less frequent"],
        "never": ["prevent cramps"],
    },
    {
        "topic": "treat_footwear",
        "claim": "compression stockings help with leg swelling (consider)",
        "keep": ["can help with leg swelling"],
        "never": [],
    },
    {
        "topic": "treat_electrolytes",
        "claim": "a balanced diet can help prevent imbalances",
        "keep": ["can help keep"],
        "never": [],
    },
    {
        "topic": "treat_medication",
        "claim": "they may recommend dose changes or alternatives",
        "keep": ["may adjust"],
        "never": ["will adjust"],
    },
    {
        "topic": "treat_medication",
        "claim": "gabapentin may help, as a provider's option",
        "keep": ["may ease cramping"],
        "never": ["take gabapentin", "try gabapentin"],
    },
    {
        "topic": "treat_vascular",
        "claim": "PVD cramps can be alleviated by gentle physical therapy",
        "keep": ["can ease"],
        "never": [],
    },
    {
        "topic": "treat_vascular",
        "claim": "severe cases may require surgery, angioplasty",
        "keep": ["may need", "may be needed"],
        "never": [],
    },
    {
        "topic": "treat_pregnancy",
        "claim": "pregnancy cramping can be alleviated by gentle exercise",
        "keep": ["can ease"],
        "never": [],
    },
    {
        "topic": "treat_night",
        "claim": "night cramps can often be reduced with light exercise",
        "keep": ["can often"],
        "never": ["will stop"],
    },
    {
        "topic": "treat_night",
        "claim": "a brief walk or cycling session (no duration given)",
        "keep": ["cycling"],
        "never": ["a few minutes of cycling", "minutes of cycling"],
    },
    {
        "topic": "magnesium",
        "claim": "supplements haven't been found significantly effective",
        "keep": ["did not find them significantly effective"],
        "never": ["do not work", "useless"],
    },
    {
        "topic": "see_doctor",
        "claim": "frequent, severe, persistent cramps: see one immediately",
        "keep": ["straight away"],
        "never": ["promptly"],
    },
]


def topic_texts(topic_id: str) -> str:
    topic = KB[topic_id]
    parts = [
        topic.answer,
        *topic.details,
        topic.advice,
        topic.tell_more,
        *(m.use for m in topic.medicines),
    ]
    return " ".join(" ".join(parts).split())


@pytest.mark.parametrize(
    "claim", HEDGED_CLAIMS, ids=[f"{c['topic']}:{c['claim'][:40]}" for c in HEDGED_CLAIMS]
)
def test_hedged_claims_stay_hedged(claim):
    text = topic_texts(claim["topic"])
    assert any(hedge in text for hedge in claim["keep"]), (
        f"{claim['topic']} lost the article's hedge on: {claim['claim']} (expected one of "
        f"{claim['keep']})"
    )
    strengthened = [word for word in claim["never"] if word in text]
    assert not strengthened, f"{claim['topic']} strengthens {claim['claim']!r}: {strengthened}"


def test_hedge_list_covers_the_topics_that_hedge():
    assert len(HEDGED_CLAIMS) >= 30
    assert {c["topic"] for c in HEDGED_CLAIMS} >= {
        "cause_dehydration",
        "cause_medication",
        "cause_vascular",
        "treat_dehydration",
        "treat_medication",
        "treat_night",
        "magnesium",
        "see_doctor",
    }


# ---------------------------------------------------------------- every hedged sentence, mapped

HEDGE_MAP: List[Dict] = _yaml(ROOT / "tests" / "data" / "article_hedges.yml")
#: words that keep a claim hedged in our sentences
OUR_HEDGES = re.compile(
    r"\b(can|may|might|could|often|usually|typically|prone|likely|linked|reported|some|possible|"
    r"possibly|potentially|sometimes|tends?|more easily)\b",
    re.IGNORECASE,
)
#: sentences and clauses ("... of the feet; it harms ..." is two claims)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\u201c\"(])|\n+|;\s+")
HEDGE_WINDOW = 5  # words before a `hedged_near` term in which its hedge must be


def user_sentences() -> List[Tuple[str, str]]:
    """(where, sentence) for every sentence of every user-facing text."""
    found = []
    for source in sorted(SOURCES):
        for where, text in SOURCES[source]():
            for sentence in SENTENCE_END.split(" ".join(text.split(" "))):
                if sentence.strip():
                    found.append((where, sentence.strip()))
    return found


def retells(entry: Dict, sentence: str) -> bool:
    """Whether every group of the entry's terms occurs in the sentence (at a word start); a
    question retells nothing."""
    lower = sentence.lower().replace("\u2019", "'")
    if lower.rstrip().endswith("?"):
        return False
    return all(
        any(re.search(r"(?<![a-z0-9])" + re.escape(str(term).lower()), lower) for term in group)
        for group in entry.get("retold_by") or []
    )


def keeps_hedge(entry: Dict, sentence: str) -> bool:
    """A hedge in the sentence; with `hedged_near`, right before a word that carries the claim."""
    if not entry.get("hedged_near"):
        return bool(OUR_HEDGES.search(sentence))
    lower = sentence.lower()
    for term in entry["hedged_near"]:
        for match in re.finditer(r"(?<![a-z0-9])" + re.escape(term.lower()), lower):
            before = " ".join(lower[: match.start()].split()[-HEDGE_WINDOW:])
            if OUR_HEDGES.search(before):
                return True
    return False


@pytest.fixture(scope="module")
def sentences() -> List[Tuple[str, str]]:
    return user_sentences()


def test_every_hedged_article_sentence_is_mapped():
    hedged = {s["id"] for s in FINGERPRINT["hedged_sentences"]}
    mapped = [str(e["id"]) for e in HEDGE_MAP]
    assert len(mapped) == len(set(mapped)), "an article sentence is mapped twice"
    assert set(mapped) == hedged, (
        f"hedged article sentences without an entry: {sorted(hedged - set(mapped))}; "
        f"entries for no hedged sentence: {sorted(set(mapped) - hedged)}"
    )
    for entry in HEDGE_MAP:
        assert entry.get("claim"), entry["id"]
        assert bool(entry.get("retold_by")) != bool(entry.get("not_retold")), entry["id"]


@pytest.mark.parametrize(
    "entry", [e for e in HEDGE_MAP if e.get("retold_by")], ids=lambda e: e["claim"][:50]
)
def test_every_retelling_of_a_hedged_sentence_keeps_a_hedge(entry, sentences):
    retellings = [(where, s) for where, s in sentences if retells(entry, s)]
    assert retellings, f"no sentence retells {entry['claim']!r}: is {entry['retold_by']} stale?"
    unhedged = [(where, s) for where, s in retellings if not keeps_hedge(entry, s)]
    assert not unhedged, f"the article hedges {entry['claim']!r}; these do not:\n" + "\n".join(
        f"  {where}: {s!r}" for where, s in unhedged
    )


def test_the_hedge_check_catches_a_dropped_hedge():
    """The fault class of issue 17: a retelling that states as fact what the article hedges."""
    footwear = next(e for e in HEDGE_MAP if e["id"] == "6cebd4784445")
    dropped = "Tight shoes hold back the foot's movement and its blood flow, so cramps can come."
    kept = "Tight shoes can hold back the foot's movement and its blood flow."
    assert retells(footwear, dropped) and not keeps_hedge(footwear, dropped)
    assert retells(footwear, kept) and keeps_hedge(footwear, kept)
    pregnancy = next(e for e in HEDGE_MAP if e["id"] == "00bec1645523")
    told = "The swelling presses on the muscles, which then work harder, tire and cramp."
    assert retells(pregnancy, told) and not keeps_hedge(pregnancy, told)
    referral = next(e for e in HEDGE_MAP if e["id"] == "5d4d1c0e7ac2")
    told = "A primary care doctor may refer you to a vascular surgeon for arterial testing."
    assert retells(referral, told) and not keeps_hedge(referral, told)
    # a clause is a claim of its own: a hedge in the other clause does not count
    nerve = next(e for e in HEDGE_MAP if e["id"] == "fcd234b0172f")
    told = "It can follow diabetes; it harms the nerves of the feet."
    assert [s for s in SENTENCE_END.split(told) if retells(nerve, s) and not keeps_hedge(nerve, s)]


# ---------------------------------------------------------------- ours, said as ours


def test_every_escalation_reason_names_its_section_or_is_marked_as_ours():
    terms = packaged_terms()
    for entry in terms["signs"] + terms["combinations"]:
        if not entry.get("why"):
            continue
        why, section = entry["why"], entry.get("section")
        reason = wording().reason_text(entry["id"])
        if section:
            assert all(part in HEADINGS for part in section.split(" \u2013 ")), entry["id"]
            assert f"\u201c{section}\u201d" in reason, entry["id"]
            assert wording().labels["ours"] not in reason.replace(
                wording().own_rule_text(entry["id"]), ""
            )
        else:
            # a rule of ours (the rubric's or this assistant's): marked, never "the article"
            assert "article" not in why.lower(), (entry["id"], why)
            assert reason.endswith(wording().labels["ours"]), entry["id"]
        if entry.get("own_rule"):
            assert reason.endswith(wording().own_rule_text(entry["id"])), entry["id"]
            assert "article" not in entry["own_rule"].lower(), entry["id"]


def test_an_escalation_says_why_with_its_source():
    text = wording().message("see_doctor", ["medicine_suspected"])["text"]
    why = text.split("\n")[-1]
    assert why == wording().why_line(wording().reason_text("medicine_suspected"))
    assert "What Is the Treatment for Cramps?" in why
    # the rule of ours is labelled as ours, not tacked onto what the article says
    rule = wording().own_rule_text("medicine_suspected")
    assert why.endswith(rule) and "on your own" in rule and "not the article" in rule
    ours = wording().message("see_doctor", ["numbness_or_tingling"])["text"]
    assert ours.endswith(wording().labels["ours"]) and "nerve damage" not in ours


def test_the_cramp_check_reasons_are_the_escalations():
    """Each tier rule of the cramp check says its sign's reason, as an escalation says it."""
    for rule in cramp_check().tiers:
        assert rule.sign and rule.why == wording().reason_text(rule.sign), rule


def test_what_the_article_does_not_say_is_not_attributed_to_it(sentences):
    """Sentences that say "the article" never carry a claim of ours (issue 17's examples are the
    kind: a duration threshold, numbness tied to nerve damage, dizziness before fainting, the
    medicine rule)."""
    ours = ["ten minutes", "dizz", "on your own", "numbness"]
    for where, sentence in sentences:
        if "article" in sentence.lower() and "safety rule of this assistant" not in sentence:
            found = [o for o in ours if o in sentence.lower()]
            assert not found, (where, sentence)


# ---------------------------------------------------------------- the source, named


def test_greeting_and_about_replies_name_the_source():
    responses = _yaml(ROOT / "domain.yml")["responses"]
    source = KB.source()
    # the greeting, "are you a bot?" and "who wrote this?" (intent ask_source) name it, once each
    for name in ("utter_greet", "utter_bot_challenge", "utter_ask_source"):
        text = " ".join(responses[name][0]["text"].split())
        assert source in text, name
        assert text.count(KB.article_title) == 1, name


def test_the_page_shows_the_source_and_the_greeting_from_data():
    content = page_content()
    greet = _yaml(ROOT / "domain.yml")["responses"]["utter_greet"][0]
    assert content["welcome"]["text"] == " ".join(greet["text"].split())
    payloads = [b["payload"] for b in content["welcome"]["buttons"]]
    assert payloads == [b["payload"] for b in greet["buttons"]]
    assert KB.source() in content["source"]
    assert wording().actions["emergency"] in content["note"]


# ---------------------------------------------------------------- wording lives in data


def test_the_widget_has_no_words_of_its_own_for_tiers_or_greeting():
    script = (ROOT / "web" / "src" / "chat.js").read_text(encoding="utf-8")
    for own in (
        "Urgent: get medical help today",
        "Worth getting checked",
        '"Emergency"',
        "Hello! Ask me",
        "why do my feet cramp at night",
    ):
        assert own not in script, own
    page = (ROOT / "web" / "src" / "index.html").read_text(encoding="utf-8")
    assert "911" not in page and "podiatrist" not in page
    build = (ROOT / "scripts" / "build_web.sh").read_text(encoding="utf-8")
    assert "build_widget.py" in build
    widget = (ROOT / "scripts" / "build_widget.py").read_text(encoding="utf-8")
    assert "from build_web_content import page_content" in widget


def test_the_widgets_interface_words_come_from_the_built_content():
    """ "Connecting to the assistant…" and the other interface strings: data, built into the
    content file, never in the widget's script or page."""
    ui = page_content()["ui"]
    assert ui["status_connecting"].startswith("Connecting to the assistant")
    script = (ROOT / "web" / "src" / "chat.js").read_text(encoding="utf-8")
    script = re.sub(r"/\*.*?\*/|//[^\n]*", "", script, flags=re.S)  # comments are not shown
    page = (ROOT / "web" / "src" / "index.html").read_text(encoding="utf-8")
    page = re.sub(r"<!--.*?-->", "", page, flags=re.S)
    for text in ui.values():
        if len(text.split()) >= 2:
            assert text not in script and text not in page, text


#: sentences that used to live in code and must not come back
FORMER_CODE_WORDING = [
    "Why:",
    "Reply with a number",
    "as the article advises",
    "more than 100",
    "That is all the article says",
    "didn't catch that",
    "Nothing you told me",
    "what your answers point to",
    "911",
    "having trouble",
    "calls for a doctor",
    "general prevention",
]
#: every Python package, and the widget's script
PACKAGES = ("actions", "channels", "cramp_nlu", "cramp_ops")
CODE_FILES = sorted(
    str(path.relative_to(ROOT)) for package in PACKAGES for path in (ROOT / package).rglob("*.py")
) + ["web/src/chat.js"]
#: operator tools: their words are for whoever runs the assistant, never for a person chatting
OPERATOR_FILES = {
    "cramp_ops/report.py",  # the operator report (HTML)
    "cramp_ops/report_figures.py",
    "cramp_ops/svg.py",
    "cramp_ops/export.py",  # the NLU export's warnings
}
#: calls whose strings go to logs, exceptions or a command line, not to a person chatting
NOT_SAID_TO_THE_PERSON = {
    "debug", "info", "warning", "error", "exception", "critical", "log", "warn",
    "raise_warning", "print", "add_argument", "print_error_and_exit", "ArgumentParser", "execute",
}  # fmt: skip
SENTENCE = re.compile(r"^[A-Z\u201c\"'][^\n]*\s\S+\s\S+.*[.!?\u2026]$")


def docstring_ids(tree: ast.AST) -> Set[int]:
    """The ids of the docstring constants of a parsed module, its classes and functions."""
    return {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }


def said_sentences(path: Path) -> List[Tuple[int, str]]:
    """String literals of a Python file that read as sentences to a person (not docstrings, not
    log lines, exceptions or command-line help)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    docstrings = docstring_ids(tree)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            continue
        if id(node) in docstrings or not SENTENCE.match(node.value.strip()):
            continue
        parent, quiet = parents.get(node), False
        while parent is not None and not isinstance(parent, ast.stmt):
            if isinstance(parent, ast.Call):
                name = getattr(parent.func, "attr", getattr(parent.func, "id", ""))
                quiet = quiet or name in NOT_SAID_TO_THE_PERSON
            parent = parents.get(parent)
        if not quiet and not isinstance(parent, ast.Raise):
            found.append((node.lineno, node.value.strip()))
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_no_python_package_words_a_sentence_for_the_person(package):
    """Every sentence a person reads is in a data file: none in any package's code."""
    files = [
        path
        for path in sorted((ROOT / package).rglob("*.py"))
        if str(path.relative_to(ROOT)) not in OPERATOR_FILES
    ]
    assert files
    worded = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for path in files
        for line, text in said_sentences(path)
    ]
    assert not worded, "sentences in code (move them to a data file):\n" + "\n".join(worded)


def test_the_sentence_scan_finds_a_sentence_in_code(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        'HINT = "Reply with a number, or just type your question."\n'
        'logger.warning("Could not read the tracker, so nothing was resolved.")\n',
        encoding="utf-8",
    )
    assert [text for _, text in said_sentences(module)] == [
        "Reply with a number, or just type your question."
    ]


@pytest.mark.parametrize("path", CODE_FILES)
def test_code_only_assembles(path):
    if not (ROOT / path).exists():
        pytest.skip(f"{path} is not in this tree")
    source = (ROOT / path).read_text(encoding="utf-8")
    code = source
    if path.endswith(".py"):
        tree = ast.parse(source)
        docstrings = docstring_ids(tree)
        # string constants outside docstrings and comments
        code = "\n".join(
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        )
        for call in ast.walk(tree):
            if isinstance(call, ast.Call) and getattr(call.func, "attr", "") == "utter_message":
                for keyword in call.keywords:
                    if keyword.arg == "text":
                        literal = [
                            v.value
                            for v in ast.walk(keyword.value)
                            if isinstance(v, ast.Constant) and isinstance(v.value, str)
                        ]
                        assert all(len(t.split()) < 3 for t in literal), (path, literal)
    for wording_ in FORMER_CODE_WORDING:
        assert wording_ not in code, (path, wording_)


def test_phrases_file_is_the_one_place_for_framing_sentences():
    assert PHRASES_FILE == ROOT / "data" / "knowledge" / "phrases.yml"
    assert "more than 100" in KB["cause_medication"].not_named
