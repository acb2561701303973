"""Custom actions of the foot-cramp assistant (run with `rasa run actions`).

One module per concern: settings (config), the article's knowledge (knowledge), choosing the topic
of a turn (topics), red-flag escalation (triage), knowledge answers (answers), the low-confidence
path (fallback). rasa_sdk registers every Action subclass it imports from this package.
"""
from actions.answers import ActionAnswerTopic, ActionTellMore  # noqa: F401
from actions.fallback import ActionSuggestTopics  # noqa: F401
from actions.triage import ActionTriage  # noqa: F401
