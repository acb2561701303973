"""The one way to build a red-flag detector, so that every path triages the same way.

The configuration is: the terms file of this package, the NLU lookup tables that training reads
(`data/nlu/entities.yml`, whose `medication` table names medicines by brand and lay name), and the
project's spaCy pipeline `en_cramps`. The Rasa component builds its detector from the terms and
lookup tables it stored in the model at training time (a model is self-contained); the action
server, the channels' safety net, the evaluation script and the tests use `shared_detector()`,
built from the same files. Input is the raw message text (`detector(text)`).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

import spacy
import yaml
from spacy.language import Language

from cramp_nlu.red_flags import RedFlagDetector
from cramp_nlu.terms import packaged_terms

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: The NLU file with the lookup tables (found next to this package, never via the working directory).
LOOKUP_FILE = Path(
    os.environ.get("CRAMP_LOOKUP_FILE", PROJECT_ROOT / "data" / "nlu" / "entities.yml")
)
#: The project's spaCy pipeline, built and installed by `make spacy`.
SPACY_MODEL = os.environ.get("CRAMP_SPACY_MODEL", "en_cramps")


def read_lookup_tables(path: Path = LOOKUP_FILE) -> Dict[str, List[str]]:
    """The lookup tables of a Rasa YAML NLU file, by name, read as Rasa reads them
    (one entry per `- ` line of `examples`), without importing Rasa (the action server has none)."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    tables: Dict[str, List[str]] = {}
    for item in data.get("nlu", []):
        if isinstance(item, dict) and "lookup" in item:
            entries = [
                line.strip()[1:].strip()
                for line in str(item.get("examples", "")).splitlines()
                if line.strip().startswith("-")
            ]
            tables.setdefault(str(item["lookup"]), []).extend(e for e in entries if e)
    return tables


def build_detector(
    terms: Optional[Mapping[str, Any]] = None,
    lookup_tables: Optional[Mapping[str, List[str]]] = None,
    nlp: Optional[Language] = None,
) -> RedFlagDetector:
    """A detector from stored terms and lookup tables (the trained component's), or from the
    project's files for whatever is left out."""
    return RedFlagDetector(
        nlp if nlp is not None else spacy.load(SPACY_MODEL),
        dict(terms) if terms is not None else packaged_terms(),
        lookup_tables if lookup_tables is not None else read_lookup_tables(),
    )


@lru_cache(maxsize=1)
def shared_detector() -> RedFlagDetector:
    """One detector per process from the project's files. Servers call it at start-up, so no
    user waits for spaCy to load on their turn."""
    return build_detector()
