"""Reading a message the way people write it: a story, then the question (or two).

"I run marathons and my calves lock up at night. Any suggestions?" is a treatment question about
the story before it, not the generic "what helps cramps?". So the message is read at two levels:
the whole message (what the story is about) and each question in it (what is asked). A question
gives the *kind* of answer wanted (a cause, a treatment, magnesium, whether to see someone); the
question itself or, when it is generic, the story gives the *subject* (which of the eight causes).

Pure functions over intent rankings; intents follow the naming of docs/intents.md:
`ask_cause_<subject>` / `ask_treat_<subject>`, `ask_causes` / `ask_treatment` for no subject.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import yaml

from cramp_nlu.intent_model import Ranked

QUESTION_KINDS_RESOURCE = "data/question_kinds.yml"
#: the kinds of the wording file, as the intents or intent kinds of this module
KIND_OF_WORDING = {
    "see_doctor": "ask_see_doctor",
    "definition": "ask_definition",
    "cause": "cause",
    "treat": "treat",
}
#: how sure a kind read from the wording is ("any suggestions?" asks for a treatment)
WORDING_CONFIDENCE = 0.6
#: how sure a subject given by a red-flag sign is ("after a block I have to stop": vascular)
SIGN_SUBJECT_CONFIDENCE = 0.6

#: words that open a question even without a question mark ("what can i do" in a text message)
QUESTION_OPENERS = frozenset(
    "what whats what's why how when which who is are do does can could should will would "
    "any anything anyone has have was were might may".split()
)
#: a question can hide inside a longer sentence after one of these ("..., so what can I do")
CLAUSE_JOINERS = r"(?:,|;|\band\b|\bbut\b|\bso\b|\balso\b|\bplus\b|\bor\b)"
#: verbs that open a question only with a subject after them ("and is it worth ...", not "and is")
AUXILIARIES = frozenset({"is", "are", "do", "does", "was", "were", "has", "have"})
PAIRED_OPENERS = (
    r"is (?:it|there|that|this)",
    r"are (?:there|they)",
    r"do (?:i|you|they)",
    r"does (?:it|that|this)",
)
#: intents that are only social: never the point of a message that also asks something
SOCIAL = frozenset({"greet", "thank", "goodbye", "affirm", "deny", "bot_challenge"})
#: a symptom story that also asks a question is answered as that question (after the escalation)
STORY_INTENTS = frozenset({"report_symptoms"})
#: questions that name no cause, and the kind of answer each asks for
GENERIC_KIND = {"ask_causes": "cause", "ask_treatment": "treat", "ask_followup_treatment": "treat"}
SPECIFIC = re.compile(r"^ask_(cause|treat)_(\w+)$")
#: a question ranked below this is too unsure to steer the answer; the whole message decides
QUESTION_CONFIDENCE = 0.35
#: a subject the story only weakly suggests does not sharpen a generic question
SUBJECT_CONFIDENCE = 0.1
MAX_QUESTIONS = 2


#: (kind, pattern) in the wording file's order; one pattern per kind
Wordings = Tuple[Tuple[str, "re.Pattern[str]"], ...]


@dataclass(frozen=True)
class Sentence:
    text: str
    is_question: bool
    kind: Optional[str] = None  # the kind of answer its wording asks for, if it says


def packaged_question_kinds() -> Dict[str, List[str]]:
    """The wording file shipped in the package, as read (the component stores it in the model)."""
    text = resources.files("cramp_nlu").joinpath(QUESTION_KINDS_RESOURCE).read_text("utf-8")
    return yaml.safe_load(text)


@lru_cache(maxsize=1)
def question_wordings() -> Wordings:
    """The packaged wordings, parsed once."""
    return parse_wordings(packaged_question_kinds())


def parse_wordings(raw: Mapping[str, Sequence[str]]) -> Wordings:
    """(kind, pattern) in the file's order; phrases at word boundaries."""
    kinds = []
    for kind, phrases in raw.items():
        if kind not in KIND_OF_WORDING:
            raise ValueError(f"question kinds: unknown kind {kind!r}")
        alternatives = "|".join(re.escape(str(p).lower()) for p in phrases)
        kinds.append((KIND_OF_WORDING[kind], re.compile(rf"(?<![\w'])(?:{alternatives})(?![\w'])")))
    return tuple(kinds)


def worded_kind(text: str, wordings: Optional[Wordings] = None) -> Optional[str]:
    """The kind of answer the wording asks for, or None when it does not say."""
    lowered = text.lower().replace("\u2019", "'")
    found = (kind for kind, pattern in wordings or question_wordings() if pattern.search(lowered))
    return next(found, None)


@dataclass
class Reading:
    """The message's intent (what the dialogue acts on) and the questions it asks, in order."""

    intent: Ranked
    ranking: List[Ranked]
    questions: List[Ranked] = field(default_factory=list)


def split_sentences(text: str, wordings: Optional[Wordings] = None) -> List[Sentence]:
    """Sentences and question clauses, in order ("what causes it and how do I stop it?" is two
    questions; "quick one: is it normal?" is two sentences)."""
    pieces: List[Sentence] = []
    for raw in re.split(r"(?<=[.!?:])\s+|\n+", text.strip()):
        raw = raw.strip()
        if not raw:
            continue
        clauses = _question_clauses(raw, wordings)
        if len(clauses) > 1:
            pieces += [Sentence(c, True, worded_kind(c, wordings)) for c in clauses]
        else:
            kind = worded_kind(raw, wordings)
            pieces.append(Sentence(raw, _is_question(raw, wordings), kind))
    return pieces


def _is_question(sentence: str, wordings: Optional[Wordings] = None) -> bool:
    """A question mark, a question word first, or a question's wording ("let me know what to do")."""
    words = re.findall(r"[\w']+", sentence.lower())
    if sentence.rstrip().endswith("?") or (words and words[0] in QUESTION_OPENERS):
        return True
    return worded_kind(sentence, wordings) is not None


def _question_clauses(sentence: str, wordings: Optional[Wordings] = None) -> List[str]:
    """A sentence split before each joiner that starts a new question ("and what helps")."""
    single = sorted(QUESTION_OPENERS - AUXILIARIES)
    opener = "|".join([*single, *PAIRED_OPENERS])
    parts = re.split(rf"\s*{CLAUSE_JOINERS}\s+(?=(?:{opener})\b)", sentence, flags=re.I)
    parts = [p.strip(" ,;") for p in parts if p and p.strip(" ,;")]
    if len(parts) < 2 or not all(_is_question(p, wordings) for p in parts[1:]):
        return [sentence]
    return parts if _is_question(parts[0], wordings) else [sentence]


def kind_and_subject(intent: str) -> Tuple[str, Optional[str]]:
    """("cause", "night") for ask_cause_night, ("treat", None) for ask_treatment, (intent, None)
    for the rest."""
    match = SPECIFIC.match(intent)
    if match:
        return match.group(1), match.group(2)
    return GENERIC_KIND.get(intent, intent), None


def is_knowledge(intent: str, knowledge: Iterable[str]) -> bool:
    return intent in set(knowledge) or bool(SPECIFIC.match(intent)) or intent in GENERIC_KIND


def subject_weights(ranking: Sequence[Ranked]) -> Dict[str, float]:
    """How strongly the message points at each cause: its cause and treatment intents together
    ("my calves lock up on long runs" is about dehydration whether it asks why or what helps)."""
    weights: Dict[str, float] = {}
    for ranked in ranking:
        _, subject = kind_and_subject(ranked.intent)
        if subject:
            weights[subject] = weights.get(subject, 0.0) + ranked.confidence
    return weights


def kind_weights(ranking: Sequence[Ranked]) -> Dict[str, float]:
    """How strongly a question asks for each kind of answer (a cause, a treatment, ...)."""
    weights: Dict[str, float] = {}
    for ranked in ranking:
        kind, _ = kind_and_subject(ranked.intent)
        weights[kind] = weights.get(kind, 0.0) + ranked.confidence
    return weights


def story_subject(ranking: Sequence[Ranked]) -> Optional[Tuple[str, float]]:
    """The cause a text is about, with its weight, or None when it points at none clearly."""
    weights = subject_weights(ranking)
    if not weights:
        return None
    subject, weight = max(weights.items(), key=_weight)
    return (subject, weight) if weight >= SUBJECT_CONFIDENCE else None


def _weight(item: Tuple[str, float]) -> float:
    return item[1]


def asked(
    ranking: Sequence[Ranked],
    story: Optional[Tuple[str, float]],
    intents: Iterable[str],
    worded: Optional[str] = None,
) -> Optional[Ranked]:
    """What a question asks: its kind from its wording or, when the wording does not say, from
    the intent model; its subject from the question when it names one clearly, else from the
    story around it. None when it is too unsure."""
    weights = kind_weights(ranking)
    if worded:
        kind, weight = worded, max(weights.get(worded, 0.0), WORDING_CONFIDENCE)
    else:
        kind, weight = max(weights.items(), key=_weight)
    if weight < QUESTION_CONFIDENCE:
        return None
    if kind not in ("cause", "treat"):
        return Ranked(kind, weight)
    own = story_subject([r for r in ranking if kind_and_subject(r.intent)[0] == kind])
    if own and own[1] >= QUESTION_CONFIDENCE:
        subject, sure = own
    elif story:
        subject, sure = story
    else:
        top = ranking[0].intent
        generic = next(i for i, k in GENERIC_KIND.items() if k == kind)
        return Ranked(top if kind_and_subject(top) == (kind, None) else generic, weight)
    candidate = f"ask_{kind}_{subject}"
    if candidate not in set(intents):
        return None
    return Ranked(candidate, min(weight, max(sure, QUESTION_CONFIDENCE)))


def read_story(
    whole: List[Ranked],
    sentences: Sequence[Tuple[Sentence, List[Ranked]]],
    knowledge_intents: Iterable[str],
    all_intents: Iterable[str],
    sign_subjects: Sequence[str] = (),
) -> Reading:
    """Combine the whole message's ranking with its sentences' rankings (see the module doc).

    `sign_subjects` are the causes the message's red-flag signs point to (a walk that has to
    stop: vascular; numb feet: nerve): explicit evidence, so they outrank the model's guess."""
    knowledge = set(knowledge_intents)
    intents = set(all_intents)
    if not whole:
        return Reading(Ranked("nlu_fallback", 0.0), [])
    best = whole[0]
    # a one-sentence message has no story around its question: its subject is its own
    story = story_subject(whole) if len(sentences) > 1 else None
    if sign_subjects and len(set(sign_subjects)) == 1:
        story = (sign_subjects[0], SIGN_SUBJECT_CONFIDENCE)
    questions: List[Ranked] = []
    for sentence, ranking in sentences:
        if not ranking or not sentence.is_question:
            continue
        worded = sentence.kind
        if not worded and not is_knowledge(ranking[0].intent, knowledge):
            continue
        question = asked(ranking, story, intents, worded)
        if question and is_knowledge(question.intent, knowledge):
            if question.intent not in {q.intent for q in questions}:
                questions.append(question)
    questions = _without_generic_duplicates(questions)[:MAX_QUESTIONS]

    steerable = best.intent in SOCIAL | STORY_INTENTS or is_knowledge(best.intent, knowledge)
    if not steerable:
        return Reading(best, whole, questions)
    if questions:
        return Reading(*_promoted(whole, questions[0]), questions)
    if len(sentences) > 1:
        # a story without a question: "hi! my feet cramp on long runs" is not a greeting, and
        # its kind and subject are read the way a question's are
        told = asked(whole, story, intents)
        if told and is_knowledge(told.intent, knowledge):
            if told.intent != best.intent and (
                best.intent in SOCIAL or told.confidence > best.confidence
            ):
                return Reading(*_promoted(whole, told), [])
        if best.intent in SOCIAL:
            for _, ranking in sentences:
                if ranking and is_knowledge(ranking[0].intent, knowledge):
                    if ranking[0].confidence >= QUESTION_CONFIDENCE:
                        return Reading(*_promoted(whole, ranking[0]), [])
    return Reading(best, whole, [])


def _without_generic_duplicates(questions: List[Ranked]) -> List[Ranked]:
    """'why does it happen? what causes it?' asks one thing: a generic question of a kind that
    a specific one already covers is dropped."""
    parsed = [(q, *kind_and_subject(q.intent)) for q in questions]
    covered = {kind for _, kind, subject in parsed if subject}
    return [q for q, kind, subject in parsed if subject or kind not in covered]


def _promoted(ranking: List[Ranked], chosen: Ranked) -> Tuple[Ranked, List[Ranked]]:
    """The chosen intent and the ranking with it first, so Rasa's intent and ranking agree.

    The reading combines both levels, so it is at least as sure as the best single-level guess;
    the other intents share the rest of the probability in their old proportions, which keeps
    the FallbackClassifier's threshold and ambiguity check meaningful."""
    rest = [r for r in ranking if r.intent != chosen.intent]
    sure = max([chosen.confidence, *(r.confidence for r in rest)])
    total = sum(r.confidence for r in rest)
    scale = (1.0 - sure) / total if total > 0 else 0.0
    chosen = Ranked(chosen.intent, sure)
    return chosen, [chosen, *(Ranked(r.intent, r.confidence * scale) for r in rest)]


def as_dicts(ranking: Iterable[Ranked]) -> List[Dict[str, object]]:
    return [{"name": r.intent, "confidence": r.confidence} for r in ranking]
