"""'Was this helpful?': 👍 / 👎 on knowledge answers, and what a 👎 offers next.

The buttons ride on the answer itself (no separate question, so nothing blocks the next question),
on the first knowledge answer of a session and then at most once every `config.FEEDBACK_EVERY`
answers, never after an escalation or inside the guided check. Typed replies ("that helped",
"that didn't answer my question") are intents of their own, so the operator report
(`cramp-report`) counts feedback from Rasa's stored events alone.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import config
from actions.history import last_topic, session_events
from actions.knowledge import knowledge, phrases
from actions.triage import Reply, TriagedAction, Verdict

HELPFUL_INTENT = "feedback_helpful"
UNHELPFUL_INTENT = "feedback_unhelpful"
PAYLOADS = (f"/{HELPFUL_INTENT}", f"/{UNHELPFUL_INTENT}")
SEE_DOCTOR_TOPIC = "see_doctor"


def feedback_buttons() -> List[Dict[str, str]]:
    """👍 / 👎; their titles are also their accessible labels (words, not only an emoji)."""
    return [
        {"title": phrases().text("feedback.helpful_button"), "payload": PAYLOADS[0]},
        {"title": phrases().text("feedback.unhelpful_button"), "payload": PAYLOADS[1]},
    ]


def _asked(event: Dict[str, Any]) -> bool:
    buttons = (
        ((event.get("data") or {}).get("buttons") or []) if event.get("event") == "bot" else []
    )
    return any(b.get("payload") in PAYLOADS for b in buttons)


def _answered(event: Dict[str, Any]) -> bool:
    return (
        event.get("event") == "slot" and event.get("name") == "topic" and bool(event.get("value"))
    )


def time_to_ask(events: Iterable[Dict[str, Any]]) -> bool:
    """True for the first knowledge answer of the session, then every FEEDBACK_EVERY-th answer
    after the last time the buttons were shown."""
    answers_since, asked_before = 0, False
    for event in session_events(events):
        if _asked(event):
            answers_since, asked_before = 0, True
        elif _answered(event):
            answers_since += 1
    return not asked_before or answers_since + 1 >= config.FEEDBACK_EVERY


class ActionFeedback(TriagedAction):
    """Thanks for a 👍; for a 👎, the closest other topics and when to see a provider."""

    def name(self) -> Text:
        return "action_feedback"

    async def reply(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
        verdict: Verdict,
    ) -> Reply:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if intent != UNHELPFUL_INTENT:
            dispatcher.utter_message(text=phrases().text("feedback.thanks"))
            return Reply()
        kb = knowledge()
        previous = kb.get(last_topic(tracker.events))
        others = [t for t in (previous.related if previous else ()) if t != SEE_DOCTOR_TOPIC]
        buttons = [
            {"title": kb[t].title, "payload": f"/{config.TOPIC_INTENT_PREFIX}{t}"}
            for t in others[: config.FALLBACK_SUGGESTIONS]
        ]
        buttons.append(
            {
                "title": kb[SEE_DOCTOR_TOPIC].title,
                "payload": f"/{config.TOPIC_INTENT_PREFIX}{SEE_DOCTOR_TOPIC}",
            }
        )
        advice = kb[SEE_DOCTOR_TOPIC]
        text = "\n".join([phrases().text("feedback.sorry"), *kb.cited(advice.answer_groups())])
        dispatcher.utter_message(text=text, buttons=buttons)
        return Reply()
