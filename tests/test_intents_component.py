"""StoryIntentClassifier: trained and persisted like in a real model, then run on messages."""

from __future__ import annotations

import json

import pytest
import spacy
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from cramp_nlu.component import TRIAGE_KEY
from cramp_nlu.intents import QUESTIONS_KEY, WORDINGS_FILE, StoryIntentClassifier
from cramp_nlu.story_reading import packaged_question_kinds

EXAMPLES = {
    "greet": ["hi", "hello", "hey there", "good morning", "hiya"],
    "ask_cause_night": [
        "why do I get cramps at night",
        "what causes night cramps",
        "my calves cramp in bed, why",
        "why do my feet cramp when I sleep",
    ],
    "ask_treat_night": [
        "how do I stop night cramps",
        "what helps cramps at night",
        "how can I prevent cramps in bed",
        "tips for night time foot cramps",
    ],
    "ask_treatment": ["what helps cramps", "how do I treat a cramp", "any remedies for cramps"],
    "ask_magnesium": ["does magnesium help", "should I take magnesium", "is magnesium good for it"],
}


@pytest.fixture(scope="module")
def spacy_model() -> SpacyModel:
    return SpacyModel(model=spacy.load("en_cramps"), model_name="en_cramps")


@pytest.fixture(scope="module")
def classifier(tmp_path_factory, spacy_model) -> StoryIntentClassifier:
    storage = LocalModelStorage(tmp_path_factory.mktemp("model"))
    resource = Resource("story_intents")
    context = ExecutionContext(graph_schema=None, model_id="test")  # type: ignore[arg-type]
    config = {**StoryIntentClassifier.get_default_config(), "char_min_df": 1}
    messages = [
        Message(data={"text": text, "intent": intent})
        for intent, texts in EXAMPLES.items()
        for text in texts
    ]
    StoryIntentClassifier.create(config, storage, resource, context).train(
        TrainingData(training_examples=messages), spacy_model
    )
    return StoryIntentClassifier.load(config, storage, resource, context)


def parse(classifier, model, text, triage=None) -> Message:
    message = Message(data={"text": text, **({TRIAGE_KEY: triage} if triage else {})})
    classifier.process([message], model)
    return message


def test_the_loaded_model_classifies_a_question(classifier, spacy_model):
    message = parse(classifier, spacy_model, "does magnesium help with this?")
    assert message.get("intent")["name"] == "ask_magnesium"
    ranking = message.get("intent_ranking")
    assert ranking[0]["name"] == "ask_magnesium"
    assert [r["confidence"] for r in ranking] == sorted(
        (r["confidence"] for r in ranking), reverse=True
    )


def test_a_greeting_with_a_question_is_the_question(classifier, spacy_model):
    message = parse(classifier, spacy_model, "Hello! Does magnesium help?")
    assert message.get("intent")["name"] == "ask_magnesium"


def test_a_story_with_a_generic_question_is_read_in_its_light(classifier, spacy_model):
    text = "Every night my calves cramp in bed and wake me. Any tips?"
    message = parse(classifier, spacy_model, text)
    assert message.get("intent")["name"] == "ask_treat_night"
    assert [q["name"] for q in message.get(QUESTIONS_KEY)] == ["ask_treat_night"]


def test_questions_are_in_the_output(classifier, spacy_model):
    message = parse(classifier, spacy_model, "why do I cramp at night and how do I stop it?")
    assert [q["name"] for q in message.get(QUESTIONS_KEY)] == ["ask_cause_night", "ask_treat_night"]
    assert QUESTIONS_KEY in message.as_dict(only_output_properties=True)


def test_the_model_carries_the_question_wordings_it_was_trained_with(tmp_path, spacy_model):
    storage = LocalModelStorage(tmp_path)
    resource = Resource("story_intents")
    context = ExecutionContext(graph_schema=None, model_id="test")  # type: ignore[arg-type]
    config = {**StoryIntentClassifier.get_default_config(), "char_min_df": 1}
    messages = [Message(data={"text": t, "intent": i}) for i, ts in EXAMPLES.items() for t in ts]
    StoryIntentClassifier.create(config, storage, resource, context).train(
        TrainingData(training_examples=messages), spacy_model
    )
    with storage.read_from(resource) as directory:
        stored = json.loads((directory / WORDINGS_FILE).read_text(encoding="utf-8"))
        (directory / WORDINGS_FILE).unlink()
    assert stored == packaged_question_kinds()
    with pytest.raises(FileNotFoundError):  # a model without its wordings is refused
        StoryIntentClassifier.load(config, storage, resource, context)
