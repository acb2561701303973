"""The guided cramp check as data: reading answers, ranking causes, choosing the tier.

Everything here is pure and driven by `data/knowledge/cramp_check.yml`; the form actions
(`actions/cramp_check.py`) only connect it to Rasa.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import yaml

from actions import config
from actions.knowledge import TOPIC_IDS
from cramp_nlu.terms import TIERS, max_tier, packaged_terms

SKIPPED = "skipped"
NOT_SURE = "not_sure"
NOT_ASKED = "not_asked"  # left open because an emergency ended the check early
ARTICLE_MEDICINE = "article_medicine"  # derived value: a medicine the article names
Answer = Union[str, List[str]]


class CrampCheckError(ValueError):
    """The cramp-check rules file is malformed."""


@dataclass(frozen=True)
class Question:
    slot: str
    example: str
    answers: Dict[str, Tuple[str, ...]]
    multi: bool = False
    signs: Dict[str, str] = field(default_factory=dict)  # red-flag sign id -> answer value


@dataclass(frozen=True)
class Rule:
    target: str  # a cause topic ID or a tier
    when: Dict[str, Tuple[str, ...]]
    weight: int = 1
    why: str = ""

    def matches(self, facts: Dict[str, List[str]]) -> bool:
        return all(set(values) & set(facts.get(slot, [])) for slot, values in self.when.items())


@dataclass(frozen=True)
class SummaryItem:
    """One reason to see a provider in the summary: a topic's answer, advice or detail, or a
    red-flag sign's why from the terms file (a rule of ours, not the article's)."""

    topic: str = ""
    use: str = "answer"  # answer | advice | detail
    detail_containing: str = ""
    sign: str = ""


@dataclass(frozen=True)
class Summary:
    """Which knowledge texts the summary shows (its sentences are phrases.yml's)."""

    advice: Dict[str, Tuple[str, ...]] = field(default_factory=dict)
    general: Tuple[str, ...] = ("treatment",)
    see_doctor: Tuple[SummaryItem, ...] = ()

    def advice_topics(self, cause: str, treatment: str) -> Tuple[str, ...]:
        """The topics whose advice a cause's line gives (default: its treatment)."""
        return self.advice.get(cause, (treatment,))


@dataclass(frozen=True)
class CrampCheck:
    questions: Tuple[Question, ...]
    causes: Tuple[Rule, ...]
    tiers: Tuple[Rule, ...]
    skip_words: Tuple[str, ...]
    unsure_words: Tuple[str, ...]
    summary: Summary = field(default_factory=Summary)

    @property
    def slots(self) -> List[str]:
        return [q.slot for q in self.questions]

    def question(self, slot: str) -> Question:
        return next(q for q in self.questions if q.slot == slot)


def _as_tuple(value: Any) -> Tuple[str, ...]:
    return tuple(str(v) for v in (value if isinstance(value, list) else [value]))


def parse_cramp_check(raw: Any) -> CrampCheck:
    """Validates the rules file against itself and the knowledge topic IDs."""
    if not isinstance(raw, dict):
        raise CrampCheckError("cramp check file must be a mapping")
    questions = tuple(
        Question(
            slot=q["slot"],
            example=q["example"],
            answers={str(k): _as_tuple(v) for k, v in q.get("answers", {}).items()},
            multi=bool(q.get("multi", False)),
            signs=dict(q.get("signs", {})),
        )
        for q in raw.get("questions", [])
    )
    values = {q.slot: set(q.answers) | set(q.signs.values()) for q in questions}
    values.setdefault("check_medicines", set()).add(ARTICLE_MEDICINE)

    def rules(key: str, target_key: str, allowed: Sequence[str]) -> Tuple[Rule, ...]:
        built = []
        for entry in raw.get(key, []):
            target = entry.get(target_key)
            if target not in allowed:
                raise CrampCheckError(f"{key}: unknown {target_key} {target!r}")
            when = {slot: _as_tuple(v) for slot, v in entry.get("when", {}).items()}
            for slot, wanted in when.items():
                if slot not in values or not set(wanted) <= values[slot]:
                    raise CrampCheckError(f"{key}: {target} uses unknown answer {slot}={wanted}")
            built.append(Rule(target, when, int(entry.get("weight", 1)), entry.get("why", "")))
        return tuple(built)

    causes = rules("causes", "cause", [t for t in TOPIC_IDS if t.startswith("cause_")])
    tiers = rules("tiers", "tier", TIERS)
    if not questions or not causes:
        raise CrampCheckError("cramp check needs questions and cause rules")
    return CrampCheck(
        questions,
        causes,
        tiers,
        _as_tuple(raw.get("skip_words", [])),
        _as_tuple(raw.get("unsure_words", [])),
        parse_summary(raw.get("summary")),
    )


def parse_summary(raw: Any) -> Summary:
    """The summary section: topic IDs that exist, sign IDs of the terms file."""
    if not isinstance(raw, dict):
        raise CrampCheckError("cramp check needs a 'summary' mapping")
    advice: Dict[str, Tuple[str, ...]] = {}
    for cause, topics in (raw.get("advice") or {}).items():
        if cause not in TOPIC_IDS or not cause.startswith("cause_"):
            raise CrampCheckError(f"summary: unknown cause {cause!r}")
        advice[cause] = _known_topics(f"summary advice of {cause}", topics)
    general = _known_topics("summary general", raw.get("general") or ["treatment"])
    signs = {s["id"] for s in packaged_terms()["signs"]}
    items = []
    for entry in raw.get("see_doctor") or []:
        if not isinstance(entry, dict):
            raise CrampCheckError(f"summary: see_doctor items are mappings, not {entry!r}")
        if "sign" in entry:
            if entry["sign"] not in signs or set(entry) != {"sign"}:
                raise CrampCheckError(f"summary: unknown sign {entry.get('sign')!r}")
            items.append(SummaryItem(sign=entry["sign"]))
            continue
        topic = _known_topics("summary see_doctor", [entry.get("topic")])[0]
        if "detail_containing" in entry:
            items.append(
                SummaryItem(
                    topic=topic, use="detail", detail_containing=str(entry["detail_containing"])
                )
            )
        elif entry.get("use", "answer") in ("answer", "advice"):
            items.append(SummaryItem(topic=topic, use=entry.get("use", "answer")))
        else:
            raise CrampCheckError(f"summary: unknown use {entry.get('use')!r}")
    if not items:
        raise CrampCheckError("summary: the see_doctor list is empty")
    return Summary(advice=advice, general=general, see_doctor=tuple(items))


def _known_topics(where: str, topics: Any) -> Tuple[str, ...]:
    topics = _as_tuple(topics)
    unknown = [t for t in topics if t not in TOPIC_IDS]
    if unknown or not topics:
        raise CrampCheckError(f"{where}: unknown topics {unknown}")
    return topics


def load_cramp_check(path: Path) -> CrampCheck:
    with open(path, encoding="utf-8") as handle:
        return parse_cramp_check(yaml.safe_load(handle))


@lru_cache(maxsize=1)
def cramp_check() -> CrampCheck:
    return load_cramp_check(config.CRAMP_CHECK_FILE)


def _phrase_spans(text: str, phrase: str) -> List[Tuple[int, int]]:
    pattern = r"(?<![a-z0-9])" + re.escape(phrase.lower()) + r"(?![a-z0-9])"
    return [(m.start(), m.end()) for m in re.finditer(pattern, text)]


def _normalise(text: str) -> str:
    return " ".join(text.lower().replace("\u2019", "'").split())


def _found_values(question: Question, text: str) -> List[str]:
    """Answer values whose words occur in the text, longest phrase first, in text order."""
    spans: List[Tuple[int, int, str]] = []
    for value, phrases in question.answers.items():
        for phrase in phrases:
            spans += [(s, e, value) for s, e in _phrase_spans(text, phrase)]
    spans.sort(key=lambda s: (-(s[1] - s[0]), s[0]))
    kept: List[Tuple[int, int, str]] = []
    for start, end, value in spans:
        if all(end <= s or start >= e for s, e, _ in kept):
            kept.append((start, end, value))
    ordered = [value for _, _, value in sorted(kept)]
    return list(dict.fromkeys(ordered))


def read_answer(
    question: Question,
    text: str,
    *,
    medicines: Iterable[str] = (),
    signs: Iterable[str] = (),
    skip_words: Sequence[str] = (),
    unsure_words: Sequence[str] = (),
) -> Optional[Answer]:
    """The canonical answer in a reply, or None when the reply is not understood.

    `medicines` are the canonical names the NLU found (entity `medication`); `signs` are the
    red-flag signs the NLU component reported (not denied).
    """
    clean = _normalise(text or "")
    if not clean:
        return None
    if clean in question.answers:  # a button payload sends the canonical value itself
        return [clean] if question.multi else clean
    if any(_phrase_spans(clean, w) for w in unsure_words):
        return NOT_SURE
    if any(_phrase_spans(clean, w) for w in skip_words):
        return SKIPPED
    found = _found_values(question, clean)
    if question.signs:
        from_signs = [question.signs[s] for s in signs if s in question.signs]
        found = list(
            dict.fromkeys(from_signs + [v for v in found if not from_signs or v != "none"])
        )
    if question.slot == "check_medicines":
        named = [m.lower() for m in medicines]
        if named:
            return list(dict.fromkeys(named))
    if not found:
        return None
    if question.multi:
        return found
    return found[0]


def facts_from(answers: Dict[str, Any], article_medicines: Iterable[str]) -> Dict[str, List[str]]:
    """Answers as lists of values, plus the derived `article_medicine` value."""
    facts: Dict[str, List[str]] = {}
    for slot, value in answers.items():
        if value is None:
            continue
        values = [str(v) for v in (value if isinstance(value, list) else [value])]
        facts[slot] = values
    medicines = set(facts.get("check_medicines", [])) & {m.lower() for m in article_medicines}
    if medicines:
        facts["check_medicines"] = facts["check_medicines"] + [ARTICLE_MEDICINE]
    return facts


def rank_causes(check: CrampCheck, facts: Dict[str, List[str]]) -> List[str]:
    """Cause topic IDs that fit the answers, best first (ties: order in the rules file)."""
    scores: Dict[str, int] = {}
    for rule in check.causes:
        if rule.matches(facts):
            scores[rule.target] = scores.get(rule.target, 0) + rule.weight
    first_seen = {rule.target: i for i, rule in reversed(list(enumerate(check.causes)))}
    return sorted(scores, key=lambda cause: (-scores[cause], first_seen[cause]))


def answers_tier(check: CrampCheck, facts: Dict[str, List[str]]) -> Tuple[str, List[str]]:
    """The tier the answers call for by themselves, with the reasons of that tier."""
    matched = [rule for rule in check.tiers if rule.matches(facts)]
    tier = max_tier(rule.target for rule in matched)
    return tier, [rule.why for rule in matched if rule.target == tier and rule.why]
