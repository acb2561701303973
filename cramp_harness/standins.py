"""Local stand-ins for the messaging platforms' HTTP APIs (loopback only, for integration tests).

Each stand-in is an `http.server` in a thread on a free 127.0.0.1 port. It records every request
and answers the few methods our channels call the way the real API does:

* Telegram Bot API: POST /bot<token>/<method> (getMe, getWebhookInfo, setWebhook, sendMessage,
  answerCallbackQuery) -> {"ok": true, "result": ...}
* Slack Web API: POST /api/chat.postMessage (JSON, Bearer token) -> {"ok": true, "channel", "ts",
  "message"}
* Twilio REST API: POST /2010-04-01/Accounts/<sid>/Messages.json (form, basic auth) -> 201 and a
  Message resource

`Platforms` starts all three with test credentials and gives the environment that points our
channels at them; it must run before Rasa starts (the channels read it at start-up).
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import parse_qsl, urlparse

from cramp_harness.processes import wait_until


@dataclass
class Recorded:
    method: str
    path: str
    headers: Dict[str, str]
    body: bytes
    #: the body parsed: JSON object, or form fields (urlencoded or multipart)
    data: Dict[str, Any] = field(default_factory=dict)

    @property
    def api_method(self) -> str:
        """The last path segment: sendMessage, chat.postMessage, Messages.json."""
        return self.path.rstrip("/").rsplit("/", 1)[-1]


def parse_body(content_type: str, body: bytes) -> Dict[str, Any]:
    content_type = content_type or ""
    if content_type.startswith("application/json"):
        try:
            parsed = json.loads(body or b"{}")
            return parsed if isinstance(parsed, dict) else {"_": parsed}
        except ValueError:
            return {}
    if content_type.startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        return {
            part.get_param("name", header="content-disposition"): part.get_payload(
                decode=True
            ).decode("utf-8", "replace")
            for part in message.iter_parts()
        }
    return {}


Handler = Callable[[Recorded], Tuple[int, Dict[str, Any]]]


class StandIn:
    """A recording HTTP server; `handle(recorded)` returns (status, JSON body)."""

    name = "stand-in"

    def __init__(self) -> None:
        self.requests: List[Recorded] = []
        self._lock = threading.Lock()
        self._server: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None

    # ---- lifecycle
    def start(self) -> "StandIn":
        stand_in = self

        class RequestHandler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                recorded = Recorded(
                    self.command,
                    self.path,
                    dict(self.headers.items()),
                    body,
                    parse_body(self.headers.get("Content-Type", ""), body),
                )
                with stand_in._lock:
                    stand_in.requests.append(recorded)
                try:
                    status, payload = stand_in.handle(recorded)
                except Exception as error:  # a bug in a stand-in must show, not hang
                    status, payload = 500, {"error": repr(error)}
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

            def log_message(self, *args: Any) -> None:  # keep pytest output clean
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=self.name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def port(self) -> int:
        assert self._server is not None, "not started"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ---- inspection
    def handle(self, recorded: Recorded) -> Tuple[int, Dict[str, Any]]:
        raise NotImplementedError

    def recorded(self, predicate: Callable[[Recorded], bool] = lambda r: True) -> List[Recorded]:
        with self._lock:
            return [r for r in self.requests if predicate(r)]

    def wait_for(
        self, predicate: Callable[[Recorded], bool], count: int = 1, timeout: float = 30.0
    ) -> List[Recorded]:
        """The matching requests once there are at least `count` of them (raises after timeout)."""
        wait_until(
            lambda: len(self.recorded(predicate)) >= count,
            timeout,
            f"{self.name}: {count} matching requests",
            interval=0.1,
            details=lambda: (
                f"found {len(self.recorded(predicate))}; all: "
                f"{[(r.path, r.data) for r in self.recorded()]}"
            ),
        )
        return self.recorded(predicate)

    def wait_quiet(
        self, predicate: Callable[[Recorded], bool], seconds: float, settle: float = 1.0
    ) -> List[Recorded]:
        """Waits `seconds`, then until nothing new matched for `settle` seconds; returns the
        matches (for checking that nothing arrives)."""
        time.sleep(seconds)
        seen = len(self.recorded(predicate))
        while True:
            time.sleep(settle)
            now = len(self.recorded(predicate))
            if now == seen:
                return self.recorded(predicate)
            seen = now


class TelegramAPI(StandIn):
    """Telegram Bot API stand-in for one bot."""

    name = "telegram-api"

    def __init__(self, token: str, username: str, bot_id: int = 7000001) -> None:
        super().__init__()
        self.token, self.username, self.bot_id = token, username, bot_id
        self.webhook_url = ""
        self._ids = itertools.count(1)

    def bot(self) -> Dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Cramp helper",
            "username": self.username,
        }

    def handle(self, r: Recorded) -> Tuple[int, Dict[str, Any]]:
        prefix = f"/bot{self.token}/"
        if not urlparse(r.path).path.startswith(prefix):
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        method = urlparse(r.path).path[len(prefix) :]
        if method == "getMe":
            return 200, {"ok": True, "result": self.bot()}
        if method == "getWebhookInfo":
            return 200, {
                "ok": True,
                "result": {
                    "url": self.webhook_url,
                    "has_custom_certificate": False,
                    "pending_update_count": 0,
                },
            }
        if method == "setWebhook":
            self.webhook_url = r.data.get("url", "")
            return 200, {"ok": True, "result": True, "description": "Webhook was set"}
        if method == "answerCallbackQuery":
            return 200, {"ok": True, "result": True}
        if method == "sendMessage":
            if not r.data.get("chat_id") or not r.data.get("text"):
                return 400, {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: message text is empty",
                }
            chat_id = int(r.data["chat_id"])
            return 200, {
                "ok": True,
                "result": {
                    "message_id": next(self._ids),
                    "from": self.bot(),
                    "date": int(time.time()),
                    "chat": {"id": chat_id, "first_name": "Pat", "type": "private"},
                    "text": r.data["text"],
                },
            }
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}

    def sent_to(self, chat_id: int) -> List[Recorded]:
        return self.recorded(
            lambda r: r.api_method == "sendMessage" and str(r.data.get("chat_id")) == str(chat_id)
        )


class SlackAPI(StandIn):
    """Slack Web API stand-in (chat.postMessage) for one bot token."""

    name = "slack-api"

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self._ts = itertools.count(1)

    def handle(self, r: Recorded) -> Tuple[int, Dict[str, Any]]:
        if r.headers.get("Authorization") != f"Bearer {self.token}":
            return 200, {"ok": False, "error": "invalid_auth"}
        if urlparse(r.path).path != "/api/chat.postMessage":
            return 200, {"ok": False, "error": "unknown_method"}
        if not r.data.get("channel"):
            return 200, {"ok": False, "error": "channel_not_found"}
        if not (r.data.get("text") or r.data.get("blocks") or r.data.get("attachments")):
            return 200, {"ok": False, "error": "no_text"}
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        return 200, {
            "ok": True,
            "channel": r.data["channel"],
            "ts": ts,
            "message": {
                "type": "message",
                "subtype": "bot_message",
                "bot_id": "B0CRAMP",
                "text": r.data.get("text", ""),
                "ts": ts,
            },
        }

    def posted_to(self, channel: str) -> List[Recorded]:
        return self.recorded(
            lambda r: r.api_method == "chat.postMessage" and r.data.get("channel") == channel
        )


class TwilioAPI(StandIn):
    """Twilio REST API stand-in (Messages.json) for one account."""

    name = "twilio-api"

    def __init__(self, account_sid: str, auth_token: str) -> None:
        super().__init__()
        self.account_sid, self.auth_token = account_sid, auth_token
        self._ids = itertools.count(1)

    def handle(self, r: Recorded) -> Tuple[int, Dict[str, Any]]:
        expected = (
            "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        )
        if r.headers.get("Authorization") != expected:
            return 401, {
                "code": 20003,
                "message": "Authenticate",
                "status": 401,
                "more_info": "https://www.twilio.com/docs/errors/20003",
            }
        path = urlparse(r.path).path
        if path != f"/2010-04-01/Accounts/{self.account_sid}/Messages.json" or r.method != "POST":
            return 404, {
                "code": 20404,
                "message": "The requested resource was not found",
                "status": 404,
            }
        if (
            not r.data.get("To")
            or not r.data.get("From")
            or not (r.data.get("Body") or r.data.get("MediaUrl"))
        ):
            return 400, {"code": 21602, "message": "Message body is required.", "status": 400}
        sid = f"SM{next(self._ids):032x}"
        now = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
        return 201, {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": r.data.get("Body", ""),
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": r.data["From"],
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {
                "media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"
            },
            "to": r.data["To"],
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }

    def sent_to(self, number: str) -> List[Recorded]:
        return self.recorded(
            lambda r: r.api_method == "Messages.json" and r.data.get("To") == number
        )


# ---- all three, with test credentials (none of them real) --------------------------------------
TELEGRAM_TOKEN = "7000001:AAH-test-token-not-real"
TELEGRAM_USERNAME = "CrampHelperBot"
TELEGRAM_SECRET = "tg-secret-123"
TELEGRAM_WEBHOOK_URL = "https://cramps.example.org/webhooks/telegram/webhook"
SLACK_TOKEN = "xoxb-test-token"
SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TWILIO_SID = "AC" + "0" * 31 + "1"
TWILIO_TOKEN = "twilio-auth-token-test"
TWILIO_NUMBER = "whatsapp:+14155238886"
#: every variable our messaging channels read (set them all to "" for "no channel configured")
CHANNEL_VARS = [
    "TELEGRAM_TOKEN",
    "TELEGRAM_BOT_USERNAME",
    "TELEGRAM_WEBHOOK_URL",
    "TELEGRAM_SECRET_TOKEN",
    "TELEGRAM_API_URL",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_API_URL",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_NUMBER",
    "TWILIO_WEBHOOK_URL",
    "TWILIO_API_URL",
]


class Platforms:
    """The Telegram, Slack and Twilio stand-ins, started and stopped together."""

    def __init__(self) -> None:
        self.telegram = TelegramAPI(TELEGRAM_TOKEN, TELEGRAM_USERNAME)
        self.slack = SlackAPI(SLACK_TOKEN)
        self.twilio = TwilioAPI(TWILIO_SID, TWILIO_TOKEN)

    def start(self) -> "Platforms":
        for api in (self.telegram, self.slack, self.twilio):
            api.start()
        return self

    def stop(self) -> None:
        for api in (self.telegram, self.slack, self.twilio):
            api.stop()

    def env(self) -> Dict[str, str]:
        """The environment that enables our three channels against these stand-ins."""
        return {
            "TELEGRAM_TOKEN": TELEGRAM_TOKEN,
            "TELEGRAM_BOT_USERNAME": TELEGRAM_USERNAME,
            "TELEGRAM_WEBHOOK_URL": TELEGRAM_WEBHOOK_URL,
            "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
            "TELEGRAM_API_URL": self.telegram.base_url,
            "SLACK_BOT_TOKEN": SLACK_TOKEN,
            "SLACK_SIGNING_SECRET": SLACK_SECRET,
            "SLACK_API_URL": f"{self.slack.base_url}/api/",
            "TWILIO_ACCOUNT_SID": TWILIO_SID,
            "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "TWILIO_NUMBER": TWILIO_NUMBER,
            "TWILIO_WEBHOOK_URL": "",
            "TWILIO_API_URL": self.twilio.base_url,
        }
