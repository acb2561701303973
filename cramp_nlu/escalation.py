"""What an escalation says: headline, action, why, reminder — read from the terms file, no spaCy.

The action server, the cramp-check summary and the channels' safety net all word escalations
through this module, so every channel shows the same sentences for the same tier.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from cramp_nlu.terms import TermsError, packaged_terms


def _one_line(text: Any) -> str:
    return " ".join(str(text or "").split())


#: the labels of `wording` in the terms file, each with the fields the code fills in
LABELS = {
    "why": ("why",),
    "from_article": ("section",),
    "ours": (),
    "own_rule": ("rule",),
    "you_said": ("quote",),
}
#: a quote of the person's words longer than this is cut at a word
QUOTE_CHARACTERS = 70


def _labels(terms: Mapping[str, Any]) -> Dict[str, str]:
    raw = terms.get("wording") or {}
    labels = {key: _one_line(raw.get(key)) for key in LABELS}
    for key, fields in LABELS.items():
        used = tuple(sorted({f for _, f, _, _ in string.Formatter().parse(labels[key]) if f}))
        if not labels[key] or used != tuple(sorted(fields)):
            raise TermsError(f"red-flag terms: wording.{key} needs the fields {list(fields)}")
    return labels


@dataclass(frozen=True)
class Wording:
    """The user-facing sentences of the red-flag terms file."""

    headlines: Mapping[str, str]
    actions: Mapping[str, str]
    whys: Mapping[str, str]  # sign and combination IDs -> why, in the rubric's or article's words
    reminder: str
    #: sign and combination IDs -> the article section their why retells (none: a rule of ours)
    sections: Mapping[str, str] = field(default_factory=dict)
    #: sign and combination IDs -> a rule of ours said after the why ("do not stop ...")
    own_rules: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    #: combination IDs -> the signs it is made of (whose words are quoted for it)
    members: Mapping[str, Tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_terms(cls, terms: Mapping[str, Any]) -> "Wording":
        items = [*terms["signs"], *terms["combinations"]]
        return cls(
            headlines={t: _one_line(spec.get("headline")) for t, spec in terms["tiers"].items()},
            actions={t: _one_line(spec.get("action")) for t, spec in terms["tiers"].items()},
            whys={i["id"]: _one_line(i.get("why")) for i in items},
            reminder=_one_line(terms["reminder"]),
            sections={i["id"]: _one_line(i["section"]) for i in items if i.get("section")},
            own_rules={i["id"]: _one_line(i["own_rule"]) for i in items if i.get("own_rule")},
            labels=_labels(terms),
            members={
                c["id"]: tuple([*c.get("all", []), *c.get("any", [])])
                for c in terms["combinations"]
            },
        )

    def why(self, reasons: Iterable[str]) -> str:
        """The first reason that has a sentence ("" when none has)."""
        return next((self.whys[r] for r in reasons if self.whys.get(r)), "")

    def reason_text(self, reason: str) -> str:
        """A reason as said to the person: its why, then where it comes from (the article's
        section, or marked as a safety rule of this assistant), then any rule of ours."""
        why = self.whys.get(reason, "")
        if not why:
            return ""
        section = self.sections.get(reason)
        source = (
            self.labels["from_article"].format(section=section) if section else self.labels["ours"]
        )
        own = self.own_rule_text(reason)
        return " ".join(p for p in (why, source, own) if p)

    def own_rule_text(self, reason: str) -> str:
        """The reason's rule of ours, labelled as ours ("" when it has none)."""
        rule = self.own_rules.get(reason)
        return self.labels["own_rule"].format(rule=rule) if rule else ""

    def says_own_rule(self, tier: str, reasons: Iterable[str]) -> bool:
        """Whether the escalation for these reasons already says a rule of ours (the answer
        after it then leaves its own note out: one turn says "do not stop ..." once)."""
        if tier == "none":
            return False
        first = next((r for r in reasons if self.whys.get(r)), None)
        return bool(first and self.own_rules.get(first))

    def why_line(self, reason_text: str) -> str:
        """ "Why: ..." """
        return self.labels["why"].format(why=reason_text)

    def you_said(self, reason: str, findings: Iterable[Mapping[str, Any]]) -> str:
        """What the person said that raised `reason`, in their own words ("You said: “my calf
        is swollen and hot”."): the words the sign was found in, never a sign they did not
        report (denied, past or lifelong findings are left out). "" when nothing is quoted."""
        signs = self.members.get(reason, (reason,))
        quotes: List[str] = []
        for finding in findings:
            if finding.get("sign") not in signs or not _reported(finding):
                continue
            quote = _shortened(str(finding.get("text") or ""))
            if quote and not any(quote in q or q in quote for q in quotes):
                quotes.append(quote)
        if not quotes:
            return ""
        return self.labels["you_said"].format(quote=" … ".join(quotes[:2]))

    def escalation_text(
        self, tier: str, reasons: Iterable[str], findings: Iterable[Mapping[str, Any]] = ()
    ) -> str:
        """Headline, the action to take, what the person said that raised it, and why."""
        lines = [self.headlines[tier], self.actions[tier]]
        first = next((r for r in reasons if self.whys.get(r)), None)
        if first:
            said = self.you_said(first, findings)
            if said:
                lines.append(said)
            lines.append(self.why_line(self.reason_text(first)))
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

    def message(
        self, tier: str, reasons: Iterable[str], findings: Iterable[Mapping[str, Any]] = ()
    ) -> Optional[Dict[str, Any]]:
        """The escalation as one bot message (text + custom payload), None for `none`.
        `findings` are the triage's findings as carried in parse data (quoted in its words)."""
        if tier == "none":
            return None
        return {
            "text": self.escalation_text(tier, reasons, findings),
            "custom": self.payload(tier),
        }


def _reported(finding: Mapping[str, Any]) -> bool:
    """A finding the person reported (the same test as `red_flags.Finding.counts`)."""
    return not any(finding.get(k) for k in ("negated", "long_standing", "past"))


def _shortened(quote: str) -> str:
    quote = " ".join(quote.split()).strip(" ,;:")
    if len(quote) <= QUOTE_CHARACTERS:
        return quote
    return quote[:QUOTE_CHARACTERS].rsplit(" ", 1)[0] + "…"


@lru_cache(maxsize=1)
def wording() -> Wording:
    """The wording of the package's terms file, read once per process."""
    return Wording.from_terms(packaged_terms())
