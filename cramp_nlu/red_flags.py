"""Red-flag detection on spaCy docs: which warning signs a message reports, and its urgency tier.

The terms, tiers and combinations live in `data/red_flags.yml` (written from the triage rubric);
this module only knows how to match them. It works on any spaCy `Language` with a tokenizer and
uses lemmas when the pipeline provides them. Build it with `cramp_nlu.factory`, the one place that
decides its configuration; its wording lives in `cramp_nlu.escalation`.

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
from functools import partial
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span

from cramp_nlu.terms import hypothetical_tier, max_tier, validate_terms

SENTENCE_ENDS = {".", "!", "?", ";", "\n"}
CLAUSE_JOINERS = {",", "and", "or", "&", "-", "—"}
DEFAULT_WINDOW = 40  # tokens: "anywhere in the sentence" for single-vocabulary signs


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
    long_standing: bool = False  # "my feet have always been cold": not the sudden sign
    past: bool = False  # "two years ago I had a DVT, it was treated": not a sign now
    by_meaning: bool = False  # told the roundabout way, found by `cramp_nlu.sign_meaning`

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Finding":
        """A finding as carried in parse data (`Triage.as_dict`); unknown keys are ignored."""
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in names})

    @property
    def counts(self) -> bool:
        """Whether the sign is reported (not denied, not a lifelong state)."""
        return not (self.negated or self.long_standing or self.past)

    @property
    def effective_tier(self) -> str:
        """The sign's tier; a sign only asked about gives at most `see_doctor`."""
        if not self.counts:
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
    #: the article's causes the reported signs point to (a walk that has to stop: vascular)
    subjects: List[str] = field(default_factory=list)

    def as_dict(self) -> Dict[str, Any]:
        """A JSON-friendly form, carried in the NLU parse data as `triage`."""
        return {
            "tier": self.tier,
            "reasons": list(self.reasons),
            "findings": [f.__dict__ for f in self.findings],
            "subjects": list(self.subjects),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Triage":
        return cls(
            tier=data["tier"],
            findings=[Finding.from_dict(f) for f in data.get("findings", [])],
            reasons=list(data.get("reasons", [])),
            subjects=list(data.get("subjects", [])),
        )


@dataclass(frozen=True)
class SignRule:
    """A sign as declared in the terms file."""

    id: str
    tier: str
    phrases: Tuple[str, ...] = ()
    near: Tuple[str, ...] = ()
    window: int = DEFAULT_WINDOW
    not_before: frozenset = frozenset()
    not_after: frozenset = frozenset()
    sudden_only: bool = False  # the sign is a sudden change: a lifelong state is not it
    current_only: bool = False  # the sign matters now: a past, resolved episode is not it
    #: a phrase of the sign counts only when it is said OF one of these (a term of these
    #: vocabularies within `attach_window` tokens in its sentence): "daily" of the cramps, not of
    #: the water someone drinks daily
    attach_to: Tuple[str, ...] = ()
    attach_window: int = 6


@dataclass(frozen=True)
class Combination:
    """Signs that together raise the tier."""

    id: str
    tier: str
    all: Tuple[str, ...]
    any: Tuple[str, ...] = ()


def _lower_words(items: Iterable[str]) -> frozenset:
    return frozenset(str(item).lower() for item in items)


def _with_lookup_tables(
    terms: Dict[str, Any], lookup_tables: Mapping[str, Iterable[str]]
) -> Dict[str, Any]:
    """The terms with each mapped lookup table's entries added to its vocabulary."""
    excluded = _lower_words(terms.get("not_a_cause_medicines", []))
    vocab = {name: list(words) for name, words in terms["vocab"].items()}
    for table, entries in lookup_tables.items():
        name = terms["lookup_vocab"].get(table)
        if name is None:
            continue  # a lookup table triage has no use for (conditions, times, ...)
        vocab[name] += [str(e) for e in entries if str(e).lower() not in excluded]
    return {**terms, "vocab": vocab}


class RedFlagDetector:
    """Finds the rubric's warning signs in text and decides the urgency tier."""

    def __init__(
        self,
        nlp: Language,
        terms: Dict[str, Any],
        lookup_tables: Optional[Mapping[str, Iterable[str]]] = None,
    ) -> None:
        """`lookup_tables` are NLU lookup tables by name; the terms file's `lookup_vocab` says
        which vocabulary each one extends (the `medication` table's brand names are medicines),
        so one list serves entity extraction and triage."""
        validate_terms(terms)
        self.nlp = nlp
        self.terms = _with_lookup_tables(terms, lookup_tables or {})
        self.signs = [
            SignRule(
                id=s["id"],
                tier=s["tier"],
                phrases=tuple(s.get("phrases", [])),
                near=tuple(s.get("near", [])),
                window=int(s.get("window", DEFAULT_WINDOW)),
                not_before=_lower_words(s.get("not_before", [])),
                not_after=_lower_words(s.get("not_after", [])),
                sudden_only=bool(s.get("sudden_only", False)),
                current_only=bool(s.get("current_only", False)),
                attach_to=tuple(s.get("attach_to", [])),
                attach_window=int(s.get("attach_window", 6)),
            )
            for s in self.terms["signs"]
        ]
        self._sudden_only = {sign.id for sign in self.signs if sign.sudden_only}
        self._current_only = {sign.id for sign in self.signs if sign.current_only}
        self._subject_of = {
            item["id"]: item["subject"]
            for item in [*self.terms["signs"], *self.terms["combinations"]]
            if item.get("subject")
        }
        self.combinations = [
            Combination(c["id"], c["tier"], tuple(c.get("all", [])), tuple(c.get("any", [])))
            for c in self.terms["combinations"]
        ]
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
        self._add("long:cue", self.terms["long_standing"])
        self._add("past:cue", self.terms["past_episode"]["cues"])
        self._add("past:unless", self.terms["past_episode"]["unless"])

    # ---- detection ----
    def __call__(self, text: str) -> Triage:
        """Triage a message. Every caller passes the raw text; the one input form is the
        lower-cased text (as Rasa's SpacyNLP caches it), so all paths see the same tokens."""
        return self._triage_doc(self.nlp((text or "").lower()))

    def _triage_doc(self, doc: Doc) -> Triage:
        matches = self._matches(doc)
        sentences = self._sentence_ids(doc)
        findings = self._find_signs(doc, matches, sentences)
        findings = [
            Finding(
                sign=f.sign,
                tier=f.tier,
                text=f.text,
                start=f.start,
                end=f.end,
                key=f.key,
                negated=self._is_negated(doc, matches, f, sentences),
                hypothetical=self._is_hypothetical(doc, matches, f, sentences),
                long_standing=self._is_long_standing(doc, matches, f, sentences),
                past=self._is_past(doc, matches, f, sentences),
            )
            for f in findings
        ]
        return self._decide(findings)

    def with_earlier(self, current: Triage, earlier: Iterable[Mapping[str, Any]]) -> Triage:
        """This message's verdict with what earlier messages of the conversation reported: a
        condition said before ("I'm pregnant") completes a combination with a sign said now
        ("suddenly blurry vision"). Earlier signs alone do not raise this message's tier (they
        were answered then); only combinations that this message completes do."""
        before = [Finding.from_dict(f) for f in earlier]
        return self._decide(current.findings, before)

    def with_findings(self, current: Triage, extra: Sequence[Finding]) -> Triage:
        """This message's verdict with more findings of its own (signs found by meaning)."""
        if not extra:
            return current
        return self._decide([*current.findings, *extra])

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

    def _find_signs(
        self, doc: Doc, matches: Dict[str, List[Tuple[int, int]]], sentences: Sequence[int]
    ) -> List[Finding]:
        findings: List[Finding] = []
        for sign in self.signs:
            spans = [
                (s, e, s)
                for s, e in matches.get(f"sign:{sign.id}", [])
                if self._allowed_here(doc, sign, s, e)
                and self._attached(sign, matches, sentences, s, e)
            ]
            if sign.near:
                spans += self._near_spans(doc, sign, matches, sentences)
            for start, end, key in _merge_spans(spans):
                span: Span = doc[start:end]
                findings.append(
                    Finding(
                        sign.id, sign.tier, span.text, span.start_char, span.end_char, doc[key].idx
                    )
                )
        return findings

    @staticmethod
    def _attached(
        sign: SignRule,
        matches: Dict[str, List[Tuple[int, int]]],
        sentences: Sequence[int],
        start: int,
        end: int,
    ) -> bool:
        """Whether a phrase is said of what the sign is about (see `SignRule.attach_to`)."""
        if not sign.attach_to:
            return True
        return any(
            sentences[s] == sentences[start]
            and s - end <= sign.attach_window
            and start - e <= sign.attach_window
            for name in sign.attach_to
            for s, e in matches.get(f"vocab:{name}", [])
        )

    def _near_spans(
        self,
        doc: Doc,
        sign: SignRule,
        matches: Dict[str, List[Tuple[int, int]]],
        sentences: Sequence[int],
    ) -> List[Tuple[int, int, int]]:
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
                    (s, e)
                    for s, e in others
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

    def denial_check(
        self,
        text: str,
        hypothetical: bool = False,
        phrases: Sequence[Tuple[int, int]] = (),
    ) -> Callable[[int, int], bool]:
        """For phrases that are not signs (the cramp check's answers: "sweat a lot", "tight
        shoes"): whether the phrase at these character offsets of `text` is denied, by the same
        negation rules as the signs ("no swelling", "I don't sweat much", "my shoes are fine").
        With `hypothetical`, a phrase after a hypothetical cue in its sentence ("if I run") is
        not stated either. A cue inside one of `phrases` (character spans of the answers found:
        "not pregnant") belongs to that phrase and denies nothing else. One negation engine for
        the whole project."""
        doc = self.nlp((text or "").lower())
        matches = self._matches(doc)
        sentences = self._sentence_ids(doc)
        inside = {
            token.i
            for start, end in phrases
            for token in (doc.char_span(start, end, alignment_mode="expand") or [])
        }

        def denied(start: int, end: int) -> bool:
            phrase = Finding("phrase", "none", text[start:end], start, end, start)
            if self._is_negated(doc, matches, phrase, sentences, inside):
                return True
            if not hypothetical:
                return False
            here = sentences[self._token_index(doc, start)]
            cues = matches.get("hypo:cue", [])
            return any(doc[s].idx < start and sentences[s] == here for s, _ in cues)

        return denied

    # ---- negation and hypotheticals ----
    def _token_index(self, doc: Doc, char: int) -> int:
        span = doc.char_span(char, char + 1, alignment_mode="expand")
        return span.start if span is not None else 0

    def _is_negated(
        self,
        doc: Doc,
        matches: Dict[str, List[Tuple[int, int]]],
        finding: Finding,
        sentences: Sequence[int],
        ignored: Set[int] = frozenset(),
    ) -> bool:
        """`ignored`: tokens whose cues belong to another phrase (see `denial_check`)."""
        start = self._token_index(doc, finding.key)
        end = self._token_index(doc, finding.end - 1) + 1
        pseudo = {i for s, e in matches.get("neg:pseudo", []) for i in range(s, e)} | ignored
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
            if (
                cue_start >= end
                and sentences[cue_start] == sentences[start]
                and cue_start - end <= 3
            ):
                return True
        return False

    def _scope_reaches(self, doc: Doc, cue_end: int, target: int) -> bool:
        """Whether a negation ending at `cue_end` still covers the token `target`."""
        for i in range(cue_end, target):
            word = doc[i].lower_
            if word in self.neg_stop:
                return False
            if (
                word in CLAUSE_JOINERS
                and i + 1 < len(doc)
                and doc[i + 1].lower_ in self.clause_starters
            ):
                return False
        return True

    def _is_hypothetical(
        self,
        doc: Doc,
        matches: Dict[str, List[Tuple[int, int]]],
        finding: Finding,
        sentences: Sequence[int],
    ) -> bool:
        start = self._token_index(doc, finding.key)
        if any(t.lower_ in self.personal for t in doc):
            return False  # someone in the message has it: a report, however it is phrased
        sentence = [t for t in doc if sentences[t.i] == sentences[start]]
        words = [t for t in sentence if not t.is_punct]
        if words and words[0].lower_ in self.question_openers:
            return True
        return any(
            s < start and sentences[s] == sentences[start] for s, _ in matches.get("hypo:cue", [])
        )

    def _is_long_standing(
        self,
        doc: Doc,
        matches: Dict[str, List[Tuple[int, int]]],
        finding: Finding,
        sentences: Sequence[int],
    ) -> bool:
        """A sudden-change sign said of a lifelong state ("always been cold", "since I was a
        kid") in the same sentence."""
        if finding.sign not in self._sudden_only:
            return False
        return self._cue_in_sentence(doc, matches, finding, sentences, "long:cue")

    def _is_past(
        self,
        doc: Doc,
        matches: Dict[str, List[Tuple[int, int]]],
        finding: Finding,
        sentences: Sequence[int],
    ) -> bool:
        """A current-only sign told as a past episode ("last winter my toes went numb, but that
        healed"), unless the same sentence says it is back ("again", "another one")."""
        if finding.sign not in self._current_only:
            return False
        in_sentence = partial(self._cue_in_sentence, doc, matches, finding, sentences)
        return in_sentence("past:cue") and not in_sentence("past:unless")

    def _cue_in_sentence(
        self,
        doc: Doc,
        matches: Dict[str, List[Tuple[int, int]]],
        finding: Finding,
        sentences: Sequence[int],
        label: str,
    ) -> bool:
        """Whether a cue of this label sits in the finding's sentence."""
        here = sentences[self._token_index(doc, finding.key)]
        return any(sentences[s] == here for s, _ in matches.get(label, []))

    # ---- the verdict ----
    def _decide(self, findings: List[Finding], earlier: Sequence[Finding] = ()) -> Triage:
        reported = {f.sign: f for f in findings if f.counts}
        candidates: List[Tuple[str, str]] = [
            (f.effective_tier, f.sign) for f in reported.values() if f.effective_tier != "none"
        ]
        told_before = {f.sign: f for f in earlier if f.counts and f.sign not in reported}
        known = {**told_before, **reported}
        for combo in self.combinations:
            if not any(name in reported for name in combo.all + combo.any):
                continue  # nothing of it said now: it was (or was not) found before
            if all(name in known for name in combo.all) and (
                not combo.any or any(name in known for name in combo.any)
            ):
                members = [known[n] for n in combo.all + combo.any if n in known]
                tier = combo.tier
                if all(m.hypothetical for m in members):
                    tier = hypothetical_tier(tier)
                candidates.append((tier, combo.id))
        tier = max_tier(t for t, _ in candidates)
        reasons = [name for t, name in candidates if t == tier and tier != "none"]
        subjects: List[str] = []
        for name in [*(f.sign for f in reported.values()), *(n for _, n in candidates)]:
            subject = self._subject_of.get(name)
            if subject and subject not in subjects:
                subjects.append(subject)
        return Triage(tier=tier, findings=findings, reasons=reasons, subjects=subjects)


def _merge_spans(spans: Iterable[Tuple[int, int, int]]) -> List[Tuple[int, int, int]]:
    """Overlapping spans of one sign count once (the first key term is kept)."""
    merged: List[Tuple[int, int, int]] = []
    for start, end, key in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]), merged[-1][2])
        else:
            merged.append((start, end, key))
    return merged
