"""cramp-report on a tracker store written by Rasa's own SQLTrackerStore (no servers).

Twenty-two scripted conversations over four days and two channels (tests/tracker_scripts.py):
feedback (👍, 👎, a changed vote, one before any answer), an NLU fallback and a core fallback, an
emergency and an urgent escalation, finished / stopped / resumed / abandoned cramp checks, and a
sender who comes back in a second session. Every figure is checked against hand-counted values,
then the HTML: the "<5" rule, rates that do not give small counts away, and that no typed text,
no bot text and no sender ID appears in it.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from datetime import date, datetime, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
import sqlalchemy as sa
import yaml
from tracker_scripts import Script, endpoints_for, write_store

from actions.knowledge import TOPIC_IDS
from cramp_nlu.terms import TIERS
from cramp_ops import report, small_counts, store_reader, turns
from cramp_ops.report_figures import NO_TOPIC, compute
from cramp_ops.small_counts import count, median_of, rate

ROOT = Path(__file__).resolve().parents[1]
COMMAND = str(Path(sys.executable).with_name("cramp-report"))
D1, D2, D3, D4 = (
    datetime(2026, 11, d, 9, 0, tzinfo=timezone.utc).timestamp() for d in (20, 21, 22, 23)
)
DAYS = [date(2026, 11, d) for d in (20, 21, 22, 23)]
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)


def scenario() -> List[Script]:
    scripts: List[Script] = []
    for i in range(6):  # day 1, REST: a night-cramp question rated helpful
        scripts.append(
            Script(f"+1555000{i:04d}", D1 + i * 600)
            .small_talk(f"hello there number {i}")
            .ask(f"why do my feet cramp at night {i} zz", "cause_night")
            .feedback(f"yes that helped {i}", True)
        )
    for i in range(5):  # day 2, socket.io: the same question rated unhelpful
        scripts.append(
            Script(f"web-session-{i}", D2 + i * 600, "socketio")
            .ask(f"my toes curl up in bed {i}", "cause_night")
            .feedback(f"not really {i}", False)
        )
    scripts.append(
        Script("web-session-many", D2 + 4000, "socketio")
        .ask("what exactly is a foot cramp", "definition")
        .feedback("thumbs up one", True)
        .ask("explain cramps to me again", "definition")
        .feedback("thumbs up two", True)
        .ask("does magnesium help at all", "magnesium")
        .feedback("great thanks", True)
        .feedback("actually no it did not", False)
    )  # a changed vote: counts as 👎
    scripts.append(
        Script("fallback-sender", D2 + 5000)
        .fallback("blorptastic wiggle toes", ["cause_night", "treat_night"])
        .ask("how do i stop them at night then", "treat_night", confidence=0.4)
    )
    scripts.append(
        Script("escalation-sender", D2 + 6000)
        .ask(
            "my calf is swollen hot and I cannot breathe",
            "see_doctor",
            urgency="emergency",
            intent="report_symptoms",
        )
        .small_talk("ok thanks", "thank")
    )
    scripts.append(
        Script("check-finished", D3, "socketio")
        .start_check("help me figure out my cramps")
        .check_answer("at night in bed quincunx")
        .check_answer("most nights xylophone", urgency="see_doctor")
        .check_last_answer("none of those zanzibar", urgency="see_doctor")
    )
    scripts.append(
        Script("check-stopped", D3 + 600, "socketio")
        .start_check("start the cramp check please")
        .check_answer("whenever really")
        .check_stop("stop this now")
    )
    scripts.append(
        Script("check-resumed", D3 + 1200, "socketio")
        .start_check("can you check my cramps")
        .check_answer("at rest mostly")
        .check_stop("never mind")
        .resume_check("continue the cramp check")
        .check_answer("every single day")
        .check_last_answer("nothing like that")
    )
    scripts.append(
        Script("check-abandoned", D3 + 1800, "socketio")
        .start_check("help me work out my cramps")
        .check_answer("any time at all")
    )
    scripts.append(
        Script("core-fallback", D3 + 2400)
        .fallback("hiya bot thing", ["cause_night"], intent="greet", confidence=0.9)
        .small_talk("bye now", "goodbye")
    )
    scripts.append(Script("feedback-first", D3 + 3000).feedback("that was helpful", True))
    scripts.append(
        Script("returning", D3 + 3600)
        .ask("what causes foot cramps generally", "causes")
        .session(at=D4)
        .ask("how are they treated", "treatment")
        .ask("my leg is red and swollen", "see_doctor", urgency="urgent", intent="report_symptoms")
    )
    return scripts


@pytest.fixture(scope="module")
def scripts() -> List[Script]:
    return scenario()


@pytest.fixture(scope="module")
def store(tmp_path_factory, scripts) -> Path:
    return write_store(tmp_path_factory.mktemp("report") / "tracker.db", scripts)


@pytest.fixture(scope="module")
def engine(store):
    engine = store_reader.read_only_engine(endpoints_for(store))
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def figures(engine):
    return compute(turns.read_selection(engine))


@pytest.fixture(scope="module")
def html(engine, tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("out") / "report.html"
    report.build(engine, out, now=NOW)
    return out.read_text(encoding="utf-8")


# ---------------------------------------------------------------- the figures ----


def test_conversations_and_turns_per_day_and_channel(figures):
    assert figures.first_event == DAYS[0] and figures.last_event == DAYS[-1]
    assert figures.days == DAYS
    assert figures.conversations == 22  # "returning" is two sessions, so two conversations
    assert figures.turns == 60
    assert [figures.conversations_per_day[d] for d in DAYS] == [6, 8, 7, 1]
    assert [figures.turns_per_day[d] for d in DAYS] == [18, 21, 19, 2]
    assert figures.channels == ["rest", "socketio"]
    assert dict(figures.conversations_per_channel) == {"rest": 12, "socketio": 10}
    assert dict(figures.turns_per_channel) == {"rest": 28, "socketio": 32}
    assert figures.conversations_per_day_channel[DAYS[1], "socketio"] == 6
    assert figures.turns_per_day_channel[DAYS[2], "rest"] == 4
    assert sorted(figures.turns_per_conversation) == [1, 1] + [2] * 10 + [3] * 7 + [4, 6, 7]
    assert median_of(figures.turns_per_conversation).text == "2"


def test_topics_answered(figures):
    assert dict(figures.topics) == {
        "cause_night": 11,
        "definition": 2,
        "magnesium": 1,
        "treat_night": 1,
        "see_doctor": 2,
        "causes": 1,
        "treatment": 1,
    }
    assert figures.topic_answers == 19


def test_urgency_tiers_count_each_conversation_once_at_its_highest(figures):
    assert dict(figures.tiers) == {"none": 19, "see_doctor": 1, "urgent": 1, "emergency": 1}
    by_day = {
        (d, t): figures.tiers_per_day[d, t]
        for d in DAYS
        for t in TIERS
        if figures.tiers_per_day[d, t]
    }
    assert by_day == {
        (DAYS[0], "none"): 6,
        (DAYS[1], "none"): 7,
        (DAYS[1], "emergency"): 1,
        (DAYS[2], "none"): 6,
        (DAYS[2], "see_doctor"): 1,
        (DAYS[3], "urgent"): 1,
    }


def test_fallbacks_low_confidence_and_offered_topics(figures):
    assert figures.fallbacks == 2  # the nlu_fallback and the no-rule (core) fallback
    assert [figures.fallbacks_per_day[d] for d in DAYS] == [0, 1, 1, 0]
    assert dict(figures.offered) == {"cause_night": 2, "treat_night": 1}
    assert figures.low_confidence == 1 and figures.low_confidence_per_day[DAYS[1]] == 1


def test_guided_check(figures):
    check = figures.check
    assert (check.started, check.finished, check.stopped, check.unfinished, check.resumed) == (
        4,
        2,
        1,
        1,
        1,
    )
    assert check.started == check.finished + check.stopped + check.unfinished


def test_feedback_per_topic_once_per_answer_with_the_last_vote(figures):
    assert dict(figures.helpful) == {"cause_night": 6, "definition": 2, NO_TOPIC: 1}
    assert dict(figures.unhelpful) == {"cause_night": 5, "magnesium": 1}
    assert figures.feedback_topics[-1] == NO_TOPIC


def test_since_and_until_select_whole_days(engine, tmp_path):
    figures = report.build(engine, tmp_path / "r.html", since=DAYS[1], until=DAYS[2], now=NOW)
    assert (figures.first_event, figures.last_event) == (DAYS[1], DAYS[2])
    assert figures.conversations == 8 + 7 and figures.turns == 21 + 19
    text = (tmp_path / "r.html").read_text()
    assert "since 2026-11-21, until 2026-11-22 inclusive" in text


# ---------------------------------------------------------------- the rule for small numbers ----


@pytest.mark.parametrize("n, text", [(0, "<5"), (4, "<5"), (5, "5"), (123, "123")])
def test_counts_below_5_are_withheld(n, text):
    shown = count(n)
    assert shown.text == text
    assert (shown.value is None) == (n < 5)


@pytest.mark.parametrize(
    "part, whole, text",
    [
        (6, 11, "55%"),  # both sides >= 5: exact
        (1, 21, "<24%"),  # a small part: a bound from the threshold (5 / 21), not from the 1
        (4, 21, "<24%"),  # ... the same bound, whatever the small part is
        (17, 21, ">76%"),  # a small rest: the bound from the other side
        (2, 6, "—"),  # both sides small
        (3, 4, "—"),  # too few in all
        (0, 0, "—"),
    ],
)
def test_rates_never_reveal_a_small_count(part, whole, text):
    assert rate(part, whole).text == text


def test_withheld_rows_keep_their_own_order_not_their_true_one():
    counts = {"a": 1, "b": 0, "c": 9, "d": 4, "e": 5}
    assert small_counts.order_by_shown(list("abcde"), counts) == ["c", "e", "a", "b", "d"]


def test_configured_channels_are_listed_even_when_unused(engine, tmp_path):
    channels = report.configured_channels(ROOT / "credentials.yml")
    assert channels[:2] == ["rest", "socketio"] and "twilio" in channels
    figures = report.build(engine, tmp_path / "r.html", channels=channels, now=NOW)
    assert figures.channels == channels  # nothing else was seen
    text = (tmp_path / "r.html").read_text()
    assert row(text, "twilio") == ["&lt;5", "&lt;5"]
    assert row(text, "socketio") == ["10", "32"]
    # shown counts first (rest 12, socketio 10), then the withheld ones in the configured order
    listed = re.findall(r'<tr><th scope="row">(\w+)</th><td>', text.split("Per channel")[1])
    assert listed[: len(channels)] == ["rest", "socketio"] + channels[2:]


def test_a_median_needs_five_conversations():
    assert median_of([3, 9, 9, 12]).text == small_counts.NOT_SHOWN
    assert median_of([3, 9, 9, 12, 1]).text == "9"


# ---------------------------------------------------------------- the HTML ----

VOID = {"meta", "link", "br", "hr", "img", "input"}


class Cells(HTMLParser):
    """The text of every table cell, tile value and SVG value label of the report."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: List[Tuple[str, str]] = []  # (kind, text)
        self.stack: List[str] = []
        self.svgs = 0

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        cls = dict(attrs).get("class") or ""
        kind = {"td": "td", "dd": "tile"}.get(tag) or ("svg-value" if "value" in cls else "")
        self.stack.append(kind)
        self.svgs += tag == "svg"

    def handle_startendtag(self, tag, attrs):
        self.svgs += tag == "svg"

    def handle_endtag(self, tag):
        if tag not in VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if self.stack and self.stack[-1] and data.strip():
            self.cells.append((self.stack[-1], data.strip()))


def cells(html: str) -> Cells:
    parser = Cells()
    parser.feed(html)
    return parser


def row(html: str, label: str) -> List[str]:
    """The cells of the first table row whose header is `label`."""
    match = re.search(r"<tr><th scope=\"row\">" + re.escape(label) + r"</th>(.*?)</tr>", html)
    assert match, label
    return re.findall(r"<td>(.*?)</td>", match.group(1))


def test_html_figures(html):
    assert "Events from 2026-11-20 to 2026-11-23" in html
    tiles = [text for kind, text in cells(html).cells if kind == "tile"]
    # conversations, turns, median turns, fallback rate (2 of 60), helpful (9 of 15), checks (4)
    assert tiles == ["22", "60", "2", "<9%", "60%", "<5"]
    assert row(html, "rest") == ["12", "28"] and row(html, "socketio") == ["10", "32"]
    assert row(html, "2026-11-21")[:2] == ["8", "21"]
    titles = report.topic_titles()
    assert titles["cause_night"].endswith("(cause_night)")
    assert row(html, titles["cause_night"]) == ["11", "58%"]  # 11 of 19 answers
    assert row(html, titles["definition"]) == ["&lt;5", "&lt;27%"]  # 5 / 19, not 2 / 19
    assert row(html, "Finished (summary given)") == ["&lt;5"]


def test_feedback_rows_show_rated_answers_and_the_helpful_rate(html):
    section = html[html.index('id="feedback"') : html.index('id="reading"')]
    titles = report.topic_titles()
    assert row(section, titles["cause_night"]) == ["11", "55%"]
    assert row(section, titles["definition"]) == ["&lt;5", "—"]
    assert row(section, NO_TOPIC) == ["&lt;5", "—"]


def test_no_figure_below_5_is_shown(html):
    parsed = cells(html)
    median_tile = ("tile", "2")
    for kind, text in parsed.cells:
        for number in re.findall(r"(?<![\d.])\d+(?![\d.%-])", text):
            if (kind, text) == median_tile:
                continue  # the median turns per conversation is a length, not a count
            assert int(number) >= 5, (kind, text)
    # small counts are drawn as the same hatched bar, whatever they are
    withheld = set(re.findall(r'<rect [^>]*height="([\d.]+)"[^>]*class="withheld"', html))
    assert withheld and all(float(h) > 0 for h in withheld)
    assert parsed.svgs >= 10


def test_chart_bars_of_different_small_counts_look_the_same(html):
    # definition (2), magnesium (1), treat_night (1), causes (1) in the topics chart
    chart = html[html.index("Answers per topic") : html.index("Topics answered (all answers")]
    bars = dict(re.findall(r'<g class="bar" data-label="([^"]+)">(.*?)</g>', chart))
    titles = report.topic_titles()

    def drawn(topic: str) -> List[str]:  # the bar's rectangles, without the row's position
        rects = re.findall(r"<rect[^>]*>", bars[titles[topic]])
        return [re.sub(r' y="[\d.]+"', "", r) for r in rects]

    assert drawn("definition") == drawn("magnesium") == drawn("causes")
    assert drawn("definition") != drawn("cause_night")


def test_no_text_no_bot_words_no_sender_id_in_the_report(html, scripts):
    for script in scripts:
        assert script.sender not in html
        for text in script.typed + script.bot_texts:
            assert text not in html, text
    for word in ("zz", "quincunx", "xylophone", "zanzibar", "blorptastic", "+1555"):
        assert word not in html


def test_the_query_never_returns_a_message_text(engine, scripts):
    """The text stays in the database: not one column of one row holds a typed word."""
    with engine.connect() as connection:
        rows = connection.execute(turns.event_query(engine)).all()
    values = [str(v) for r in rows for k, v in r._mapping.items() if k != "sender_id"]
    for script in scripts:
        for text in script.typed:
            assert not any(text in v for v in values), text


def test_the_report_is_self_contained(html):
    assert "<script" not in html.lower() and "<link" not in html.lower()
    assert not re.search(r'\b(src|href)="(?!#)', html)
    assert "default-src 'none'" in html
    urls = set(re.findall(r"https?://[^\s\"'<>]+", html))
    assert urls <= {"http://www.w3.org/2000/svg"}  # the SVG namespace, never fetched


# ---------------------------------------------------------------- the command ----


def test_command_writes_the_report_and_leaves_the_store_as_it_was(store, tmp_path):
    before = hashlib.sha256(store.read_bytes()).hexdigest()
    out = tmp_path / "nested" / "report.html"
    result = subprocess.run(
        [COMMAND, "--endpoints", str(endpoints_for(store)), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "22 conversations, 60 turns" in result.stdout
    assert out.is_file() and "<svg" in out.read_text()
    assert hashlib.sha256(store.read_bytes()).hexdigest() == before


def test_the_connection_is_read_only(engine):
    with pytest.raises(sa.exc.OperationalError):
        with engine.begin() as connection:
            connection.execute(sa.text("DELETE FROM events"))


def test_a_missing_store_is_an_error_not_an_empty_report(tmp_path):
    out = tmp_path / "report.html"
    code = report.main(["--endpoints", str(endpoints_for(tmp_path / "none.db")), "--out", str(out)])
    assert code == 2 and not out.exists() and not (tmp_path / "none.db").exists()


def test_an_empty_store_gives_a_report_saying_so(tmp_path):
    db = write_store(tmp_path / "tracker.db", [])
    out = tmp_path / "report.html"
    assert report.main(["--endpoints", str(endpoints_for(db)), "--out", str(out)]) == 0
    assert "No conversations in the selection" in out.read_text()


def test_production_endpoints_give_a_read_only_postgresql_engine(monkeypatch):
    """deploy/endpoints.production.yml, its ${VAR}s expanded as Rasa does; no server needed."""
    env = {
        "DB_HOST": "db.internal",
        "DB_PORT": "5433",
        "DB_NAME": "cramps",
        "DB_USER": "reader",
        "DB_PASSWORD": "s3cret",
        "ACTION_ENDPOINT_URL": "http://actions:5055/webhook",
        "REDIS_HOST": "redis",
        "REDIS_PORT": "6379",
        "REDIS_DB": "0",
        "REDIS_PASSWORD": "",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    seen: Dict[str, object] = {}

    def fake_create_engine(url, **kwargs):
        seen.update(url=url, **kwargs)
        return "engine"

    monkeypatch.setattr(store_reader.sa, "create_engine", fake_create_engine)
    store_reader.read_only_engine(ROOT / "deploy" / "endpoints.production.yml")
    url = seen["url"]
    assert (url.get_backend_name(), url.host, url.port, url.database, url.username) == (
        "postgresql",
        "db.internal",
        5433,
        "cramps",
        "reader",
    )
    assert "default_transaction_read_only=on" in seen["connect_args"]["options"]
    assert seen["hide_parameters"] is True


def test_the_names_the_report_relies_on_are_in_the_domain():
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    assert set(turns.SLOTS_READ) <= set(domain["slots"])
    assert domain["slots"]["urgency"]["values"] == list(TIERS)
    assert {turns.SUGGEST_ACTION, turns.CHECK_START_ACTION, "action_cramp_check_summary"} <= set(
        domain["actions"]
    )
    assert {f"ask_{t}" for t in TOPIC_IDS} <= set(domain["intents"])  # the "did you mean" payloads
