"""The low-confidence path: ask to rephrase and offer the closest topics as buttons."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import config
from actions.answers import topic_button
from actions.knowledge import knowledge, phrases, topic_for_intent
from actions.topics import escalation_is_enough
from actions.triage import Reply, TriagedAction, Verdict


def closest_topics(intent_ranking: List[Dict[str, Any]], limit: int) -> List[str]:
    """The best-ranked knowledge topics among the classifier's guesses."""
    topics: List[str] = []
    for ranked in intent_ranking:
        topic = topic_for_intent(ranked.get("name"))
        if topic and topic not in topics:
            topics.append(topic)
    return topics[:limit]


class ActionSuggestTopics(TriagedAction):
    """Runs when NLU is unsure (`nlu_fallback`), and when no rule fits the turn (the policies'
    core fallback), so even an unforeseen turn is triaged."""

    def name(self) -> Text:
        return "action_suggest_topics"

    async def reply(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
        verdict: Verdict,
    ) -> Reply:
        if escalation_is_enough(verdict.tier):
            return Reply()  # "did you mean..." buttons after "call 911" would only dilute it
        kb = knowledge()
        ranking = (tracker.latest_message or {}).get("intent_ranking", [])
        topics = closest_topics(ranking, config.FALLBACK_SUGGESTIONS)
        buttons = [topic_button(kb[t]) for t in topics]
        buttons.append({"title": phrases().text("show_all_topics_button"), "payload": "/help"})
        dispatcher.utter_message(response="utter_rephrase", buttons=buttons)
        return Reply()
