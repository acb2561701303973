"""The Rasa versions our patches of Rasa internals and our copies of Rasa code were written for.

`cramp-rasa` replaces three private Rasa functions (`rasa.utils.common._filter_warnings`,
`RemoteAction._validate_action_result`, the terminal channel's custom-payload printer) and
`cramp_ops.tracker_store` copies the database half of `SQLTrackerStore.save`. Each calls
`require_written_for(...)` first: on any other installed version it fails at start-up, naming
what to re-check, instead of silently patching code that has changed underneath it.
"""

from __future__ import annotations

from importlib import metadata

#: package -> the version whose internals were read when the patches and copies were written
WRITTEN_FOR = {"rasa": "3.6.21"}


class RasaInternalsChanged(RuntimeError):
    """The installed Rasa is not the version a patch or copy of its internals was written for."""


def require_written_for(what: str, package: str = "rasa") -> None:
    """Fail loudly when `package` is not the version `what` (a patch or copy) was written for."""
    installed = metadata.version(package)
    expected = WRITTEN_FOR[package]
    if installed != expected:
        raise RasaInternalsChanged(
            f"{what} was written against {package} {expected}'s internals, but {package} "
            f"{installed} is installed: re-read that code in {package} {installed}, adapt {what}, "
            f"then update WRITTEN_FOR in cramp_ops/rasa_internals.py"
        )
