"""The web chat page in a real browser, against the real action server and Rasa server.

Uses the session's shared servers (tests/conftest.py: Rasa with our socket.io channel, allowing
only its page's origin) and their chat page (scripts/serve_web.py on a free port); the restart
and the missing action server use the sets made for those. Drives Debian's Chromium
(/usr/bin/chromium) with Playwright. Nothing is downloaded: prepare with

    bash scripts/ensure_chromium.sh && bash scripts/build_web.sh

Screenshots of each test go to artifacts/screenshots/.
"""

from __future__ import annotations

import json
import re
from typing import Callable, Dict, Iterator, List

import pytest
import requests
import yaml

from cramp_harness.browser import missing, require_browser, running_chromium
from cramp_harness.processes import Process, wait_until
from cramp_harness.servers import ROOT, Servers
from cramp_nlu.escalation import wording

pytestmark = [pytest.mark.integration, pytest.mark.browser]

DIST = ROOT / "web" / "dist"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
REPLY_TIMEOUT_MS = 45_000  # one turn: NLU, action server, reply (2 slow cores, other servers)
SESSION_KEY = "cramps-chat.session-id"
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"


sync_api = require_browser(DIST / "index.html", DIST / "widget.js")
expect = sync_api.expect


def topics() -> Dict[str, Dict]:
    data = yaml.safe_load((ROOT / "data" / "knowledge" / "topics.yml").read_text(encoding="utf-8"))
    return {topic["id"]: topic for topic in data["topics"]}


TOPICS = topics()
#: the feedback buttons' titles (their accessible names), from the phrases file
FEEDBACK = yaml.safe_load(
    (ROOT / "data" / "knowledge" / "phrases.yml").read_text(encoding="utf-8")
)["feedback"]


# ---------------------------------------------------------------- servers ----


@pytest.fixture(scope="module")
def web(servers) -> Process:
    """The chat page of the shared servers."""
    return servers.start_page()


@pytest.fixture(scope="module")
def browser() -> Iterator:
    with running_chromium() as chromium:
        yield chromium


class Page:
    """One browser tab on the chat page, recording dialogs, console errors and CSP violations."""

    def __init__(self, browser, url: str, name: str, width: int = 1000, height: int = 800) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.url = url
        self.name = name
        self.dialogs: List[str] = []
        self.errors: List[str] = []
        self.page.on("dialog", self._on_dialog)
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _on_dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, wait_connected: bool = True) -> "Page":
        self.page.goto(self.url)
        if wait_connected:
            self.wait_connected()
        return self

    def wait_connected(self) -> None:
        expect(self.page.locator("#send-button")).to_be_enabled(timeout=30_000)

    def send(self, text: str) -> None:
        box = self.page.get_by_label("Your question about foot cramps")
        box.fill(text)
        box.press("Enter")

    @property
    def log(self):
        return self.page.get_by_role("log")

    def bot_messages(self):
        return self.page.locator(".message--bot:not(.message--welcome) .message__text")

    def wait_bot_text(self, text: str) -> None:
        expect(self.bot_messages().filter(has_text=text).first).to_be_visible(
            timeout=REPLY_TIMEOUT_MS
        )

    def session_id(self) -> str:
        return json.loads(self.page.evaluate(f"localStorage.getItem('{SESSION_KEY}')"))

    def screenshot(self, suffix: str = "") -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{self.name}{suffix}.png"))

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def open_page(browser, web, request) -> Iterator[Callable[..., Page]]:
    pages: List[Page] = []

    def make(width: int = 1000, height: int = 800, url: str = "", connect: bool = True) -> Page:
        page = Page(browser, url or f"{web.url}/", request.node.name, width, height)
        pages.append(page)
        return page.open(wait_connected=connect)

    yield make
    for page in pages:
        try:
            page.screenshot()
        finally:
            page.close()


def wait_for_slot(
    servers: Servers, session_id: str, slot: str, value: str, timeout: float = 30
) -> Dict:
    """The tracker is saved just after the reply reaches the browser: poll briefly."""
    slots: Dict = {}

    def reached() -> bool:
        slots.update(servers.slots(session_id))
        return slots.get(slot) == value

    try:
        wait_until(reached, timeout, f"{slot} of {session_id} is {value!r}")
    except TimeoutError:
        raise AssertionError(
            f"{slot} of {session_id} is {slots.get(slot)!r}, expected {value!r}"
        ) from None
    return slots


#: the element that has focus, inside the widget's Shadow DOM (document.activeElement is its host)
ACTIVE = """(() => { let a = document.activeElement;
    while (a && a.shadowRoot && a.shadowRoot.activeElement) { a = a.shadowRoot.activeElement; }
    return a; })()"""
#: the widget's Shadow DOM root (the page is the same widget shown full page)
WIDGET_ROOT = "document.querySelector('[data-cramps-chat]').shadowRoot"


def no_csp_violations(page: Page) -> None:
    assert not [e for e in page.errors if "Content Security Policy" in e], page.errors


# ------------------------------------------------------------------ tests ----


def test_question_gets_an_answer_naming_its_section(open_page, servers):
    page = open_page()
    expect(page.page.get_by_role("button", name="Send message")).to_be_enabled()
    # record whether the typing indicator ever shows (the reply may come within a poll interval)
    page.page.evaluate(
        """() => { const typing = """
        + WIDGET_ROOT
        + """.getElementById('typing');
        window.typingShown = false;
        new MutationObserver(() => { if (!typing.hidden) window.typingShown = true; })
            .observe(typing, {attributes: true}); }"""
    )
    page.send("what is a foot cramp?")
    expect(page.page.locator(".message--user").last).to_have_text("You said: what is a foot cramp?")
    page.wait_bot_text(TOPICS["definition"]["section"])
    assert page.page.evaluate("window.typingShown") is True
    expect(page.page.locator("#typing")).to_be_hidden()
    wait_for_slot(servers, page.session_id(), "topic", "definition")
    assert (
        page.page.locator(".message--bot .message__text").last.evaluate(
            "e => getComputedStyle(e).whiteSpace"
        )
        == "pre-line"
    )
    no_csp_violations(page)


def test_quick_reply_button_sends_its_payload(open_page, servers):
    page = open_page()
    page.send("what is a foot cramp?")
    page.wait_bot_text(TOPICS["definition"]["section"])
    title = TOPICS["causes"]["title"]
    button = page.page.get_by_role("group", name="Suggested replies").get_by_role(
        "button", name=title
    )
    expect(button).to_be_visible()
    # keyboard-focusable: focus it and press Enter
    button.focus()
    assert page.page.evaluate(f"{ACTIVE}.textContent") == title
    page.screenshot("-buttons")
    page.page.keyboard.press("Enter")
    expect(page.page.locator(".message--user").last).to_have_text(f"You said: {title}")
    page.wait_bot_text(TOPICS["causes"]["section"])
    wait_for_slot(servers, page.session_id(), "topic", "causes")
    # the used buttons are gone, the new answer offers its own
    expect(page.page.get_by_role("button", name=title)).to_have_count(0)
    no_csp_violations(page)


def test_reload_keeps_history_and_session(open_page, servers):
    page = open_page()
    page.send("what is a foot cramp?")
    page.wait_bot_text(TOPICS["definition"]["section"])
    session = page.session_id()
    before = page.log.inner_text()

    page.page.reload()
    page.wait_connected()
    expect(page.page.locator(".message--user").first).to_have_text(
        "You said: what is a foot cramp?"
    )
    page.wait_bot_text(TOPICS["definition"]["section"])
    assert page.session_id() == session
    assert page.log.inner_text() == before

    page.send("how do I treat foot cramps?")
    page.wait_bot_text(TOPICS["treatment"]["section"])
    wait_for_slot(servers, session, "topic", "treatment")
    said = [e["text"] for e in servers.tracker(session)["events"] if e["event"] == "user"]
    assert said == ["what is a foot cramp?", "how do I treat foot cramps?"]


def test_new_conversation_starts_a_fresh_session(open_page, servers):
    page = open_page()
    page.send("what is a foot cramp?")
    page.wait_bot_text(TOPICS["definition"]["section"])
    old = page.session_id()
    page.page.get_by_role("button", name="New conversation").click()
    expect(page.page.locator(".message--user")).to_have_count(0)
    page.wait_connected()
    new = page.session_id()
    assert new != old
    page.send("how do I treat foot cramps?")
    page.wait_bot_text(TOPICS["treatment"]["section"])
    wait_for_slot(servers, new, "topic", "treatment")
    assert servers.slots(old)["topic"] == "definition"
    page.page.reload()
    page.wait_connected()
    expect(page.page.locator(".message--user")).to_have_count(1)


def test_emergency_shows_an_alert_banner(open_page, servers):
    page = open_page()
    page.send("my chest hurts and I can't breathe")
    alert = page.page.get_by_role("alert")
    expect(alert).to_be_visible(timeout=REPLY_TIMEOUT_MS)
    expect(alert).to_contain_text("911")
    expect(alert).to_contain_text(wording().headlines["emergency"])  # the payload's own headline
    assert "escalation--emergency" in alert.get_attribute("class")
    # visually distinct: the emergency banner is red, not a plain message bubble
    colour = alert.evaluate("e => getComputedStyle(e).borderTopColor")
    assert colour == "rgb(179, 38, 30)", colour
    page.wait_bot_text("911")
    wait_for_slot(servers, page.session_id(), "urgency", "emergency")
    no_csp_violations(page)


def test_markup_is_shown_as_text(open_page):
    page = open_page()
    attack = "<img src=x onerror=alert(1)><script>alert(2)</script>"
    page.send(attack)
    expect(page.page.locator(".message--user").last).to_have_text(f"You said: {attack}")
    # wait for the reply so anything the bot echoes is on the page too
    expect(page.bot_messages()).not_to_have_count(0, timeout=REPLY_TIMEOUT_MS)
    expect(page.page.locator("#typing")).to_be_hidden(timeout=REPLY_TIMEOUT_MS)
    assert page.page.locator("#messages img, #messages script").count() == 0
    assert page.page.locator("img").count() == 0
    page.page.wait_for_timeout(500)
    assert page.dialogs == []
    # after a reload the transcript comes back from localStorage, still as text
    page.page.reload()
    page.wait_connected()
    expect(page.page.locator(".message--user").last).to_have_text(f"You said: {attack}")
    assert page.page.locator("img, #messages script").count() == 0
    assert page.dialogs == []


def test_links_are_built_as_safe_anchors(open_page):
    """Bot text with URLs (restored from the transcript, rendered like a live reply)."""
    page = open_page()
    text = (
        "See https://example.org/cramps. and http://example.com/a?b=1\n"
        "not javascript:alert(3) nor <a href='https://evil.example'>x</a>"
    )
    transcript = [
        {"kind": "message", "from": "bot", "text": text, "quickReplies": [], "active": False}
    ]
    page.page.evaluate(
        "t => localStorage.setItem('cramps-chat.transcript', JSON.stringify(t))", transcript
    )
    page.page.reload()
    page.wait_connected()
    links = page.page.locator(".message--bot a")
    # the markup stays text; the URL inside it is linked like any other
    expect(links).to_have_count(3)
    assert [links.nth(i).get_attribute("href") for i in range(3)] == [
        "https://example.org/cramps",
        "http://example.com/a?b=1",
        "https://evil.example/",
    ]
    for i in range(3):
        assert links.nth(i).get_attribute("rel") == "noopener noreferrer"
        assert links.nth(i).get_attribute("target") == "_blank"
    body = page.bot_messages().last
    expect(body).to_contain_text("<a href='https://evil.example'>x</a>")
    expect(body).to_contain_text("javascript:alert(3)")
    assert page.dialogs == []


def test_fits_a_375_pixel_screen(open_page):
    page = open_page(width=375, height=740)
    page.send("what is a foot cramp?")
    page.wait_bot_text(TOPICS["definition"]["section"])
    page.send("my chest hurts and I can't breathe")
    expect(page.page.get_by_role("alert")).to_be_visible(timeout=REPLY_TIMEOUT_MS)
    page.page.wait_for_timeout(300)
    width = page.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, width
    box = page.page.get_by_label("Your question about foot cramps")
    expect(box).to_be_in_viewport()
    expect(page.page.get_by_role("button", name="Send message")).to_be_in_viewport()
    expect(page.page.get_by_role("button", name="New conversation")).to_be_in_viewport()
    box.click()
    page.page.keyboard.type("does magnesium help?")
    page.page.keyboard.press("Enter")
    expect(page.page.locator(".message--user").last).to_have_text("You said: does magnesium help?")
    page.wait_bot_text(TOPICS["magnesium"]["section"])
    assert page.page.evaluate("document.documentElement.scrollWidth") <= 375
    if AXE.exists():
        assert axe_violations(page) == []


def axe_violations(page: Page) -> List[Dict]:
    """WCAG 2.1 A/AA violations found by axe-core (web/node_modules, a dev dependency)."""
    page.page.evaluate(AXE.read_text(encoding="utf-8"))  # DevTools evaluation: not blocked by CSP
    result = page.page.evaluate("""() => axe.run(document, {runOnly: {type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})""")
    assert len(result["passes"]) > 10  # the audit really ran its rules
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]],
        }
        for v in result["violations"]
    ]


def test_accessibility(open_page):
    page = open_page()
    log = page.page.get_by_role("log")
    assert log.get_attribute("aria-live") == "polite"
    expect(page.page.get_by_label("Your question about foot cramps")).to_have_attribute(
        "id", "message-input"
    )
    expect(page.page.get_by_role("button", name="Send message")).to_be_visible()
    # keyboard focus is visible: an outline appears on the focused input and button
    page.page.get_by_label("Your question about foot cramps").focus()
    page.page.keyboard.press("Tab")
    focused = page.page.evaluate(
        f"() => {{ const a = {ACTIVE}; const s = getComputedStyle(a);"
        " return [a.id, s.outlineStyle, s.outlineWidth]; }"
    )
    assert focused[0] == "send-button" and focused[1] == "solid" and focused[2] == "3px", focused
    # an automated WCAG audit of a page with answers, quick replies and an escalation banner
    page.send("my chest hurts and I can't breathe")
    expect(page.page.get_by_role("alert")).to_be_visible(timeout=REPLY_TIMEOUT_MS)
    # an emergency offers no buttons (nothing may dilute it); a question then brings quick replies
    # and the 👍 / 👎 feedback buttons into the audit too
    page.send("what is a foot cramp?")
    page.wait_bot_text(TOPICS["definition"]["section"])
    expect(page.page.get_by_role("button", name=FEEDBACK["helpful_button"])).to_be_visible()
    if not AXE.exists():
        missing("web/node_modules/axe-core missing: run bash scripts/build_web.sh")
    assert axe_violations(page) == []


def test_feedback_buttons_are_labelled_and_recorded(open_page, servers):
    page = open_page()
    page.send("what is a foot cramp?")
    page.wait_bot_text(TOPICS["definition"]["section"])
    helpful = page.page.get_by_role("button", name=FEEDBACK["helpful_button"])
    unhelpful = page.page.get_by_role("button", name=FEEDBACK["unhelpful_button"])
    expect(helpful).to_be_visible()
    expect(unhelpful).to_be_visible()
    page.screenshot("-feedback")
    unhelpful.click()
    page.wait_bot_text(TOPICS["see_doctor"]["section"])  # the see-a-provider advice follows a 👎
    expect(page.page.get_by_role("button", name=TOPICS["see_doctor"]["title"])).to_be_visible()

    def recorded() -> bool:
        events = servers.tracker(page.session_id())["events"]
        return any(
            e["event"] == "user"
            and (e.get("parse_data") or {}).get("intent", {}).get("name") == "feedback_unhelpful"
            for e in events
        )

    wait_until(recorded, 30, "the 👎 is recorded as its own intent")
    no_csp_violations(page)


def test_security_headers_and_config(web, servers):
    response = requests.get(f"{web.url}/", timeout=10)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert f"connect-src 'self' {servers.url} ws://127.0.0.1:{servers.rasa_port}" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert requests.get(f"{web.url}/config.json", timeout=10).json() == {
        "socketUrl": servers.url,
        "socketPath": "/socket.io",
    }
    assert requests.get(f"{web.url}/vendor/", timeout=10).status_code == 404
    html = response.text
    assert "<script>" not in html and "style=" not in html and "<style" not in html
    # everything the page loads comes from its own origin (no CDN)
    for reference in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert "//" not in reference and not reference.startswith("/"), reference


def test_disallowed_origin_is_rejected(open_page, servers, web):
    polling = f"{servers.url}/socket.io/?EIO=4&transport=polling"
    evil = requests.get(polling, headers={"Origin": "http://evil.example"}, timeout=10)
    assert evil.status_code in (400, 403), evil.status_code
    assert "Access-Control-Allow-Origin" not in evil.headers
    good = requests.get(polling, headers={"Origin": web.url}, timeout=10)
    assert good.status_code == 200 and good.headers["Access-Control-Allow-Origin"] == web.url

    # the same page from an origin Rasa does not allow cannot connect, and says so
    page = open_page(url=f"http://localhost:{web.port}/", connect=False)
    expect(page.page.locator("#status")).to_contain_text(
        "Can't reach the assistant", timeout=20_000
    )
    expect(page.page.get_by_role("button", name="Send message")).to_be_disabled()
    page.send("hello?")
    expect(page.page.locator(".message--user")).to_have_count(0)


def test_reconnects_after_a_server_restart(open_page, restartable_servers):
    """Restarts Rasa (the set made for restarts). Nothing is queued while the server is away, and
    the same session (kept in the SQLite tracker store) goes on once the page has reconnected."""
    servers = restartable_servers
    page = open_page(url=f"{servers.start_page().url}/")
    page.send("what is a foot cramp?")
    page.wait_bot_text(TOPICS["definition"]["section"])
    session = page.session_id()

    servers.stop_rasa()
    expect(page.page.locator("#status")).to_contain_text("Reconnecting", timeout=30_000)
    send = page.page.get_by_role("button", name="Send message")
    expect(send).to_be_disabled()
    page.send("how do I treat foot cramps?")  # Enter while disconnected: nothing is sent
    expect(page.page.locator(".message--user")).to_have_count(1)
    expect(page.page.get_by_label("Your question about foot cramps")).to_have_value(
        "how do I treat foot cramps?"
    )
    page.screenshot("-disconnected")

    servers.start_rasa()
    page.wait_connected()
    expect(page.page.locator("#status")).to_be_hidden()
    send.click()
    page.wait_bot_text(TOPICS["treatment"]["section"])
    wait_for_slot(servers, session, "topic", "treatment")
    said = [e["text"] for e in servers.tracker(session)["events"] if e["event"] == "user"]
    assert said == ["what is a foot cramp?", "how do I treat foot cramps?"]


def test_without_the_action_server_the_banner_still_shows(open_page, servers_without_actions):
    """With the action server down the channel's safety net answers by itself."""
    page = open_page(url=f"{servers_without_actions.start_page().url}/")
    page.send("my chest hurts and I can't breathe")
    alert = page.page.get_by_role("alert")
    expect(alert).to_be_visible(timeout=REPLY_TIMEOUT_MS)
    expect(alert).to_contain_text("911")
    page.wait_bot_text("having trouble")
