"""Rasa NLU component: triage every message for red-flag signs before any policy sees it.

It reuses the spaCy pipeline that `SpacyNLP` loaded and writes `triage` (tier, reasons, findings
with negation) into the parse data, where the answering actions read it. At training time it
stores the red-flag terms and the NLU lookup tables (brand names of medicines) inside the model,
so a trained model is self-contained: it triages with the terms it was trained with, whatever the
files say later. The detector itself comes from `cramp_nlu.factory`, like everywhere else.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional, Text, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from cramp_nlu.encoder import shared_encoder
from cramp_nlu.factory import build_detector
from cramp_nlu.red_flags import RedFlagDetector
from cramp_nlu.sign_meaning import SignMeaning
from cramp_nlu.terms import packaged_terms, validate_terms

logger = logging.getLogger(__name__)

TRIAGE_KEY = "triage"
STORED_FILE = "red_flag_terms.json"


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
        # use_meaning: also find see_doctor signs told the roundabout way (cramp_nlu/sign_meaning)
        return {"use_meaning": True}

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        stored: Optional[Dict[str, Any]] = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._stored = stored  # {"terms": ..., "lookup_tables": ...} once trained or loaded
        self._detector: Optional[RedFlagDetector] = None
        self._meaning: Optional[SignMeaning] = None

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "RedFlagTriage":
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "RedFlagTriage":
        """The component as trained; a model without stored terms is refused, not guessed at."""
        with model_storage.read_from(resource) as directory:
            stored = json.loads((directory / STORED_FILE).read_text(encoding="utf-8"))
        validate_terms(stored["terms"])
        component = cls(config, model_storage, resource, stored)
        # built now, while the server starts, rather than on somebody's first message
        component._detector = build_detector(stored["terms"], stored["lookup_tables"])
        component._meaning_for(stored["terms"])
        return component

    def _meaning_for(self, terms: Dict[str, Any]) -> Optional[SignMeaning]:
        if self._meaning is None and self._config.get("use_meaning", True):
            self._meaning = SignMeaning(terms, shared_encoder().encode)
        return self._meaning

    def train(self, training_data: TrainingData, model: Optional[SpacyModel] = None) -> Resource:
        """Stores the terms and the lookup tables the red-flag vocabularies use."""
        terms = packaged_terms()
        tables: Dict[str, List[str]] = {}
        for table in training_data.lookup_tables:
            if table["name"] in terms["lookup_vocab"] and isinstance(table.get("elements"), list):
                tables.setdefault(table["name"], []).extend(str(e) for e in table["elements"])
        self._stored = {"terms": terms, "lookup_tables": tables}
        self._detector = None
        with self._model_storage.write_to(self._resource) as directory:
            (directory / STORED_FILE).write_text(json.dumps(self._stored), encoding="utf-8")
        return self._resource

    def _detector_for(self, model: SpacyModel) -> RedFlagDetector:
        if self._detector is None:
            stored = self._stored or {"terms": packaged_terms(), "lookup_tables": {}}
            self._detector = build_detector(stored["terms"], stored["lookup_tables"], model.model)
        return self._detector

    def process_training_data(self, training_data: TrainingData, model: SpacyModel) -> TrainingData:
        # nothing to add to training examples: the triage is not a feature
        return training_data

    def process(self, messages: List[Message], model: SpacyModel) -> List[Message]:
        detector = self._detector_for(model)
        meaning = self._meaning_for((self._stored or {}).get("terms") or packaged_terms())
        for message in messages:
            text = message.get(TEXT) or ""
            triage = detector(text)
            if meaning is not None:
                triage = detector.with_findings(triage, meaning.findings(text, triage))
            message.set(TRIAGE_KEY, triage.as_dict(), add_to_output=True)
        return messages
