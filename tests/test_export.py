"""cramp-export-nlu: off by default, the placeholders, the retention window, the two formats.

The store is written by Rasa's own SQLTrackerStore from scripted conversations
(tests/tracker_scripts.py), dated relative to now so the real retention window applies.
"""

from __future__ import annotations

import csv
import io
import os
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import pytest
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from tracker_scripts import Script, endpoints_for, write_store

from cramp_ops import export, retention, store_reader

COMMAND = str(Path(sys.executable).with_name("cramp-export-nlu"))
DAY = 86400.0
NOW = time.time()


def scenario() -> List[Script]:
    return [
        Script("+15550001111", NOW - 2 * DAY)  # an SMS sender: its ID is a phone number
        .small_talk("hello")
        .fallback("my piggies go stiff, call me on +1 (555) 123-4567", ["cause_night"])
        .ask("why do my feet cramp at night", "cause_night")
        .feedback("yes that helped", True),
        Script("web-abc", NOW - 3 * DAY, "socketio")
        .ask("cramps after my 10k run, see https://example.org/run?id=42", "cause_dehydration")
        .feedback("not really", False)
        .ask("is magnesium any good", "magnesium")
        .feedback("nope", False)
        .feedback("oh wait yes it was", True),  # the last vote counts: not exported
        Script("core-fallback", NOW - 4 * DAY).fallback(
            "write to jo.bloggs@mail.com or @footdoc", ["treatment"], intent="greet", confidence=0.9
        ),
        Script("ten-days-ago", NOW - 10 * DAY).fallback("ten days ago gibberish", []),
        Script("long-ago", NOW - 40 * DAY)  # older than the retention window, still in the store
        .fallback("forty days ago gibberish", [])
        .ask("what is a cramp", "definition")
        .feedback("useless", False),
    ]


@pytest.fixture(scope="module")
def endpoints(tmp_path_factory) -> Path:
    db = write_store(tmp_path_factory.mktemp("export") / "tracker.db", scenario())
    return endpoints_for(db)


def run(args: List[str], enabled: bool = False) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != export.ENABLE_ENV}
    if enabled:
        env[export.ENABLE_ENV] = "1"
    return subprocess.run([COMMAND, *args], capture_output=True, text=True, env=env, timeout=120)


# ---------------------------------------------------------------- off by default ----


def test_it_refuses_to_run_unless_asked_and_says_why(endpoints, tmp_path):
    out = tmp_path / "x.yml"
    result = run(["--endpoints", str(endpoints), "--out", str(out)])
    assert result.returncode == 2
    assert "off by default" in result.stderr and "health data" in result.stderr
    assert export.ENABLE_FLAG in result.stderr and export.ENABLE_ENV in result.stderr
    assert not out.exists()


def test_the_environment_variable_turns_it_on_and_the_output_is_private(endpoints, tmp_path):
    out = tmp_path / "x.yml"
    result = run(["--endpoints", str(endpoints), "--out", str(out)], enabled=True)
    assert result.returncode == 0, result.stderr
    assert "HEALTH DATA" in result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_text().startswith("# HEALTH DATA")


def test_only_the_value_1_enables_it(monkeypatch, endpoints, tmp_path):
    monkeypatch.setenv(export.ENABLE_ENV, "yes")
    assert export.main(["--endpoints", str(endpoints), "--out", str(tmp_path / "x.yml")]) == 2


# ---------------------------------------------------------------- what is exported ----


@pytest.fixture(scope="module")
def exported(endpoints, tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("out") / "nlu.yml"
    assert export.main([export.ENABLE_FLAG, "--endpoints", str(endpoints), "--out", str(out)]) == 0
    return out.read_text(encoding="utf-8")


def examples(yaml_text: str) -> List[str]:
    """The examples as Rasa reads them (the file is Rasa's NLU format)."""
    data = RasaYAMLReader().reads(yaml_text)
    assert {m.get("intent") for m in data.training_examples} == {"TODO"}
    return sorted(m.get("text") for m in data.training_examples)


def test_fallbacks_and_thumbs_down_answers_are_exported_with_placeholders(exported):
    assert examples(exported) == sorted(
        [
            "my piggies go stiff, call me on <number>",  # nlu_fallback
            "write to <email> or <handle>",  # the core fallback ("did you mean", no rule fitted)
            "cramps after my <number>k run, see <url>",  # its answer got a 👎
            "ten days ago gibberish",
        ]
    )
    assert "# fell to the fallback; the model's intent: nlu_fallback" in exported
    assert (
        "# the answer to it got a thumbs-down; the model's intent: ask_cause_dehydration"
        in exported
    )


def test_nothing_else_leaves_the_store(exported):
    for text in (
        "hello",
        "why do my feet cramp at night",
        "is magnesium any good",
        "yes that helped",
        "not really",
        "nope",
        "oh wait yes it was",
    ):
        assert f"- {text}\n" not in exported  # 👍 answers, a changed vote, feedback itself
    for sender in ("+15550001111", "web-abc", "core-fallback", "5550001111"):
        assert sender not in exported


def test_the_retention_window_is_never_exceeded(endpoints, tmp_path):
    out = tmp_path / "x.yml"
    engine = store_reader.read_only_engine(endpoints)
    everything = export.collect(engine, retention.DEFAULT_DAYS)
    engine.dispose()
    assert "ten days ago gibberish" in {e.text for e in everything}
    assert not any("forty days ago" in e.text for e in everything)
    db = endpoints.with_name("tracker.db")
    with sqlite3.connect(db) as connection:  # ... though the store still holds it
        assert (
            connection.execute(
                "SELECT COUNT(*) FROM events WHERE data LIKE ?", ("%forty days ago%",)
            ).fetchone()[0]
            == 1
        )
    assert (
        export.main(
            [export.ENABLE_FLAG, "--endpoints", str(endpoints), "--days", "7", "--out", str(out)]
        )
        == 0
    )
    text = out.read_text()
    assert "ten days ago" not in text and "forty days ago" not in text
    assert "my piggies go stiff" in text


@pytest.mark.parametrize("days", ["31", "365", "0", "-1"])
def test_no_window_beyond_the_retention_default(endpoints, tmp_path, days, capsys):
    out = tmp_path / "x.yml"
    assert (
        export.main(
            [export.ENABLE_FLAG, "--endpoints", str(endpoints), "--days", days, "--out", str(out)]
        )
        == 2
    )
    assert not out.exists()
    assert f"at most {retention.DEFAULT_DAYS}" in capsys.readouterr().err


def test_the_default_window_is_the_retention_default():
    help_text = subprocess.run(
        [COMMAND, "--help"], capture_output=True, text=True, timeout=120
    ).stdout
    assert f"(default {retention.DEFAULT_DAYS})" in " ".join(help_text.split())


def test_csv(endpoints, tmp_path):
    out = tmp_path / "x.csv"
    assert export.main([export.ENABLE_FLAG, "--endpoints", str(endpoints), "--out", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert set(rows[0]) == {"text", "reason", "model_intent", "topics"}
    by_text = {r["text"]: r for r in rows}
    assert by_text["my piggies go stiff, call me on <number>"]["topics"] == "cause_night"
    assert by_text["write to <email> or <handle>"]["model_intent"] == "greet"
    unhelpful = by_text["cramps after my <number>k run, see <url>"]
    assert (unhelpful["reason"], unhelpful["topics"]) == ("unhelpful", "cause_dehydration")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


# ---------------------------------------------------------------- the replacements ----


@pytest.mark.parametrize(
    "text, scrubbed",
    [
        ("call me on +1 (555) 123-4567 tomorrow", "call me on <number> tomorrow"),
        ("I'm 24 weeks pregnant, 3rd baby", "I'm <number> weeks pregnant, <number>rd baby"),
        ("took 400mg at 10:30", "took <number>mg at <number>"),
        ("Arabic-Indic ٣ and full-width ７", "Arabic-Indic <number> and full-width <number>"),
        ("mail bob.smith+cramps@example.com now", "mail <email> now"),
        ("jo99@mail.co.uk", "<email>"),
        ("see https://user@example.org/a?id=42#x.", "see <url>"),
        ("www.cramp-help.info/page and cramps.co.uk/x", "<url> and <url>"),
        ("ask @drfoot or <@U024BE7LH> on slack", "ask <handle> or <handle> on slack"),
        ("e.g. it hurts, i.e. a lot", "e.g. it hurts, i.e. a lot"),
        ("line one\nline\ttwo\x07", "line one line two"),
    ],
)
def test_replacements(text, scrubbed):
    assert export.scrub(text) == scrubbed
