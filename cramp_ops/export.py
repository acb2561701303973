"""`cramp-export-nlu`: the messages the assistant did not understand, for new training examples.

    CRAMP_EXPORT_ENABLED=1 .venv/bin/cramp-export-nlu                   # var/nlu_export.yml
    .venv/bin/cramp-export-nlu --i-understand-this-is-health-data --format csv --out var/x.csv
    ... --days 7 --endpoints deploy/endpoints.production.yml

Its output is HEALTH DATA: what people wrote about their own bodies. So it is off by default (it
refuses to run without `--i-understand-this-is-health-data` or CRAMP_EXPORT_ENABLED=1), writes a
file only its owner can read, and keeps to the retention window: only events of the last
`--days` days (default: cramp-retention's) are read, whatever the store still holds, and no
longer window is accepted.

It exports the text of user messages that fell to the fallback (nlu_fallback, or answered by the
"did you mean" action) and of messages whose answer got a 👎 (feedback_unhelpful as the last vote
on it: the message the answer responded to). Digits, e-mail addresses, URLs and @-handles are
replaced by placeholders; names and other details are not detected, so the output stays health
data. No sender ID, no date, no order of arrival (examples are sorted). Output: Rasa's NLU YAML
with `intent: TODO` for the team to fill in (never train on it as it is), or CSV.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import re
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import sqlalchemy as sa

from cramp_ops.retention import DEFAULT_DAYS
from cramp_ops.store_reader import StoreError, read_only_engine
from cramp_ops.turns import Selection, rated_answers, read_selection, user_texts

ENABLE_FLAG = "--i-understand-this-is-health-data"
ENABLE_ENV = "CRAMP_EXPORT_ENABLED"
DEFAULT_OUT = Path("var/nlu_export.yml")  # var/ is git-ignored, like the tracker store beside it
WARNING = (
    "cramp-export-nlu: the output is HEALTH DATA (what people wrote about their own "
    "health). Keep it out of git, tickets and chat; delete it once the examples are "
    "written; placeholders hide digits, e-mails, URLs and handles, not names."
)
OFF = (
    f"cramp-export-nlu is off by default: it exports what people typed, which is health data.\n"
    f"Run it with {ENABLE_FLAG} or {ENABLE_ENV}=1 if you are allowed to handle that data."
)
FALLBACK, UNHELPFUL = "fallback", "unhelpful"

#: (pattern, placeholder), applied in this order: a URL may hold an @, an e-mail a domain
REPLACEMENTS: Tuple[Tuple[re.Pattern, str], ...] = (
    (re.compile(r"(?i)\b(?:https?|ftp)://\S+|\bwww\.\S+"), "<url>"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "<email>"),
    (
        re.compile(
            r"(?i)\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|edu|gov|info|io|co|uk|de|fr|"
            r"nl|es|it|eu|us|ca|au|in|health|app|me|ly)\b(?:/\S*)?"
        ),
        "<url>",
    ),
    (re.compile(r"<@\w+>|(?<![\w@<])@\w+(?:\.\w+)*"), "<handle>"),
    (re.compile(r"\+?\d(?:[\d\s().,:/-]*\d)?"), "<number>"),
)
UNPRINTABLE = re.compile(r"[^\S ]+|[\x00-\x1f\x7f]")


@dataclass(frozen=True, order=True)
class Example:
    """One message to label: its scrubbed text, why it is here, what the model made of it."""

    text: str
    reason: str  # FALLBACK or UNHELPFUL
    model_intent: str  # the intent NLU gave the message
    topics: str  # the topics offered (fallback) or the topic answered (unhelpful)


def scrub(text: str) -> str:
    """The text on one line, with digits, e-mail addresses, URLs and @-handles replaced."""
    for pattern, placeholder in REPLACEMENTS:
        text = pattern.sub(placeholder, text)
    return " ".join(UNPRINTABLE.sub(" ", text).split())


def candidates(selection: Selection) -> Dict[int, Tuple[str, str, str]]:
    """user event id -> (reason, model intent, topics) for every message to export."""
    found: Dict[int, Tuple[str, str, str]] = {}
    for conversations in selection.senders:
        for conversation in conversations:
            for turn in conversation.turns:
                if turn.fallback:
                    found[turn.event_id] = (FALLBACK, turn.intent or "", " ".join(turn.offered))
        for answer, helpful in rated_answers(conversations):
            if answer is not None and not helpful:
                found.setdefault(
                    answer.event_id, (UNHELPFUL, answer.intent or "", answer.topic or "")
                )
    return found


def collect(engine: sa.engine.Engine, days: float, now: Optional[float] = None) -> List[Example]:
    """The examples of the last `days` days, deduplicated and sorted."""
    since = (time.time() if now is None else now) - days * 86400
    found = candidates(read_selection(engine, since=since))
    texts = user_texts(engine, sorted(found))
    examples = {
        Example(scrub(texts[i]), *found[i])
        for i in found
        if scrub(texts.get(i, "")) and not texts[i].startswith("/")
    }  # not a button
    return sorted(examples, key=lambda e: (e.reason, e.model_intent, e.text.lower(), e.topics))


def to_yaml(examples: List[Example], days: float, today: str) -> str:
    """Rasa's NLU format, one `intent: TODO` block per (reason, model intent)."""
    lines = [
        "# HEALTH DATA: messages people typed to the foot-cramp assistant (cramp-export-nlu).",
        f"# Exported {today}, events of the last {days:g} days; digits, e-mails, URLs and",
        "# handles replaced. Give each example its intent (data/nlu/<topic>.yml) or drop it,",
        "# then delete this file. Never commit it, never train on it as it is.",
        'version: "3.1"',
        "nlu:",
    ]
    groups: Dict[Tuple[str, str], List[str]] = {}
    for example in examples:
        texts = groups.setdefault((example.reason, example.model_intent), [])
        if example.text not in texts:
            texts.append(example.text)
    for (reason, intent), texts in groups.items():
        why = "fell to the fallback" if reason == FALLBACK else "the answer to it got a thumbs-down"
        lines += [
            f"# {why}; the model's intent: {intent or 'none'}",
            "- intent: TODO",
            "  examples: |",
        ]
        lines += [f"    - {text}" for text in texts]
    if not groups:
        lines[-1] = "nlu: []"
    return "\n".join(lines) + "\n"


def to_csv(examples: List[Example]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["text", "reason", "model_intent", "topics"])
    writer.writerows((e.text, e.reason, e.model_intent, e.topics) for e in examples)
    return out.getvalue()


def write_private(path: Path, content: str) -> None:
    """Write `content` readable by its owner only (0600), even if the file existed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(path, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(content)


def enabled(args: argparse.Namespace) -> bool:
    return bool(args.i_understand_this_is_health_data) or os.environ.get(ENABLE_ENV) == "1"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        ENABLE_FLAG,
        action="store_true",
        help="required (or CRAMP_EXPORT_ENABLED=1): the output is health data",
    )
    parser.add_argument(
        "--endpoints",
        type=Path,
        default=Path("endpoints.yml"),
        help="endpoints file with the tracker_store (default endpoints.yml)",
    )
    parser.add_argument(
        "--days",
        type=float,
        default=DEFAULT_DAYS,
        help=f"export events of the last DAYS days, at most the retention window "
        f"(default {DEFAULT_DAYS})",
    )
    parser.add_argument(
        "--format",
        choices=("yaml", "csv"),
        default=None,
        help="yaml (Rasa NLU skeleton) or csv; default from --out's suffix",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"file to write, readable by its owner only (default {DEFAULT_OUT})",
    )
    args = parser.parse_args(argv)
    if not enabled(args):
        print(OFF, file=sys.stderr)
        return 2
    if not 0 < args.days <= DEFAULT_DAYS:
        print(
            f"cramp-export-nlu: --days must be above 0 and at most {DEFAULT_DAYS:g}, the "
            "retention window: older conversations are kept for no purpose but deletion.",
            file=sys.stderr,
        )
        return 2
    fmt = args.format or ("csv" if args.out.suffix.lower() == ".csv" else "yaml")
    print(WARNING, file=sys.stderr)
    try:
        engine = read_only_engine(args.endpoints)
    except StoreError as error:
        print(f"cramp-export-nlu: {error}", file=sys.stderr)
        return 2
    try:
        examples = collect(engine, args.days)
    except sa.exc.OperationalError as error:
        reason = str(getattr(error, "orig", error)).strip().splitlines()
        print(
            f"cramp-export-nlu: cannot read the tracker store: {reason[0] if reason else error}",
            file=sys.stderr,
        )
        return 2
    finally:
        engine.dispose()
    today = datetime.now(timezone.utc).date().isoformat()
    write_private(
        args.out, to_yaml(examples, args.days, today) if fmt == "yaml" else to_csv(examples)
    )
    by_reason = {r: sum(e.reason == r for e in examples) for r in (FALLBACK, UNHELPFUL)}
    print(
        f"cramp-export-nlu: {len(examples)} messages ({by_reason[FALLBACK]} fallbacks, "
        f"{by_reason[UNHELPFUL]} thumbs-down) from the last {args.days:g} days -> {args.out} "
        f"(health data)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
