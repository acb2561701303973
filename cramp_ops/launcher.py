"""`cramp-rasa` and `cramp-actions`: Rasa's and rasa_sdk's own command lines with a quiet start.

Rasa and its dependencies print a screen of third-party DeprecationWarnings at start-up (click,
typer, the spaCy CLI, sanic_cors, pkg_resources, pyparsing, SQLAlchemy), and PYTHONWARNINGS cannot
silence them: importing Sanic turns every DeprecationWarning back on ("once"). This entry point
imports Sanic first, then ignores deprecation warnings raised from any module but ours, and hands
over to `rasa` unchanged (`cramp-rasa run ...` is `rasa run ...`). Our own packages' warnings, and
every other kind of warning, still show.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any, Dict

from cramp_ops.rasa_internals import require_written_for

#: packages whose deprecation warnings we want to see
OUR_PACKAGES = ("actions", "channels", "cramp_nlu", "cramp_ops", "cramp_harness")
#: `module` is a regular expression matched at the start of the warning's module name
THIRD_PARTY_MODULES = r"(?!(%s)(\.|$))" % "|".join(OUR_PACKAGES)


def _ignore_third_party_deprecations() -> None:
    for category in (DeprecationWarning, PendingDeprecationWarning):
        warnings.filterwarnings("ignore", category=category, module=THIRD_PARTY_MODULES)


def quiet_third_party_deprecations() -> None:
    """Ignore DeprecationWarning and PendingDeprecationWarning from third-party modules."""
    import sanic  # noqa: F401  (its import adds a "once" filter that must not come after ours)

    _ignore_third_party_deprecations()
    # SQLAlchemy 1.4's "2.0 uber warning" is a separate category with its own switch
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")


def _keep_quiet_after_rasa_sets_its_filters() -> None:
    """Rasa's command line adds a "once" filter for UserWarning when it configures logging, in
    front of ours; pyparsing's deprecation warnings are UserWarnings too, so ours go back in
    front each time Rasa sets its filters."""
    require_written_for("cramp-rasa's patch of rasa.utils.common._filter_warnings")
    import rasa.utils.common as rasa_common

    rasa_filters = rasa_common._filter_warnings

    def filter_warnings(*args: Any, **kwargs: Any) -> None:
        rasa_filters(*args, **kwargs)
        _ignore_third_party_deprecations()

    rasa_common._filter_warnings = filter_warnings


def validate_action_responses_with_one_validator() -> None:
    """Rasa 3.6 checks every action-server response with `jsonschema.validate()`, which first
    re-checks Rasa's own large events schema against the JSON-Schema meta-schema: about 40 ms per
    action call here, more than everything else in the call (`make profile`). The same schema
    checks the same responses with one validator built once; errors are raised as Rasa raises them
    (the best-matching error, with Rasa's hint appended)."""
    require_written_for("cramp-rasa's patch of RemoteAction._validate_action_result")
    from jsonschema import validators
    from jsonschema.exceptions import best_match
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    validator = validators.validator_for(schema)(schema)
    rasa_validate = RemoteAction._validate_action_result

    def validate(self: RemoteAction, result: Dict[str, Any]) -> bool:
        if best_match(validator.iter_errors(result)) is None:
            return True
        return rasa_validate(self, result)  # Rasa's own path raises and words the error

    RemoteAction._validate_action_result = validate  # type: ignore[method-assign]


def terminal_shows_text_only() -> None:
    """`rasa shell` prints every custom payload as "Custom json: {...}" after the text, so an
    escalation appeared twice (its text, then its banner payload as raw JSON). The terminal is a
    text channel like the messaging apps (channels/text_options.py): it shows the text alone."""
    require_written_for("cramp-rasa's patch of the terminal channel's custom-payload printer")
    from rasa.core.channels import console

    print_bot_output = console._print_bot_output
    if getattr(print_bot_output, "text_only", False):
        return

    def text_only(message: Dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        shown = {key: value for key, value in message.items() if key != "custom"}
        if not any(key != "recipient_id" for key in shown):
            return None  # a payload alone: nothing for a terminal to show
        return print_bot_output(shown, *args, **kwargs)

    text_only.text_only = True  # type: ignore[attr-defined]
    console._print_bot_output = text_only


def main() -> None:
    """`cramp-rasa ...` is `rasa ...` after quietening the start, with one schema validator for
    action-server responses and a terminal (`shell`) that shows text, not custom payloads."""
    quiet_third_party_deprecations()
    _keep_quiet_after_rasa_sets_its_filters()
    validate_action_responses_with_one_validator()
    terminal_shows_text_only()
    from rasa.__main__ import main as rasa_main

    rasa_main()


def actions_main() -> None:
    """`cramp-actions ...` is rasa_sdk's action server (`python -m rasa_sdk ...`), started without
    Rasa's command line and without TensorFlow: spaCy's thinc imports TensorFlow when it can, which
    costs the action server about 300 MB and seconds of start-up for nothing (it runs no model).
    It listens on SANIC_HOST (rasa_sdk's own setting; `make run` sets 127.0.0.1)."""
    sys.modules.setdefault("tensorflow", None)  # type: ignore[arg-type]  (import now fails fast)
    quiet_third_party_deprecations()
    from rasa_sdk.__main__ import main as sdk_main

    sdk_main()


if __name__ == "__main__":
    main()
