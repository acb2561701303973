"""Knowledge answers: short, naming their section, offering more.

The texts come from the knowledge file and its phrases (data/knowledge/); this module only puts
them together: a note on a medicine the person named, the answer, its section, our own safety note.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import config
from actions.feedback import feedback_buttons, time_to_ask
from actions.history import earlier_entities, earlier_subjects, last_topic
from actions.knowledge import KnowledgeBase, Topic, knowledge, phrases
from actions.topics import (
    answered_by_escalation,
    escalation_is_the_whole_turn,
    resolve_topic,
    resolve_topics,
    subject_in_context,
    subjects_in,
)
from actions.triage import Reply, TriagedAction, Verdict
from cramp_nlu.escalation import wording

TELL_MORE_PAYLOAD = "/tell_more"


def topic_button(topic: Topic) -> Dict[str, str]:
    return {"title": topic.title, "payload": f"/{config.TOPIC_INTENT_PREFIX}{topic.id}"}


def citation(section: str) -> str:
    """How a text names the article section (or the part without a heading) it comes from."""
    return knowledge().citation(section)


def source_line(topic: Topic) -> str:
    """The citation of a topic's answer."""
    return citation(topic.section)


def answer_lines(topic: Topic) -> List[str]:
    """The answer, each part followed by the section it comes from."""
    return knowledge().cited(topic.answer_groups())


def own_note(topic: Topic) -> Optional[str]:
    """The topic's safety rule of ours, marked as not the article's."""
    return phrases().text("own_note", note=topic.own_note) if topic.own_note else None


def medicine_note(topic: Topic, kb: KnowledgeBase, names: List[str]) -> Optional[str]:
    """Names the medicine the person asked about, with what the article says of it."""
    if not names or topic.id not in ("cause_medication", "treat_medication"):
        return None
    notes = []
    for name in names:
        medicine = kb.all_medicines.get(name.lower())
        kind = kb.medicine_kinds.get(name.lower())
        if medicine:
            notes.append(
                phrases().text("medicine_named", name=medicine.name.capitalize(), use=medicine.use)
            )
        elif kind:
            # "water pills": the article names one of them, not necessarily the person's own
            notes.append(
                phrases().text(
                    "medicine_kind",
                    kind=kind.said,
                    name=kind.named,
                    use=kb.all_medicines[kind.medicine].use,
                    which=kind.which,
                )
            )
        elif topic.not_named:
            notes.append(topic.not_named.format(name=name))
        else:
            notes.append(phrases().text("medicine_not_named", name=name))
    return " ".join(notes)


def answer_buttons(topic: Topic, kb: KnowledgeBase) -> List[Dict[str, str]]:
    more = [{"title": phrases().text("tell_more_button"), "payload": TELL_MORE_PAYLOAD}]
    buttons = more if topic.details or topic.tell_more else []
    buttons += [topic_button(kb[r]) for r in topic.related[: config.RELATED_BUTTONS]]
    return buttons


def send_answer(
    dispatcher: CollectingDispatcher,
    kb: KnowledgeBase,
    topic: Topic,
    medicines: List[str],
    with_buttons: bool = True,
    ask_feedback: bool = False,
    with_own_note: bool = True,
) -> None:
    """The short answer: a medicine note when one was named, the answer, its section, our note
    (unless the escalation just said a rule of ours); with `ask_feedback`, the 👍 / 👎 buttons
    after the answer's own."""
    note = own_note(topic) if with_own_note else None
    parts = [medicine_note(topic, kb, medicines), *answer_lines(topic), note]
    buttons = answer_buttons(topic, kb) if with_buttons else []
    if ask_feedback:
        buttons += feedback_buttons()
    dispatcher.utter_message(text="\n".join(p for p in parts if p), buttons=buttons)


def details_text(topic: Topic) -> str:
    """The details as bullets, each group followed by the section it comes from, then our note."""
    lines: List[str] = []
    for section, details in topic.detail_groups():
        lines += [f"\u2022 {d}" for d in details]
        lines.append(citation(section))
    note = own_note(topic)
    return "\n".join(lines + ([note] if note else []))


def entity_values(tracker: Tracker, entity: str) -> List[str]:
    values = [
        str(e.get("value"))
        for e in tracker.latest_message.get("entities", [])
        if e.get("entity") == entity and e.get("value")
    ]
    return list(dict.fromkeys(values))


class ActionAnswerTopic(TriagedAction):
    """Answers the knowledge question of this turn and records its topic."""

    def name(self) -> Text:
        return "action_answer_topic"

    async def reply(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
        verdict: Verdict,
    ) -> Reply:
        kb = knowledge()
        message = tracker.latest_message or {}
        told_before = earlier_entities(tracker.events)
        entities = message.get("entities", [])
        topic_id = resolve_topic(
            intent=(message.get("intent") or {}).get("name"),
            entities=entities,
            previous_topic=last_topic(tracker.events),
            urgency=verdict.tier,
            intent_ranking=message.get("intent_ranking", []),
            text=message.get("text") or "",
            earlier_entities=told_before,
        )
        topic_id = subject_in_context(
            topic_id,
            message.get("text") or "",
            own_subjects=[*subjects_in(entities), *verdict.own.get("subjects", [])],
            completed_subjects=verdict.in_context.get("subjects", []),
            earlier_subjects=[*subjects_in(told_before), *earlier_subjects(tracker.events)],
        )
        topics = [
            kb[t]
            for t in resolve_topics(
                topic_id, message.get("questions", []), entities, told_before, verdict.tier
            )
            if kb.get(t) is not None
        ]
        if not topics:
            dispatcher.utter_message(response="utter_help")
            return Reply()
        answered = [t for t in topics if not answered_by_escalation(t.id, verdict.tier)]
        # the escalation already said what to do, once, and why: no general see-a-provider text
        medicines = entity_values(tracker, "medication")
        feedback = verdict.tier == "none" and time_to_ask(tracker.events)
        rule_said = wording().says_own_rule(verdict.tier, verdict.in_context.get("reasons", []))
        for index, topic in enumerate(answered):
            # buttons only under the first answer: "tell me more" goes on with the turn's `topic`
            first = index == 0
            send_answer(
                dispatcher,
                kb,
                topic,
                medicines,
                with_buttons=first,
                ask_feedback=feedback and first,
                with_own_note=not rule_said,
            )
        return Reply(topics[0].id, also=[t.id for t in topics[1:]])


class ActionTellMore(TriagedAction):
    """ "Tell me more" about the last topic: its details, then where to go next."""

    def name(self) -> Text:
        return "action_tell_more"

    async def reply(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
        verdict: Verdict,
    ) -> Reply:
        kb = knowledge()
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if escalation_is_the_whole_turn(intent, verdict.tier):
            # "yes, but now my foot is cold and blue": nothing may dilute the escalation
            return Reply()
        topic = kb.get(last_topic(tracker.events))
        if topic is None:
            dispatcher.utter_message(response="utter_help")
            return Reply()
        related = [topic_button(kb[r]) for r in topic.related]
        if topic.details:
            text = details_text(topic)
        elif topic.tell_more:
            text = topic.tell_more  # an overview: the article's detail is in its sub-topics
        else:
            text = phrases().text("tell_more_all_said", title=topic.title.lower())
        dispatcher.utter_message(text=text, buttons=related)
        return Reply(topic.id)
