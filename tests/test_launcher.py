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
