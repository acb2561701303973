"""The flood limits on the real servers (channels/rate_limit.py), from loopback addresses other
than 127.0.0.1 (which the harness exempts): REST's 429, socket.io's short reply, the escalation of
a throttled red flag, nothing stored, the connection cap, Sanic's request timeout, and the flood
itself (cramp_harness.flood: one address at 20x a person's rate while ten people chat).
"""

from __future__ import annotations

import queue
import socket
import uuid
from typing import Any, Dict, List

import pytest
import requests
import socketio

from channels import input_policy, rate_limit
from channels.settings import Limits
from cramp_harness import flood
from cramp_nlu.escalation import wording

pytestmark = pytest.mark.integration

LIMITS = Limits.from_env({})  # the servers run with the default limits
RED_FLAG = "my chest hurts and I can't breathe"


def rest(url: str, address: str, sender: str, message: str) -> requests.Response:
    return flood.session_from(address).post(
        f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=60
    )


def user_texts(servers, sender: str) -> List[str]:
    events = servers.tracker(sender)["events"]
    return [e.get("text") for e in events if e["event"] == "user"]


def test_rest_answers_429_with_retry_after_a_reason_and_the_escalation(servers):
    address = "127.0.0.60"
    # empty messages cost no turn but count: the address's burst is used up quickly
    statuses = [
        rest(servers.url, address, f"burst-{uuid.uuid4().hex}", " ").status_code
        for _ in range(int(LIMITS.address_burst) + 5)
    ]
    assert 429 in statuses
    assert statuses[: int(LIMITS.address_burst) - 2] == [200] * (int(LIMITS.address_burst) - 2)
    sender = f"limited-{uuid.uuid4().hex}"
    answer = rest(servers.url, address, sender, RED_FLAG)
    assert answer.status_code == 429
    retry_after = int(answer.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    body = answer.json()
    assert body["retry_after"] == retry_after
    assert body["reason"] == rate_limit.http_reason(retry_after)["reason"]
    # the escalation first (same detector and words as the safety net), then the short reply
    escalation, reply = body["messages"]
    assert escalation["custom"]["escalation"]["tier"] == "emergency"
    assert wording().actions["emergency"] in escalation["text"]
    assert reply["text"] == rate_limit.reply_text(retry_after)
    assert escalation["recipient_id"] == reply["recipient_id"] == sender
    # not stored as a turn
    assert user_texts(servers, sender) == []
    # other addresses are not affected
    assert rest(servers.url, "127.0.0.61", f"other-{uuid.uuid4().hex}", " ").status_code == 200


def test_rest_conversation_limit(servers):
    sender = f"chatty-{uuid.uuid4().hex}"
    statuses = [
        rest(servers.url, "127.0.0.62", sender, " ").status_code
        for _ in range(int(LIMITS.conversation_burst) + 3)
    ]
    assert statuses[: int(LIMITS.conversation_burst) - 1] == [200] * (
        int(LIMITS.conversation_burst) - 1
    )
    assert statuses[-1] == 429


class Chat:
    """A socket.io client from a chosen loopback address, speaking the widget's events."""

    def __init__(self, url: str, address: str) -> None:
        self.replies: "queue.Queue[Dict[str, Any]]" = queue.Queue()
        confirmed: "queue.Queue[Any]" = queue.Queue()
        self.sio = socketio.Client(reconnection=False, http_session=flood.session_from(address))
        self.sio.on("bot_uttered", self.replies.put)
        self.sio.on("session_confirm", confirmed.put)
        self.sio.connect(url, transports=["polling"], socketio_path="/socket.io", wait_timeout=30)
        self.session = f"sio-limit-{uuid.uuid4().hex}"
        self.sio.emit("session_request", {"session_id": self.session})
        assert confirmed.get(timeout=30) == self.session

    def send(self, text: str, wanted: int = 1) -> List[Dict[str, Any]]:
        self.sio.emit("user_uttered", {"message": text, "session_id": self.session})
        return [self.replies.get(timeout=60) for _ in range(wanted)]

    def close(self) -> None:
        self.sio.eio.disconnect(abort=True)


def test_socketio_replies_briefly_escalates_and_stores_nothing(servers):
    chat = Chat(servers.url, "127.0.0.63")
    try:
        for _ in range(int(LIMITS.conversation_burst)):
            (reply,) = chat.send(" ")  # the input policy's "no text" reply: cheap, but counted
            assert reply["text"] == input_policy.REPLIES["empty"]
        # the escalation first (its text, then its banner payload), then the short reply
        text, payload, limited = chat.send(RED_FLAG, wanted=3)
        assert wording().actions["emergency"] in text["text"]
        assert payload["custom"]["escalation"]["tier"] == "emergency"
        assert limited["text"].startswith(rate_limit.reply_text(1)[:40])
        (again,) = chat.send("what is a foot cramp?")
        assert again["text"].startswith(rate_limit.reply_text(1)[:40])
        assert user_texts(servers, chat.session) == []
    finally:
        chat.close()


def test_socketio_connections_per_address_are_capped(servers):
    address = "127.0.0.64"
    chats = []
    try:
        for _ in range(LIMITS.connections_per_address):
            chats.append(Chat(servers.url, address))
        with pytest.raises(socketio.exceptions.ConnectionError):
            Chat(servers.url, address)
        assert "per-connection limit" in servers.log()
        Chat(servers.url, "127.0.0.65").close()  # another address still connects
    finally:
        for chat in chats:
            chat.close()


def test_a_slow_client_is_cut_off_by_the_request_timeout(servers):
    with socket.create_connection(
        ("127.0.0.1", servers.rasa_port),
        timeout=LIMITS.request_timeout + 10,
        source_address=("127.0.0.66", 0),
    ) as slow:
        slow.sendall(b"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: x\r\n")  # and then nothing
        answer = slow.recv(1024)
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408"), answer


def test_a_messaging_app_conversation_is_limited_with_a_reply(servers, platforms):
    """Telegram (as Slack and Twilio): per conversation only, the reply goes over the platform."""
    import random
    import time

    from cramp_harness.standins import TELEGRAM_SECRET

    telegram = platforms.telegram
    chat_id = random.randint(600_000_000, 699_999_999)

    def update(text: str) -> requests.Response:
        person = {"id": chat_id, "is_bot": False, "first_name": "Pat"}
        body = {
            "update_id": random.randint(1, 10**9),
            "message": {
                "message_id": random.randint(1, 10**9),
                "from": person,
                "date": int(time.time()),
                "chat": {"id": chat_id, "first_name": "Pat", "type": "private"},
                "text": text,
            },
        }
        return requests.post(
            f"{servers.url}/webhooks/telegram/webhook",
            json=body,
            headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
            timeout=60,
        )

    for _ in range(int(LIMITS.conversation_burst)):
        assert update(" ").json()["status"] == "refused"  # the policy's reply, counted
    limited = update(RED_FLAG)
    assert limited.status_code == 200  # Telegram would retry anything else
    assert limited.json()["status"] == "limited"
    sent = telegram.wait_for(
        lambda r: r.api_method == "sendMessage" and str(r.data.get("chat_id")) == str(chat_id),
        count=int(LIMITS.conversation_burst) + 2,
    )
    escalation, reply = [r.data["text"] for r in sent[-2:]]
    assert wording().actions["emergency"] in escalation
    assert reply.startswith(rate_limit.reply_text(1)[:40])
    assert user_texts(servers, str(chat_id)) == []


def test_a_flood_leaves_ordinary_users_answered_in_time(servers):
    result = flood.run(servers.url, servers.tracker_db, seconds=12, rounds=2, limits=LIMITS)
    print(flood.dumps(result))
    assert flood.check(result, max_p95_ratio=1.5) == [], result
