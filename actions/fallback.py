"""The low-confidence path: the best-fitting topic for a story about cramps, else ask to rephrase
and offer the closest topics as buttons."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import config
from actions.answers import entity_values, send_answer, topic_button
from actions.knowledge import knowledge, phrases, topic_for_intent
from actions.topics import escalation_is_enough
from actions.triage import Reply, TriagedAction, Verdict
from cramp_nlu.terms import packaged_terms

#: a story this long that names a cramp, a foot or a leg is about our subject, however worded
STORY_WORDS = 5


@lru_cache(maxsize=1)
def _subject_words() -> frozenset:
    """Words for a cramp or a part of the foot or leg: the red-flag terms' own vocabularies."""
    vocab = packaged_terms()["vocab"]
    words = {str(w).lower() for name in ("cramp", "limb") for w in vocab[name] if " " not in str(w)}
    return frozenset(words - {"they", "them", "skin"})


def about_cramps(text: str) -> bool:
    """Whether a message is clearly about cramps, feet or legs: a story of a few words that
    names one of them ("my toes do a weird thing when I swim, they curl right under")."""
    words = re.findall(r"[a-z']+", (text or "").lower())
    return len(words) >= STORY_WORDS and bool(_subject_words() & set(words))


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
        message = tracker.latest_message or {}
        ranking = message.get("intent_ranking", [])
        topics = closest_topics(ranking, config.FALLBACK_SUGGESTIONS + 1)
        show_all = {"title": phrases().text("show_all_topics_button"), "payload": "/help"}
        if topics and about_cramps(message.get("text") or ""):
            # clearly about cramps, feet or legs: the best-fitting topic, never "not sure I
            # understood"; the other close topics after it
            best = kb[topics[0]]
            send_answer(dispatcher, kb, best, entity_values(tracker, "medication"), False)
            others = [topic_button(kb[t]) for t in topics[1:]] + [show_all]
            dispatcher.utter_message(text=phrases().text("closest_others"), buttons=others)
            return Reply(best.id)
        buttons = [topic_button(kb[t]) for t in topics[: config.FALLBACK_SUGGESTIONS]]
        buttons.append(show_all)
        dispatcher.utter_message(response="utter_rephrase", buttons=buttons)
        return Reply()
