"""Which knowledge topic answers this turn: intent, entities and the conversation so far."""

from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Optional

from actions.knowledge import cause_and_treatment_pairs, topic_for_intent
from cramp_nlu.terms import tier_rank

FOLLOWUP_TREATMENT_INTENT = "ask_followup_treatment"
REPORT_SYMPTOMS_INTENT = "report_symptoms"
AFFIRM_INTENT = "affirm"
#: the topic a symptom report with a tier is answered under
SEE_DOCTOR_TOPIC = "see_doctor"
#: from this tier on, the escalation is the whole answer to "should I see someone?": the action
#: once, why, and nothing that dilutes it (the general see-a-provider answer)
ESCALATION_ANSWERS_FROM = "urgent"
#: a knowledge intent ranked below the report counts as a question asked alongside it when it has
#: at least this confidence and the message is worded as a question
QUESTION_ALONGSIDE_CONFIDENCE = 0.2
#: one turn answers at most this many questions; more would bury the first answer
MAX_TOPICS = 2
QUESTION_OPENERS = (
    "what",
    "why",
    "how",
    "when",
    "which",
    "who",
    "is",
    "are",
    "do",
    "does",
    "can",
    "could",
    "should",
    "will",
    "would",
    "any",
)

#: Entity values that name one cause; they sharpen a general question ("what causes cramps in
#: pregnancy?" predicted as `ask_causes` becomes `cause_pregnancy`).
ENTITY_SUBJECTS: Dict[str, Dict[str, str]] = {
    "medication": {"*": "medication"},
    "condition": {
        "pregnancy": "pregnancy",
        "diabetes": "nerve",
        "nerve": "nerve",
        "circulation": "vascular",
    },
    "time": {"night": "night"},
    "activity": {"running": "dehydration", "exercise": "dehydration"},
}

_TREATMENT_OF = dict(cause_and_treatment_pairs())
_CAUSE_OF = {treat: cause for cause, treat in _TREATMENT_OF.items()}


def subjects_in(entities: Iterable[Dict[str, Any]]) -> List[str]:
    """The distinct causes the message's entities point to."""
    found: List[str] = []
    for entity in entities:
        by_value = ENTITY_SUBJECTS.get(entity.get("entity", ""), {})
        subject = by_value.get(str(entity.get("value", "")).lower()) or by_value.get("*")
        if subject and subject not in found:
            found.append(subject)
    return found


def sharpen(
    topic: str, entities: Iterable[Dict[str, Any]], earlier: Iterable[Dict[str, Any]] = ()
) -> str:
    """A general causes/treatment question about exactly one named cause goes to that cause.
    When this message names none, the last cause named earlier in the conversation counts ("I'm
    six months pregnant" ... "what can I do about the cramps?")."""
    if topic not in ("causes", "treatment"):
        return topic
    subjects = subjects_in(entities)
    if not subjects:
        subjects = subjects_in(earlier)[-1:]
    if len(subjects) != 1:
        return topic
    prefix = "cause_" if topic == "causes" else "treat_"
    candidate = prefix + subjects[0]
    return candidate if candidate in _TREATMENT_OF or candidate in _CAUSE_OF else topic


def followup_treatment(previous_topic: Optional[str]) -> str:
    """ "How do I treat that?" after a cause gives that cause's treatment."""
    if previous_topic in _TREATMENT_OF:
        return _TREATMENT_OF[previous_topic]
    if previous_topic in _CAUSE_OF or previous_topic == "magnesium":
        return previous_topic
    return "treatment"


def is_worded_as_a_question(text: str) -> bool:
    """A question mark, or a sentence that opens like a question ("... swollen. what causes it")."""
    if "?" in text:
        return True
    lowered = text.lower()
    if re.search(r"\b(?:and|but|so)\s+(?:what|why|how|when|which|who)\b", lowered):
        return True
    sentences = re.split(r"[.!;,:\n]+", lowered)
    return any(s.split() and s.split()[0] in QUESTION_OPENERS for s in sentences)


def question_alongside(
    text: str, intent_ranking: Iterable[Dict[str, Any]], entities: Iterable[Dict[str, Any]]
) -> Optional[str]:
    """The knowledge question a symptom report also asks ("my calf is red and swollen, does
    magnesium help?"), or None. "Should I see a doctor?" is answered by the escalation itself."""
    if not is_worded_as_a_question(text or ""):
        return None
    for ranked in intent_ranking:
        topic = topic_for_intent(ranked.get("name"))
        if not topic or topic == SEE_DOCTOR_TOPIC:
            continue
        if float(ranked.get("confidence") or 0) < QUESTION_ALONGSIDE_CONFIDENCE:
            return None
        return sharpen(topic, entities)
    return None


def escalation_is_enough(urgency: str) -> bool:
    """From `urgent` on, an escalation says what to do, once, and why; small talk, menus or the
    general see-a-provider text after it would only dilute it."""
    return tier_rank(urgency) >= tier_rank(ESCALATION_ANSWERS_FROM)


def answered_by_escalation(topic: Optional[str], urgency: str) -> bool:
    """Whether this turn's escalation already is the answer: at `urgent` and above, the general
    "see a provider if your cramps become frequent..." text after "call 911" only dilutes it."""
    return topic == SEE_DOCTOR_TOPIC and escalation_is_enough(urgency)


def escalation_is_the_whole_turn(intent: Optional[str], urgency: str) -> bool:
    """A bare "yes" (affirm, answered with "tell me more") that reports an urgent sign asks for
    nothing: the escalation is the whole turn. An explicit "tell me more" is still answered."""
    return intent == AFFIRM_INTENT and escalation_is_enough(urgency)


def resolve_topic(
    intent: Optional[str],
    entities: Iterable[Dict[str, Any]],
    previous_topic: Optional[str],
    urgency: str,
    intent_ranking: Iterable[Dict[str, Any]] = (),
    text: str = "",
    earlier_entities: Iterable[Dict[str, Any]] = (),
) -> Optional[str]:
    """The topic to answer, or None when the turn is not a knowledge question.

    A symptom report with a tier goes to `see_doctor` (see `answered_by_escalation`), unless it
    also asks a knowledge question, which is then answered after the escalation."""
    entities = list(entities)
    earlier_entities = list(earlier_entities)
    intent_ranking = list(intent_ranking)
    if intent == FOLLOWUP_TREATMENT_INTENT:
        if previous_topic is None and (entities or earlier_entities):
            return sharpen("treatment", entities, earlier_entities)
        return followup_treatment(previous_topic)
    if intent == REPORT_SYMPTOMS_INTENT:
        if urgency != "none":
            return question_alongside(text, intent_ranking, entities) or SEE_DOCTOR_TOPIC
        # nothing worrying was reported (or it was denied): answer the best knowledge question
        for ranked in intent_ranking:
            topic = topic_for_intent(ranked.get("name"))
            if topic:
                return sharpen(topic, entities, earlier_entities)
        return None
    topic = topic_for_intent(intent)
    return sharpen(topic, entities, earlier_entities) if topic else None


def resolve_topics(
    first: Optional[str],
    questions: Iterable[Dict[str, Any]],
    entities: Iterable[Dict[str, Any]],
    earlier_entities: Iterable[Dict[str, Any]] = (),
    urgency: str = "none",
) -> List[str]:
    """Every topic this turn answers, most relevant first, at most `MAX_TOPICS`: the turn's own
    topic, then the other questions the NLU found in the message ("what causes it and what can
    I do?"). See `escalation_answers` for urgent messages."""
    entities = list(entities)
    earlier_entities = list(earlier_entities)
    topics = [first] if first else []
    for question in questions:
        topic = topic_for_intent(question.get("name"))
        if topic is None:
            continue
        topic = sharpen(topic, entities, earlier_entities)
        if topic not in topics:
            topics.append(topic)
    if escalation_is_enough(urgency):
        topics = list(dict.fromkeys(escalation_answers(t) for t in topics))
    return topics[:MAX_TOPICS]


#: words that point back to something said before ("could that be why?", "is it related?")
BACK_REFERENCES = frozenset({"that", "it", "this", "those", "these", "related", "connected"})
#: a follow-up this short that points back is about the earlier subject, not a new one
FOLLOW_UP_WORDS = 16


def with_subject(topic: str, subject: str) -> str:
    """The same kind of answer (a cause, a treatment) about another of the article's causes."""
    if topic == "causes" or topic.startswith("cause_"):
        candidate = f"cause_{subject}"
    elif topic == "treatment" or topic.startswith("treat_"):
        candidate = f"treat_{subject}"
    else:
        return topic
    return candidate if candidate in _TREATMENT_OF or candidate in _CAUSE_OF else topic


def points_back(text: str) -> bool:
    """A short message that refers to what was said before."""
    words = re.findall(r"[a-z']+", text.lower())
    return len(words) <= FOLLOW_UP_WORDS and any(w in BACK_REFERENCES for w in words)


def subject_in_context(
    topic: Optional[str],
    text: str,
    own_subjects: Iterable[str],
    completed_subjects: Iterable[str] = (),
    earlier_subjects: Iterable[str] = (),
) -> Optional[str]:
    """The topic about the subject the conversation is on, when this message names none itself.

    `own_subjects`: what this message says (its entities, its signs); it keeps its topic.
    `completed_subjects`: what this message completes with earlier ones (a walk told earlier, "I
    have to stop until it passes" now: vascular); they count like its own words.
    `earlier_subjects`: what earlier messages said; they count when this message points back
    ("could that be why?", "is it related?")."""
    if topic is None or list(own_subjects):
        return topic
    for subjects, needs_pointer in ((completed_subjects, False), (earlier_subjects, True)):
        distinct = list(dict.fromkeys(subjects))
        if len(distinct) == 1 and (not needs_pointer or points_back(text)):
            return with_subject(topic, distinct[0])
    return topic


def escalation_answers(topic: str) -> str:
    """From `urgent` on, "what should we do?", "should I stretch it?" or "what is this?" are
    answered by the escalation itself (see a provider today / call now): general advice after it
    would only dilute it. A question about a cause or about magnesium is still answered."""
    if topic in ("definition", "causes", "treatment") or topic.startswith("treat_"):
        return SEE_DOCTOR_TOPIC
    return topic
