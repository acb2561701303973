"""Every setting of the action server, read once from the environment."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: The article's knowledge, found next to this package rather than through the working directory.
KNOWLEDGE_FILE = Path(
    os.environ.get("CRAMP_KNOWLEDGE_FILE", PROJECT_ROOT / "data" / "knowledge" / "topics.yml")
)
#: The sentences around the knowledge (citations, notes, the cramp-check summary, the page header).
PHRASES_FILE = Path(
    os.environ.get("CRAMP_PHRASES_FILE", PROJECT_ROOT / "data" / "knowledge" / "phrases.yml")
)
#: The guided cramp check: how answers are read and which causes they point to.
CRAMP_CHECK_FILE = Path(
    os.environ.get("CRAMP_CHECK_FILE", PROJECT_ROOT / "data" / "knowledge" / "cramp_check.yml")
)
#: A side question during the cramp check is answered when NLU is at least this sure of it.
SIDE_QUESTION_CONFIDENCE = float(os.environ.get("CRAMP_SIDE_QUESTION_CONFIDENCE", "0.6"))
#: "stop" / "start over" leaves the cramp check when NLU is at least this sure of it.
LEAVE_CONFIDENCE = float(os.environ.get("CRAMP_LEAVE_CONFIDENCE", "0.7"))
#: Knowledge intents are named `ask_<topic id>`.
TOPIC_INTENT_PREFIX = "ask_"
#: How many topics the low-confidence fallback offers as buttons.
FALLBACK_SUGGESTIONS = int(os.environ.get("CRAMP_FALLBACK_SUGGESTIONS", "3"))
#: "Was this helpful?" buttons: on the first knowledge answer, then at most once every N answers.
FEEDBACK_EVERY = int(os.environ.get("CRAMP_FEEDBACK_EVERY", "3"))
#: How many related topics an answer offers as next steps.
RELATED_BUTTONS = int(os.environ.get("CRAMP_RELATED_BUTTONS", "2"))
