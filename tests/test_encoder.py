"""The sentence encoder: the ONNX graph computes the network it claims to, and it carries meaning.

The graph is checked against a plain NumPy forward pass of the same BERT (written from the
architecture, independently of the graph builder) with the real weights, all six layers: a graph
bug (a transposed weight, a wrong mask, a missing residual) changes the vectors by far more than
the tolerance. The quantized encoder used in production stays close to the float
one, and puts paraphrases of a symptom nearer each other than unrelated sentences.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from cramp_nlu.encoder import DIMENSION, Encoder, load_weights, model_directory, onnx_graph


def _layer_norm(x, gamma, beta, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def _erf(x):
    return np.vectorize(math.erf)(x)


def numpy_reference(weights, config, ids):
    """Mean-pooled, normalised output of BERT for one unpadded sequence of word-piece ids."""
    w, eps = weights, config["layer_norm_eps"]
    heads = config["num_attention_heads"]
    x = (
        w["embeddings.word_embeddings.weight"][ids]
        + w["embeddings.position_embeddings.weight"][: len(ids)]
        + w["embeddings.token_type_embeddings.weight"][0]
    )
    x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
    size = x.shape[1] // heads
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."

        def dense(t, name, p=p):
            return t @ w[p + name + ".weight"].T + w[p + name + ".bias"]

        q, k, v = (dense(x, f"attention.self.{n}") for n in ("query", "key", "value"))
        out = np.zeros_like(x)
        for h in range(heads):
            cols = slice(h * size, (h + 1) * size)
            scores = q[:, cols] @ k[:, cols].T / math.sqrt(size)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            out[:, cols] = (scores / scores.sum(-1, keepdims=True)) @ v[:, cols]
        x = _layer_norm(
            dense(out, "attention.output.dense") + x,
            w[p + "attention.output.LayerNorm.weight"],
            w[p + "attention.output.LayerNorm.bias"],
            eps,
        )
        inner = dense(x, "intermediate.dense")
        gelu = 0.5 * inner * (1 + _erf(inner / math.sqrt(2)))
        x = _layer_norm(
            dense(gelu, "output.dense") + x,
            w[p + "output.LayerNorm.weight"],
            w[p + "output.LayerNorm.bias"],
            eps,
        )
    mean = x.mean(0)
    return mean / np.linalg.norm(mean)


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    return Encoder()


def test_the_graph_computes_the_reference_network():
    import onnxruntime
    from tokenizers import Tokenizer

    directory = model_directory()
    config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    weights = load_weights(directory)
    session = onnxruntime.InferenceSession(
        onnx_graph(weights, config), providers=["CPUExecutionProvider"]
    )
    tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
    tokenizer.no_padding()
    short, long = (
        tokenizer.encode(t)
        for t in ("my calf cramps at night", "after a short walk my foot cramps and I stop")
    )
    # a padded batch: the mask must keep the padding out of the short sentence's vector
    width = len(long.ids)
    ids = np.array([short.ids + [0] * (width - len(short.ids)), long.ids], dtype=np.int64)
    mask = (np.arange(width)[None, :] < [[len(short.ids)], [width]]).astype(np.int64)
    (vectors,) = session.run(["embedding"], {"input_ids": ids, "attention_mask": mask})
    for row, encoding in enumerate((short, long)):
        expected = numpy_reference(weights, config, np.array(encoding.ids))
        assert np.allclose(vectors[row], expected, atol=2e-4)


def test_vectors_are_unit_length_rows(encoder):
    vectors = encoder.encode(["my toes curl up", "", "why do I cramp?"])
    assert vectors.shape == (3, DIMENSION)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def test_no_texts_no_rows(encoder):
    assert encoder.encode([]).shape == (0, DIMENSION)


def test_quantized_vectors_stay_close_to_the_float_ones(encoder):
    texts = ["my calf is swollen and hot", "34 weeks pregnant and cramping every night"]
    exact = Encoder(quantize=False).encode(texts)
    assert np.all((encoder.encode(texts) * exact).sum(axis=1) > 0.98)


def test_paraphrases_are_nearer_than_unrelated_sentences(encoder):
    a, b, weather, shoes = encoder.encode(
        [
            "my lower leg is swollen, red and hot to the touch",
            "one calf has puffed up and feels warm and angry",
            "it was boiling hot outside during the race",
            "which trainers are best for flat feet",
        ]
    )
    assert a @ b > a @ weather + 0.1
    assert a @ b > a @ shoes + 0.1


def test_one_text_costs_the_same_alone_or_beside_a_long_one(encoder):
    alone = encoder.encode(["cramp"])
    encoder._recent.clear()  # compute it again, beside a long text
    beside = encoder.encode(["cramp", "a much longer story about feet " * 10])
    assert np.allclose(alone[0], beside[0], atol=1e-5)


def test_a_sentence_read_twice_is_encoded_once(encoder, monkeypatch):
    first = encoder.encode(["my heel cramps on the stairs"])
    calls = []
    monkeypatch.setattr(encoder, "_session", _Counting(encoder._session, calls))
    again = encoder.encode(["my heel cramps on the stairs", "and my toes curl"])
    assert np.array_equal(again[0], first[0])
    assert len(calls) == 1  # only the new sentence ran


class _Counting:
    def __init__(self, session, calls):
        self._session, self._calls = session, calls

    def run(self, *args, **kwargs):
        self._calls.append(args)
        return self._session.run(*args, **kwargs)


def test_more_texts_than_it_remembers_in_one_call(encoder):
    from cramp_nlu.encoder import RECENT

    texts = [f"cramp number {i}" for i in range(RECENT + 5)]
    vectors = encoder.encode(texts)
    assert vectors.shape == (len(texts), DIMENSION)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
