"""The widget on someone else's site, in Debian's Chromium, against the real servers.

A made-up blog on another origin (cramp_harness.host_page: its own hostile CSS, a strict
Content-Security-Policy) embeds the one script tag `<script src=".../widget.js" async>`; its origin
is in CHAT_ALLOWED_ORIGINS of the shared servers (cramp_harness.servers). Another port, not allowed,
stands for a site that may not embed it. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import json
from typing import Callable, Dict, Iterator, List

import pytest

from cramp_harness import host_page
from cramp_harness.browser import missing, require_browser, running_chromium
from cramp_harness.processes import free_port, wait_until
from cramp_harness.servers import ROOT
from cramp_nlu.escalation import wording

pytestmark = [pytest.mark.integration, pytest.mark.browser]

SCREENSHOTS = ROOT / "artifacts" / "screenshots"
REPLY_TIMEOUT_MS = 45_000
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
WIDGET_WORDS = (
    json.loads((ROOT / "web" / "dist" / "content.json").read_text(encoding="utf-8"))["ui"]
    if (ROOT / "web" / "dist" / "content.json").exists()
    else {}
)


sync_api = require_browser(
    ROOT / "web" / "dist" / "widget.js", ROOT / "web" / "dist" / "content.json"
)
expect = sync_api.expect

import yaml  # noqa: E402

TOPICS = {
    topic["id"]: topic
    for topic in yaml.safe_load(
        (ROOT / "data" / "knowledge" / "topics.yml").read_text(encoding="utf-8")
    )["topics"]
}

#: the widget's Shadow DOM root, and the focused element inside it
ROOT_JS = "document.querySelector('[data-cramps-chat]').shadowRoot"
ACTIVE_JS = """(() => { let a = document.activeElement;
    while (a && a.shadowRoot && a.shadowRoot.activeElement) { a = a.shadowRoot.activeElement; }
    return a; })()"""
#: collects layout shifts from the very start of the page (Playwright's init script, not the page's)
LAYOUT_SHIFTS = """window.__shifts = 0; new PerformanceObserver(list => {
    for (const e of list.getEntries()) { if (!e.hadRecentInput) window.__shifts += e.value; }
}).observe({type: 'layout-shift', buffered: true});"""
#: the widget's looks: computed styles and sizes of its parts
WIDGET_LOOKS = (
    """(() => { const r = %s; const props = ['font-family', 'font-size', 'line-height',
    'letter-spacing', 'text-transform', 'color', 'background-color', 'border-top-width',
    'border-top-style', 'padding-top', 'margin-top', 'display', 'position', 'opacity',
    'transform'];
  const out = {};
  for (const sel of ['#launcher', '#chat-panel', '.chat-title', '#message-input', '#send-button',
                     '#new-conversation', '.message--welcome', '.composer__label']) {
    const el = r.querySelector(sel); if (!el) { out[sel] = null; continue; }
    const s = getComputedStyle(el); const box = el.getBoundingClientRect();
    out[sel] = props.map(p => s.getPropertyValue(p)).concat([Math.round(box.width),
      Math.round(box.height)]);
  }
  return out; })()"""
    % ROOT_JS
)
#: the host page's looks: its own elements' styles and places, and the page's size
HOST_LOOKS = """(() => { const out = {};
  for (const sel of ['body', 'h1', '#probe', 'main', 'a']) {
    const el = document.querySelector(sel); const s = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    out[sel] = [s.fontFamily, s.fontSize, s.color, s.backgroundColor, s.margin, s.padding,
                s.display, box.x, box.y, box.width, box.height];
  }
  out.scroll = [document.documentElement.scrollWidth, document.documentElement.scrollHeight];
  return out; })()"""


@pytest.fixture(scope="module")
def web(servers):
    return servers.start_page()


@pytest.fixture(scope="module")
def host(servers, web) -> Iterator[str]:
    """The allowed embedding site (its port was reserved when the servers started)."""
    server = host_page.start_in_thread(servers.host_port, f"{web.url}/widget.js", servers.url)
    yield f"http://127.0.0.1:{servers.host_port}"
    server.shutdown()


@pytest.fixture(scope="module")
def foreign_host(servers, web) -> Iterator[str]:
    """A site whose origin is not allowed; it puts the launcher on the left."""
    port = free_port()
    server = host_page.start_in_thread(
        port, f"{web.url}/widget.js", servers.url, attributes=' data-side="left"'
    )
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator:
    with running_chromium() as chromium:
        yield chromium


class Visit:
    """One browser context (one visitor) on the host site."""

    def __init__(self, browser, name: str, width: int, height: int) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.context.add_init_script(LAYOUT_SHIFTS)
        self.page = self.context.new_page()
        self.name = name
        self.errors: List[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def go(self, url: str) -> "Visit":
        self.page.goto(url)
        expect(self.launcher).to_be_visible(timeout=15_000)
        return self

    @property
    def launcher(self):
        return self.page.get_by_role("button", name=WIDGET_WORDS["launcher_label"])

    @property
    def panel(self):
        return self.page.locator("#chat-panel")

    def open(self) -> None:
        self.launcher.click()
        expect(self.panel).to_be_visible()
        self.wait_connected()

    def wait_connected(self) -> None:
        expect(self.page.locator("#send-button")).to_be_enabled(timeout=30_000)

    def send(self, text: str) -> None:
        box = self.page.get_by_label(WIDGET_WORDS["input_label"])
        box.fill(text)
        box.press("Enter")

    def wait_bot_text(self, text: str) -> None:
        bot = self.page.locator(".message--bot:not(.message--welcome) .message__text")
        expect(bot.filter(has_text=text).first).to_be_visible(timeout=REPLY_TIMEOUT_MS)

    def session_id(self) -> str:
        return json.loads(self.page.evaluate("localStorage.getItem('cramps-chat.session-id')"))

    def active_id(self) -> str:
        return self.page.evaluate(f"(() => {{ const a = {ACTIVE_JS}; return a ? a.id : null; }})()")

    def csp_violations(self) -> List[str]:
        return [e for e in self.errors if "Content Security Policy" in e or "Refused" in e]

    def screenshot(self, suffix: str = "") -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{self.name}{suffix}.png"))


@pytest.fixture
def visit(browser, request) -> Iterator[Callable[..., Visit]]:
    visits: List[Visit] = []

    def make(url: str, width: int = 1100, height: int = 800) -> Visit:
        one = Visit(
            browser, request.node.name + (f"-{len(visits)}" if visits else ""), width, height
        )
        visits.append(one)
        return one.go(url)

    yield make
    for one in visits:
        try:
            one.screenshot()
        finally:
            one.context.close()


def wait_for_slot(servers, session_id: str, slot: str, value: str) -> None:
    wait_until(lambda: servers.slots(session_id).get(slot) == value, 30, f"{slot} is {value}")


# ------------------------------------------------------------------ tests ----


def test_one_tag_on_a_hostile_page_answers_and_styles_stay_apart(visit, host, servers):
    # the host page on its own, then with the widget: the host's looks do not change
    bare = visit(f"{host}/plain.html")
    plain_looks = bare.page.evaluate(WIDGET_LOOKS)
    bare.open()
    plain_open_looks = bare.page.evaluate(WIDGET_LOOKS)

    page = visit(f"{host}/")
    assert page.page.evaluate("document.querySelectorAll('[data-cramps-chat]').length") == 1
    launcher_box = page.launcher.bounding_box()
    assert launcher_box["x"] > 1100 / 2  # bottom right by default
    assert launcher_box["y"] + launcher_box["height"] > 800 - 60
    host_with_widget = page.page.evaluate(HOST_LOOKS)
    # the widget's looks are its own: the hostile page and the plain page show the same widget
    assert page.page.evaluate(WIDGET_LOOKS) == plain_looks
    page.open()
    assert page.page.evaluate(WIDGET_LOOKS) == plain_open_looks
    # the accessible name says what the launcher opens; the source line is shown as on the page
    source = page.page.locator("#chat-source")
    expect(source).to_be_visible()
    assert "Night" not in source.inner_text()  # the widget's own header, not the host's text

    page.send("what is a foot cramp?")
    page.wait_bot_text(TOPICS["definition"]["section"])
    wait_for_slot(servers, page.session_id(), "topic", "definition")
    page.screenshot("-answered")

    # the host's own elements and size are what they were without the widget
    nowidget = visit(f"{host}/")
    nowidget.page.route("**/widget.js", lambda route: route.abort())
    nowidget.page.reload()
    nowidget.page.wait_for_timeout(500)
    assert nowidget.page.evaluate("document.querySelectorAll('[data-cramps-chat]').length") == 0
    assert nowidget.page.evaluate(HOST_LOOKS) == host_with_widget
    assert page.page.evaluate(HOST_LOOKS) == host_with_widget  # still, with the panel open
    # no global name: the window has the same own properties with and without the widget
    names = "Object.getOwnPropertyNames(window).filter(n => !n.startsWith('__')).sort()"
    added = set(page.page.evaluate(names)) - set(nowidget.page.evaluate(names))
    assert len(added) <= 1, added
    assert added == set(), added
    # loaded async after the page, fixed in its corner: nothing of the host page moved
    assert page.page.evaluate("window.__shifts") == 0
    # a strict CSP without 'unsafe-inline' or 'unsafe-eval': nothing was refused
    assert page.csp_violations() == [], page.errors
    assert page.errors == [], page.errors


def test_the_conversation_follows_the_visitor_across_pages_and_reloads(visit, host, servers):
    page = visit(f"{host}/")
    page.open()
    page.send("what is a foot cramp?")
    page.wait_bot_text(TOPICS["definition"]["section"])
    session = page.session_id()

    page.page.reload()
    expect(page.panel).to_be_visible()  # it was open: it stays open on the next page view
    page.wait_connected()
    page.wait_bot_text(TOPICS["definition"]["section"])

    page.page.get_by_role("link", name="Next post").click()
    page.page.wait_for_url(f"{host}/page2.html")
    expect(page.panel).to_be_visible()
    page.wait_connected()
    expect(page.page.locator(".message--user").first).to_have_text(
        "You said: what is a foot cramp?"
    )
    assert page.session_id() == session
    page.send("how do I treat foot cramps?")
    page.wait_bot_text(TOPICS["treatment"]["section"])
    wait_for_slot(servers, session, "topic", "treatment")
    said = [e["text"] for e in servers.tracker(session)["events"] if e["event"] == "user"]
    assert said == ["what is a foot cramp?", "how do I treat foot cramps?"]

    # New conversation: a fresh session, the old one untouched
    page.page.get_by_role("button", name=WIDGET_WORDS["new_conversation"]).click()
    expect(page.page.locator(".message--user")).to_have_count(0)
    page.wait_connected()
    assert page.session_id() != session


def test_esc_closes_returns_focus_and_a_reply_while_closed_is_marked(visit, host):
    page = visit(f"{host}/")
    page.open()
    assert page.active_id() == "message-input"  # opened: ready to type
    expect(page.launcher).to_be_hidden()  # the panel has its own close button
    page.page.keyboard.press("Escape")
    expect(page.panel).to_be_hidden()
    assert page.active_id() == "launcher"  # Esc returns focus to the launcher
    page.page.keyboard.press("Enter")  # the launcher, from the keyboard
    expect(page.panel).to_be_visible()
    assert page.active_id() == "message-input"
    page.wait_connected()

    # ask, and close before the answer comes: the launcher shows it and screen readers hear it
    page.page.keyboard.type("what is a foot cramp?")
    page.page.keyboard.press("Enter")
    page.page.keyboard.press("Escape")
    expect(page.panel).to_be_hidden()
    unread = page.page.get_by_role("button", name=WIDGET_WORDS["launcher_unread_label"])
    expect(unread).to_be_visible(timeout=REPLY_TIMEOUT_MS)
    expect(page.page.locator(".launcher__unread")).to_be_visible()
    announcer = page.page.get_by_role("status").filter(has_text=WIDGET_WORDS["reply_announcement"])
    expect(announcer).to_have_count(1)
    page.screenshot("-unread")
    unread.click()
    expect(page.panel).to_be_visible()
    page.wait_bot_text(TOPICS["definition"]["section"])
    expect(page.launcher).to_be_hidden()
    expect(page.page.locator(".launcher__unread")).to_be_hidden()


def test_on_a_phone_the_panel_fills_the_screen_and_keeps_focus(visit, host):
    page = visit(f"{host}/", width=375, height=740)
    page.open()
    box = page.panel.bounding_box()
    assert box == {"x": 0, "y": 0, "width": 375, "height": 740}, box
    assert page.panel.get_attribute("aria-modal") == "true"
    page.send("what is a foot cramp?")
    page.wait_bot_text(TOPICS["definition"]["section"])
    # nothing of the widget reaches past the screen's edge (the hostile host page itself is
    # wider than 375 px: its own CSS gives every element 300 px plus padding and margins)
    widest = page.page.evaluate(
        f"Math.max(...Array.from({ROOT_JS}.querySelectorAll('*'), "
        "e => e.getBoundingClientRect().right))"
    )
    assert widest <= 375, widest
    expect(page.page.get_by_label(WIDGET_WORDS["input_label"])).to_be_in_viewport()
    expect(page.page.get_by_role("button", name=WIDGET_WORDS["send_label"])).to_be_in_viewport()
    # Tab and Shift+Tab never leave the panel
    inside = f"(() => {{ const a = {ACTIVE_JS}; return !!a && {ROOT_JS}.getElementById('chat-panel').contains(a); }})()"
    for key in ["Tab"] * 14 + ["Shift+Tab"] * 14:
        page.page.keyboard.press(key)
        assert page.page.evaluate(inside), (key, page.active_id())
    page.screenshot("-phone")
    page.page.keyboard.press("Escape")
    expect(page.panel).to_be_hidden()
    assert page.active_id() == "launcher"


def test_an_escalation_opens_the_panel(visit, host, servers):
    page = visit(f"{host}/")
    page.open()
    page.page.get_by_label(WIDGET_WORDS["input_label"]).fill("my chest hurts and I can't breathe")
    page.page.keyboard.press("Enter")
    page.page.keyboard.press("Escape")  # closed before the reply comes
    expect(page.panel).to_be_hidden()
    alert = page.page.get_by_role("alert")
    expect(alert).to_be_visible(timeout=REPLY_TIMEOUT_MS)  # the emergency opened the panel
    expect(page.panel).to_be_visible()
    expect(alert).to_contain_text(wording().headlines["emergency"])
    expect(alert).to_contain_text("911")
    wait_for_slot(servers, page.session_id(), "urgency", "emergency")


def test_axe_audit_of_a_host_page_with_the_widget_open(visit, host):
    if not AXE.exists():
        missing("web/node_modules/axe-core missing: run bash scripts/build_web.sh")
    page = visit(f"{host}/plain.html")
    page.open()
    page.send("my chest hurts and I can't breathe")
    expect(page.page.get_by_role("alert")).to_be_visible(timeout=REPLY_TIMEOUT_MS)
    page.send("what is a foot cramp?")
    page.wait_bot_text(TOPICS["definition"]["section"])
    page.page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.page.evaluate("""() => axe.run(document, {runOnly: {type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})""")
    assert len(result["passes"]) > 10
    violations: List[Dict] = [
        {"id": v["id"], "nodes": [n["target"] for n in v["nodes"]]} for v in result["violations"]
    ]
    assert violations == []


def test_a_site_that_is_not_allowed_gets_no_conversation(visit, foreign_host, servers):
    page = visit(f"{foreign_host}/")
    assert page.launcher.bounding_box()["x"] < 1100 / 2  # data-side="left"
    page.launcher.click()
    expect(page.page.locator("#status")).to_contain_text(
        WIDGET_WORDS["status_unreachable"].split(" yet")[0], timeout=20_000
    )
    expect(page.page.get_by_role("button", name=WIDGET_WORDS["send_label"])).to_be_disabled()
    page.send("hello?")
    expect(page.page.locator(".message--user")).to_have_count(0)
    # Rasa says why, once, in its log
    wait_until(
        lambda: f"refused a page from origin '{foreign_host}'" in servers.log(),
        20,
        "the refused origin is logged",
    )
    assert "CHAT_ALLOWED_ORIGINS" in servers.log()


def test_data_server_sets_the_assistant_address_on_the_tag(visit, host, servers):
    page = visit(f"{host}/direct.html")
    asked = []
    page.page.on("request", lambda r: asked.append(r.url) if "config.json" in r.url else None)
    page.open()
    page.send("does magnesium help?")
    page.wait_bot_text(TOPICS["magnesium"]["section"])
    assert asked == []  # the address came from data-server, not from config.json
