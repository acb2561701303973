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


def parse_knowledge(raw: dict) -> KnowledgeBase:
    """Validates and builds the knowledge base; fails fast on a broken file."""
    if not isinstance(raw, dict) or "topics" not in raw:
        raise KnowledgeError("knowledge file needs a 'topics' list")
    topics: Dict[str, Topic] = {}
    for entry in raw["topics"]:
        missing = [k for k in ("id", "title", "section", "answer") if not entry.get(k)]
        if missing:
            raise KnowledgeError(f"topic {entry.get('id')!r} lacks {missing}")
        if entry["id"] in topics:
            raise KnowledgeError(f"topic {entry['id']!r} appears twice")
        topics[entry["id"]] = Topic(
            id=entry["id"],
            title=entry["title"],
            section=entry["section"],
            answer=" ".join(str(entry["answer"]).split()),
            details=tuple(" ".join(str(d).split()) for d in entry.get("details", [])),
            related=tuple(entry.get("related", [])),
            medicines=tuple(Medicine(m["name"].lower(), m["use"])
                            for m in entry.get("medicines", [])),
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
    article = raw.get("article", {})
    return KnowledgeBase(topics=topics, disclaimer=" ".join(str(raw.get("disclaimer", "")).split()),
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
