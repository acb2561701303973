"""Knowledge answers: short, naming their section, offering more."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import config
from actions.history import last_topic
from actions.knowledge import KnowledgeBase, Topic, knowledge
from actions.topics import resolve_topic
from actions.triage import Reply, TriagedAction

TELL_MORE_PAYLOAD = "/tell_more"


def topic_button(topic: Topic) -> Dict[str, str]:
    return {"title": topic.title, "payload": f"/{config.TOPIC_INTENT_PREFIX}{topic.id}"}


def source_line(topic: Topic) -> str:
    return f"(From the article's section \u201c{topic.section}\u201d.)"


def medicine_note(topic: Topic, kb: KnowledgeBase, names: List[str]) -> Optional[str]:
    """Names the medicine the person asked about, with what the article says of it."""
    if not names or topic.id not in ("cause_medication", "treat_medication"):
        return None
    notes = []
    for name in names:
        medicine = kb.all_medicines.get(name.lower())
        if medicine:
            notes.append(f"{medicine.name.capitalize()}: the article names it \u2014 {medicine.use}.")
        else:
            notes.append(f"The article does not name {name}; it only says that more than 100 "
                         "medicines may be linked to cramps, so ask your provider about it.")
    return " ".join(notes)


def answer_buttons(topic: Topic, kb: KnowledgeBase) -> List[Dict[str, str]]:
    buttons = [{"title": "Tell me more", "payload": TELL_MORE_PAYLOAD}] if topic.details else []
    buttons += [topic_button(kb[r]) for r in topic.related[: config.RELATED_BUTTONS]]
    return buttons


def send_answer(dispatcher: CollectingDispatcher, kb: KnowledgeBase, topic: Topic,
                medicines: List[str], with_buttons: bool = True) -> None:
    """The short answer: a medicine note when one was named, the answer, its section."""
    parts = [medicine_note(topic, kb, medicines), topic.answer, source_line(topic)]
    dispatcher.utter_message(text="\n".join(p for p in parts if p),
                             buttons=answer_buttons(topic, kb) if with_buttons else [])


def entity_values(tracker: Tracker, entity: str) -> List[str]:
    values = [str(e.get("value")) for e in tracker.latest_message.get("entities", [])
              if e.get("entity") == entity and e.get("value")]
    return list(dict.fromkeys(values))


class ActionAnswerTopic(TriagedAction):
    """Answers the knowledge question of this turn and records its topic."""

    def name(self) -> Text:
        return "action_answer_topic"

    async def reply(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                    domain: Dict[Text, Any], tier: str) -> Reply:
        kb = knowledge()
        message = tracker.latest_message or {}
        topic_id = resolve_topic(
            intent=(message.get("intent") or {}).get("name"),
            entities=message.get("entities", []),
            previous_topic=last_topic(tracker.events),
            urgency=tier,
            intent_ranking=message.get("intent_ranking", []),
        )
        topic = kb.get(topic_id)
        if topic is None:
            dispatcher.utter_message(response="utter_help")
            return Reply()
        send_answer(dispatcher, kb, topic, entity_values(tracker, "medication"))
        return Reply(topic.id)


class ActionTellMore(TriagedAction):
    """ "Tell me more" about the last topic: its details, then where to go next."""

    def name(self) -> Text:
        return "action_tell_more"

    async def reply(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                    domain: Dict[Text, Any], tier: str) -> Reply:
        kb = knowledge()
        topic = kb.get(last_topic(tracker.events))
        if topic is None:
            dispatcher.utter_message(response="utter_help")
            return Reply()
        related = [topic_button(kb[r]) for r in topic.related]
        if topic.details:
            text = "\n".join(f"\u2022 {d}" for d in topic.details) + "\n" + source_line(topic)
        else:
            text = f"That is all the article says on {topic.title.lower()}. Related topics:"
        dispatcher.utter_message(text=text, buttons=related)
        return Reply(topic.id)
