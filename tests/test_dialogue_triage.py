"""No turn can be answered without triage: every rule and story step that follows a user message
runs an action that triages first (a `TriagedAction`) or the cramp-check form (whose validation
action triages each answer). Reads the dialogue data as Rasa does, so a new rule that answers
with a bare response (`utter_...`) or Rasa's own actions fails here."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterator, List, Set, Tuple

import pytest
import yaml

import actions.answers  # noqa: F401  (importing registers the actions below)
import actions.conversation  # noqa: F401
import actions.cramp_check  # noqa: F401
import actions.fallback  # noqa: F401
from actions.triage import TriagedAction

ROOT = Path(__file__).resolve().parent.parent
DIALOGUE_FILES = sorted(
    [
        *(ROOT / "data" / "rules").glob("*.yml"),
        *(ROOT / "data" / "stories").glob("*.yml"),
        *(ROOT / "tests" / "stories").glob("*.yml"),
    ]
)
#: the form's turns are validated (and triaged) by validate_cramp_check_form
FORMS_THAT_TRIAGE = {"cramp_check_form"}


def all_subclasses(cls: type) -> List[type]:
    found: List[type] = []
    for sub in cls.__subclasses__():
        found += [sub, *all_subclasses(sub)]
    return found


TRIAGED_ACTIONS: Set[str] = {
    cls().name()
    for cls in all_subclasses(TriagedAction)
    if not getattr(cls, "__abstractmethods__", None)
}


def flows(path: Path) -> Iterator[Tuple[str, List[Dict[str, Any]]]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for kind in ("rules", "stories"):
        for flow in data.get(kind) or []:
            yield flow.get("rule") or flow.get("story"), flow.get("steps") or []


def is_user_step(step: Dict[str, Any]) -> bool:
    return "intent" in step or "user" in step or "or" in step


def first_action_after_each_user_step(steps: List[Dict[str, Any]]) -> Iterator[Tuple[int, Any]]:
    """(index of each user step, the action that answers it, or None when none follows)."""
    for index, step in enumerate(steps):
        if is_user_step(step):
            following = next(
                (s for s in steps[index + 1 :] if is_user_step(s) or "action" in s), {}
            )
            yield index, following.get("action")


def test_the_dialogue_files_are_found():
    names = {p.name for p in DIALOGUE_FILES}
    assert {"knowledge.yml", "conversation.yml", "cramp_check.yml", "followups.yml"} <= names


def test_the_triaged_actions_are_the_domain_actions():
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    assert TRIAGED_ACTIONS <= set(domain["actions"])
    assert {
        "action_answer_topic",
        "action_small_talk",
        "action_start_over",
        "action_suggest_topics",
        "action_start_cramp_check",
    } <= TRIAGED_ACTIONS


@pytest.mark.parametrize("path", DIALOGUE_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_user_turn_is_answered_by_a_triaging_action(path):
    untriaged = []
    for name, steps in flows(path):
        for index, action in first_action_after_each_user_step(steps):
            if action is None:
                continue  # the story ends after the user's message
            if action not in TRIAGED_ACTIONS and action not in FORMS_THAT_TRIAGE:
                untriaged.append(f"{name!r} step {index}: {action}")
    assert not untriaged, untriaged


def test_the_core_fallback_is_triaged():
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    rule_policy = next(p for p in config["policies"] if p["name"] == "RulePolicy")
    assert rule_policy["core_fallback_action_name"] in TRIAGED_ACTIONS


def test_a_bare_response_rule_would_be_caught(tmp_path):
    """The check itself can fail: a rule answering `greet` with utter_greet is reported."""
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "rules:\n  - rule: bare\n    steps:\n      - intent: greet\n      - action: utter_greet\n",
        encoding="utf-8",
    )
    ((_, steps),) = flows(bad)
    assert [a for _, a in first_action_after_each_user_step(steps)] == ["utter_greet"]
    assert "utter_greet" not in TRIAGED_ACTIONS
