"""Score the red-flag detector on labelled corpora: accuracy, under-triage, false alarms.

    .venv/bin/python scripts/triage_eval.py tests/data/triage_cases.yml tests/data/triage_holdout.yml

Each case has `tier` (and optionally `allowed`), or the evaluation set's `urgency` list.
Under-triage (a tier below every allowed one) is the error that must not happen. The detector is
the production one (`cramp_nlu.factory.shared_detector`: the same terms, lookup tables and input form
as the NLU component and the action server); in the NLU the sign-meaning reading may add see_doctor
signs on top (cramp_nlu/sign_meaning.py), never remove one, so under-triage here bounds it there.
--max-under-triage N makes it a gate (`make real-eval` uses 0).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List

import yaml

from cramp_nlu.factory import shared_detector
from cramp_nlu.red_flags import RedFlagDetector
from cramp_nlu.terms import tier_rank


def allowed_tiers(case: Dict) -> List[str]:
    if "tier" in case:
        return case.get("allowed", [case["tier"]])
    return case.get("urgency", ["none"])


def score(detector: RedFlagDetector, path: Path) -> int:
    """Prints the corpus's figures; returns its number of under-triaged cases."""
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]
    outcome: Counter = Counter()
    misses = []
    started = time.perf_counter()
    for case in cases:
        allowed = allowed_tiers(case)
        got = detector(case["text"]).tier
        if got in allowed:
            outcome["correct"] += 1
        elif tier_rank(got) < min(tier_rank(a) for a in allowed):
            outcome["under"] += 1
            misses.append(("UNDER", allowed, got, case["text"]))
        else:
            outcome["over"] += 1
            misses.append(("over", allowed, got, case["text"]))
    elapsed_ms = (time.perf_counter() - started) * 1000 / max(len(cases), 1)
    benign = [c for c in cases if allowed_tiers(c) == ["none"]]
    alarms = sum(1 for c in benign if detector(c["text"]).tier != "none")
    print(f"\n{path}: {len(cases)} cases")
    print(
        f"  correct {outcome['correct']} ({outcome['correct'] / len(cases):.1%})   "
        f"under-triage {outcome['under']}   over-triage {outcome['over']}"
    )
    print(
        f"  false alarms on benign messages: {alarms}/{len(benign)}"
        f" ({alarms / max(len(benign), 1):.1%})   mean {elapsed_ms:.2f} ms per message"
    )
    for kind, allowed, got, text in misses:
        print(f"    {kind:5} expected {allowed} got {got}: {text}")
    return outcome["under"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("corpora", nargs="+", type=Path)
    parser.add_argument(
        "--max-under-triage", type=int, help="a gate: exit 1 when a corpus has more under-triage"
    )
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    detector = shared_detector()  # the configuration production runs
    under = {path: score(detector, path) for path in args.corpora}
    if args.max_under_triage is not None:
        broken = {p: n for p, n in under.items() if n > args.max_under_triage}
        for path, count in broken.items():
            print(f"GATE: {path}: {count} under-triaged > {args.max_under_triage}")
        return 1 if broken else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
