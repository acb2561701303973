"""Patches of Rasa internals and copies of Rasa code refuse a Rasa they were not written for."""

from __future__ import annotations

import pytest

from cramp_ops import launcher, rasa_internals
from cramp_ops.rasa_internals import RasaInternalsChanged, require_written_for


def test_the_installed_rasa_is_the_one_the_patches_were_written_for():
    require_written_for("this test")  # raises if requirements/lock.txt moved Rasa on


@pytest.mark.parametrize(
    "patch",
    [
        launcher.validate_action_responses_with_one_validator,
        launcher.terminal_shows_text_only,
        launcher._keep_quiet_after_rasa_sets_its_filters,
    ],
)
def test_a_patch_fails_loudly_on_another_rasa(monkeypatch, patch):
    monkeypatch.setattr(rasa_internals.metadata, "version", lambda package: "3.7.0")
    with pytest.raises(RasaInternalsChanged, match="re-read that code in rasa 3.7.0"):
        patch()


def test_the_tracker_store_copy_fails_loudly_on_another_rasa(monkeypatch):
    from cramp_ops.tracker_store import ReconnectingSQLTrackerStore

    monkeypatch.setattr(rasa_internals.metadata, "version", lambda package: "3.7.0")
    with pytest.raises(RasaInternalsChanged, match="SQLTrackerStore.save"):
        ReconnectingSQLTrackerStore(dialect="sqlite", db=":memory:")
