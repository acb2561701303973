#!/usr/bin/env python3
"""Serve the web chat page and widget (web/dist, built by scripts/build_web.sh) on the loopback
interface: the full-page chat at /, the widget any site embeds at /widget.js.

    WEB_PORT=8080 RASA_PUBLIC_URL=http://127.0.0.1:5005 python scripts/serve_web.py

Standard library only. Besides the files it answers GET /config.json with where the browser finds
Rasa's socket.io channel: {"socketUrl": $RASA_PUBLIC_URL, "socketPath": "/socket.io"}.
Every response carries a strict Content-Security-Policy (scripts and styles from this origin only,
no inline code, connections only to this origin and Rasa's), X-Content-Type-Options: nosniff,
Referrer-Policy: no-referrer, and may not be framed. widget.js, widget.css and config.json are
public and may be loaded from any site (Access-Control-Allow-Origin: *); which sites may then
open a conversation is Rasa's decision (CHAT_ALLOWED_ORIGINS).

Rasa must accept this page's origin: list http://127.0.0.1:$WEB_PORT (and http://localhost:$WEB_PORT)
in `cors_allowed_origins` of the socketio channel in credentials.yml, or in CHAT_ALLOWED_ORIGINS.
"""

from __future__ import annotations

import json
import os
import sys
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "web" / "dist"
DEFAULT_RASA_URL = "http://127.0.0.1:5005"
SOCKET_PATH = "/socket.io"
#: what a host page loads from here (`<script src=".../widget.js">`, then config.json): public
CROSS_ORIGIN_FILES = ("/widget.js", "/widget.css", "/config.json")


def rasa_origin(url: str) -> tuple[str, str]:
    """The origin of Rasa's public URL and its WebSocket form (ws:// or wss://)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"RASA_PUBLIC_URL must be an http(s) URL, not {url!r}")
    origin = f"{parts.scheme}://{parts.netloc}"
    ws_scheme = "wss" if parts.scheme == "https" else "ws"
    return origin, f"{ws_scheme}://{parts.netloc}"


def content_security_policy(rasa_url: str) -> str:
    origin, ws_origin = rasa_origin(rasa_url)
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            "font-src 'self'",
            f"connect-src 'self' {origin} {ws_origin}",
            "base-uri 'none'",
            "form-action 'none'",
            "object-src 'none'",
            "frame-ancestors 'none'",
        ]
    )


class ChatPageHandler(SimpleHTTPRequestHandler):
    """Static files from web/dist plus /config.json, with security headers, no directory listings."""

    server_version = "cramps-web"
    sys_version = ""
    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".html": "text/html; charset=utf-8",
        ".js": "text/javascript; charset=utf-8",
        ".css": "text/css; charset=utf-8",
        ".json": "application/json",
        ".map": "application/json",
    }

    def __init__(self, *args, config: bytes, csp: str, **kwargs) -> None:
        self.config = config
        self.csp = csp
        super().__init__(*args, **kwargs)

    def end_headers(self) -> None:
        if self._path_only() in CROSS_ORIGIN_FILES:
            # the widget on other sites: its script, stylesheet and settings load cross-origin
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Cross-Origin-Resource-Policy", "cross-origin")
        self.send_header("Content-Security-Policy", self.csp)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def _path_only(self) -> str:
        return urlsplit(self.path).path

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path = self._path_only()
        if path == "/config.json":
            self._send_config(head=False)
        elif path == "/favicon.ico":
            # no icon: answer "nothing" instead of a 404 in every browser console
            self.send_response(HTTPStatus.NO_CONTENT)
            self.end_headers()
        else:
            super().do_GET()

    def do_HEAD(self) -> None:  # noqa: N802
        if self._path_only() == "/config.json":
            self._send_config(head=True)
        else:
            super().do_HEAD()

    def _send_config(self, head: bool) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.config)))
        self.end_headers()
        if not head:
            self.wfile.write(self.config)

    def list_directory(self, path):  # no directory listings
        self.send_error(HTTPStatus.NOT_FOUND, "Not found")
        return None

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's signature)
        sys.stderr.write(f"{self.address_string()} - {format % args}\n")


def make_server(
    port: int, rasa_url: str, directory: Path = DIST, host: str = "127.0.0.1"
) -> ThreadingHTTPServer:
    config = json.dumps({"socketUrl": rasa_url.rstrip("/"), "socketPath": SOCKET_PATH}).encode()
    handler = partial(
        ChatPageHandler,
        directory=str(directory),
        config=config,
        csp=content_security_policy(rasa_url),
    )
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def main() -> int:
    port = int(os.environ.get("WEB_PORT", "8080"))
    rasa_url = os.environ.get("RASA_PUBLIC_URL", DEFAULT_RASA_URL).strip() or DEFAULT_RASA_URL
    if not (DIST / "index.html").is_file():
        print(
            f"error: {DIST}/index.html missing; build the page first: bash scripts/build_web.sh",
            file=sys.stderr,
        )
        return 1
    try:
        server = make_server(port, rasa_url)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    host, bound_port = server.server_address[:2]
    print(f"==> chat page: http://{host}:{bound_port}/  (serving {DIST})", flush=True)
    print(
        f"==> the page talks to Rasa at {rasa_url}{SOCKET_PATH}; Rasa's socketio channel must "
        f"allow the origin http://{host}:{bound_port}",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
