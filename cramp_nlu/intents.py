"""Rasa NLU component: intents of the whole message and of each question in it.

Replaces DIET (measured in the README: same held-out accuracy, training in seconds instead of
minutes, and it can classify sentences). It writes Rasa's usual `intent` and `intent_ranking`,
read the way `cramp_nlu.story_reading` describes, and `questions`: the knowledge intents the
message asks, in order, at most two (the answering action answers each). It runs after the
red-flag triage, whose signs can say what a story is about (`subjects`).
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional, Sequence, Text, Type

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from cramp_nlu.component import TRIAGE_KEY
from cramp_nlu.encoder import Encoder, shared_encoder
from cramp_nlu.intent_model import DEFAULTS, IntentModel
from cramp_nlu.story_reading import (
    Reading,
    Wordings,
    as_dicts,
    packaged_question_kinds,
    parse_wordings,
    read_story,
    split_sentences,
)

logger = logging.getLogger(__name__)

QUESTIONS_KEY = "questions"
STORED_FILE = "intent_model.pkl"
#: the question wordings the model was trained with (cramp_nlu/data/question_kinds.yml)
WORDINGS_FILE = "question_kinds.json"
#: intents that are never a knowledge question, though named ask_*
NOT_KNOWLEDGE = frozenset({"ask_source"})


def lemmatised(texts: List[str], model: SpacyModel) -> List[str]:
    """The text the intent model reads: lower-cased lemmas, separated by spaces."""
    return [" ".join(t.lemma_.lower() for t in doc) for doc in model.model.pipe(texts)]


def meaning(sentence_vectors: np.ndarray) -> np.ndarray:
    """A message's meaning: the mean of its sentences' vectors, at unit length (a long story
    costs its word pieces once, whether read whole or sentence by sentence)."""
    mean = sentence_vectors.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm > 0 else mean


def message_vectors(texts: Sequence[str], encoder: Encoder, wordings: Wordings) -> np.ndarray:
    """One meaning vector per message, read sentence by sentence as `read` reads it."""
    split = [[s.text for s in split_sentences(t, wordings)] or [t] for t in texts]
    flat = encoder.encode([s for sentences in split for s in sentences])
    rows, start = [], 0
    for sentences in split:
        rows.append(meaning(flat[start : start + len(sentences)]))
        start += len(sentences)
    return np.vstack(rows) if rows else np.zeros((0, flat.shape[1]), dtype=np.float32)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER,
    is_trainable=True,
    model_from="SpacyNLP",
)
class StoryIntentClassifier(GraphComponent, IntentClassifier):
    """Intent of the message read as a story with questions (see cramp_nlu.story_reading)."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [SpacyNLP]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # use_encoder: read meaning with the sentence encoder (cramp_nlu/encoder.py) beside words
        return {**DEFAULTS, "use_encoder": True}

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[IntentModel] = None,
        wordings: Optional[Wordings] = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._model = model
        self._wordings = wordings
        self._encoder: Optional[Encoder] = None

    def _vectors_for(self, texts: Sequence[str]) -> Optional[np.ndarray]:
        """Meaning vectors of whole messages (training), or None when the encoder is off."""
        if not self._config.get("use_encoder", True) or self._config.get("dense_weight", 1) <= 0:
            return None
        assert self._wordings is not None
        return message_vectors(texts, self.encoder, self._wordings)

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = shared_encoder()
        return self._encoder

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "StoryIntentClassifier":
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "StoryIntentClassifier":
        """The model as trained, with the question wordings it was trained with (a model is
        self-contained, like the red-flag terms)."""
        with model_storage.read_from(resource) as directory:
            model = IntentModel.load(directory / STORED_FILE)
            raw = json.loads((directory / WORDINGS_FILE).read_text(encoding="utf-8"))
        return cls(config, model_storage, resource, model, parse_wordings(raw))

    def train(self, training_data: TrainingData, model: SpacyModel) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(TEXT)]
        raw_texts = [m.get(TEXT) for m in examples]
        texts = lemmatised(raw_texts, model)
        settings = {k: self._config[k] for k in DEFAULTS if k in self._config}
        wordings = packaged_question_kinds()
        self._wordings = parse_wordings(wordings)
        self._model = IntentModel(settings).fit(
            texts, [m.get(INTENT) for m in examples], self._vectors_for(raw_texts)
        )
        with self._model_storage.write_to(self._resource) as directory:
            self._model.save(directory / STORED_FILE)
            (directory / WORDINGS_FILE).write_text(json.dumps(wordings), encoding="utf-8")
        return self._resource

    def process(self, messages: List[Message], model: SpacyModel) -> List[Message]:
        if self._model is None:
            return messages  # not trained: leave the message to the fallback classifier
        for message in messages:
            triage = message.get(TRIAGE_KEY) or {}
            reading = self.read(message.get(TEXT) or "", model, triage.get("subjects", []))
            message.set(
                INTENT,
                {"name": reading.intent.intent, "confidence": reading.intent.confidence},
                add_to_output=True,
            )
            message.set(INTENT_RANKING_KEY, as_dicts(reading.ranking), add_to_output=True)
            message.set(QUESTIONS_KEY, as_dicts(reading.questions), add_to_output=True)
        return messages

    def read(self, text: str, model: SpacyModel, sign_subjects: Sequence[str] = ()) -> Reading:
        """The whole message and each sentence, classified in one pass, then read together."""
        assert self._model is not None
        sentences = split_sentences(text, self._wordings)
        parts = [s.text for s in sentences] if len(sentences) > 1 else []
        vectors = None
        if self._model.uses_vectors:
            each = self.encoder.encode([s.text for s in sentences] or [text])
            vectors = np.vstack([meaning(each), each]) if parts else each[:1]
        ranked = self._model.rank(lemmatised([text, *parts], model), vectors)
        whole = ranked[0]
        per_sentence = list(zip(sentences, ranked[1:] if parts else [whole], strict=True))
        intents = self._model.intents
        knowledge = [i for i in intents if i.startswith("ask_") and i not in NOT_KNOWLEDGE]
        return read_story(whole, per_sentence, knowledge, intents, sign_subjects)
