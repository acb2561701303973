"""`cramp-report`: how the assistant is doing, from the tracker store, without anyone's messages.

    .venv/bin/cramp-report                                   # endpoints.yml: var/tracker.db
    .venv/bin/cramp-report --since 2026-11-01 --until 2026-11-30 --out results/november.html
    DB_HOST=... DB_PORT=... DB_NAME=... DB_USER=... DB_PASSWORD=... \\
      .venv/bin/cramp-report --endpoints deploy/endpoints.production.yml

Writes one self-contained HTML file (inline CSS and SVG charts drawn here; no script, nothing
loaded from anywhere): conversations and turns per day and per channel, topics answered, urgency
tiers, "did you mean" fallbacks and low-confidence answers, the guided check, feedback per topic,
median turns per conversation, and the period covered.

It is built from Rasa's own stored events (cramp_ops.turns: event types, intent and action names,
a few slot values; never a message's text), read through a read-only connection. It shows no
sender ID and no text, and counts below 5 only as "<5" (cramp_ops.small_counts). Exit status 0,
or 2 when the store cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, time, timedelta, timezone
from html import escape
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import sqlalchemy as sa
import yaml

from actions.knowledge import TOPIC_IDS
from cramp_nlu.terms import TIERS
from cramp_ops import svg
from cramp_ops.report_figures import LOW_CONFIDENCE, NO_TOPIC, Figures, compute, tier_rows
from cramp_ops.small_counts import (
    MIN_COUNT,
    NOT_SHOWN,
    SMALL,
    count,
    median_of,
    order_by_shown,
    rate,
)
from cramp_ops.store_reader import StoreError, describe, read_only_engine
from cramp_ops.turns import read_selection

DEFAULT_OUT = Path("results/report.html")
TIER_LABELS = {
    "none": "none",
    "see_doctor": "see a doctor",
    "urgent": "urgent (today)",
    "emergency": "emergency",
}
TIER_COLOURS = ("#7d9bb5", "#d08c00", "#c2410c", "#a31515")


def configured_channels(credentials: Path) -> List[str]:
    """The channels a credentials file switches on, named after their modules (channels/rest.py
    is "rest"; ours are named so, like Rasa's), so a channel nobody used is listed too. Reading
    the names from the classes would import Rasa's channels and TensorFlow for one word each."""
    try:
        keys = yaml.safe_load(credentials.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return []
    return [str(key).split(".")[-2] for key in keys if str(key).count(".") >= 2]


def topic_titles() -> Dict[str, str]:
    """Topic ID -> "Title (id)" from the knowledge file; the bare IDs if it cannot be read."""
    try:
        from actions.knowledge import knowledge

        kb = knowledge()
        return {t: f"{kb[t].title} ({t})" for t in TOPIC_IDS}
    except Exception:  # noqa: BLE001  (the report does not need the titles to be right)
        return {t: t for t in TOPIC_IDS}


# ---------------------------------------------------------------- HTML pieces ----


def table(
    caption: str, headers: Sequence[str], rows: Iterable[Sequence[str]], css: str = ""
) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = "".join(
        "<tr>"
        + f'<th scope="row">{escape(row[0])}</th>'
        + "".join(f"<td>{escape(cell)}</td>" for cell in row[1:])
        + "</tr>"
        for row in rows
    )
    return (
        f'<table class="{css}"><caption>{escape(caption)}</caption><thead><tr>{head}</tr>'
        f"</thead><tbody>{body}</tbody></table>"
    )


def tiles(items: Sequence[Tuple[str, str]]) -> str:
    return (
        '<dl class="tiles">'
        + "".join(f"<div><dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>" for k, v in items)
        + "</dl>"
    )


def section(anchor: str, heading: str, intro: str, *parts: str) -> str:
    return (
        f'<section id="{anchor}"><h2>{escape(heading)}</h2><p class="intro">{escape(intro)}'
        f"</p>{''.join(parts)}</section>"
    )


def day_label(day: date, days: Sequence[date]) -> str:
    same_year = len({d.year for d in days}) <= 1
    return day.strftime("%m-%d") if same_year else day.isoformat()


# ---------------------------------------------------------------- sections ----


def period_text(figures: Figures, since: Optional[date], until: Optional[date]) -> str:
    if figures.first_event is None:
        covered = "No events in the selection."
    else:
        covered = (
            f"Events from {figures.first_event.isoformat()} to "
            f"{figures.last_event.isoformat()} (UTC dates of the first and last event)."
        )
    asked = []
    if since:
        asked.append(f"since {since.isoformat()}")
    if until:
        asked.append(f"until {until.isoformat()} inclusive")
    return covered + (
        f" Selection: {', '.join(asked)}."
        if asked
        else " Selection: everything "
        "in the store (cramp-retention deletes conversations idle for longer than "
        "its window)."
    )


def overview(figures: Figures) -> str:
    helpful = sum(figures.helpful.values())
    return tiles(
        [
            ("Conversations", count(figures.conversations).text),
            ("Turns (messages)", count(figures.turns).text),
            ("Median turns per conversation", median_of(figures.turns_per_conversation).text),
            ("“Did you mean” fallback rate", rate(figures.fallbacks, figures.turns).text),
            ("Answers rated helpful", rate(helpful, sum(figures.rated.values())).text),
            ("Guided checks started", count(figures.check.started).text),
        ]
    )


def activity(figures: Figures) -> str:
    days = figures.days
    channels = order_by_shown(figures.channels, figures.conversations_per_channel)
    conv_chart = svg.column_chart(
        "Conversations per day",
        [(day_label(d, days), [count(figures.conversations_per_day[d])]) for d in days],
        desc="Conversations by the UTC day of their first message",
    )
    turn_chart = svg.column_chart(
        "Turns per day",
        [(day_label(d, days), [count(figures.turns_per_day[d])]) for d in days],
        desc="User messages per UTC day",
    )
    channel_chart = svg.bar_chart(
        "Conversations per channel",
        [(c, count(figures.conversations_per_channel[c])) for c in channels],
    )
    channel_table = table(
        "Per channel",
        ["Channel", "Conversations", "Turns"],
        [
            (
                c,
                count(figures.conversations_per_channel[c]).text,
                count(figures.turns_per_channel[c]).text,
            )
            for c in channels
        ],
    )
    per_day_headers = ["Day", "Conversations", "Turns"] + [
        f"{c}: conversations / turns" for c in channels
    ]
    per_day = table(
        "Per day and channel",
        per_day_headers,
        [
            [
                d.isoformat(),
                count(figures.conversations_per_day[d]).text,
                count(figures.turns_per_day[d]).text,
            ]
            + [
                f"{count(figures.conversations_per_day_channel[d, c]).text} / "
                f"{count(figures.turns_per_day_channel[d, c]).text}"
                for c in channels
            ]
            for d in days
        ],
        css="wide",
    )
    return section(
        "activity",
        "Conversations and turns",
        "A conversation is one Rasa session (a new one starts after 60 idle minutes); "
        "a turn is one message from the person. A conversation counts on the day of its "
        "first message and under the channel of that message.",
        f'<div class="charts">{conv_chart}{turn_chart}</div>',
        channel_chart,
        channel_table,
        per_day,
    )


def topics_section(figures: Figures, titles: Dict[str, str]) -> str:
    total = figures.topic_answers
    rows = order_by_shown(TOPIC_IDS, figures.topics)
    chart = svg.bar_chart(
        "Answers per topic", [(titles[t], count(figures.topics[t])) for t in rows]
    )
    listing = table(
        f"Topics answered (all answers: {count(total).text})",
        ["Topic", "Answers", "Share of answers"],
        [
            (titles[t], count(figures.topics[t]).text, rate(figures.topics[t], total).text)
            for t in rows
        ],
    )
    return section(
        "topics",
        "Topics answered",
        "Turns whose answer was a knowledge topic (the topic slot). “Tell me more” "
        "counts as another answer on the same topic.",
        chart,
        listing,
    )


def urgency_section(figures: Figures) -> str:
    labels = [TIER_LABELS.get(t, t) for t in TIERS]
    overall = svg.bar_chart(
        "Conversations by highest urgency tier",
        [(TIER_LABELS.get(t, t), count(figures.tiers[t])) for t in TIERS],
        colours=TIER_COLOURS,
    )
    rows = tier_rows(figures)
    per_day = svg.column_chart(
        "Conversations per day by highest urgency tier",
        [(day_label(d, figures.days), [count(by_tier[t]) for t in TIERS]) for d, by_tier in rows],
        series=labels,
        colours=TIER_COLOURS,
    )
    listing = table(
        "Conversations by highest tier reached, per day",
        ["Day", *labels],
        [[d.isoformat(), *(count(by_tier[t]).text for t in TIERS)] for d, by_tier in rows],
    )
    return section(
        "urgency",
        "Urgency tiers",
        "Each conversation counts once, under the highest tier any of its messages "
        "reached (the urgency slot: none, see a doctor, urgent, emergency).",
        overall,
        per_day,
        listing,
    )


def fallback_section(figures: Figures, titles: Dict[str, str]) -> str:
    days = figures.days
    threshold = f"{figures.low_confidence_threshold:g}"
    chart = svg.column_chart(
        "“Did you mean” fallback rate per day",
        [
            (day_label(d, days), [rate(figures.fallbacks_per_day[d], figures.turns_per_day[d])])
            for d in days
        ],
        percent=True,
        desc="Share of each day's turns that got the did-you-mean reply",
    )
    listing = table(
        "Fallbacks and low-confidence answers per day",
        [
            "Day",
            "Turns",
            "Fallbacks",
            "Fallback rate",
            f"Answered below {threshold}",
            "Low-confidence rate",
        ],
        [
            (
                d.isoformat(),
                count(figures.turns_per_day[d]).text,
                count(figures.fallbacks_per_day[d]).text,
                rate(figures.fallbacks_per_day[d], figures.turns_per_day[d]).text,
                count(figures.low_confidence_per_day[d]).text,
                rate(figures.low_confidence_per_day[d], figures.turns_per_day[d]).text,
            )
            for d in days
        ]
        + [
            (
                "All days",
                count(figures.turns).text,
                count(figures.fallbacks).text,
                rate(figures.fallbacks, figures.turns).text,
                count(figures.low_confidence).text,
                rate(figures.low_confidence, figures.turns).text,
            )
        ],
    )
    offered_chart = svg.bar_chart(
        "Topics offered in “did you mean” replies",
        [
            (titles[t], count(figures.offered[t]))
            for t in order_by_shown(TOPIC_IDS, figures.offered)
        ],
    )
    return section(
        "fallbacks",
        "Fallbacks and low-confidence turns",
        "A fallback is a turn answered with “did you mean” buttons "
        "(action_suggest_topics: NLU was unsure, nlu_fallback, or no rule fitted). A "
        f"low-confidence answer is any other answer given although NLU's confidence in "
        f"the intent was below {threshold}. Offered topics are the buttons of the "
        "fallback replies.",
        chart,
        listing,
        offered_chart,
    )


def check_section(figures: Figures) -> str:
    check = figures.check
    outcomes = [
        ("Started", check.started),
        ("Finished (summary given)", check.finished),
        ("Stopped and not resumed", check.stopped),
        ("Left without finishing", check.unfinished),
        ("Resumed after a stop", check.resumed),
    ]
    chart = svg.bar_chart("Guided cramp check outcomes", [(k, count(v)) for k, v in outcomes])
    listing = table(
        "Guided cramp checks", ["", "Checks"], [(k, count(v).text) for k, v in outcomes]
    )
    return section(
        "check",
        "Guided cramp check",
        "Counted per check: a start, then the summary (finished), a “stop” that was "
        "never resumed (stopped), or neither before the conversation ended (left). "
        "Started = finished + stopped + left.",
        chart,
        listing,
    )


def feedback_section(figures: Figures, titles: Dict[str, str]) -> str:
    topics = figures.feedback_topics
    label = {**titles, NO_TOPIC: NO_TOPIC}
    rated = figures.rated
    chart = svg.bar_chart(
        "Helpful rate per topic",
        [(label[t], rate(figures.helpful[t], rated[t])) for t in topics],
        percent=True,
        full_scale=True,
    )
    listing = table(
        "Feedback per topic",
        ["Topic", "Answers rated", "Rated helpful"],
        [(label[t], count(rated[t]).text, rate(figures.helpful[t], rated[t]).text) for t in topics],
    )
    return section(
        "feedback",
        "Feedback",
        "👍 / 👎 (intents feedback_helpful / feedback_unhelpful), each counted for the "
        "last topic answered before it in the conversation, once per answer (the last "
        "vote on it). Only the number of rated answers and the helpful rate are shown: "
        "with both the 👍 and the 👎 counts a small one could be worked out.",
        chart,
        listing,
    )


def how_to_read() -> str:
    return section(
        "reading",
        "How to read this report",
        "What the report shows, and what it does not.",
        "<ul>"
        f"<li><strong>{escape(SMALL)}</strong>: a count from 0 to {MIN_COUNT - 1}. "
        f"Charts draw it as a hatched bar up to {MIN_COUNT}, not at its height.</li>"
        "<li>A rate is shown exactly only when both its part and the rest are at "
        f"least {MIN_COUNT}. With one side smaller it is a bound worked out from the "
        f"threshold (“&lt;3%” means fewer than {MIN_COUNT} of the turns shown), with "
        "both sides "
        f"smaller, or fewer than {MIN_COUNT} in all, it is “{NOT_SHOWN}”. A median "
        f"needs at least {MIN_COUNT} conversations.</li>"
        "<li>Small counts are kept off the page, but a hidden count can sometimes be "
        "worked out by subtracting the shown parts of a table from a shown total.</li>"
        "<li>No message text and no sender ID is read into this report: it counts "
        "event types, intent and action names and the topic, urgency and cramp-check "
        "slots of Rasa's tracker store. Days are UTC.</li></ul>",
    )


STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1100px;
padding:1rem 1.5rem 3rem;color:#1d2733;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:2px solid #e3e8ee;
padding-bottom:.2rem}.period{font-size:1.05rem}.meta,.intro{color:#4a5663}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:.8rem;
margin:1rem 0}
.tiles div{background:#f3f6f9;border-radius:8px;padding:.7rem .9rem}
.tiles dt{font-size:.85rem;color:#4a5663}.tiles dd{margin:0;font-size:1.6rem;font-weight:600}
table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}caption{text-align:left;
font-weight:600;padding:.3rem 0}th,td{border-bottom:1px solid #e3e8ee;padding:.25rem .7rem;
text-align:right}th[scope=row],thead th:first-child{text-align:left}
th[scope=row]{white-space:nowrap}
.charts{display:flex;flex-wrap:wrap;gap:0 2rem}figure{margin:1rem 0;max-width:100%;overflow-x:auto}
figcaption{font-weight:600;margin-bottom:.3rem}svg.chart{display:block}
section{overflow-x:auto}nav a{margin-right:.8rem}
"""


def render(
    figures: Figures,
    *,
    store: str,
    generated: datetime,
    since: Optional[date] = None,
    until: Optional[date] = None,
) -> str:
    """The whole report as one HTML document."""
    titles = topic_titles()
    nav = " ".join(
        f'<a href="#{a}">{escape(t)}</a>'
        for a, t in [
            ("activity", "Conversations"),
            ("topics", "Topics"),
            ("urgency", "Urgency"),
            ("fallbacks", "Fallbacks"),
            ("check", "Guided check"),
            ("feedback", "Feedback"),
            ("reading", "How to read"),
        ]
    )
    body = [
        "<h1>Foot-cramp assistant: operator report</h1>",
        f'<p class="period">{escape(period_text(figures, since, until))}</p>',
        f'<p class="meta">Built {generated:%Y-%m-%d %H:%M} UTC from the {escape(store)} '
        f"tracker store. Counts below {MIN_COUNT} are shown as “{SMALL}”; no message text "
        "or sender ID is shown.</p>",
        f"<nav>{nav}</nav>",
        overview(figures),
    ]
    if figures.conversations:
        body += [
            activity(figures),
            topics_section(figures, titles),
            urgency_section(figures),
            fallback_section(figures, titles),
            check_section(figures),
            feedback_section(figures, titles),
        ]
    else:
        body.append('<p class="none">No conversations in the selection.</p>')
    body.append(how_to_read())
    csp = "default-src 'none'; style-src 'unsafe-inline'"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Foot-cramp assistant: operator report</title>"
        f"<style>{STYLE}</style></head><body><main>{''.join(body)}</main></body></html>\n"
    )


# ---------------------------------------------------------------- command line ----


def day_start(day: date) -> float:
    return datetime.combine(day, time(0), timezone.utc).timestamp()


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-24") from None


def build(
    engine: sa.engine.Engine,
    out: Path,
    since: Optional[date] = None,
    until: Optional[date] = None,
    low_confidence: float = LOW_CONFIDENCE,
    now: Optional[datetime] = None,
    channels: Sequence[str] = (),
) -> Figures:
    """Read the store, write the report to `out`, return the figures."""
    selection = read_selection(
        engine,
        day_start(since) if since else None,
        day_start(until + timedelta(days=1)) if until else None,
    )
    figures = compute(selection, low_confidence, channels)
    html = render(
        figures,
        store=describe(engine),
        generated=now or datetime.now(timezone.utc),
        since=since,
        until=until,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return figures


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--endpoints",
        type=Path,
        default=Path("endpoints.yml"),
        help="endpoints file with the tracker_store (default endpoints.yml)",
    )
    parser.add_argument(
        "--credentials",
        type=Path,
        default=Path("credentials.yml"),
        help="the channels to list even when unused (default credentials.yml)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"the HTML file to write (default {DEFAULT_OUT})",
    )
    parser.add_argument("--since", type=parse_day, help="first day (UTC, YYYY-MM-DD) to include")
    parser.add_argument("--until", type=parse_day, help="last day (UTC, YYYY-MM-DD) to include")
    parser.add_argument(
        "--low-confidence",
        type=float,
        default=LOW_CONFIDENCE,
        help=f"an answer below this intent confidence counts as low-confidence "
        f"(default {LOW_CONFIDENCE})",
    )
    args = parser.parse_args(argv)
    if args.since and args.until and args.since > args.until:
        parser.error("--since is after --until")
    try:
        engine = read_only_engine(args.endpoints)
    except StoreError as error:
        print(f"report: {error}", file=sys.stderr)
        return 2
    try:
        figures = build(
            engine,
            args.out,
            args.since,
            args.until,
            args.low_confidence,
            channels=configured_channels(args.credentials),
        )
    except sa.exc.OperationalError as error:
        reason = str(getattr(error, "orig", error)).strip().splitlines()
        print(
            f"report: cannot read the tracker store: {reason[0] if reason else error}",
            file=sys.stderr,
        )
        return 2
    finally:
        engine.dispose()
    print(
        f"report: {count(figures.conversations).text} conversations, "
        f"{count(figures.turns).text} turns; {period_text(figures, args.since, args.until)}"
    )
    print(f"report: wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
