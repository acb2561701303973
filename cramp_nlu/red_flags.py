"""Red-flag detection on spaCy docs: which warning signs a message reports, and its urgency tier.

The terms, tiers and combinations live in `data/red_flags.yml` (written from the triage rubric);
this module only knows how to match them. It works on any spaCy `Language` with a tokenizer, and
uses lemmas when the pipeline provides them, so the Rasa component and the action server share it.

Matching works in three steps:
1. a `PhraseMatcher` on LOWER (and one on LEMMA) finds every vocabulary term and sign phrase;
2. a sign is found when its phrase matched, or when one term of each of its `near` vocabularies
   lies within its window inside one sentence;
3. each found sign is checked for negation ("no swelling", "a clot was ruled out") and for being
   a general question rather than a report ("is swelling a bad sign?").
The tier is the highest among the reported signs and the combinations they complete.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import spacy
import yaml
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span

TIERS: Tuple[str, ...] = ("none", "see_doctor", "urgent", "emergency")
SENTENCE_ENDS = {".", "!", "?", ";", "\n"}
CLAUSE_JOINERS = {",", "and", "or", "&", "-", "—"}
DEFAULT_WINDOW = 40  # tokens: "anywhere in the sentence" for single-vocabulary signs


def tier_rank(tier: str) -> int:
    """Position of a tier in the urgency order (none < see_doctor < urgent < emergency)."""
    return TIERS.index(tier)


def hypothetical_tier(tier: str) -> str:
    """The rubric answers a question about a sign (nothing reported) at `none` or `see_doctor`:
    serious signs asked about get the see-a-provider advice, milder ones none."""
    return "see_doctor" if tier_rank(tier) >= tier_rank("urgent") else "none"


def max_tier(tiers: Iterable[str]) -> str:
    """The most urgent of several tiers (`none` for an empty input)."""
    return max(tiers, key=tier_rank, default="none")


@dataclass(frozen=True)
class Finding:
    """One sign found in a message."""

    sign: str
    tier: str
    text: str
    start: int  # character offsets in the message
    end: int
    key: int  # character offset of the sign's key term (negation and questions look from here)
    negated: bool = False
    hypothetical: bool = False

    @property
    def counts(self) -> bool:
        """Whether the sign is reported (not denied)."""
        return not self.negated

    @property
    def effective_tier(self) -> str:
        """The sign's tier; a sign only asked about gives at most `see_doctor`."""
        if self.negated:
            return "none"
        if self.hypothetical:
            return hypothetical_tier(self.tier)
        return self.tier


@dataclass
class Triage:
    """The detector's verdict on one message."""

    tier: str
    findings: List[Finding] = field(default_factory=list)
    reasons: List[str] = field(default_factory=list)  # sign / combination IDs that set the tier

    def as_dict(self) -> Dict[str, Any]:
        """A JSON-friendly form, carried in the NLU parse data as `triage`."""
        return {
            "tier": self.tier,
            "reasons": list(self.reasons),
            "findings": [f.__dict__ for f in self.findings],
        }


class TermsError(ValueError):
    """The red-flag terms file is malformed."""


@dataclass(frozen=True)
class SignRule:
    """A sign as declared in the terms file."""

    id: str
    tier: str
    why: str
    phrases: Tuple[str, ...] = ()
    near: Tuple[str, ...] = ()
    window: int = DEFAULT_WINDOW
    not_before: frozenset = frozenset()
    not_after: frozenset = frozenset()


@dataclass(frozen=True)
class Combination:
    """Signs that together raise the tier."""

    id: str
    tier: str
    why: str
    all: Tuple[str, ...]
    any: Tuple[str, ...] = ()


def load_terms(path: Optional[str] = None) -> Dict[str, Any]:
    """Read the terms file shipped inside this package (or another file, for tests)."""
    if path is None:
        text = resources.files("cramp_nlu").joinpath("data/red_flags.yml").read_text("utf-8")
    else:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    terms = yaml.safe_load(text)
    validate_terms(terms)
    return terms


def validate_terms(terms: Dict[str, Any]) -> None:
    """Fail fast on a terms file that would silently detect less than it says."""
    for key in ("tiers", "negation", "hypothetical", "vocab", "signs", "combinations"):
        if key not in terms:
            raise TermsError(f"red-flag terms: missing section '{key}'")
    if set(terms["tiers"]) != set(TIERS):
        raise TermsError(f"red-flag terms: tiers must be exactly {TIERS}")
    for name, words in terms["vocab"].items():
        _check_strings(f"vocab {name}", words)
    _check_strings("negation", list(terms["negation"]["before"]) + list(terms["negation"]["after"]))
    sign_ids: Set[str] = set()
    for sign in terms["signs"]:
        if sign.get("tier") not in TIERS:
            raise TermsError(f"sign {sign.get('id')}: unknown tier {sign.get('tier')!r}")
        if not sign.get("phrases") and not sign.get("near"):
            raise TermsError(f"sign {sign['id']}: needs phrases or near")
        _check_strings(f"sign {sign.get('id')}", sign.get("phrases", []))
        for name in sign.get("near", []):
            if name not in terms["vocab"]:
                raise TermsError(f"sign {sign['id']}: unknown vocabulary '{name}'")
        if sign["tier"] != "none" and not sign.get("why"):
            raise TermsError(f"sign {sign['id']}: a tiered sign needs a 'why'")
        if sign["id"] in sign_ids:
            raise TermsError(f"sign {sign['id']}: declared twice")
        sign_ids.add(sign["id"])
    for combo in terms["combinations"]:
        for name in list(combo.get("all", [])) + list(combo.get("any", [])):
            if name not in sign_ids:
                raise TermsError(f"combination {combo['id']}: unknown sign '{name}'")
        if combo.get("tier") not in TIERS:
            raise TermsError(f"combination {combo['id']}: unknown tier")


def _check_strings(where: str, items: Iterable[Any]) -> None:
    """YAML reads bare `no`, `yes`, `on` as booleans: such a term would silently never match."""
    for item in items:
        if not isinstance(item, str):
            raise TermsError(f"{where}: term {item!r} is not a string (quote it in the YAML)")


def _lower_words(items: Iterable[str]) -> frozenset:
    return frozenset(str(item).lower() for item in items)


class RedFlagDetector:
    """Finds the rubric's warning signs in text and decides the urgency tier."""

    def __init__(self, nlp: Language, terms: Optional[Dict[str, Any]] = None,
                 extra_vocab: Optional[Dict[str, Iterable[str]]] = None) -> None:
        """`extra_vocab` adds terms to named vocabularies, e.g. the medicine names of the
        NLU lookup table, so one list serves entity extraction and triage."""
        self.nlp = nlp
        self.terms = terms if terms is not None else load_terms()
        validate_terms(self.terms)
        excluded = _lower_words(self.terms.get("not_a_cause_medicines", []))
        for name, words in (extra_vocab or {}).items():
            if name not in self.terms["vocab"]:
                raise TermsError(f"extra vocabulary for unknown list '{name}'")
            added = [w for w in words if w.lower() not in excluded]
            self.terms = {**self.terms, "vocab": {**self.terms["vocab"],
                                                  name: list(self.terms["vocab"][name]) + added}}
        self.signs = [
            SignRule(
                id=s["id"],
                tier=s["tier"],
                why=s.get("why", ""),
                phrases=tuple(s.get("phrases", [])),
                near=tuple(s.get("near", [])),
                window=int(s.get("window", DEFAULT_WINDOW)),
                not_before=_lower_words(s.get("not_before", [])),
                not_after=_lower_words(s.get("not_after", [])),
            )
            for s in self.terms["signs"]
        ]
        self.combinations = [
            Combination(c["id"], c["tier"], c.get("why", ""), tuple(c.get("all", [])),
                        tuple(c.get("any", [])))
            for c in self.terms["combinations"]
        ]
        self.why: Dict[str, str] = {s.id: s.why for s in self.signs}
        self.why.update({c.id: c.why for c in self.combinations})
        self.tier_actions: Dict[str, str] = {
            name: " ".join(str(spec.get("action", "")).split())
            for name, spec in self.terms["tiers"].items()
        }
        self.tier_headlines: Dict[str, str] = {
            name: spec.get("headline", "") for name, spec in self.terms["tiers"].items()
        }
        negation = self.terms["negation"]
        self.neg_window = int(negation["window"])
        self.neg_stop = _lower_words(negation["stop_at"])
        self.clause_starters = _lower_words(negation["clause_starters"])
        hypo = self.terms["hypothetical"]
        self.question_openers = _lower_words(hypo["question_openers"])
        self.personal = _lower_words(hypo["personal"])
        self._lower_matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        self._lemma_matcher = PhraseMatcher(nlp.vocab, attr="LEMMA")
        self._add_patterns()

    def escalation_text(self, tier: str, reasons: Iterable[str]) -> str:
        """Headline, the action to take, and why (the first reason that has one), in that order."""
        why = next((self.why[r] for r in reasons if self.why.get(r)), "")
        lines = [self.tier_headlines[tier], self.tier_actions[tier]]
        if why:
            lines.append(f"Why: {why}")
        return "\n".join(lines)

    # ---- building the matchers ----
    def _add(self, label: str, phrases: Iterable[str], lemmas: bool = False) -> None:
        """Vocabulary terms also match by lemma ("hurts" ~ "hurt"); sign phrases and cues match
        as written, since a lemma would widen them ("fainted" ~ "a faint memory")."""
        phrases = [str(p).lower() for p in phrases]
        self._lower_matcher.add(label, [self.nlp.make_doc(p) for p in phrases])
        if lemmas and self._has_lemmas():
            # LEMMA patterns need the lemmatizer to have run on the pattern docs too
            self._lemma_matcher.add(label, list(self.nlp.pipe(phrases)))

    def _has_lemmas(self) -> bool:
        return "lemmatizer" in self.nlp.pipe_names

    def _add_patterns(self) -> None:
        for name, words in self.terms["vocab"].items():
            self._add(f"vocab:{name}", words, lemmas=True)
        for sign in self.signs:
            if sign.phrases:
                self._add(f"sign:{sign.id}", sign.phrases)
        negation = self.terms["negation"]
        self._add("neg:before", negation["before"])
        self._add("neg:after", negation["after"])
        self._add("neg:pseudo", negation.get("pseudo", []))
        self._add("hypo:cue", self.terms["hypothetical"]["cues_before"])

    # ---- detection ----
    def __call__(self, text: str) -> Triage:
        """Triage raw text (runs the pipeline)."""
        return self.triage_doc(self.nlp(text))

    def triage_doc(self, doc: Doc) -> Triage:
        """Triage an already processed doc (the Rasa component passes its cached doc)."""
        matches = self._matches(doc)
        sentences = self._sentence_ids(doc)
        findings = self._find_signs(doc, matches, sentences)
        findings = [
            Finding(
                sign=f.sign, tier=f.tier, text=f.text, start=f.start, end=f.end, key=f.key,
                negated=self._is_negated(doc, matches, f, sentences),
                hypothetical=self._is_hypothetical(doc, matches, f, sentences),
            )
            for f in findings
        ]
        return self._decide(findings)

    def _matches(self, doc: Doc) -> Dict[str, List[Tuple[int, int]]]:
        """All term matches by label, as token spans, de-duplicated across LOWER and LEMMA."""
        found: Dict[str, Set[Tuple[int, int]]] = {}
        raw = list(self._lower_matcher(doc))
        if self._has_lemmas() and doc.has_annotation("LEMMA"):
            raw += list(self._lemma_matcher(doc))
        for match_id, start, end in raw:
            label = self.nlp.vocab.strings[match_id]
            found.setdefault(label, set()).add((start, end))
        return {label: sorted(spans) for label, spans in found.items()}

    @staticmethod
    def _sentence_ids(doc: Doc) -> List[int]:
        """A sentence number per token, split at end punctuation and line breaks."""
        ids, current = [], 0
        for token in doc:
            ids.append(current)
            if token.text in SENTENCE_ENDS or "\n" in token.text:
                current += 1
        return ids

    def _allowed_here(self, doc: Doc, sign: SignRule, start: int, end: int) -> bool:
        before = doc[start - 1].lower_ if start > 0 else ""
        after = doc[end].lower_ if end < len(doc) else ""
        return before not in sign.not_before and after not in sign.not_after

    def _find_signs(self, doc: Doc, matches: Dict[str, List[Tuple[int, int]]],
                    sentences: Sequence[int]) -> List[Finding]:
        findings: List[Finding] = []
        for sign in self.signs:
            spans = [(s, e, s) for s, e in matches.get(f"sign:{sign.id}", [])
                     if self._allowed_here(doc, sign, s, e)]
            if sign.near:
                spans += self._near_spans(doc, sign, matches, sentences)
            for start, end, key in _merge_spans(spans):
                span: Span = doc[start:end]
                findings.append(Finding(sign.id, sign.tier, span.text,
                                        span.start_char, span.end_char, doc[key].idx))
        return findings

    def _near_spans(self, doc: Doc, sign: SignRule, matches: Dict[str, List[Tuple[int, int]]],
                    sentences: Sequence[int]) -> List[Tuple[int, int, int]]:
        """Spans (start, end, key token) where one term of each `near` vocabulary sits
        within the window of a key term (a term of the first vocabulary)."""
        groups = [matches.get(f"vocab:{name}", []) for name in sign.near]
        if any(not g for g in groups):
            return []
        # the first vocabulary is the key term; not_before/not_after apply to it
        keys = [s for s in groups[0] if self._allowed_here(doc, sign, *s)]
        spans: List[Tuple[int, int, int]] = []
        for key_start, key_end in keys:
            lo, hi = key_start, key_end
            for others in groups[1:]:
                partner = [
                    (s, e) for s, e in others
                    if sentences[s] == sentences[key_start]
                    and abs(s - key_start) <= sign.window
                    and (s, e) != (key_start, key_end)
                ]
                if not partner:
                    break
                s, e = min(partner, key=lambda p: abs(p[0] - key_start))
                lo, hi = min(lo, s), max(hi, e)
            else:
                spans.append((lo, hi, key_start))
        return spans

    # ---- negation and hypotheticals ----
    def _token_index(self, doc: Doc, char: int) -> int:
        span = doc.char_span(char, char + 1, alignment_mode="expand")
        return span.start if span is not None else 0

    def _is_negated(self, doc: Doc, matches: Dict[str, List[Tuple[int, int]]],
                    finding: Finding, sentences: Sequence[int]) -> bool:
        start = self._token_index(doc, finding.key)
        end = self._token_index(doc, finding.end - 1) + 1
        pseudo = {i for s, e in matches.get("neg:pseudo", []) for i in range(s, e)}
        for cue_start, cue_end in matches.get("neg:before", []):
            if cue_start in pseudo:
                continue
            if cue_end > start or sentences[cue_start] != sentences[start]:
                continue  # a cue inside the sign ("can't breathe") is part of the sign
            if start - cue_end > self.neg_window:
                continue
            if self._scope_reaches(doc, cue_end, start):
                return True
        for cue_start, _ in matches.get("neg:after", []):
            if cue_start >= end and sentences[cue_start] == sentences[start] \
                    and cue_start - end <= 3:
                return True
        return False

    def _scope_reaches(self, doc: Doc, cue_end: int, target: int) -> bool:
        """Whether a negation ending at `cue_end` still covers the token `target`."""
        for i in range(cue_end, target):
            word = doc[i].lower_
            if word in self.neg_stop:
                return False
            if word in CLAUSE_JOINERS and i + 1 < len(doc) \
                    and doc[i + 1].lower_ in self.clause_starters:
                return False
        return True

    def _is_hypothetical(self, doc: Doc, matches: Dict[str, List[Tuple[int, int]]],
                         finding: Finding, sentences: Sequence[int]) -> bool:
        start = self._token_index(doc, finding.key)
        if any(t.lower_ in self.personal for t in doc):
            return False  # someone in the message has it: a report, however it is phrased
        sentence = [t for t in doc if sentences[t.i] == sentences[start]]
        words = [t for t in sentence if not t.is_punct]
        if words and words[0].lower_ in self.question_openers:
            return True
        return any(s < start and sentences[s] == sentences[start]
                   for s, _ in matches.get("hypo:cue", []))

    # ---- the verdict ----
    def _decide(self, findings: List[Finding]) -> Triage:
        reported = {f.sign: f for f in findings if f.counts}
        candidates: List[Tuple[str, str]] = [
            (f.effective_tier, f.sign) for f in reported.values() if f.effective_tier != "none"
        ]
        for combo in self.combinations:
            if all(name in reported for name in combo.all) and (
                not combo.any or any(name in reported for name in combo.any)
            ):
                members = [reported[n] for n in combo.all + combo.any if n in reported]
                tier = combo.tier
                if all(m.hypothetical for m in members):
                    tier = hypothetical_tier(tier)
                candidates.append((tier, combo.id))
        tier = max_tier(t for t, _ in candidates)
        reasons = [name for t, name in candidates if t == tier and tier != "none"]
        return Triage(tier=tier, findings=findings, reasons=reasons)


def _merge_spans(spans: Iterable[Tuple[int, int, int]]) -> List[Tuple[int, int, int]]:
    """Overlapping spans of one sign count once (the first key term is kept)."""
    merged: List[Tuple[int, int, int]] = []
    for start, end, key in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]), merged[-1][2])
        else:
            merged.append((start, end, key))
    return merged


@lru_cache(maxsize=1)
def default_detector(model: str = "en_cramps") -> RedFlagDetector:
    """One detector per process, built on the project's spaCy pipeline (for the action server)."""
    return RedFlagDetector(spacy.load(model))
