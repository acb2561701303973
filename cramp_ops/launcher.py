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

#: packages whose deprecation warnings we want to see
OUR_PACKAGES = ("actions", "channels", "cramp_nlu", "cramp_ops", "cramp_harness")
#: `module` is a regular expression matched at the start of the warning's module name
THIRD_PARTY_MODULES = r"(?!(%s)(\.|$))" % "|".join(OUR_PACKAGES)


def quiet_third_party_deprecations() -> None:
    """Ignore DeprecationWarning and PendingDeprecationWarning from third-party modules."""
    import sanic  # noqa: F401  (its import adds a "once" filter that must not come after ours)

    for category in (DeprecationWarning, PendingDeprecationWarning):
        warnings.filterwarnings("ignore", category=category, module=THIRD_PARTY_MODULES)
    # SQLAlchemy 1.4's "2.0 uber warning" is a separate category with its own switch
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")


def main() -> None:
    """`cramp-rasa ...` is `rasa ...` after quietening the start."""
    quiet_third_party_deprecations()
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
