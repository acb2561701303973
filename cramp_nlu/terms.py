"""The red-flag terms file: loading, validation and the urgency order, with no spaCy import.

Everything the assistant knows about warning signs lives in `data/red_flags.yml` inside this
package. The detector, the escalation wording and the trained model all read it from here, so a
process that only needs a sentence (the safety net, the cramp-check summary) never loads spaCy.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Dict, Iterable, Optional, Set, Tuple, Union

import yaml

TIERS: Tuple[str, ...] = ("none", "see_doctor", "urgent", "emergency")
TERMS_RESOURCE = "data/red_flags.yml"
REQUIRED_SECTIONS = (
    "tiers",
    "negation",
    "hypothetical",
    "vocab",
    "signs",
    "combinations",
    "lookup_vocab",
    "reminder",
    "long_standing",
    "past_episode",
)


#: the article's eight causes, as named in intents (ask_cause_<subject>) and topics
SUBJECTS: Tuple[str, ...] = (
    "dehydration",
    "footwear",
    "electrolytes",
    "medication",
    "vascular",
    "nerve",
    "pregnancy",
    "night",
)


class TermsError(ValueError):
    """The red-flag terms file is malformed."""


def tier_rank(tier: str) -> int:
    """Position of a tier in the urgency order (none < see_doctor < urgent < emergency)."""
    return TIERS.index(tier)


def max_tier(tiers: Iterable[str]) -> str:
    """The most urgent of several tiers (`none` for an empty input)."""
    return max(tiers, key=tier_rank, default="none")


def hypothetical_tier(tier: str) -> str:
    """The rubric answers a question about a sign (nothing reported) at `none` or `see_doctor`:
    serious signs asked about get the see-a-provider advice, milder ones none."""
    return "see_doctor" if tier_rank(tier) >= tier_rank("urgent") else "none"


def load_terms(path: Optional[Union[str, Path]] = None) -> Dict[str, Any]:
    """Read and validate the terms file shipped inside this package (or another file, for tests)."""
    if path is None:
        return packaged_terms()
    terms = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    validate_terms(terms)
    return terms


@lru_cache(maxsize=1)
def packaged_terms() -> Dict[str, Any]:
    """The package's own terms file, read once per process (treat the result as read-only)."""
    text = resources.files("cramp_nlu").joinpath(TERMS_RESOURCE).read_text("utf-8")
    terms = yaml.safe_load(text)
    validate_terms(terms)
    return terms


def validate_terms(terms: Dict[str, Any]) -> None:
    """Fail fast on a terms file that would silently detect less than it says."""
    for key in REQUIRED_SECTIONS:
        if key not in terms:
            raise TermsError(f"red-flag terms: missing section '{key}'")
    if set(terms["tiers"]) != set(TIERS):
        raise TermsError(f"red-flag terms: tiers must be exactly {TIERS}")
    for name, spec in terms["tiers"].items():
        if name != "none" and not (spec.get("headline") and spec.get("action")):
            raise TermsError(f"tier {name}: needs a headline and an action")
    for name, words in terms["vocab"].items():
        _check_strings(f"vocab {name}", words)
    for table, vocab in terms["lookup_vocab"].items():
        if vocab not in terms["vocab"]:
            raise TermsError(f"lookup_vocab {table}: unknown vocabulary '{vocab}'")
    _check_strings("negation", list(terms["negation"]["before"]) + list(terms["negation"]["after"]))
    _check_strings("long_standing", terms["long_standing"])
    for key in ("cues", "unless"):
        _check_strings(f"past_episode {key}", terms["past_episode"][key])
    meaning = terms.get("meaning") or {}
    _check_strings("meaning ordinary", meaning.get("ordinary", []))
    sign_ids: Set[str] = set()
    for sign in terms["signs"]:
        if sign.get("tier") not in TIERS:
            raise TermsError(f"sign {sign.get('id')}: unknown tier {sign.get('tier')!r}")
        if not sign.get("phrases") and not sign.get("near"):
            raise TermsError(f"sign {sign['id']}: needs phrases or near")
        _check_strings(f"sign {sign.get('id')}", sign.get("phrases", []))
        _check_strings(f"sign {sign.get('id')} told_as", sign.get("told_as", []))
        for key in ("not_before", "not_after"):
            _check_strings(f"sign {sign.get('id')} {key}", sign.get(key, []))
        if sign.get("told_as") and sign["tier"] != "see_doctor":
            raise TermsError(
                f"sign {sign['id']}: told_as (found by meaning) only on see_doctor signs"
            )
        for name in [*sign.get("near", []), *sign.get("attach_to", [])]:
            if name not in terms["vocab"]:
                raise TermsError(f"sign {sign['id']}: unknown vocabulary '{name}'")
        if sign["tier"] != "none" and not sign.get("why"):
            raise TermsError(f"sign {sign['id']}: a tiered sign needs a 'why'")
        if sign["id"] in sign_ids:
            raise TermsError(f"sign {sign['id']}: declared twice")
        sign_ids.add(sign["id"])
    for item in [*terms["signs"], *terms["combinations"]]:
        if item.get("subject") is not None and item["subject"] not in SUBJECTS:
            raise TermsError(f"{item['id']}: unknown subject {item['subject']!r}")
    for combo in terms["combinations"]:
        for name in list(combo.get("all", [])) + list(combo.get("any", [])):
            if name not in sign_ids:
                raise TermsError(f"combination {combo['id']}: unknown sign '{name}'")
        if combo.get("tier") not in TIERS:
            raise TermsError(f"combination {combo['id']}: unknown tier")
        if combo["tier"] != "none" and not combo.get("why"):
            raise TermsError(f"combination {combo['id']}: a tiered combination needs a 'why'")


def _check_strings(where: str, items: Iterable[Any]) -> None:
    """YAML reads bare `no`, `yes`, `on` as booleans: such a term would silently never match."""
    for item in items:
        if not isinstance(item, str):
            raise TermsError(f"{where}: term {item!r} is not a string (quote it in the YAML)")
