"""cramp-report against the real servers, opened in Debian's headless Chromium.

Scripted conversations over REST with the session's shared servers (tests/conftest.py): a
knowledge answer and a cause with feedback, a "did you mean" fallback whose offered topic is
clicked, an escalation, a finished and a stopped cramp check. The store is shared with other
tests, so the figures are checked as the difference between a report before and one after these
conversations, against what the Rasa HTTP API says happened in each turn (intent, actions,
`topic` and `urgency` slots) and the checks' known outcomes. Then `cramp-report` writes the HTML,
Chromium opens it (nothing else may load), and the test looks for the charts and their labels and
for the absence of every typed text and sender ID. Screenshot: artifacts/screenshots/report.png.

Feedback intents (feedback_helpful / feedback_unhelpful) count once the model knows them; until
then Rasa parses "/feedback_helpful" as text and the turn is expected as whatever NLU made of it.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List

import pytest

from cramp_harness.browser import launch_chromium, require_browser
from cramp_harness.servers import ROOT, Servers
from cramp_nlu.terms import max_tier
from cramp_ops import report, report_figures, store_reader, turns
from cramp_ops.report_figures import Figures, compute
from cramp_ops.small_counts import count

pytestmark = [pytest.mark.integration, pytest.mark.browser]

SCREENSHOTS = ROOT / "artifacts" / "screenshots"
COMMAND = str(Path(sys.executable).with_name("cramp-report"))
SUGGEST_FIRST = object()  # "click" the first topic the last "did you mean" reply offered

STATIN_CHECK = [
    "can you check my cramps",
    "at night in bed",
    "most nights",
    "a few minutes",
    "no",
    "I take atorvastatin",
    "none",
    "neither",
    "neither",
    "none",
]
CONVERSATIONS: Dict[str, List[object]] = {
    "knowledge": ["hello there", "what is a foot cramp", "/feedback_helpful"],
    "cause": [
        "why do my feet cramp at night?",
        "/feedback_unhelpful",
        "any evidence magnesium tablets work",
    ],
    "fallback": ["asdf qwer zxcv", SUGGEST_FIRST],
    "escalation": ["my calf is swollen red and hot", "thanks a lot"],
    "finished-check": STATIN_CHECK,
    "stopped-check": ["help me figure out my cramps", "at night in bed", "stop"],
}


sync_api = require_browser()


@dataclass
class Expected:
    """What the Rasa API says the scripted turns did, as report figures (the oracle)."""

    conversations: int = 0
    turns: int = 0
    topics: Counter = field(default_factory=Counter)
    tiers: Counter = field(default_factory=Counter)
    fallbacks: int = 0
    offered: Counter = field(default_factory=Counter)
    helpful: Counter = field(default_factory=Counter)
    unhelpful: Counter = field(default_factory=Counter)
    typed: List[str] = field(default_factory=list)
    senders: List[str] = field(default_factory=list)


def talk(servers: Servers, sender: str, messages: List[object], expected: Expected) -> None:
    """Send `messages` as `sender`, recording each turn as the HTTP API reports it."""
    expected.conversations += 1
    expected.senders.append(sender)
    tier, last_topic, offered = "none", None, []
    for message in messages:
        if message is SUGGEST_FIRST:
            # the first topic offered; the menu may offer none (then "Show all topics")
            text = offered[0] if offered else "/help"
        else:
            text = str(message)
        replies = servers.say(sender, text)
        expected.typed.append(text)
        tracker = servers.tracker(sender)
        events = tracker["events"]
        start = max(i for i, e in enumerate(events) if e["event"] == "user")
        intent = events[start]["parse_data"]["intent"]["name"]
        actions = [e["name"] for e in events[start:] if e["event"] == "action"]
        slots = tracker["slots"]
        expected.turns += 1
        tier = max_tier([tier, slots["urgency"]])
        offered = []
        if intent == turns.FALLBACK_INTENT or turns.SUGGEST_ACTION in actions:
            expected.fallbacks += 1
            offered = [
                b["payload"]
                for r in replies
                for b in r.get("buttons", [])
                if b["payload"].startswith("/ask_")
            ]
            expected.offered.update(p[len("/ask_") :] for p in offered)
        helpful = turns.FEEDBACK_INTENTS.get(intent)
        if helpful is not None:
            rated = last_topic or report_figures.NO_TOPIC  # feedback before any answer
            (expected.helpful if helpful else expected.unhelpful)[rated] += 1
        elif slots["topic"]:
            expected.topics[slots["topic"]] += 1
            last_topic = slots["topic"]
    expected.tiers[tier] += 1


def figures_of(servers: Servers) -> Figures:
    engine = store_reader.read_only_engine(servers.endpoints)
    try:
        return compute(turns.read_selection(engine))
    finally:
        engine.dispose()


def difference(after: Counter, before: Counter) -> Counter:
    return Counter({k: after[k] - before[k] for k in after if after[k] != before[k]})


@pytest.fixture(scope="module")
def scripted(servers) -> tuple:
    before = figures_of(servers)
    expected = Expected()
    run = uuid.uuid4().hex[:8]
    for name, messages in CONVERSATIONS.items():
        talk(servers, f"report-{run}-{name}", messages, expected)
    talk(
        servers, f"+1555{uuid.uuid4().int % 10**7:07d}", ["hi", "what causes foot cramps"], expected
    )  # a phone number, as Twilio's sender IDs are
    return before, figures_of(servers), expected


@pytest.fixture(scope="module")
def report_html(servers, scripted, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    result = subprocess.run(
        [COMMAND, "--endpoints", str(servers.endpoints), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def page(report_html) -> sync_api.Page:
    with sync_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        tab = context.new_page()
        tab.requests = []  # type: ignore[attr-defined]
        tab.on("request", lambda r: tab.requests.append(r.url))
        tab.goto(report_html.as_uri())
        yield tab
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(SCREENSHOTS / "report.png"), full_page=True)
        context.close()
        browser.close()


def test_the_figures_match_the_conversations(scripted):
    before, after, expected = scripted
    assert after.conversations - before.conversations == expected.conversations
    assert after.turns - before.turns == expected.turns
    assert difference(after.topics, before.topics) == expected.topics
    assert difference(after.tiers, before.tiers) == expected.tiers
    assert expected.tiers["urgent"] + expected.tiers["emergency"] >= 1  # the escalation
    assert after.fallbacks - before.fallbacks == expected.fallbacks >= 1
    assert difference(after.offered, before.offered) == expected.offered
    assert difference(after.helpful, before.helpful) == expected.helpful
    assert difference(after.unhelpful, before.unhelpful) == expected.unhelpful
    checks = [
        (getattr(after.check, k) - getattr(before.check, k))
        for k in ("started", "finished", "stopped", "unfinished", "resumed")
    ]
    assert checks == [2, 1, 1, 0, 0]


def test_the_report_opens_with_its_charts_and_labels(page, scripted):
    _, after, expected = scripted
    charts = page.locator("svg.chart")
    assert charts.count() >= 10
    for i in range(charts.count()):
        assert charts.nth(i).get_attribute("role") == "img"
        assert charts.nth(i).locator("title").count() == 1
        assert charts.nth(i).locator("rect").count() >= 1
    captions = page.locator("figcaption").all_inner_texts()
    for caption in (
        "Conversations per day",
        "Turns per day",
        "Conversations per channel",
        "Answers per topic",
        "Conversations by highest urgency tier",
        "“Did you mean” fallback rate per day",
        "Guided cramp check outcomes",
        "Helpful rate per topic",
    ):
        assert caption in captions
    labels = set(page.locator("svg text").all_text_contents())  # (SVG has no innerText)
    today = datetime.now(timezone.utc).date()
    assert any(label in labels for label in (today.strftime("%m-%d"), today.isoformat()))
    titles = report.topic_titles()
    assert {titles[t] for t in expected.topics} <= labels
    assert {"none", "see a doctor", "urgent (today)", "emergency", "rest"} <= labels
    assert "<5" in labels  # small counts keep their label in the charts
    tiles = page.locator(".tiles dd").all_inner_texts()
    assert tiles[:2] == [count(after.conversations).text, count(after.turns).text]
    assert "Events from " in page.locator(".period").inner_text()


def test_no_typed_text_or_sender_id_reaches_the_page(page, scripted):
    _, _, expected = scripted
    html, text = page.content(), page.locator("body").inner_text()
    for sender in expected.senders:
        assert sender not in html
    # one-word answers ("none", "stop") are also words of the report's own; sentences are not
    for typed in {t for t in expected.typed if len(t.split()) > 1}:
        assert typed not in html and typed.lower() not in text.lower(), typed
    assert "atorvastatin" not in text.lower() and "asdf" not in text.lower()


def test_the_page_loads_nothing_but_itself(page, report_html):
    assert page.requests == [report_html.as_uri()]  # type: ignore[attr-defined]
