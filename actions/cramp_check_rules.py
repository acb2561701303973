"""The guided cramp check as data: reading answers, ranking causes, choosing the tier.

Everything here is pure and driven by `data/knowledge/cramp_check.yml`; the form actions
(`actions/cramp_check.py`) only connect it to Rasa.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    List,
    Optional,
    Sequence,
    Tuple,
    Union,
)

import yaml

from actions import config
from actions.knowledge import TOPIC_IDS
from cramp_nlu.escalation import wording
from cramp_nlu.factory import shared_detector
from cramp_nlu.terms import TIERS, max_tier, packaged_terms

SKIPPED = "skipped"
NOT_SURE = "not_sure"
NOT_ASKED = "not_asked"  # left open because an emergency ended the check early
ARTICLE_MEDICINE = "article_medicine"  # derived value: a medicine the article names
#: answers that say nothing about the person: never facts for the causes or the tier
NO_FACT = frozenset({SKIPPED, NOT_SURE, NOT_ASKED})
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
    reply_words: Tuple[str, ...] = ()  # answer phrases that count only as the reply to this
    always_asked: bool = False  # never filled from a story or another reply (the safety question)


@dataclass(frozen=True)
class Rule:
    target: str  # a cause topic ID or a tier
    when: Dict[str, Tuple[str, ...]]
    weight: int = 1
    why: str = ""  # a tier rule's reason as said to the person (its sign's, with its source)
    sign: str = ""  # a tier rule's red-flag sign (red_flags.yml), whose why is its reason

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
    reply_words: Tuple[str, ...] = ()  # for every question: phrases that count only as replies

    @property
    def slots(self) -> List[str]:
        return [q.slot for q in self.questions]

    def question(self, slot: str) -> Question:
        return next(q for q in self.questions if q.slot == slot)

    def story_phrases(self, question: Question) -> Tuple[str, ...]:
        """The question's answer phrases that count outside a reply to it (not reply-only)."""
        return self._story_phrases[question.slot]

    @cached_property
    def _story_phrases(self) -> Dict[str, Tuple[str, ...]]:
        phrases: Dict[str, Tuple[str, ...]] = {}
        for question in self.questions:
            reply_only = {_normalise(p) for p in self.reply_words + question.reply_words}
            every = (p for ps in question.answers.values() for p in ps)
            phrases[question.slot] = tuple(p for p in every if _normalise(p) not in reply_only)
        return phrases


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
            reply_words=_as_tuple(q.get("reply_words", [])),
            always_asked=bool(q.get("always_asked", False)),
        )
        for q in raw.get("questions", [])
    )
    _check_signs(questions)
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
            sign = entry.get("sign", "")
            if key == "tiers":
                _check_tier_sign(target, sign)
            why = wording().reason_text(sign) if sign else ""
            built.append(Rule(target, when, int(entry.get("weight", 1)), why, sign))
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
        _as_tuple(raw.get("reply_words", [])),
    )


def _check_tier_sign(tier: str, sign: str) -> None:
    """A tier rule's reason is a tiered sign of the terms file, of the rule's own tier."""
    terms = packaged_terms()
    tiers = {s["id"]: s["tier"] for s in [*terms["signs"], *terms["combinations"]]}
    if tiers.get(sign) != tier:
        raise CrampCheckError(
            f"tiers: {tier} rule needs a sign of that tier, not {sign!r} ({tiers.get(sign)})"
        )


def _check_signs(questions: Sequence[Question]) -> None:
    """A question's signs are IDs of the red-flag terms file (a sign or a combination): a typo
    would silently never fill the answer."""
    terms = packaged_terms()
    known = {s["id"] for s in terms["signs"]} | {c["id"] for c in terms["combinations"]}
    for question in questions:
        unknown = sorted(set(question.signs) - known)
        if unknown:
            raise CrampCheckError(f"{question.slot}: unknown signs {unknown}")


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


def _phrase_spans(text: str, phrase: str, plural: bool = False) -> List[Tuple[int, int]]:
    """Where a phrase occurs as whole words (`plural`: also with an "s", "short walks")."""
    ending = "s?" if plural else ""
    pattern = r"(?<![a-z0-9])" + re.escape(phrase.lower()) + ending + r"(?![a-z0-9])"
    return [(m.start(), m.end()) for m in re.finditer(pattern, text)]


def _normalise(text: str) -> str:
    return " ".join(text.lower().replace("\u2019", "'").split())


@lru_cache(maxsize=256)
def _held_cues(text: str, vocabulary: Tuple[str, ...]) -> Tuple[Tuple[int, int], ...]:
    """Where answer phrases that hold a cue of their own occur ("not pregnant"); a one-word
    answer ("no") is the cue itself, so only longer phrases count."""
    longer = [p for p in vocabulary if len(p.split()) > 1]
    return tuple(sorted({span for p in longer for span in _phrase_spans(text, p, True)}))


@lru_cache(maxsize=256)
def _denial_check(
    text: str, hypothetical: bool, phrases: Tuple[Tuple[int, int], ...]
) -> Callable[[int, int], bool]:
    """One parse per text: a story is read once for every question of the check."""
    return shared_detector().denial_check(text, hypothetical, phrases)


class Reading:
    """One normalised text, to tell a stated phrase from a denied one, with the red-flag
    detector's negation rules (the project's one negation engine, over the terms file's negation
    words): "no swelling", "I don't sweat much", "my shoes are fine"; in a story (`hypothetical`)
    "if I run" as well. A cue inside the phrase itself ("not pregnant") is part of it."""

    def __init__(
        self, text: str, hypothetical: bool = False, vocabulary: Iterable[str] = ()
    ) -> None:
        self.text = text
        self.denied = _denial_check(text, hypothetical, _held_cues(text, tuple(vocabulary)))

    def states(self, phrase: str) -> bool:
        """Whether the phrase occurs at least once without a denial."""
        return any(not self.denied(s, e) for s, e in _phrase_spans(self.text, phrase))


def _found_values(question: Question, reading: Reading, ignore: Iterable[str] = ()) -> List[str]:
    """Answer values whose words occur in the text and are not denied, longest phrase first
    (a denied one still takes its words), in text order; `ignore`d phrases do not count."""
    ignored = {_normalise(p) for p in ignore}
    spans: List[Tuple[int, int, str]] = []
    for value, phrases in question.answers.items():
        for phrase in phrases:
            if _normalise(phrase) not in ignored:
                spans += [(s, e, value) for s, e in _phrase_spans(reading.text, phrase, True)]
    spans.sort(key=lambda s: (-(s[1] - s[0]), s[0]))
    kept: List[Tuple[int, int, str]] = []
    for start, end, value in spans:
        if all(end <= s or start >= e for s, e, _ in kept):
            kept.append((start, end, value))
    ordered = [value for start, end, value in sorted(kept) if not reading.denied(start, end)]
    return list(dict.fromkeys(ordered))


def _with_signs(question: Question, found: List[str], signs: Iterable[str]) -> List[str]:
    """The values the red-flag signs give first (the component reads denials and variants);
    "none" only when no sign was reported."""
    if not question.signs:
        return found
    from_signs = [question.signs[s] for s in signs if s in question.signs]
    return list(dict.fromkeys(from_signs + [v for v in found if not from_signs or v != "none"]))


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
    vocabulary = [p for phrases in question.answers.values() for p in phrases]
    found = _with_signs(question, _found_values(question, Reading(clean, False, vocabulary)), signs)
    if question.slot == "check_medicines":
        named = [m.lower() for m in medicines]
        if named:
            return list(dict.fromkeys(named))
    if not found:
        return None
    if question.multi:
        return found
    return found[0]


def stated_text(text: str) -> str:
    """The sentences of a message that tell about the person: a question counts only when it
    is about someone ("why do my calves cramp at night?", not "can pregnancy cause cramps?")."""
    hypothetical = packaged_terms()["hypothetical"]
    openers = {str(w).lower() for w in hypothetical["question_openers"]}
    personal = {str(w).lower() for w in hypothetical["personal"]}
    kept = []
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", _normalise(text or "")):
        words = re.findall(r"[a-z0-9]+(?:'[a-z]+)*", sentence)
        asks = sentence.endswith("?") or bool(words and words[0] in openers)
        if sentence and (not asks or personal & set(words)):
            kept.append(sentence if sentence[-1] in ".!?" else sentence + ".")
    return " ".join(kept)


def _story_reading(check: CrampCheck, text: str, leave_out: str = "") -> Reading:
    """A story's reading: its stated sentences, "if I run" as not stated, and the phrases a story
    can state (not the reply-only ones) kept whole; `leave_out` a question's own phrases."""
    vocabulary = [
        phrase for q in check.questions if q.slot != leave_out for phrase in check.story_phrases(q)
    ]
    return Reading(stated_text(text), True, vocabulary)


def read_unprompted(
    check: CrampCheck,
    question: Question,
    text: str,
    *,
    medicines: Iterable[str] = (),
    signs: Iterable[str] = (),
) -> Optional[Answer]:
    """The answer a message gives to a question it was not asked (a story told before the check,
    or a reply to another question), or None unless clearly stated: no reply-only words ("no",
    "both"), no denied or hypothetical phrase, no "not sure", and for a one-answer question one
    value only ("I run, and they come at night" does not say when).

    `medicines`: canonical names the message states (see `stated_medicines`); `signs`: the
    red-flag signs it states as the person's own.
    """
    reading = _story_reading(check, text)
    reply_only = check.reply_words + question.reply_words
    found = _found_values(question, reading, reply_only)
    found = _with_signs(question, found, signs)
    if question.slot == "check_medicines" and medicines:
        found = list(dict.fromkeys([m.lower() for m in medicines]))
    if not found or (len(found) > 1 and not question.multi):
        return None
    return found if question.multi else found[0]


def stated_medicines(check: CrampCheck, text: str, named: Iterable[Tuple[str, str]]) -> List[str]:
    """The canonical names of the (canonical, as written) medicines the NLU found that the message
    states: "I don't take statins" or "do statins cause cramps?" names one without taking it. A
    name the text does not show as written is kept (the NLU saw it). The medicine question's own
    words ("no meds") do not shield a name from their negation."""
    reading = _story_reading(check, text, leave_out="check_medicines")
    whole = _normalise(text or "")
    kept = []
    for canonical, written in named:
        written = _normalise(written)
        if not written or not _phrase_spans(whole, written) or reading.states(written):
            kept.append(canonical.lower())
    return list(dict.fromkeys(kept))


def agreed_answer(question: Question, answers: Sequence[Answer]) -> Optional[Answer]:
    """One answer from what several messages said: every value of a many-answer question; for a
    one-answer question only a value they agree on (a contradiction is asked about)."""
    values = list(dict.fromkeys(v for a in answers for v in (a if isinstance(a, list) else [a])))
    if not values:
        return None
    if question.multi:
        return values
    return values[0] if len(values) == 1 else None


def facts_from(answers: Dict[str, Any], article_medicines: Iterable[str]) -> Dict[str, List[str]]:
    """Answers as lists of values, plus the derived `article_medicine` value. "Not sure",
    "skip" and unasked questions are no facts: they neither add to nor take from a cause."""
    facts: Dict[str, List[str]] = {}
    for slot, value in answers.items():
        if value is None:
            continue
        values = [str(v) for v in (value if isinstance(value, list) else [value])]
        values = [v for v in values if v not in NO_FACT]
        if values:
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


def answer_signs(check: CrampCheck, facts: Dict[str, List[str]]) -> List[str]:
    """The signs of every tier rule the answers match, whatever their tier."""
    return [rule.sign for rule in check.tiers if rule.matches(facts) and rule.sign]
