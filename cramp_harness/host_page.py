"""A site owner's pages that embed the chat widget with its one script tag, on another origin.

    .venv/bin/python -m cramp_harness.host_page --port 8090 --widget http://127.0.0.1:8080/widget.js

serves, on 127.0.0.1:<port>, two pages of a made-up blog (`/`, `/page2.html`) with hostile CSS of
their own (`/hostile.css`: `!important` on every element, a tiny root font size, `[hidden]` shown)
and a strict Content-Security-Policy (no inline script or style, no eval; scripts and connections
only from the page itself and the assistant), plus `/plain.html` (the same blog without the hostile
CSS, to compare the widget's looks). The browser tests (tests/test_widget_host.py) use it; by hand
it is how a site owner tries the tag (`make run`, then open http://127.0.0.1:8090/). Remember to
allow its origin: CHAT_ALLOWED_ORIGINS=http://127.0.0.1:8080,http://127.0.0.1:8090 make run.
"""

from __future__ import annotations

import argparse
import html
import threading
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, Optional, Tuple
from urllib.parse import urlsplit

#: the host's own styles: everything it could do to a guest's elements, all !important
HOSTILE_CSS = """
html { font-size: 6px !important; }
* {
  font-family: "Courier New", monospace !important;
  font-size: 26px !important;
  line-height: 3 !important;
  letter-spacing: 4px !important;
  text-transform: uppercase !important;
  color: #ff00ff !important;
  box-sizing: content-box !important;
}
div, p, section, form, header, main, button, input, span, label, h1, h2 {
  background: #ffff00 !important;
  border: 6px dashed #ff0000 !important;
  padding: 30px !important;
  margin: 30px !important;
  display: block !important;
  position: static !important;
  width: 300px !important;
  border-radius: 0 !important;
}
[hidden] { display: block !important; }
body > * { opacity: 0.6 !important; transform: rotate(2deg) !important; }
button { font-size: 40px !important; }
#probe { color: #123456 !important; }
"""

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
{stylesheet}
</head>
<body>
<header><h1>{title}</h1></header>
<main>
<p id="probe">Night cramps: a podiatrist's notes for runners and walkers.</p>
<p><a href="{other}">{other_label}</a></p>
</main>
<script src="{widget}" async{attributes}></script>
</body>
</html>
"""

PAGES: Dict[str, Tuple[str, bool, str, str]] = {
    # path: (title, hostile css, link to, link text)
    "/": ("Foot health blog", True, "/page2.html", "Next post"),
    "/index.html": ("Foot health blog", True, "/page2.html", "Next post"),
    "/page2.html": ("Foot health blog: part two", True, "/", "Previous post"),
    "/plain.html": ("Foot health blog", False, "/", "Home"),
    # the tag with data-server: Rasa's address given on the tag, config.json never asked for
    "/direct.html": ("Foot health blog", True, "/", "Home"),
}


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def host_csp(widget_url: str, rasa_url: str) -> str:
    """A strict policy: what a careful site sends, plus the entries the README tells it to add."""
    assistant = origin_of(widget_url)
    rasa = origin_of(rasa_url)
    ws = rasa.replace("https://", "wss://").replace("http://", "ws://")
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src 'self' {assistant}",
            "style-src 'self'",
            "img-src 'self'",
            f"connect-src 'self' {assistant} {rasa} {ws}",
            "base-uri 'none'",
            "form-action 'none'",
            "object-src 'none'",
        ]
    )


class HostHandler(BaseHTTPRequestHandler):
    server_version = "host-page"
    sys_version = ""

    def __init__(self, *args, widget: str, rasa: str, csp: str, attributes: str, **kwargs) -> None:
        self.widget = widget
        self.rasa = rasa
        self.csp = csp
        self.attributes = attributes
        super().__init__(*args, **kwargs)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", self.csp)
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        path = urlsplit(self.path).path
        if path == "/hostile.css":
            self._send(HTTPStatus.OK, HOSTILE_CSS.encode(), "text/css; charset=utf-8")
            return
        if path == "/favicon.ico":
            self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon")
            return
        if path not in PAGES:
            self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")
            return
        title, hostile, other, other_label = PAGES[path]
        page = PAGE.format(
            title=html.escape(title),
            stylesheet='<link rel="stylesheet" href="/hostile.css">' if hostile else "",
            other=other,
            other_label=html.escape(other_label),
            widget=html.escape(self.widget, quote=True),
            attributes=self.attributes
            + (
                f' data-server="{html.escape(self.rasa, quote=True)}"'
                if path == "/direct.html"
                else ""
            ),
        )
        self._send(HTTPStatus.OK, page.encode(), "text/html; charset=utf-8")

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        pass


def serve(
    port: int, widget_url: str, rasa_url: str, attributes: str = "", host: str = "127.0.0.1"
) -> ThreadingHTTPServer:
    """The host pages' server (not started: call serve_forever, or use `start_in_thread`)."""
    handler = partial(
        HostHandler,
        widget=widget_url,
        rasa=rasa_url,
        csp=host_csp(widget_url, rasa_url),
        attributes=attributes,
    )
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def start_in_thread(
    port: int, widget_url: str, rasa_url: str, attributes: str = ""
) -> ThreadingHTTPServer:
    server = serve(port, widget_url, rasa_url, attributes)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--widget", default="http://127.0.0.1:8080/widget.js")
    parser.add_argument("--rasa", default="http://127.0.0.1:5005")
    parser.add_argument("--attributes", default="", help="e.g. ' data-side=\"left\"'")
    args = parser.parse_args(argv)
    server = serve(args.port, args.widget, args.rasa, args.attributes)
    print(f"==> host pages on http://127.0.0.1:{args.port}/ (widget {args.widget})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
