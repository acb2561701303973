"""Score a running assistant on cases in the evaluation set's form (topic and urgency slots).

    RASA_ENABLE_API=1 RASA_API_TOKEN=secret make run          # in one terminal
    .venv/bin/python scripts/eval_contract.py tests/data/contract_cases.yml --token secret

Each case is the first message of a fresh conversation; after it the tracker's `topic` must be one
of `topics` ([] = stays null) and `urgency` one of `urgency` (default [none]).
"""

from __future__ import annotations

import argparse
import time
import uuid
from pathlib import Path
from typing import Dict, List

import requests
import yaml

TIERS = ["none", "see_doctor", "urgent", "emergency"]


def run_case(url: str, token: str, case: Dict) -> Dict:
    sender = f"eval-{uuid.uuid4().hex[:12]}"
    started = time.perf_counter()
    requests.post(
        f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": case["text"]}, timeout=60
    ).raise_for_status()
    elapsed = time.perf_counter() - started
    slots = requests.get(
        f"{url}/conversations/{sender}/tracker", params={"token": token}, timeout=30
    ).json()["slots"]
    return {
        "topic": slots.get("topic"),
        "urgency": slots.get("urgency") or "none",
        "seconds": elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("cases", type=Path)
    parser.add_argument("--url", default="http://127.0.0.1:5005")
    parser.add_argument("--token", default="")
    args = parser.parse_args()
    cases: List[Dict] = yaml.safe_load(args.cases.read_text(encoding="utf-8"))["cases"]
    topic_ok = under = over_benign = benign = 0
    for case in cases:
        got = run_case(args.url, args.token, case)
        topics = case.get("topics") or [None]
        allowed = case.get("urgency", ["none"])
        topic_hit = got["topic"] in topics
        topic_ok += topic_hit
        if TIERS.index(got["urgency"]) < min(TIERS.index(t) for t in allowed):
            under += 1
        if allowed == ["none"]:
            benign += 1
            over_benign += got["urgency"] != "none"
        flag = "" if topic_hit and got["urgency"] in allowed else "  <-- MISS"
        print(
            f"{got['topic']!s:20} {got['urgency']:10} {got['seconds'] * 1000:6.0f} ms  "
            f"{case['text'][:70]}{flag}"
        )
    print(
        f"\ntopic accuracy {topic_ok}/{len(cases)} ({topic_ok / len(cases):.1%}); "
        f"under-triage {under}; false alarms {over_benign}/{benign}"
    )


if __name__ == "__main__":
    main()
