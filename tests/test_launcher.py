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
