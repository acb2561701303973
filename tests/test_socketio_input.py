"""Bad input over the chat page's socket.io channel, with a real socket.io client against the real
action server and Rasa server (the project's credentials: our socket.io channel with session
persistence, as the page uses it).

Each case gets a reply or a clear refusal (`session_confirm` with a new ID, or a `bot_uttered`
message with the input policy's text), the next normal message is answered, and nothing
unstorable lands in the tracker store. Before the input policy a 20,000-character or NUL session
ID was stored, and a 1.2 MB message, malformed metadata or a non-string message got no reply.
"""

from __future__ import annotations

import json
import queue
import sqlite3
import uuid
from typing import Any, Dict, Iterator, List

import pytest
import socketio

from channels import input_policy
from channels.input_policy import MAX_MESSAGE_CHARS, REPLIES

pytestmark = pytest.mark.integration

NORMAL = "what is a foot cramp"
FIRST_REPLY_TIMEOUT = 120  # a turn on two busy cores, with other servers loading
QUIET = 2.5  # no further bot message for this long: the turn is over


class Chat:
    """One socket.io connection to Rasa, speaking the chat page's events (web/src/chat.js)."""

    def __init__(self, url: str) -> None:
        self.replies: "queue.Queue[Dict[str, Any]]" = queue.Queue()
        self.confirmed: "queue.Queue[Any]" = queue.Queue()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("bot_uttered", self.replies.put)
        self.sio.on("session_confirm", self.confirmed.put)
        # long-polling, as browsers use it on Python 3.11 (see channels/socketio.py)
        self.sio.connect(url, transports=["polling"], socketio_path="/socket.io", wait_timeout=30)

    def session(self, session_id: Any) -> Any:
        """What `session_confirm` answers to a `session_request` with `session_id`."""
        self.sio.emit("session_request", {"session_id": session_id})
        return self.confirmed.get(timeout=30)

    def send(self, data: Any) -> List[Dict[str, Any]]:
        """Emits one `user_uttered` event; the bot messages it produced."""
        self.sio.emit("user_uttered", data)
        replies = [self.replies.get(timeout=FIRST_REPLY_TIMEOUT)]
        while True:
            try:
                replies.append(self.replies.get(timeout=QUIET))
            except queue.Empty:
                return replies

    def close(self) -> None:
        # without abort the client waits for its pending long-poll, which the server holds until
        # its next ping: 25-30 s per test (the server drops the session by itself)
        self.sio.eio.disconnect(abort=True)


@pytest.fixture
def chat(servers) -> Iterator[Chat]:
    connection = Chat(servers.url)
    yield connection
    connection.close()


@pytest.fixture
def session(chat) -> str:
    """A fresh conversation, confirmed by the server as the page gets it."""
    wanted = f"sio-{uuid.uuid4().hex}"
    assert chat.session(wanted) == wanted
    return wanted


def texts(replies: List[Dict[str, Any]]) -> str:
    return " ".join(str(r.get("text", "")) for r in replies)


def user_texts(servers, sender: str) -> List[str]:
    return [e["text"] for e in servers.tracker(sender)["events"] if e["event"] == "user"]


def assert_answered_normally(chat: Chat, servers, session_id: str) -> None:
    replies = chat.send({"message": NORMAL, "session_id": session_id})
    assert "charley horse" in texts(replies).lower(), replies
    assert servers.slots(session_id)["topic"] == "definition"


def stored_rows(servers) -> List[tuple]:
    with sqlite3.connect(f"file:{servers.tracker_db}?mode=ro", uri=True) as db:
        return db.execute("SELECT sender_id, type_name, data FROM events").fetchall()


def assert_store_holds_nothing_unstorable(servers) -> None:
    rows = stored_rows(servers)
    assert rows, "the tracker store is empty: is it the one Rasa writes?"
    for sender_id, type_name, data in rows:
        assert input_policy.clean_sender(sender_id) == sender_id, repr(sender_id[:80])
        if type_name == "user":
            text = json.loads(data).get("text") or ""
            assert len(text) <= MAX_MESSAGE_CHARS and "\x00" not in text


@pytest.mark.parametrize(
    "bad_id", ["s" * 20_000, "nul\x00session-id"], ids=["20000 characters", "NUL"]
)
def test_unstorable_session_ids_are_refused_and_the_chat_goes_on(servers, chat, bad_id):
    confirmed = chat.session(bad_id)
    assert isinstance(confirmed, str) and confirmed != bad_id
    assert input_policy.clean_sender(confirmed) == confirmed  # a new, storable session

    # a client that ignores the new ID and sends under the bad one anyway is told so
    assert chat.send({"message": NORMAL, "session_id": bad_id}) == [{"text": REPLIES["sender"]}]

    assert_answered_normally(chat, servers, confirmed)
    assert_store_holds_nothing_unstorable(servers)


def test_a_12_mb_message_is_cut_and_answered(servers, chat, session):
    huge = ("my foot cramps every night and I do not know why " * 25_000)[:1_200_000]
    replies = chat.send({"message": huge, "session_id": session})
    assert texts(replies).strip(), replies
    stored = user_texts(servers, session)
    assert len(stored) == 1 and stored[0] == huge[:MAX_MESSAGE_CHARS]
    assert_answered_normally(chat, servers, session)
    assert_store_holds_nothing_unstorable(servers)


@pytest.mark.parametrize(
    "data, reason",
    [
        ({"message": "hello", "metadata": "{not json"}, "metadata"),
        ({"message": "hello", "metadata": "[1, 2, 3]"}, "metadata"),
        ({"message": {"text": "hello"}}, "not_text"),
        ({"message": 42}, "not_text"),
        ({"message": None}, "not_text"),
        ({"message": "  \x00 "}, "empty"),
    ],
    ids=[
        "malformed metadata",
        "metadata not an object",
        "message is an object",
        "message is a number",
        "message is null",
        "only blanks and NUL",
    ],
)
def test_unreadable_messages_get_a_reply_and_are_not_stored(servers, chat, session, data, reason):
    assert chat.send({**data, "session_id": session}) == [{"text": REPLIES[reason]}]
    assert user_texts(servers, session) == []
    assert_answered_normally(chat, servers, session)


def test_an_event_that_is_not_an_object_gets_a_reply(servers, chat, session):
    assert chat.send("hello") == [{"text": REPLIES["not_text"]}]
    assert_answered_normally(chat, servers, session)


def test_control_characters_are_dropped_before_rasa(servers, chat, session):
    replies = chat.send({"message": "what is a \x1b[31mfoot\x00 cramp\x7f", "session_id": session})
    assert texts(replies).strip()
    assert user_texts(servers, session) == ["what is a [31mfoot cramp"]
