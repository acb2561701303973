"""What an escalation says: headline, action, why, reminder — read from the terms file, no spaCy.

The action server, the cramp-check summary and the channels' safety net all word escalations
through this module, so every channel shows the same sentences for the same tier.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Dict, Iterable, Mapping, Optional

from cramp_nlu.terms import packaged_terms


def _one_line(text: Any) -> str:
    return " ".join(str(text or "").split())


@dataclass(frozen=True)
class Wording:
    """The user-facing sentences of the red-flag terms file."""

    headlines: Mapping[str, str]
    actions: Mapping[str, str]
    whys: Mapping[str, str]  # sign and combination IDs -> why, in the rubric's or article's words
    reminder: str

    @classmethod
    def from_terms(cls, terms: Mapping[str, Any]) -> "Wording":
        whys = {s["id"]: _one_line(s.get("why")) for s in terms["signs"]}
        whys.update({c["id"]: _one_line(c.get("why")) for c in terms["combinations"]})
        return cls(
            headlines={t: _one_line(spec.get("headline")) for t, spec in terms["tiers"].items()},
            actions={t: _one_line(spec.get("action")) for t, spec in terms["tiers"].items()},
            whys=whys,
            reminder=_one_line(terms["reminder"]),
        )

    def why(self, reasons: Iterable[str]) -> str:
        """The first reason that has a sentence ("" when none has)."""
        return next((self.whys[r] for r in reasons if self.whys.get(r)), "")

    def escalation_text(self, tier: str, reasons: Iterable[str]) -> str:
        """Headline, the action to take, and why, in that order."""
        lines = [self.headlines[tier], self.actions[tier]]
        why = self.why(reasons)
        if why:
            lines.append(f"Why: {why}")
        return "\n".join(lines)

    def payload(self, tier: str) -> Dict[str, Dict[str, str]]:
        """The custom part a widget renders as a banner (text-only channels drop it)."""
        return {
            "escalation": {
                "tier": tier,
                "headline": self.headlines[tier],
                "action": self.actions[tier],
            }
        }

    def reminder_text(self, earlier_tier: str) -> str:
        """Said when a calmer message follows an urgent or emergency one."""
        return f"{self.reminder} {self.actions[earlier_tier]}"

    def message(self, tier: str, reasons: Iterable[str]) -> Optional[Dict[str, Any]]:
        """The escalation as one bot message (text + custom payload), None for `none`."""
        if tier == "none":
            return None
        return {"text": self.escalation_text(tier, reasons), "custom": self.payload(tier)}


@lru_cache(maxsize=1)
def wording() -> Wording:
    """The wording of the package's terms file, read once per process."""
    return Wording.from_terms(packaged_terms())
