"""The article's knowledge, loaded once per process from `data/knowledge/topics.yml`, and the
sentences the actions put around it, from `data/knowledge/phrases.yml` (code only assembles)."""

from __future__ import annotations

import datetime
import string
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

import yaml

from actions import config
from cramp_nlu.terms import SUBJECTS

#: The topic IDs are a contract with the evaluation suite: all of them, no others (pinned,
#: literally, by tests/test_knowledge.py). The eight causes are the terms' `SUBJECTS`.
TOPIC_IDS: Tuple[str, ...] = (
    "definition",
    "causes",
    *(f"cause_{subject}" for subject in SUBJECTS),
    "treatment",
    *(f"treat_{subject}" for subject in SUBJECTS),
    "magnesium",
    "see_doctor",
)


PHRASES_FILE = config.PHRASES_FILE

#: Each phrase and the fields the code fills in: the file must have exactly these.
PHRASE_FIELDS: Dict[str, Tuple[str, ...]] = {
    "citation": ("section",),
    "citation_part": ("part",),
    "source": ("title", "author", "date"),
    "own_note": ("note",),
    "medicine_named": ("name", "use"),
    "medicine_not_named": ("name",),
    "medicine_kind": ("kind", "name", "use", "which"),
    "tell_more_button": (),
    "tell_more_all_said": ("title",),
    "show_all_topics_button": (),
    "closest_others": (),
    "feedback.helpful_button": (),
    "feedback.unhelpful_button": (),
    "feedback.thanks": (),
    "feedback.sorry": (),
    "cramp_check.unclear_answer": ("example",),
    "cramp_check.summary.action": ("action",),
    "cramp_check.summary.urgent_rest_waits": (),
    "cramp_check.summary.causes_heading": (),
    "cramp_check.summary.cause_line": ("rank", "title", "advice"),
    "cramp_check.summary.no_cause": ("advice",),
    "cramp_check.summary.see_doctor_heading": (),
    "cramp_check.summary.see_doctor_item": ("text",),
    "web.source": ("source",),
    "web.note": ("emergency",),
}


class KnowledgeError(ValueError):
    """The knowledge file does not hold what the assistant needs."""


@dataclass(frozen=True)
class Medicine:
    name: str
    use: str


@dataclass(frozen=True)
class MedicineKind:
    """A general kind of medicine a person may name ("water pills", "cholesterol pills"): the
    article names one medicine of that kind, and never says the person's own is that one."""

    name: str  # the NLU's canonical value for the kind ("diuretic")
    medicine: str  # the article's medicine of that kind ("furosemide")
    said: str  # the kind in words, as the note says it ("a water pill (diuretic)")
    named: str  # what the article names, in words ("furosemide")
    which: str  # what the person's own would have to be ("furosemide")


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    section: str
    #: the answer's text; `answer_parts` when some of it comes from another section
    answer: str
    details: Tuple[str, ...] = ()
    related: Tuple[str, ...] = ()
    medicines: Tuple[Medicine, ...] = ()
    #: the section each detail comes from (the topic's own unless the file names another)
    detail_sections: Tuple[str, ...] = ()
    #: what "tell me more" says when the topic has no details (the overviews)
    tell_more: str = ""
    #: the topic's advice in one sentence (the cramp-check summary); "" = use the answer
    advice: str = ""
    #: a safety rule of ours, said after the citation and marked as not the article's
    own_note: str = ""
    #: what to say of a medicine the article does not name ({name})
    not_named: str = ""
    #: the answer as (text, section) parts, each cited to its own section (default: one part)
    answer_parts: Tuple[Tuple[str, str], ...] = ()
    #: the section `advice` comes from ("" = the topic's own)
    advice_section: str = ""

    def medicine(self, name: str) -> Optional[Medicine]:
        """The article's note on a medicine (canonical name, as the NLU synonyms produce it)."""
        wanted = name.strip().lower()
        return next((m for m in self.medicines if m.name == wanted), None)

    @property
    def advice_text(self) -> str:
        """One complete piece of advice from this topic: its `advice`, else its answer."""
        return self.advice or self.answer

    def answer_groups(self) -> List[Tuple[str, List[str]]]:
        """The answer's parts in order, grouped by the section each comes from."""
        return _grouped(self.answer_parts or ((self.answer, self.section),))

    def advice_groups(self) -> List[Tuple[str, List[str]]]:
        """The advice with its section (the answer's groups when the topic has no advice)."""
        if self.advice:
            return [(self.advice_section or self.section, [self.advice])]
        return self.answer_groups()

    def detail_groups(self) -> List[Tuple[str, List[str]]]:
        """The details in order, grouped by the section each comes from: [(section, details)]."""
        sections = self.detail_sections or (self.section,) * len(self.details)
        return _grouped(tuple(zip(self.details, sections, strict=True)))


def _grouped(parts: Tuple[Tuple[str, str], ...]) -> List[Tuple[str, List[str]]]:
    """(text, section) parts as [(section, texts)], neighbours from one section together."""
    groups: List[Tuple[str, List[str]]] = []
    for text, section in parts:
        if groups and groups[-1][0] == section:
            groups[-1][1].append(text)
        else:
            groups.append((section, [text]))
    return groups


class Phrases:
    """The sentences of phrases.yml by dotted key; `text(key, **fields)` fills them in."""

    def __init__(self, texts: Mapping[str, str]) -> None:
        self._texts = dict(texts)

    def text(self, key: str, **fields: Any) -> str:
        return self._texts[key].format(**fields)

    def keys(self) -> List[str]:
        return sorted(self._texts)

    def raw(self, key: str) -> str:
        return self._texts[key]


def _flatten(raw: Mapping[str, Any], prefix: str = "") -> Dict[str, Any]:
    flat: Dict[str, Any] = {}
    for key, value in raw.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def _fields(template: str) -> Tuple[str, ...]:
    return tuple(sorted({name for _, name, _, _ in string.Formatter().parse(template) if name}))


def parse_phrases(raw: object) -> Phrases:
    """Validates phrases.yml: every phrase the code uses, each with exactly its fields."""
    if not isinstance(raw, dict):
        raise KnowledgeError("phrases file must be a mapping")
    flat = {k: v for k, v in _flatten(raw).items() if k != "version"}
    missing = sorted(set(PHRASE_FIELDS) - set(flat))
    unknown = sorted(set(flat) - set(PHRASE_FIELDS))
    if missing or unknown:
        raise KnowledgeError(f"phrases file: missing {missing}, unknown {unknown}")
    texts: Dict[str, str] = {}
    for key, value in flat.items():
        text = _text(value)
        if not text:
            raise KnowledgeError(f"phrase {key!r} must be a non-empty text")
        if _fields(text) != tuple(sorted(PHRASE_FIELDS[key])):
            raise KnowledgeError(
                f"phrase {key!r} must use the fields {sorted(PHRASE_FIELDS[key])}"
                f", not {list(_fields(text))}"
            )
        texts[key] = text
    return Phrases(texts)


def load_phrases(path: Path) -> Phrases:
    with open(path, encoding="utf-8") as handle:
        return parse_phrases(yaml.safe_load(handle))


@lru_cache(maxsize=1)
def phrases() -> Phrases:
    """The phrases of this process, read on first use and kept."""
    return load_phrases(PHRASES_FILE)


@dataclass(frozen=True)
class KnowledgeBase:
    topics: Dict[str, Topic]
    disclaimer: str
    article_title: str = ""
    article_author: str = ""
    all_medicines: Dict[str, Medicine] = field(default_factory=dict)
    article_date: Optional[datetime.date] = None
    #: the article's parts without a heading of their own (`introduction`, `conclusion`,
    #: `disclaimer`), cited by these names instead of a heading
    article_parts: Dict[str, str] = field(default_factory=dict)
    #: general kinds of medicine people name ("water pills"), by the NLU's canonical value
    medicine_kinds: Dict[str, MedicineKind] = field(default_factory=dict)

    def __getitem__(self, topic_id: str) -> Topic:
        return self.topics[topic_id]

    @property
    def article_date_text(self) -> str:
        """The article's date as people write it: "21 July 2024"."""
        if self.article_date is None:
            return ""
        return f"{self.article_date.day} {self.article_date:%B %Y}"

    def source(self, wording: Optional[Phrases] = None) -> str:
        """The source named in words: title, author and date (phrases.yml `source`)."""
        return (wording or phrases()).text(
            "source",
            title=self.article_title,
            author=self.article_author,
            date=self.article_date_text,
        )

    def get(self, topic_id: Optional[str]) -> Optional[Topic]:
        return self.topics.get(topic_id) if topic_id else None

    def citation(self, section: str, wording: Optional[Phrases] = None) -> str:
        """How a text names where in the article it comes from: its section's heading, or the
        name of a part without one (the introduction, the conclusion, the closing disclaimer)."""
        wording = wording or phrases()
        if section in self.article_parts:
            return wording.text("citation_part", part=self.article_parts[section])
        return wording.text("citation", section=section)

    def cited(self, groups: List[Tuple[str, List[str]]]) -> List[str]:
        """Grouped texts as lines: each group's texts, then its citation."""
        lines: List[str] = []
        for section, texts in groups:
            lines += [" ".join(texts), self.citation(section)]
        return lines


def _text(value: object) -> str:
    """Whitespace-normalised text ("" for anything that is not a string)."""
    return " ".join(value.split()) if isinstance(value, str) else ""


def _text_list(topic_id: object, key: str, value: object) -> Tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(_text(v) for v in value):
        raise KnowledgeError(f"topic {topic_id!r}: '{key}' must be a list of non-empty texts")
    return tuple(_text(v) for v in value)


def _details(
    topic_id: object, section: str, value: object
) -> Tuple[Tuple[str, ...], Tuple[str, ...]]:
    """(details, the section of each): a detail is a text, or {text, section} from another
    section."""
    if value is None:
        return (), ()
    if not isinstance(value, list):
        raise KnowledgeError(f"topic {topic_id!r}: 'details' must be a list of non-empty texts")
    texts, sections = [], []
    for item in value:
        if isinstance(item, dict):
            text, own = _text(item.get("text")), _text(item.get("section"))
            if not text or not own or set(item) != {"text", "section"}:
                raise KnowledgeError(
                    f"topic {topic_id!r}: a detail given as a mapping needs"
                    " exactly a text and a section"
                )
        else:
            text, own = _text(item), section
        if not text:
            raise KnowledgeError(f"topic {topic_id!r}: 'details' must be a list of non-empty texts")
        texts.append(text)
        sections.append(own)
    return tuple(texts), tuple(sections)


def _answer(topic_id: object, section: str, value: object) -> Tuple[Tuple[str, str], ...]:
    """The answer as (text, section) parts: a text, or a list of texts and {text, section}."""
    if isinstance(value, list):
        texts, sections = _details(topic_id, section, value)
        if texts:
            return tuple(zip(texts, sections, strict=True))
    elif _text(value):
        return ((_text(value), section),)
    raise KnowledgeError(f"topic {topic_id!r} lacks ['answer']")


def _advice(topic_id: object, value: object) -> Tuple[str, str]:
    """(advice, its section or ""): a text, or {text, section} from another section."""
    if isinstance(value, dict):
        text, section = _text(value.get("text")), _text(value.get("section"))
        if not text or not section or set(value) != {"text", "section"}:
            raise KnowledgeError(
                f"topic {topic_id!r}: advice as a mapping needs a text and a section"
            )
        return text, section
    return _optional_text(topic_id, "advice", value), ""


def _medicine_kinds(value: object, medicines: Dict[str, Medicine]) -> Dict[str, MedicineKind]:
    if value is None:
        return {}
    if not isinstance(value, list):
        raise KnowledgeError("'medicine_kinds' must be a list")
    kinds: Dict[str, MedicineKind] = {}
    fields = ("name", "medicine", "said", "named", "which")
    for item in value:
        if not isinstance(item, dict) or not all(_text(item.get(k)) for k in fields):
            raise KnowledgeError(f"each medicine kind needs {list(fields)}")
        kind = MedicineKind(*(_text(item[k]) for k in fields))
        if kind.medicine.lower() not in medicines:
            raise KnowledgeError(f"medicine kind {kind.name!r}: unknown medicine {kind.medicine!r}")
        if kind.name.lower() in medicines:
            raise KnowledgeError(
                f"medicine kind {kind.name!r} is also a medicine the article names"
            )
        kinds[kind.name.lower()] = kind
    return kinds


def _optional_text(topic_id: object, key: str, value: object) -> str:
    if value is None:
        return ""
    if not _text(value):
        raise KnowledgeError(f"topic {topic_id!r}: '{key}' must be a non-empty text")
    return _text(value)


def _article_date(value: object) -> datetime.date:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise KnowledgeError(f"article date must be YYYY-MM-DD, not {value!r}") from None


def _medicines(topic_id: object, value: object) -> Tuple[Medicine, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise KnowledgeError(f"topic {topic_id!r}: 'medicines' must be a list")
    medicines = []
    for item in value:
        if not isinstance(item, dict) or not _text(item.get("name")) or not _text(item.get("use")):
            raise KnowledgeError(f"topic {topic_id!r}: each medicine needs a name and a use")
        medicines.append(Medicine(_text(item["name"]).lower(), _text(item["use"])))
    return tuple(medicines)


def parse_knowledge(raw: object) -> KnowledgeBase:
    """Validates and builds the knowledge base; fails fast on a broken file."""
    if not isinstance(raw, dict) or not isinstance(raw.get("topics"), list):
        raise KnowledgeError("knowledge file needs a 'topics' list")
    topics: Dict[str, Topic] = {}
    for entry in raw["topics"]:
        if not isinstance(entry, dict):
            raise KnowledgeError(f"topic entries must be mappings, got {entry!r}")
        missing = [k for k in ("id", "title", "section") if not _text(entry.get(k))]
        if not entry.get("answer"):
            missing.append("answer")
        if missing:
            raise KnowledgeError(f"topic {entry.get('id')!r} lacks {missing}")
        if entry["id"] in topics:
            raise KnowledgeError(f"topic {entry['id']!r} appears twice")
        details, detail_sections = _details(
            entry["id"], _text(entry["section"]), entry.get("details")
        )
        not_named = _optional_text(entry["id"], "not_named", entry.get("not_named"))
        if not_named and _fields(not_named) != ("name",):
            raise KnowledgeError(
                f"topic {entry['id']!r}: 'not_named' must use {{name}} and no other field"
            )
        answer_parts = _answer(entry["id"], _text(entry["section"]), entry["answer"])
        advice, advice_section = _advice(entry["id"], entry.get("advice"))
        topics[entry["id"]] = Topic(
            id=entry["id"],
            title=_text(entry["title"]),
            section=_text(entry["section"]),
            answer=" ".join(text for text, _ in answer_parts),
            answer_parts=answer_parts if len(answer_parts) > 1 else (),
            advice_section=advice_section,
            details=details,
            related=_text_list(entry["id"], "related", entry.get("related")),
            medicines=_medicines(entry["id"], entry.get("medicines")),
            detail_sections=detail_sections,
            tell_more=_optional_text(entry["id"], "tell_more", entry.get("tell_more")),
            advice=advice,
            own_note=_optional_text(entry["id"], "own_note", entry.get("own_note")),
            not_named=not_named,
        )
    if set(topics) != set(TOPIC_IDS):
        raise KnowledgeError(
            f"topic IDs differ from the contract: missing {sorted(set(TOPIC_IDS) - set(topics))},"
            f" unknown {sorted(set(topics) - set(TOPIC_IDS))}"
        )
    for topic in topics.values():
        unknown = [r for r in topic.related if r not in topics]
        if unknown:
            raise KnowledgeError(f"topic {topic.id!r} relates to unknown topics {unknown}")
    medicines = {m.name: m for t in topics.values() for m in t.medicines}
    article = raw.get("article") if isinstance(raw.get("article"), dict) else {}
    if not all(_text(article.get(k)) for k in ("title", "author")) or not article.get("date"):
        raise KnowledgeError("knowledge file needs an 'article' mapping (title, author, date)")
    parts = {str(k): _text(v) for k, v in (article.get("parts") or {}).items()}
    if not all(parts.values()):
        raise KnowledgeError("article parts need a name each")
    return KnowledgeBase(
        topics=topics,
        # the disclaimer ends with the article's closing caution
        disclaimer=" ".join(
            t for t in (_text(raw.get("disclaimer")), _text(raw.get("caution"))) if t
        ),
        article_title=_text(article["title"]),
        article_author=_text(article["author"]),
        all_medicines=medicines,
        article_date=_article_date(article["date"]),
        article_parts=parts,
        medicine_kinds=_medicine_kinds(raw.get("medicine_kinds"), medicines),
    )


def load_knowledge(path: Path) -> KnowledgeBase:
    with open(path, encoding="utf-8") as handle:
        return parse_knowledge(yaml.safe_load(handle))


@lru_cache(maxsize=1)
def knowledge() -> KnowledgeBase:
    """The knowledge base of this process, read on first use and kept."""
    return load_knowledge(config.KNOWLEDGE_FILE)


def topic_for_intent(intent: Optional[str]) -> Optional[str]:
    """`ask_cause_night` -> `cause_night`; None for intents that are not knowledge questions."""
    if intent and intent.startswith(config.TOPIC_INTENT_PREFIX):
        candidate = intent[len(config.TOPIC_INTENT_PREFIX) :]
        if candidate in TOPIC_IDS:
            return candidate
    return None


def cause_and_treatment_pairs() -> List[Tuple[str, str]]:
    """(cause_x, treat_x) pairs: the follow-up "how do I treat that?" walks them."""
    return [
        (t, "treat_" + t[len("cause_") :])
        for t in TOPIC_IDS
        if t.startswith("cause_") and "treat_" + t[len("cause_") :] in TOPIC_IDS
    ]
