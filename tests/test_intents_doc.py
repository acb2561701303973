"""docs/intents.md, the intent catalogue, names every intent of the domain."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_every_domain_intent_is_in_the_catalogue():
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    intents = [i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]]
    catalogue = (ROOT / "docs" / "intents.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| ([a-z_]+) \|", catalogue, flags=re.M))
    assert len(intents) > 30
    assert sorted(set(intents) - listed) == []
