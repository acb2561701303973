"""The real-message corpus: add retold messages, keep the frozen part frozen, draw training examples.

    .venv/bin/python scripts/real_corpus.py add tests/data/real/incoming/*.yml
    .venv/bin/python scripts/real_corpus.py training      # data/nlu/real_dev.yml from dev.yml
    .venv/bin/python scripts/real_corpus.py check         # what tests/test_real_corpus.py checks

`add` validates each retold message (labels from the contract, `best` among `topics`, a source
address), drops repeats, and files it by its SITE: every message of a site goes to the same part,
so that the frozen part measures pages the project never drew on. A site goes to the frozen part
when a hash of its host name says so (about two sites in five), unless the development corpora
already drew on it (tests/data/real_messages.yml). Frozen cases are only ever appended, and each one
appended gets its checksum line in frozen.sha256: the test fails if a frozen case is edited,
reordered or removed. Nothing may be written from the frozen part (no rule, term or training
example); `training` reads the development part only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Set
from urllib.parse import urlparse

import yaml

#: the checkout whose corpus this is (the harness is installed editable, for tests and scripts)
ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "tests" / "data" / "real"
DEV, FROZEN, CHECKSUMS = REAL / "dev.yml", REAL / "frozen.yml", REAL / "frozen.sha256"
TRAINING = ROOT / "data" / "nlu" / "real_dev.yml"
DRAWN_ON = ROOT / "tests" / "data" / "real_messages.yml"
TIERS = ("none", "see_doctor", "urgent", "emergency")
FIELDS = ("text", "topics", "best", "urgency", "kind", "source")
#: a run of this many words shared by two texts means one was written from the other
RUN = 10
#: share of sites (by host-name hash, out of 100) whose messages go to the frozen part
FROZEN_SHARE = 40

HEADERS = {
    DEV: """\
# Real people's messages, retold in our own words (no copied text), with the page each came from.
# DEVELOPMENT part: training examples may be drawn from it (scripts/real_corpus.py training) and
# its errors may be studied. Labels follow ../shared/notes/triage-rubric.md and the evaluation
# contract: `topics` every acceptable answer topic, `best` the single best-fitting one, `urgency` the
# acceptable tiers (lowest = what the message requires; [none] alone = benign), `kind` tags.
# Add messages with `scripts/real_corpus.py add`, which files each site's messages in one part.
""",
    FROZEN: """\
# Real people's messages, retold in our own words (no copied text), with the page each came from.
# FROZEN TEST part: labelled once, never used to write a rule, a term or a training example.
# `make test` gates on it; the README's headline figures are its figures. Cases are only appended
# (scripts/real_corpus.py add); frozen.sha256 holds one checksum per case and a test keeps them.
# Same labels as dev.yml.
""",
}


def contract_topics() -> Set[str]:
    from cramp_nlu.terms import SUBJECTS

    return {
        "definition",
        "causes",
        "treatment",
        "magnesium",
        "see_doctor",
        *(f"cause_{s}" for s in SUBJECTS),
        *(f"treat_{s}" for s in SUBJECTS),
    }


def site(source: str) -> str:
    host = urlparse(source).netloc.lower()
    return host[4:] if host.startswith("www.") else host


def frozen_site(host: str) -> bool:
    return int(hashlib.sha256(host.encode()).hexdigest()[:8], 16) % 100 < FROZEN_SHARE


def checksum(case: Dict) -> str:
    canonical = json.dumps({k: case.get(k) for k in FIELDS}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def normalised(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def problems(case: Dict, topics: Set[str]) -> List[str]:
    found = []
    if not str(case.get("text") or "").strip():
        found.append("no text")
    if not str(case.get("source") or "").startswith("http"):
        found.append("no source address")
    listed = case.get("topics") or []
    if not set(listed) <= topics:
        found.append(f"unknown topics {sorted(set(listed) - topics)}")
    if listed and case.get("best") not in listed:
        found.append(f"best {case.get('best')!r} not among the topics")
    urgency = case.get("urgency") or []
    if not urgency or not set(urgency) <= set(TIERS):
        found.append(f"bad urgency {urgency}")
    return found


def load(path: Path) -> List[Dict]:
    if not path.exists():
        return []
    return list((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("cases") or [])


def dump(path: Path, cases: Sequence[Dict]) -> None:
    body = yaml.safe_dump(
        {"cases": [{k: c[k] for k in FIELDS if c.get(k) is not None} for c in cases]},
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=None,
    )
    path.write_text(HEADERS[path] + body, encoding="utf-8")


def word_runs(text: str, length: int = RUN) -> Set[str]:
    words = re.findall(r"[a-z0-9']+", text.lower())
    return {" ".join(words[i : i + length]) for i in range(len(words) - length + 1)}


def _retold_twice(case: Dict, cases: Sequence[Dict]) -> bool:
    """The same message retold again: from the same page with small changes, or from a copy of
    the page on another site (they share a run of words)."""
    from difflib import SequenceMatcher

    runs = word_runs(case["text"])
    return any(
        (
            other["source"] == case["source"]
            and SequenceMatcher(None, other["text"], case["text"]).ratio() > 0.6
        )
        or bool(runs & word_runs(other["text"]))
        for other in cases
    )


def drawn_on_sites() -> Set[str]:
    return {site(str(c.get("source") or "")) for c in load(DRAWN_ON)} - {""}


def add(paths: Iterable[Path]) -> int:
    topics = contract_topics()
    dev, frozen = load(DEV), load(FROZEN)
    seen = {normalised(c["text"]) for c in dev + frozen}
    drawn = drawn_on_sites()
    added = {DEV: 0, FROZEN: 0}
    rejected = 0
    for path in paths:
        for case in load(path):
            wrong = problems(case, topics)
            if wrong:
                rejected += 1
                print(f"{path.name}: skipped ({'; '.join(wrong)}): {str(case.get('text'))[:60]}")
                continue
            key = normalised(case["text"])
            if key in seen or _retold_twice(case, dev + frozen):
                continue
            seen.add(key)
            host = site(case["source"])
            part = FROZEN if frozen_site(host) and host not in drawn else DEV
            (frozen if part == FROZEN else dev).append(case)
            added[part] += 1
    dump(DEV, dev)
    dump(FROZEN, frozen)
    with CHECKSUMS.open("a", encoding="utf-8") as out:
        for case in frozen[len(frozen) - added[FROZEN] :]:
            out.write(checksum(case) + "\n")
    print(
        f"added {added[DEV]} to dev ({len(dev)}), {added[FROZEN]} to frozen ({len(frozen)}); "
        f"{rejected} rejected"
    )
    return 0


def training_yaml() -> str:
    """The development part as NLU examples: each message under the intent of its best topic."""
    by_intent: Dict[str, List[str]] = {}
    for case in load(DEV):
        if case.get("best"):
            by_intent.setdefault(f"ask_{case['best']}", []).append(" ".join(case["text"].split()))
    lines = [
        'version: "3.1"',
        "# GENERATED by scripts/real_corpus.py training from tests/data/real/dev.yml (the development",
        "# part of the real-message corpus, retold in our words): each message under the intent of",
        "# its best-fitting topic. Do not edit by hand; never generate from frozen.yml.",
        "nlu:",
    ]
    for intent in sorted(by_intent):
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {text}" for text in by_intent[intent]]
    return "\n".join(lines) + "\n"


def training() -> int:
    TRAINING.write_text(training_yaml(), encoding="utf-8")
    print(f"wrote {len(load(DEV))} cases' examples to {TRAINING.relative_to(ROOT)}")
    return 0


def check() -> List[str]:
    """Everything wrong with the corpus: the frozen part changed, a bad label, a site in both."""
    topics = contract_topics()
    dev, frozen = load(DEV), load(FROZEN)
    found = []
    sums = CHECKSUMS.read_text(encoding="utf-8").split() if CHECKSUMS.exists() else []
    if len(sums) > len(frozen):
        found.append(f"frozen.yml has {len(frozen)} cases but {len(sums)} checksums: cases removed")
    for index, (expected, case) in enumerate(zip(sums, frozen, strict=False)):
        if checksum(case) != expected:
            found.append(f"frozen case {index} was changed: {case['text'][:60]}")
    if len(frozen) > len(sums):
        found.append(f"{len(frozen) - len(sums)} frozen cases have no checksum (use `add`)")
    for part, cases in (("dev", dev), ("frozen", frozen)):
        for case in cases:
            found += [f"{part}: {p}: {case.get('text', '')[:50]}" for p in problems(case, topics)]
    shared = {site(c["source"]) for c in dev} & {site(c["source"]) for c in frozen}
    if shared:
        found.append(f"sites in both parts: {sorted(shared)}")
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("add").add_argument("paths", nargs="+", type=Path)
    sub.add_parser("training")
    sub.add_parser("check")
    args = parser.parse_args(argv)
    if args.command == "add":
        return add(args.paths)
    if args.command == "training":
        return training()
    found = check()
    print("\n".join(found) or "the corpus is consistent")
    return 1 if found else 0
