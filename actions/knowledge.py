"""The article's knowledge, loaded once per process from `data/knowledge/topics.yml`."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

from actions import config

#: The topic IDs are a contract with the evaluation suite: all of them, no others.
TOPIC_IDS: Tuple[str, ...] = (
    "definition", "causes",
    "cause_dehydration", "cause_footwear", "cause_electrolytes", "cause_medication",
    "cause_vascular", "cause_nerve", "cause_pregnancy", "cause_night",
    "treatment",
    "treat_dehydration", "treat_footwear", "treat_electrolytes", "treat_medication",
    "treat_vascular", "treat_nerve", "treat_pregnancy", "treat_night",
    "magnesium", "see_doctor",
)


class KnowledgeError(ValueError):
    """The knowledge file does not hold what the assistant needs."""


@dataclass(frozen=True)
class Medicine:
    name: str
    use: str


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    section: str
    answer: str
    details: Tuple[str, ...] = ()
    related: Tuple[str, ...] = ()
    medicines: Tuple[Medicine, ...] = ()

    def medicine(self, name: str) -> Optional[Medicine]:
        """The article's note on a medicine (canonical name, as the NLU synonyms produce it)."""
        wanted = name.strip().lower()
        return next((m for m in self.medicines if m.name == wanted), None)


@dataclass(frozen=True)
class KnowledgeBase:
    topics: Dict[str, Topic]
    disclaimer: str
    article_title: str = ""
    article_author: str = ""
    all_medicines: Dict[str, Medicine] = field(default_factory=dict)

    def __getitem__(self, topic_id: str) -> Topic:
        return self.topics[topic_id]

    def get(self, topic_id: Optional[str]) -> Optional[Topic]:
        return self.topics.get(topic_id) if topic_id else None


def _text(value: object) -> str:
    """Whitespace-normalised text ("" for anything that is not a string)."""
    return " ".join(value.split()) if isinstance(value, str) else ""


def _text_list(topic_id: object, key: str, value: object) -> Tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(_text(v) for v in value):
        raise KnowledgeError(f"topic {topic_id!r}: '{key}' must be a list of non-empty texts")
    return tuple(_text(v) for v in value)


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
        missing = [k for k in ("id", "title", "section", "answer") if not _text(entry.get(k))]
        if missing:
            raise KnowledgeError(f"topic {entry.get('id')!r} lacks {missing}")
        if entry["id"] in topics:
            raise KnowledgeError(f"topic {entry['id']!r} appears twice")
        topics[entry["id"]] = Topic(
            id=entry["id"],
            title=_text(entry["title"]),
            section=_text(entry["section"]),
            answer=_text(entry["answer"]),
            details=_text_list(entry["id"], "details", entry.get("details")),
            related=_text_list(entry["id"], "related", entry.get("related")),
            medicines=_medicines(entry["id"], entry.get("medicines")),
        )
    if set(topics) != set(TOPIC_IDS):
        raise KnowledgeError(
            f"topic IDs differ from the contract: missing {sorted(set(TOPIC_IDS) - set(topics))},"
            f" unknown {sorted(set(topics) - set(TOPIC_IDS))}")
    for topic in topics.values():
        unknown = [r for r in topic.related if r not in topics]
        if unknown:
            raise KnowledgeError(f"topic {topic.id!r} relates to unknown topics {unknown}")
    medicines = {m.name: m for t in topics.values() for m in t.medicines}
    article = raw.get("article") if isinstance(raw.get("article"), dict) else {}
    if not article:
        raise KnowledgeError("knowledge file needs an 'article' mapping (title, author, date)")
    return KnowledgeBase(topics=topics, disclaimer=_text(raw.get("disclaimer")),
                         article_title=article.get("title", ""),
                         article_author=article.get("author", ""), all_medicines=medicines)


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
        candidate = intent[len(config.TOPIC_INTENT_PREFIX):]
        if candidate in TOPIC_IDS:
            return candidate
    return None


def cause_and_treatment_pairs() -> List[Tuple[str, str]]:
    """(cause_x, treat_x) pairs: the follow-up "how do I treat that?" walks them."""
    return [(t, "treat_" + t[len("cause_"):]) for t in TOPIC_IDS
            if t.startswith("cause_") and "treat_" + t[len("cause_"):] in TOPIC_IDS]
