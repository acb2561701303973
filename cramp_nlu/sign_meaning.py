"""Signs told the roundabout way, found by meaning.

The rules (`cramp_nlu.red_flags`) find a sign in the words people usually use for it. People
also tell a sign in words nobody listed: "you could stick a pin in his sole and he wouldn't
know" is numbness, "the further I go the worse my calves ache, and a breather fixes it" is the
walking pattern of poor circulation. This module reads each stated sentence of a message (not its
questions) with the sentence encoder and compares it with short descriptions of each sign
(`told_as` in the terms file, our own sentences written from the rubric) and with descriptions
of ordinary cramps (`meaning.ordinary`: a cramp on a run, one that woke someone, cramps in
pregnancy). A sentence tells a sign when it is close to the sign's descriptions (at least
`min_similarity`) AND closer to them than to every ordinary cramp by `margin`: a sentence
encoder puts every cramp story near every other one, so what decides is the difference, the part
of the meaning that an ordinary cramp does not have.

Only signs the rules did not already find are added, each with the sentence that told it (the
escalation quotes it), marked `by_meaning`. The rules keep every explicit statement: meaning only
adds. The thresholds were set on the development part of the real corpus (docs/measurements.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, List, Mapping, Sequence, Tuple

import numpy as np

from cramp_nlu.red_flags import Finding, Triage
from cramp_nlu.story_reading import split_sentences

#: the longest quote of a sentence kept in a finding (the escalation shows it)
QUOTE_CHARACTERS = 90

Encode = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class Described:
    sign: str
    tier: str


class SignMeaning:
    """Finds signs by meaning; built from the terms file and an encoder."""

    def __init__(self, terms: Mapping[str, Any], encode: Encode) -> None:
        meaning = terms.get("meaning") or {}
        self.min_similarity = float(meaning.get("min_similarity", 1.0))
        self.margin = float(meaning.get("margin", 1.0))
        self._encode = encode
        described: List[Described] = []
        texts: List[str] = []
        for sign in terms["signs"]:
            for text in sign.get("told_as") or []:
                described.append(Described(sign["id"], sign["tier"]))
                texts.append(str(text))
        ordinary = [str(t) for t in meaning.get("ordinary") or []]
        self._described = described
        self._vectors = encode(texts) if texts else np.zeros((0, 0), dtype=np.float32)
        self._ordinary = encode(ordinary) if ordinary else np.zeros((0, 0), dtype=np.float32)

    @property
    def active(self) -> bool:
        return bool(self._described) and self._ordinary.shape[0] > 0

    def findings(self, text: str, triage: Triage) -> List[Finding]:
        """Signs told in the stated sentences of `text` that `triage` did not find."""
        if not self.active or not text.strip():
            return []
        found = {f.sign for f in triage.findings}
        stated = [s for s in _located(text) if not s[0].is_question]
        if not stated:
            return []
        vectors = self._encode([sentence.text for sentence, _ in stated])
        to_signs = vectors @ self._vectors.T
        margin = to_signs - (vectors @ self._ordinary.T).max(axis=1, keepdims=True)
        best: dict = {}
        for row, column in zip(*np.nonzero(to_signs >= self.min_similarity), strict=True):
            described = self._described[column]
            if described.sign in found or margin[row, column] < self.margin:
                continue
            score = float(margin[row, column])
            if described.sign not in best or score > best[described.sign][0]:
                best[described.sign] = (score, row, described)
        added = []
        for _, row, described in best.values():
            sentence, start = stated[row]
            end = start + len(sentence.text)
            added.append(
                Finding(
                    sign=described.sign,
                    tier=described.tier,
                    text=_quote(sentence.text),
                    start=start,
                    end=end,
                    key=start,
                    by_meaning=True,
                )
            )
        return added


def _located(text: str) -> List[Tuple[Any, int]]:
    """The message's sentences (the one reading of `cramp_nlu.story_reading`) with the offset of
    each in the text."""
    located, position = [], 0
    for sentence in split_sentences(text):
        start = text.find(sentence.text, position)
        if start < 0:
            start = position
        located.append((sentence, start))
        position = start + len(sentence.text)
    return located


def _quote(sentence: str) -> str:
    sentence = " ".join(sentence.split())
    if len(sentence) <= QUOTE_CHARACTERS:
        return sentence
    return sentence[:QUOTE_CHARACTERS].rsplit(" ", 1)[0] + "…"
