"""Rasa NLU component: triage every message for red-flag signs before any policy sees it.

It reuses the spaCy pipeline that `SpacyNLP` loaded and the doc it already made, and writes
`triage` (tier, reasons, findings with negation) into the parse data, where the dialogue's
`action_triage` reads it. Medicine names come from the NLU lookup table `medication` at training
time and are stored inside the trained model, so the running server never reads data files.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional, Text, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import SPACY_DOCS
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from cramp_nlu.red_flags import RedFlagDetector

logger = logging.getLogger(__name__)

TRIAGE_KEY = "triage"
TERMS_FILE = "lookup_terms.json"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR,
    is_trainable=True,
    model_from="SpacyNLP",
)
class RedFlagTriage(GraphComponent):
    """Finds the triage rubric's warning signs (with denials) and sets the urgency tier."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [SpacyNLP]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # which NLU lookup table feeds which red-flag vocabulary
        return {"lookup_vocab": {"medication": "medicine_generic"}}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage,
                 resource: Resource, extra_vocab: Optional[Dict[str, List[str]]] = None) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._extra_vocab = extra_vocab or {}
        self._detector: Optional[RedFlagDetector] = None

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "RedFlagTriage":
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "RedFlagTriage":
        try:
            with model_storage.read_from(resource) as directory:
                extra = json.loads((directory / TERMS_FILE).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            logger.warning("RedFlagTriage: no stored lookup terms; using the built-in terms only")
            extra = {}
        return cls(config, model_storage, resource, extra)

    def train(self, training_data: TrainingData, model: Optional[SpacyModel] = None) -> Resource:
        """Collects the lookup-table terms that extend the red-flag vocabularies."""
        mapping: Dict[str, str] = self._config["lookup_vocab"]
        extra: Dict[str, List[str]] = {}
        for table in training_data.lookup_tables:
            vocab = mapping.get(table["name"])
            if vocab and isinstance(table.get("elements"), list):
                extra.setdefault(vocab, []).extend(str(e) for e in table["elements"])
        self._extra_vocab = extra
        with self._model_storage.write_to(self._resource) as directory:
            (directory / TERMS_FILE).write_text(json.dumps(extra), encoding="utf-8")
        return self._resource

    def _detector_for(self, model: SpacyModel) -> RedFlagDetector:
        if self._detector is None:
            self._detector = RedFlagDetector(model.model, extra_vocab=self._extra_vocab)
        return self._detector

    def process_training_data(self, training_data: TrainingData,
                              model: SpacyModel) -> TrainingData:
        # nothing to add to training examples: the triage is not a feature
        return training_data

    def process(self, messages: List[Message], model: SpacyModel) -> List[Message]:
        detector = self._detector_for(model)
        for message in messages:
            doc = message.get(SPACY_DOCS[TEXT]) or model.model(message.get(TEXT) or "")
            message.set(TRIAGE_KEY, detector.triage_doc(doc).as_dict(), add_to_output=True)
        return messages
