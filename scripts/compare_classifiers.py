#!/usr/bin/env python3
"""Compare intent classifiers on the same training data, by the topic each picks for real messages.

    .venv/bin/python scripts/compare_classifiers.py                 # frozen + dev + held-out split
    .venv/bin/python scripts/compare_classifiers.py --only ours_meaning --corpus tests/data/real/dev.yml

Three NLU pipelines are trained from data/nlu (the project's training data, which includes the
development part of the real corpus) into a temporary directory:

  rasa_stock     Rasa's own CountVectorsFeaturizer (words and char_wb 2-5 n-grams) and
                 LogisticRegressionClassifier, on the same spaCy tokens
  ours_words     our StoryIntentClassifier with TF-IDF features alone (the classifier before the
                 sentence encoder), reading each question of a story
  ours_meaning   the production pipeline (config.yml): TF-IDF beside the sentence encoder

Each model then parses every message of the corpora. The NLU picks a topic the way the answering
action starts from it: the first question the classifier read in the story, else the intent, as a
knowledge topic ID (ask_cause_night -> cause_night). Printed per pipeline and corpus: acceptable-
topic accuracy, best-topic accuracy, and the held-out intent accuracy (tests/nlu). This measures the
NLU alone; scripts/real_eval.py measures the whole assistant (triage, subject resolution, follow-ups).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import yaml

from cramp_ops.launcher import quiet_third_party_deprecations

ROOT = Path(__file__).resolve().parent.parent
CORPORA = [ROOT / "tests/data/real/frozen.yml", ROOT / "tests/data/real/dev.yml"]

STOCK_PIPELINE = [
    {"name": "SpacyNLP", "model": "en_cramps", "case_sensitive": False},
    {"name": "SpacyTokenizer"},
    {"name": "CountVectorsFeaturizer", "use_lemma": True},
    {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 2, "max_ngram": 5},
    {"name": "LogisticRegressionClassifier"},
    {"name": "FallbackClassifier", "threshold": 0.3, "ambiguity_threshold": 0.02},
]


def configs() -> Dict[str, dict]:
    production = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    words = copy.deepcopy(production)
    for component in words["pipeline"]:
        if component["name"].endswith("StoryIntentClassifier"):
            component["use_encoder"] = False
    stock = {**copy.deepcopy(production), "pipeline": STOCK_PIPELINE}
    return {"rasa_stock": stock, "ours_words": words, "ours_meaning": production}


def topic_of(parsed: dict) -> Optional[str]:
    from actions.knowledge import topic_for_intent

    questions = parsed.get("questions") or []
    intent = questions[0]["name"] if questions else (parsed.get("intent") or {}).get("name")
    return topic_for_intent(intent)


async def parse_all(model: Path, texts: Sequence[str]) -> List[dict]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    return [await agent.parse_message(t) for t in texts]


def train(name: str, config: dict, workdir: Path) -> Path:
    from rasa.model_training import train_nlu

    path = workdir / f"{name}.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    started = time.perf_counter()
    model = train_nlu(
        config=str(path),
        nlu_data=str(ROOT / "data"),
        output=str(workdir),
        fixed_model_name=name,
        domain=str(ROOT / "domain.yml"),
    )
    print(f"{name}: trained in {time.perf_counter() - started:.0f} s")
    return Path(model)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, action="append", help="default: frozen and dev")
    parser.add_argument("--only", action="append", help="pipelines to run (default: all three)")
    args = parser.parse_args(argv)
    quiet_third_party_deprecations()
    logging.disable(logging.WARNING)
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

    from rasa.shared.nlu.training_data.loading import load_data

    held_out = [
        (m.get("text"), m.get("intent"))
        for path in sorted((ROOT / "tests/nlu").glob("*.yml"))
        for m in load_data(str(path)).intent_examples
    ]
    corpora = {
        p.name: yaml.safe_load(p.read_text(encoding="utf-8"))["cases"]
        for p in args.corpus or CORPORA
    }
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for name, config in configs().items():
            if args.only and name not in args.only:
                continue
            model = train(name, config, Path(scratch))
            texts = [t for t, _ in held_out]
            parsed = asyncio.run(parse_all(model, texts))
            intent_ok = sum(
                p["intent"]["name"] == g for p, (_, g) in zip(parsed, held_out, strict=True)
            )
            row = [name, f"{intent_ok / len(held_out):.3f}"]
            for cases in corpora.values():
                parsed = asyncio.run(parse_all(model, [c["text"] for c in cases]))
                topics = [topic_of(p) for p in parsed]
                ok = sum(
                    t in (c.get("topics") or [None]) for t, c in zip(topics, cases, strict=True)
                )
                best = sum(t == c.get("best") for t, c in zip(topics, cases, strict=True))
                row += [f"{ok / len(cases):.1%}", f"{best / len(cases):.1%}"]
            rows.append(row)
    header = ["pipeline", "held-out"] + [f"{n} {k}" for n in corpora for k in ("topic", "best")]
    print("\n" + " | ".join(header))
    for row in rows:
        print(" | ".join(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
