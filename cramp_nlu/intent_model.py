"""The intent model: TF-IDF over lemmas and character n-grams, and a linear classifier.

Kept free of Rasa so that it can be trained and probed in a unit test. The classifier reads
whole messages and, just as cheaply, each sentence of a message (see `cramp_nlu.story_reading`):
that is why it is ours rather than DIET, which sees only the whole message and took most of the
training time (measured in the README). Confidences are a softmax over the linear scores, so the
FallbackClassifier's threshold keeps its meaning.
"""

from __future__ import annotations

import math
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

DEFAULTS: Dict[str, Any] = {
    # word n-grams over lemmas; character n-grams inside word boundaries catch typos
    "word_ngrams": [1, 2],
    "char_ngrams": [2, 5],
    "char_min_df": 2,
    # regularisation of the linear SVM (smaller: smoother); chosen on the held-out split
    "C": 0.5,
    # softmax temperature on the SVM scores: 8 keeps the fallback for unsure guesses (held-out split)
    "temperature": 8.0,
    "ranking_length": 10,
}


@dataclass(frozen=True)
class Ranked:
    intent: str
    confidence: float


class IntentModel:
    """Fit on (lemmatised text, intent) pairs; rank intents for any text."""

    def __init__(self, config: Dict[str, Any] | None = None) -> None:
        self.config = {**DEFAULTS, **(config or {})}
        self._features = FeatureUnion(
            [
                (
                    "words",
                    TfidfVectorizer(
                        ngram_range=tuple(self.config["word_ngrams"]),
                        sublinear_tf=True,
                        token_pattern=r"(?u)\b\w[\w']*\b",
                    ),
                ),
                (
                    "chars",
                    TfidfVectorizer(
                        analyzer="char_wb",
                        ngram_range=tuple(self.config["char_ngrams"]),
                        sublinear_tf=True,
                        min_df=self.config["char_min_df"],
                    ),
                ),
            ]
        )
        self._classifier = LinearSVC(C=self.config["C"], class_weight="balanced")
        self.intents: Tuple[str, ...] = ()

    def fit(self, texts: Sequence[str], intents: Sequence[str]) -> "IntentModel":
        if len(set(intents)) < 2:
            raise ValueError("the intent model needs examples of at least two intents")
        matrix = self._features.fit_transform(texts)
        self._classifier.fit(matrix, intents)
        self.intents = tuple(str(c) for c in self._classifier.classes_)
        return self

    def rank(self, texts: Sequence[str]) -> List[List[Ranked]]:
        """Intents by confidence, best first, for each text."""
        if not texts:
            return []
        scores = self._classifier.decision_function(self._features.transform(texts))
        ranked = []
        for row in scores:
            top = sorted(
                zip(self.intents, _softmax(row, self.config["temperature"]), strict=True),
                key=_second,
            )
            ranked.append(
                [Ranked(i, float(c)) for i, c in reversed(top[-self.config["ranking_length"] :])]
            )
        return ranked

    def save(self, path: Path) -> None:
        with path.open("wb") as file:
            pickle.dump(
                {
                    "config": self.config,
                    "features": self._features,
                    "classifier": self._classifier,
                    "intents": self.intents,
                },
                file,
            )

    @classmethod
    def load(cls, path: Path) -> "IntentModel":
        with path.open("rb") as file:
            stored = pickle.load(file)  # written by `save` into the model archive we trained
        model = cls(stored["config"])
        model._features, model._classifier = stored["features"], stored["classifier"]
        model.intents = tuple(stored["intents"])
        return model


def _second(pair: Tuple[str, float]) -> float:
    return pair[1]


def _softmax(scores: Sequence[float], temperature: float) -> List[float]:
    top = max(scores)
    exps = [math.exp((s - top) * temperature) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]
