"""deploy/nginx's flood limits with a real nginx (Debian's package; skipped when it is missing)
in front of a stand-in for Rasa: the configuration the cluster test builds passes `nginx -t`, a
flood from one address gets 429 with Retry-After and a JSON reason, and the messaging apps'
webhooks are not limited per address."""

from __future__ import annotations

import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from cramp_harness.flood import session_from
from cramp_harness.nginx import start_nginx
from cramp_harness.processes import Supervisor

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx not installed (make services)")


class Upstream(BaseHTTPRequestHandler):
    """Answers every request like Rasa's REST channel would, at once."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = json.dumps([{"recipient_id": "x", "text": "ok"}]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    procs = Supervisor(tmp_path_factory.mktemp("nginx"))
    nginx = start_nginx(procs, "nginx", [upstream.server_address[1]])
    yield nginx.url
    procs.stop_all(5)
    upstream.shutdown()


def post(url: str, address: str, path: str = "/webhooks/rest/webhook"):
    return session_from(address).post(f"{url}{path}", json={"sender": "s", "message": "m"})


def test_a_flood_from_one_address_gets_429_with_a_json_reason(proxy):
    statuses = [post(proxy, "127.0.0.2").status_code for _ in range(60)]
    assert statuses[:20] == [200] * 20  # the burst
    assert statuses.count(429) >= 25
    limited = post(proxy, "127.0.0.2")
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.json()["retry_after"] >= 1 and limited.json()["reason"]
    # another address is not affected; the exempt 127.0.0.1 (the cluster test's) never is
    assert post(proxy, "127.0.0.3").status_code == 200
    assert all(post(proxy, "127.0.0.1").status_code == 200 for _ in range(40))


def test_messaging_webhooks_are_not_limited_per_address(proxy):
    # Telegram, Slack and Twilio send for all their users from a few addresses
    statuses = [
        post(proxy, "127.0.0.4", "/webhooks/telegram/webhook").status_code for _ in range(40)
    ]
    assert statuses == [200] * 40
