"""Every user-facing text against the article: paraphrased, never copied; hedged where it hedges;
the source named; the wording in data files, not in code.

The copying check reads every text a person can see (the knowledge file, the phrases around it,
the domain's responses, the red-flag terms file, the cramp-check table, the channels' data files,
the chat page's strings and its generated content.json), and also the messages the actions
assemble from them, and fails when a text shares a run of 8 or more consecutive words with the
article. The article itself is not in the repository: tests/data/article_fingerprint.yml holds its
headings and hashes of its 8-word runs (scripts/article_fingerprint.py). A heading or the title,
quoted as a citation (“What Is a Cramp?”), is excepted: naming a section is not copying it.

The list of hedged claims below is the article's own caution ("linked to", "may", "often",
"typically", "can"): each must stay hedged in the topic that states it, and none may be
strengthened or given invented specifics (docs/content-review.md explains how to review a change).
"""

from __future__ import annotations

import ast
import hashlib
import html.parser
import importlib.util
import re
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

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


def assembled_texts() -> Iterator[Tuple[str, str]]:
    """The messages the actions put together from the texts above."""
    from rasa_sdk.executor import CollectingDispatcher

    for topic in KB.topics.values():
        dispatcher = CollectingDispatcher()
        names = [m.name for m in topic.medicines] + ["metformin"] if topic.medicines else []
        send_answer(dispatcher, KB, topic, names)
        yield f"answer {topic.id}", dispatcher.messages[0]["text"]
        if topic.details:
            yield f"tell more {topic.id}", details_text(topic)
    causes = [t for t in KB.topics if t.startswith("cause_")]
    for tier in ("none", "see_doctor", "urgent", "emergency"):
        yield f"summary {tier}", summary_text(causes, tier, [r.why for r in cramp_check().tiers])
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
    assert "build_web_content.py" in build


#: sentences that used to live in code and must not come back
FORMER_CODE_WORDING = [
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
CODE_FILES = [
    "actions/answers.py",
    "actions/knowledge.py",
    "actions/topics.py",
    "actions/cramp_check.py",
    "actions/cramp_check_rules.py",
    "channels/safety_net.py",
    "web/src/chat.js",
]


@pytest.mark.parametrize("path", CODE_FILES)
def test_code_only_assembles(path):
    source = (ROOT / path).read_text(encoding="utf-8")
    code = source
    if path.endswith(".py"):
        tree = ast.parse(source)
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
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
