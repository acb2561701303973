"""The Rasa component: trained and persisted like in a real model, then run on messages."""

from __future__ import annotations

import pytest
import spacy
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from cramp_nlu.component import STORED_FILE, TRIAGE_KEY, RedFlagTriage
from cramp_nlu.factory import shared_detector


@pytest.fixture(scope="module")
def spacy_model() -> SpacyModel:
    return SpacyModel(model=spacy.load("en_cramps"), model_name="en_cramps")


def trained_and_loaded(tmp_path, lookup) -> RedFlagTriage:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("red_flag_triage")
    context = ExecutionContext(graph_schema=None, model_id="test")  # type: ignore[arg-type]
    config = RedFlagTriage.get_default_config()
    component = RedFlagTriage.create(config, storage, resource, context)
    component.train(TrainingData(lookup_tables=lookup))
    return RedFlagTriage.load(config, storage, resource, context)


def triage(component: RedFlagTriage, model: SpacyModel, text: str) -> dict:
    message = Message(data={"text": text})
    component.process([message], model)
    return message.get(TRIAGE_KEY)


def test_lookup_terms_survive_persistence(tmp_path, spacy_model):
    lookup = [{"name": "medication", "elements": ["lasix", "crestor"]}]
    component = trained_and_loaded(tmp_path, lookup)
    assert (
        triage(component, spacy_model, "since starting crestor my toes cramp")["tier"]
        == "see_doctor"
    )


def test_without_the_lookup_a_brand_name_is_unknown(tmp_path, spacy_model):
    component = trained_and_loaded(tmp_path, [])
    assert triage(component, spacy_model, "since starting crestor my toes cramp")["tier"] == "none"


def test_every_message_gets_a_tier_in_the_output(tmp_path, spacy_model):
    component = trained_and_loaded(tmp_path, [])
    messages = [Message(data={"text": t}) for t in ("hello", "my leg is cold and blue", "")]
    component.process(messages, spacy_model)
    tiers = [m.get(TRIAGE_KEY)["tier"] for m in messages]
    assert tiers == ["none", "emergency", "none"]
    assert TRIAGE_KEY in messages[1].as_dict(only_output_properties=True)


def test_denials_are_reported_as_negated_findings(tmp_path, spacy_model):
    component = trained_and_loaded(tmp_path, [])
    result = triage(component, spacy_model, "no swelling or redness, just the cramp")
    assert result["tier"] == "none"
    assert {f["sign"] for f in result["findings"] if f["negated"]} >= {"swelling", "redness"}


def test_a_model_carries_its_own_terms(tmp_path, spacy_model):
    lookup = [{"name": "medication", "elements": ["crestor"]}]
    trained_and_loaded(tmp_path, lookup)
    stored = next(tmp_path.rglob(STORED_FILE)).read_text(encoding="utf-8")
    assert '"signs"' in stored and '"crestor"' in stored and '"lookup_vocab"' in stored


def test_the_component_agrees_with_the_shared_detector(tmp_path, spacy_model):
    """Training on the project's lookup file gives the production configuration."""
    from rasa.shared.nlu.training_data.loading import load_data

    from cramp_nlu.factory import LOOKUP_FILE

    component = trained_and_loaded(tmp_path, load_data(str(LOOKUP_FILE)).lookup_tables)
    for text in [
        "since starting Crestor my toes cramp",
        "My calf is RED and swollen",
        "no swelling, just the cramp",
        "chest pain and a cramp in my calf",
    ]:
        assert triage(component, spacy_model, text) == shared_detector()(text).as_dict()


def test_a_model_without_stored_terms_is_refused(tmp_path):
    storage = LocalModelStorage(tmp_path)
    resource = Resource("red_flag_triage")
    context = ExecutionContext(graph_schema=None, model_id="test")  # type: ignore[arg-type]
    with storage.write_to(resource):
        pass
    with pytest.raises(FileNotFoundError):
        RedFlagTriage.load({}, storage, resource, context)
