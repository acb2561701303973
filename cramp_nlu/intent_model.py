"""The intent model: what a text means (a sentence encoder's vector) and which words it uses
(TF-IDF over lemmas and character n-grams), read by one linear classifier.

Kept free of Rasa so that it can be trained and probed in a unit test. The classifier reads
whole messages and, just as cheaply, each sentence of a message (see `cramp_nlu.story_reading`).
The meaning vector (`cramp_nlu.encoder`) carries roundabout wordings that share no word with any
training example; the word features keep the exact terms (drug names, "trimester") sharp.
Confidences are a softmax over the linear scores, so the FallbackClassifier's threshold keeps
its meaning. The comparison with Rasa's stock classifier and with word features alone is in
docs/measurements.md.
"""

from __future__ import annotations

import math
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from scipy import sparse
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
    # scale of the meaning vector beside the word features (0: words alone); chosen on the
    # development part of the real-message corpus
    "dense_weight": 1.0,
    # a text with no known word whose character n-grams are mostly unknown too is not understood
    "min_spelling_known": 0.5,
}
#: what is left of the confidences of a text that is not understood (below any fallback threshold)
UNSURE = 0.1


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
        # a fixed seed: liblinear shuffles its examples, and the gates need the same model every time
        self._classifier = LinearSVC(C=self.config["C"], class_weight="balanced", random_state=0)
        self.intents: Tuple[str, ...] = ()
        self.uses_vectors = False

    def fit(
        self,
        texts: Sequence[str],
        intents: Sequence[str],
        vectors: Optional[np.ndarray] = None,
    ) -> "IntentModel":
        """`texts` are lemmatised; `vectors` (one row per text) their meaning, or None to use
        the words alone."""
        if len(set(intents)) < 2:
            raise ValueError("the intent model needs examples of at least two intents")
        self.uses_vectors = vectors is not None and self.config["dense_weight"] > 0
        matrix = self._matrix(self._features.fit_transform(texts), vectors)
        self._classifier.fit(matrix, intents)
        self.intents = tuple(str(c) for c in self._classifier.classes_)
        return self

    def _spelling_known(self, text: str) -> float:
        """The share of a text's character n-grams that the model has seen ("hellooo" shares
        most of its pieces with "hello"; "asdf qwer" few)."""
        chars = self._features.transformer_list[1][1]
        pieces = set(chars.build_analyzer()(text))
        return sum(p in chars.vocabulary_ for p in pieces) / len(pieces) if pieces else 0.0

    def _word_features(self) -> int:
        """How many of the features are word n-grams (the first part of the union)."""
        return len(self._features.transformer_list[0][1].vocabulary_)

    def _matrix(self, words: Any, vectors: Optional[np.ndarray]) -> Any:
        if not self.uses_vectors:
            return words
        if vectors is None or vectors.shape[0] != words.shape[0]:
            raise ValueError(
                "this intent model was trained with meaning vectors: pass one per text"
            )
        dense = sparse.csr_matrix(vectors * self.config["dense_weight"])
        return sparse.hstack([words, dense], format="csr")

    def rank(
        self, texts: Sequence[str], vectors: Optional[np.ndarray] = None
    ) -> List[List[Ranked]]:
        """Intents by confidence, best first, for each text."""
        if not texts:
            return []
        words = self._features.transform(texts)
        known = np.asarray(words[:, : self._word_features()].getnnz(axis=1)).ravel() > 0
        if vectors is not None and self.uses_vectors:
            # a text without one word the model has seen ("hellooo", "asdf qwer") is read by its
            # spelling alone: its meaning vector lands somewhere whatever it says
            vectors = vectors * known[:, None]
        scores = self._classifier.decision_function(self._matrix(words, vectors))
        ranked = []
        for text, row, has_word in zip(texts, scores, known, strict=True):
            confidences = _softmax(row, self.config["temperature"])
            if not has_word and self._spelling_known(text) < self.config["min_spelling_known"]:
                # nor does it look like any word the model knows ("asdf qwer zxcv"): it is not
                # understood; the order stays for the "did you mean" buttons
                confidences = [c * UNSURE for c in confidences]
            top = sorted(zip(self.intents, confidences, strict=True), key=_second)
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
                    "uses_vectors": self.uses_vectors,
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
        model.uses_vectors = bool(stored.get("uses_vectors", False))
        return model


def _second(pair: Tuple[str, float]) -> float:
    return pair[1]


def _softmax(scores: Sequence[float], temperature: float) -> List[float]:
    top = max(scores)
    exps = [math.exp((s - top) * temperature) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]
