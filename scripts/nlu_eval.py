"""Evaluate intent classification on the held-out NLU split and enforce a minimum score.

Prints per-intent precision, recall, F1 and support, the confusion matrix (rows: true intent,
columns: predicted, abbreviated), and the misclassified examples; exits non-zero when accuracy or
macro F1 falls below the given minimum. The held-out split (tests/nlu) is never used in training.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import List, Tuple

from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

from cramp_ops.launcher import quiet_third_party_deprecations


def load_examples(folder: Path) -> List[Tuple[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    examples: List[Tuple[str, str]] = []
    for path in sorted(folder.glob("*.yml")):
        data = load_data(str(path))
        examples += [(m.get("text"), m.get("intent")) for m in data.intent_examples]
    return examples


async def predict(model: Path, texts: List[str]) -> List[str]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    # Rasa logs every parse through structlog at debug level; keep the report readable
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    predictions = []
    for text in texts:
        parsed = await agent.parse_message(text)
        predictions.append(parsed["intent"]["name"])
    return predictions


def abbreviate(name: str) -> str:
    return name.replace("ask_", "").replace("cause_", "c_").replace("treat_", "t_")[:10]


def print_report(gold: List[str], pred: List[str]) -> Tuple[float, float]:
    labels = sorted(set(gold) | set(pred))
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, pred, labels=labels, zero_division=0
    )
    print(f"\n{'intent':28} {'precision':>9} {'recall':>7} {'f1':>6} {'n':>4}")
    for i, label in enumerate(labels):
        print(f"{label:28} {precision[i]:9.3f} {recall[i]:7.3f} {f1[i]:6.3f} {support[i]:4d}")
    gold_labels = sorted(set(gold))
    accuracy = accuracy_score(gold, pred)
    macro_f1 = f1_score(gold, pred, labels=gold_labels, average="macro", zero_division=0)
    print(f"\naccuracy {accuracy:.3f}   macro F1 {macro_f1:.3f}   examples {len(gold)}")

    matrix = confusion_matrix(gold, pred, labels=labels)
    print("\nconfusion matrix (rows: true, columns: predicted)")
    print(" " * 11 + "".join(f"{abbreviate(name)[:4]:>5}" for name in labels))
    for label, row in zip(labels, matrix, strict=True):
        print(f"{abbreviate(label):>10} " + "".join(f"{v if v else '.':>5}" for v in row))
    return accuracy, macro_f1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=Path("tests/nlu"))
    parser.add_argument("--min-accuracy", type=float, default=0.0)
    parser.add_argument("--min-macro-f1", type=float, default=0.0)
    args = parser.parse_args()
    quiet_third_party_deprecations()
    logging.disable(logging.WARNING)

    examples = load_examples(args.data)
    texts = [t for t, _ in examples]
    gold = [i for _, i in examples]
    pred = asyncio.run(predict(args.model, texts))
    accuracy, macro_f1 = print_report(gold, pred)

    errors = [(g, p, t) for t, g, p in zip(texts, gold, pred, strict=True) if g != p]
    if errors:
        print(f"\nmisclassified ({len(errors)}):")
        for g, p, t in errors:
            print(f"  {g} -> {p}: {t}")
    ok = accuracy >= args.min_accuracy and macro_f1 >= args.min_macro_f1
    print(
        f"\nminimum accuracy {args.min_accuracy}, minimum macro F1 {args.min_macro_f1}: "
        f"{'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
