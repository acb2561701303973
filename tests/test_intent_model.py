"""The intent model behind StoryIntentClassifier: ranking, confidences, persistence."""

from __future__ import annotations

import pytest

from cramp_nlu.intent_model import IntentModel

TRAIN = {
    "ask_magnesium": ["does magnesium help", "should i take magnesium", "is magnesium any good"],
    "ask_cause_night": ["why do i cramp at night", "night cramps why", "why at night in bed"],
    "greet": ["hi", "hello there", "good morning"],
}


@pytest.fixture(scope="module")
def model() -> IntentModel:
    texts = [t for examples in TRAIN.values() for t in examples]
    intents = [i for i, examples in TRAIN.items() for _ in examples]
    return IntentModel({"char_min_df": 1}).fit(texts, intents)


def test_ranks_the_matching_intent_first(model):
    first, *_ = model.rank(["would magnesium help me"])
    assert first[0].intent == "ask_magnesium"


def test_confidences_are_a_sorted_distribution(model):
    (ranked,) = model.rank(["why at night"])
    confidences = [r.confidence for r in ranked]
    assert confidences == sorted(confidences, reverse=True)
    assert sum(confidences) == pytest.approx(1.0)


def test_ranks_many_texts_in_one_call(model):
    assert [r[0].intent for r in model.rank(["hello", "magnesium?"])] == ["greet", "ask_magnesium"]


def test_saved_model_ranks_the_same(model, tmp_path):
    model.save(tmp_path / "model.pkl")
    loaded = IntentModel.load(tmp_path / "model.pkl")
    assert loaded.rank(["night cramps"]) == model.rank(["night cramps"])
    assert loaded.intents == model.intents


def test_needs_two_intents():
    with pytest.raises(ValueError):
        IntentModel().fit(["hi", "hello"], ["greet", "greet"])


def test_no_texts_no_rankings(model):
    assert model.rank([]) == []


def _made_up_vectors(intents):
    """One direction per intent: a text's 'meaning' points where its intent does."""
    import numpy as np

    direction = {"ask_magnesium": 0, "ask_cause_night": 1, "greet": 2}
    vectors = np.zeros((len(intents), 3))
    for row, intent in enumerate(intents):
        vectors[row, direction[intent]] = 1.0
    return vectors


def test_meaning_vectors_carry_a_wording_that_shares_no_word():
    """With meaning vectors the model ranks a paraphrase that shares no word with the training
    examples; the vectors here are made up so that the paraphrase points where its intent does."""
    import numpy as np

    texts = [t for examples in TRAIN.values() for t in examples]
    intents = [i for i, examples in TRAIN.items() for _ in examples]
    vectors = _made_up_vectors(intents)
    model = IntentModel({"char_min_df": 1, "dense_weight": 3.0}).fit(texts, intents, vectors)
    assert model.uses_vectors
    # "i" is in both the magnesium and the night examples: the words leave it open
    (ranked,) = model.rank(["i zzz qqq"], np.array([[0.0, 1.0, 0.0]]))
    assert ranked[0].intent == "ask_cause_night"
    with pytest.raises(ValueError):
        model.rank(["zzz qqq"])  # trained with vectors: it needs them


def test_words_alone_when_the_dense_weight_is_zero():
    import numpy as np

    texts = [t for examples in TRAIN.values() for t in examples]
    intents = [i for i, examples in TRAIN.items() for _ in examples]
    model = IntentModel({"char_min_df": 1, "dense_weight": 0}).fit(
        texts, intents, np.ones((len(texts), 2))
    )
    assert not model.uses_vectors
    assert model.rank(["magnesium"])[0][0].intent == "ask_magnesium"


def test_a_text_of_unknown_words_is_read_by_its_spelling_alone():
    """Without one known word the meaning vector is left out: the made-up vectors below point at
    the night intent, yet 'zzz qqq' is not ranked by them."""
    import numpy as np

    texts = [t for examples in TRAIN.values() for t in examples]
    intents = [i for i, examples in TRAIN.items() for _ in examples]
    vectors = _made_up_vectors(intents)
    model = IntentModel({"char_min_df": 1, "dense_weight": 3.0}).fit(texts, intents, vectors)
    night = np.array([[0.0, 1.0, 0.0]])
    (unknown,) = model.rank(["zzz qqq"], night)
    (spelling,) = model.rank(["zzz qqq"], np.zeros((1, 3)))
    assert unknown == spelling
    (known,) = model.rank(["cramps zzz"], night)
    assert known[0].intent == "ask_cause_night"


def test_a_text_that_looks_like_no_known_word_is_not_understood(model):
    (gibberish,) = model.rank(["asdf qwer zxcv"])
    assert gibberish[0].confidence < 0.11
    (typo,) = model.rank(["helloo"])
    assert typo[0].intent == "greet" and typo[0].confidence > 0.3
