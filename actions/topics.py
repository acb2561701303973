"""Which knowledge topic answers this turn: intent, entities and the conversation so far."""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

from actions.knowledge import cause_and_treatment_pairs, topic_for_intent

FOLLOWUP_TREATMENT_INTENT = "ask_followup_treatment"
REPORT_SYMPTOMS_INTENT = "report_symptoms"

#: Entity values that name one cause; they sharpen a general question ("what causes cramps in
#: pregnancy?" predicted as `ask_causes` becomes `cause_pregnancy`).
ENTITY_SUBJECTS: Dict[str, Dict[str, str]] = {
    "medication": {"*": "medication"},
    "condition": {"pregnancy": "pregnancy", "diabetes": "nerve", "nerve": "nerve",
                  "circulation": "vascular"},
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


def sharpen(topic: str, entities: Iterable[Dict[str, Any]]) -> str:
    """A general causes/treatment question about exactly one named cause goes to that cause."""
    if topic not in ("causes", "treatment"):
        return topic
    subjects = subjects_in(entities)
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


def resolve_topic(intent: Optional[str], entities: Iterable[Dict[str, Any]],
                  previous_topic: Optional[str], urgency: str,
                  intent_ranking: Iterable[Dict[str, Any]] = ()) -> Optional[str]:
    """The topic to answer, or None when the turn is not a knowledge question."""
    entities = list(entities)
    if intent == FOLLOWUP_TREATMENT_INTENT:
        return followup_treatment(previous_topic)
    if intent == REPORT_SYMPTOMS_INTENT:
        if urgency != "none":
            return "see_doctor"
        # nothing worrying was reported (or it was denied): answer the best knowledge question
        for ranked in intent_ranking:
            topic = topic_for_intent(ranked.get("name"))
            if topic:
                return sharpen(topic, entities)
        return None
    topic = topic_for_intent(intent)
    return sharpen(topic, entities) if topic else None
