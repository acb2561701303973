"""The quiet start (cramp_ops/launcher.py): third-party deprecations hidden, ours still shown."""

from __future__ import annotations

import re
import subprocess
import sys
import warnings

import pytest

from cramp_ops.launcher import THIRD_PARTY_MODULES, quiet_third_party_deprecations


@pytest.mark.parametrize(
    "module, hidden",
    [
        ("typer", True),
        ("click.utils", True),
        ("sanic_cors.extension", True),
        ("actions", False),
        ("actions.triage", False),
        ("cramp_nlu.factory", False),
        ("channels.rest", False),
        ("cramp_ops", False),
        ("actionsxyz", True),
    ],
)
def test_which_modules_are_quietened(module, hidden):
    assert bool(re.match(THIRD_PARTY_MODULES, module)) is hidden


def test_our_deprecations_still_show_and_theirs_do_not():
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        quiet_third_party_deprecations()
        warnings.warn_explicit("theirs", DeprecationWarning, "x.py", 1, module="typer")
        warnings.warn_explicit("ours", DeprecationWarning, "y.py", 1, module="actions.answers")
        warnings.warn_explicit("a user warning", UserWarning, "z.py", 1, module="typer")
    assert [str(w.message) for w in caught] == ["ours", "a user warning"]


def test_cramp_rasa_starts_without_a_screen_of_warnings():
    result = subprocess.run(
        [sys.executable, "-m", "cramp_ops.launcher", "--version"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert "Rasa Version" in result.stdout
    assert "DeprecationWarning" not in result.stderr, result.stderr[-2000:]


def test_action_responses_are_validated_as_rasa_validates_them():
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction

    from cramp_ops.launcher import validate_action_responses_with_one_validator

    original = RemoteAction._validate_action_result
    try:
        validate_action_responses_with_one_validator()
        action = RemoteAction("action_answer_topic", None)
        good = {
            "events": [{"event": "slot", "name": "topic", "value": "definition"}],
            "responses": [{"text": "hi", "buttons": [{"title": "a", "payload": "/b"}]}],
        }
        assert action._validate_action_result(good) is True
        with pytest.raises(ValidationError):
            action._validate_action_result({"events": [{"event": "no_such_event"}]})
        with pytest.raises(ValidationError):
            action._validate_action_result({"events": "not a list"})
    finally:
        RemoteAction._validate_action_result = original


def test_the_terminal_shows_an_escalation_once_as_text(monkeypatch, capsys):
    """`make shell`: the escalation's text, never its banner payload again as "Custom json"."""
    from rasa.core.channels import console

    from cramp_nlu.escalation import wording
    from cramp_ops.launcher import terminal_shows_text_only

    monkeypatch.setattr(console, "_print_bot_output", console._print_bot_output)  # restored after
    terminal_shows_text_only()
    terminal_shows_text_only()  # idempotent: wrapped once
    escalation = wording().message("urgent", ["pain_at_rest"])
    # Rasa sends a message with text and custom parts as two messages, the text first
    console._print_bot_output({"recipient_id": "me", "text": escalation["text"]})
    console._print_bot_output({"recipient_id": "me", "custom": escalation["custom"]})
    console._print_bot_output({"text": "hello", "custom": {"cramp_check": {"tier": "none"}}})
    out = capsys.readouterr().out
    assert "Custom json" not in out and '"escalation"' not in out
    assert out.count(wording().headlines["urgent"]) == 1 and "hello" in out
