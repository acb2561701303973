"""Refuse an endpoints file whose store class paths do not import as Rasa stores.

Rasa 3.6 answers a `tracker_store: type:` it cannot import with one warning and an in-memory store:
each replica then keeps its own conversations and loses them on every restart, and nothing fails.
This check makes that mistake stop the image build (deploy/Dockerfile) and the unit tests instead:

    python -m cramp_ops.endpoints_check deploy/endpoints.production.yml

A `type:` without a dot is one of Rasa's own names (`SQL`, `redis`, ...) and is left to Rasa.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Dict, List, Optional

import yaml
from rasa.core.lock_store import LockStore
from rasa.core.tracker_store import TrackerStore
from rasa.shared.exceptions import RasaException
from rasa.shared.utils.common import class_from_module_path

#: endpoints section -> the Rasa base class its custom `type:` must extend
STORE_BASES: Dict[str, type] = {"tracker_store": TrackerStore, "lock_store": LockStore}


class EndpointsError(Exception):
    """A store class path in the endpoints file that Rasa could not use."""


def store_classes(endpoints: Path) -> Dict[str, type]:
    """Each store section's custom class, imported the way Rasa imports it; raises
    EndpointsError."""
    config = yaml.safe_load(endpoints.read_text(encoding="utf-8")) or {}
    found: Dict[str, type] = {}
    for section, base in STORE_BASES.items():
        path = str((config.get(section) or {}).get("type") or "")
        if "." not in path:
            continue
        try:
            cls = class_from_module_path(path)
        except (ImportError, AttributeError, RasaException) as error:
            raise EndpointsError(
                f"{endpoints}: {section} type {path!r} does not import: {error}"
            ) from error
        if not issubclass(cls, base):
            raise EndpointsError(f"{endpoints}: {section} type {path!r} is not a {base.__name__}")
        found[section] = cls
    return found


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("endpoints", type=Path, nargs="+", help="endpoints files to check")
    args = parser.parse_args(argv)
    try:
        for endpoints in args.endpoints:
            for section, cls in store_classes(endpoints).items():
                print(f"{endpoints}: {section} {cls.__module__}.{cls.__qualname__}")
    except EndpointsError as error:
        print(f"endpoints check: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
