"""The web widget's socket.io channel: Rasa's own, with an origin check and working custom payloads.

Use it in credentials.yml as `channels.socketio.SocketIOChannel` (it keeps the name "socketio", so
the widget's URL and the tracker's `input_channel` are the same as with Rasa's channel).

Two things differ from `rasa.core.channels.socketio.SocketIOInput` (Rasa 3.6):

* Rasa creates the python-socketio server with `cors_allowed_origins=[]`, which switches the Origin
  check off: any web page could open a socket to the assistant from a visitor's browser. Ours only
  accepts the origins listed in the credentials key `cors_allowed_origins` (a list), else in the
  environment variable `CHAT_ALLOWED_ORIGINS` (comma-separated), else the local chat page
  (`http://127.0.0.1:8080`, `http://localhost:8080`). A connection from another Origin gets a 400;
  clients that send no Origin header (not browsers) are not affected.
* Rasa's output channel emits a custom payload as `sio.emit(event, **json_message)`, which fails
  (rasa#8445). Ours sends it as an ordinary bot message, `{"custom": {...}}`, to the session's room,
  e.g. `{"custom": {"escalation": {"tier": "emergency", "action": "Call ..."}}}`.

Two fixes as well, found while building the widget:

* Rasa calls `sio.enter_room(...)` without `await`; in python-socketio 5.x it is a coroutine, so with
  `session_persistence: true` the browser never joins its session's room and never receives a
  reply. Ours awaits it.
* Sanic 21.12 (the version Rasa 3.6 pins) cannot serve WebSockets on Python 3.11: every socket dies
  with "Passing coroutines is forbidden" in `asyncio.wait`, and the client then spins on polling.
  There the channel tells clients not to upgrade (`allow_upgrades=False`), so browsers stay on HTTP
  long-polling; on Python 3.10 (or a later Sanic) WebSockets are used as usual. The credentials key
  `allow_upgrades` (true/false) overrides the choice.

Like the project's other channels it wraps the message handler in `channels.safety_net`, so a
turn that produced no reply (action server down) still gets the escalation and a "having trouble"
note, and the widget still shows its banner; and it applies `channels.input_policy`: Rasa's channel
stores any session ID (a NUL or 20,000 characters), and a non-string message, malformed metadata
JSON or a packet over engine.io's 1 MB default end in an exception or a dropped connection and
no reply. Here a `session_request` with an unstorable ID gets a new one; a `user_uttered` event
the policy refuses gets its short reply (`bot_uttered` with `text`, to that socket only) and is
not stored; a long message is cut.

Flood protection (`channels.rate_limit`, settings in `channels.settings`): open connections per
client address are capped (the connection is refused, logged once a minute); a `user_uttered`
over the per-address or per-conversation limit gets the short "too fast" reply on that socket
(after the escalation when it reports a red flag) and is not stored. A page from an origin that is
not allowed is refused with one clear log line per origin naming CHAT_ALLOWED_ORIGINS.

Everything else (session_persistence, `session_request` / `session_confirm`, `user_uttered` with
`session_id`, JWT auth, metadata) behaves as Rasa's channel does.
"""

from __future__ import annotations

import logging
import os
import sys
import uuid
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Union

import rasa.core.channels.channel
import rasa.shared.utils.io
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer
from socketio.exceptions import ConnectionRefusedError

from channels import input_policy, rate_limit
from channels.safety_net import with_safety_net

logger = logging.getLogger(__name__)

#: where the chat page is served by `scripts/serve_web.py` on its default port
DEFAULT_ALLOWED_ORIGINS = ["http://127.0.0.1:8080", "http://localhost:8080"]
ORIGINS_ENV = "CHAT_ALLOWED_ORIGINS"
#: engine.io drops a larger packet by closing the connection, with no reply (its default, 1 MB,
#: silenced a 1.2 MB paste); below this the input policy cuts the text and answers
MAX_PACKET_BYTES = 8_000_000


def _clean_origins(origins: List[Any]) -> List[Text]:
    """Origins as browsers send them: no surrounding blanks, no trailing slash, no empties."""
    cleaned = []
    for origin in origins:
        text = str(origin).strip().rstrip("/")
        if text and text not in cleaned:
            cleaned.append(text)
    return cleaned


def allowed_origins(
    credentials: Optional[Dict[Text, Any]] = None, environ: Optional[Dict[Text, Text]] = None
) -> Union[List[Text], Text]:
    """The origins the socket.io server accepts: credentials, else environment, else the default.

    A credentials value may be a list or a single string; `"*"` (accept any origin) is passed
    through unchanged, but has to be written out explicitly.
    """
    credentials = credentials or {}
    environ = os.environ if environ is None else environ
    configured = credentials.get("cors_allowed_origins")
    if configured is not None:
        if configured == "*":
            return "*"
        if isinstance(configured, str):
            configured = configured.split(",")
        origins = _clean_origins(list(configured))
        if origins:
            return origins
    from_env = environ.get(ORIGINS_ENV, "")
    if from_env.strip() == "*":
        return "*"
    origins = _clean_origins(from_env.split(","))
    return origins or list(DEFAULT_ALLOWED_ORIGINS)


class OriginCheck:
    """engine.io's Origin check (it calls this with each browser request's Origin), logging one
    clear line per refused origin instead of engine.io's generic one."""

    def __init__(self, origins: Union[List[Text], Text]) -> None:
        self.origins = origins
        self.refused: set = set()

    def __call__(self, origin: Optional[Text], environ: Optional[Dict] = None) -> bool:
        if self.origins == "*" or origin in self.origins:
            return True
        if origin is None:
            return False  # no Origin header (not a browser): no CORS header to give
        if origin not in self.refused and len(self.refused) < 1000:
            self.refused.add(origin)
            logger.warning(
                f"socket.io channel refused a page from origin {origin!r}: not in "
                f"{ORIGINS_ENV} (allowed: {', '.join(self.origins)}). To let that site embed the "
                f"chat widget, add its origin to {ORIGINS_ENV} and restart."
            )
        return False


def sanic_websockets_work() -> bool:
    """False for Sanic < 22.12 on Python >= 3.11, whose WebSocket receive loop always crashes."""
    if sys.version_info < (3, 11):
        return True
    try:
        import sanic

        major, minor = (int(part) for part in sanic.__version__.split(".")[:2])
    except (ImportError, AttributeError, ValueError):
        return True
    return (major, minor) >= (22, 12)


class SocketIOChannelOutput(SocketIOOutput):
    """Rasa's socket.io output, with custom JSON sent as a normal bot message."""

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        """Send `{"custom": json_message}` on the bot event to the recipient's room."""
        await self._send_message(recipient_id, {"custom": json_message})


class SocketIOChannel(SocketIOInput):
    """Rasa's socket.io input channel with an Origin allow-list (see the module docstring)."""

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("namespace"),
            credentials.get("session_persistence", False),
            credentials.get("socketio_path", "/socket.io"),
            credentials.get("jwt_key"),
            credentials.get("jwt_method", "HS256"),
            credentials.get("metadata_key", "metadata"),
            cors_allowed_origins=allowed_origins(credentials),
            allow_upgrades=credentials.get("allow_upgrades"),
        )

    def __init__(
        self,
        user_message_evt: Text = "user_uttered",
        bot_message_evt: Text = "bot_uttered",
        namespace: Optional[Text] = None,
        session_persistence: bool = False,
        socketio_path: Optional[Text] = "/socket.io",
        jwt_key: Optional[Text] = None,
        jwt_method: Optional[Text] = "HS256",
        metadata_key: Optional[Text] = "metadata",
        cors_allowed_origins: Optional[Union[List[Text], Text]] = None,
        allow_upgrades: Optional[bool] = None,
    ) -> None:
        super().__init__(
            user_message_evt,
            bot_message_evt,
            namespace,
            session_persistence,
            socketio_path,
            jwt_key,
            jwt_method,
            metadata_key,
        )
        self.cors_allowed_origins = (
            cors_allowed_origins if cors_allowed_origins is not None else allowed_origins()
        )
        self.allow_upgrades = (
            sanic_websockets_work() if allow_upgrades is None else bool(allow_upgrades)
        )

    def get_output_channel(self) -> Optional[OutputChannel]:
        """Our output channel on the running server (None before the blueprint was built)."""
        if self.sio is None:
            rasa.shared.utils.io.raise_warning(
                "SocketIO output channel cannot be recreated. "
                "This is expected behavior when using multiple Sanic "
                "workers or multiple Rasa Open Source instances. "
                "Please use a different channel for external events in these "
                "scenarios."
            )
            return None
        return SocketIOChannelOutput(self.sio, self.bot_message_evt)

    def _verdict(self, sid: Text, data: Any) -> input_policy.Verdict:
        """The input policy's verdict on one `user_uttered` event. With session persistence the
        conversation is the event's `session_id`, else the socket's own id."""
        if not isinstance(data, dict):
            return input_policy.check(sid, None)  # a message without text, from this socket
        sender = data.get("session_id") if self.session_persistence else sid
        return input_policy.check(sender, data.get("message"), data.get(self.metadata_key))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's socket.io blueprint, on a server that checks the Origin header."""
        on_new_message = with_safety_net(on_new_message)  # never silence, even without actions
        sio = AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=OriginCheck(self.cors_allowed_origins),
            allow_upgrades=self.allow_upgrades,
            max_http_buffer_size=MAX_PACKET_BYTES,
        )
        socketio_webhook = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        logger.info(
            f"socket.io channel accepts browser connections from: "
            f"{self.cors_allowed_origins}; WebSocket upgrade "
            f"{'on' if self.allow_upgrades else 'off (HTTP long-polling)'}"
        )

        # kept on the instance for get_output_channel
        self.sio = sio

        @socketio_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @socketio_webhook.listener("before_server_start")
        async def timeouts(app: Any, _: Any) -> None:
            rate_limit.apply_timeouts(app)

        connections = rate_limit.CONNECTIONS

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: Text, environ: Dict, auth: Optional[Dict]) -> bool:
            request = environ.get("sanic.request")
            address = rate_limit.request_address(request) if request is not None else "unknown"
            if not connections.open(sid, address):
                rate_limit.LIMITER.note_refusal("connection", rate_limit.LIMITER.clock())
                raise ConnectionRefusedError(rate_limit.TEXTS["connections"])
            if self.jwt_key:
                jwt_payload = None
                if auth and auth.get("token"):
                    jwt_payload = rasa.core.channels.channel.decode_bearer_token(
                        auth.get("token"), self.jwt_key, self.jwt_algorithm
                    )
                if jwt_payload:
                    logger.debug(f"User {sid} connected to socketIO endpoint.")
                    return True
                return False
            logger.debug(f"User {sid} connected to socketIO endpoint.")
            return True

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: Text) -> None:
            connections.close(sid)
            logger.debug(f"User {sid} disconnected from socketIO endpoint.")

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            session_id = input_policy.clean_sender(
                data.get("session_id") if isinstance(data, dict) else None
            )
            # a missing or unstorable id starts a new session (Rasa's channel: only a missing one)
            session_id = session_id or uuid.uuid4().hex
            if self.session_persistence:
                await _enter_room(sio, sid, session_id, self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)
            logger.debug(f"User {sid} connected to socketIO endpoint.")

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Any) -> None:
            output_channel = SocketIOChannelOutput(sio, self.bot_message_evt)
            verdict = self._verdict(sid, data)
            decision = rate_limit.LIMITER.check(
                connections.address_of(sid), verdict.sender_id if verdict.sender_id else sid
            )
            if not decision.allowed:
                # to this socket only, escalation first; nothing reaches Rasa or the store
                await rate_limit.answer_limited(
                    output_channel, sid, verdict.text, decision.retry_after
                )
                return
            if not verdict.accepted:
                # to this socket only: the message is not stored, the page shows the reply
                await output_channel.send_text_message(sid, verdict.reply)
                return
            await on_new_message(
                UserMessage(
                    verdict.text,
                    output_channel,
                    verdict.sender_id,
                    input_channel=self.name(),
                    metadata=verdict.metadata,
                )
            )

        return socketio_webhook


async def _enter_room(sio: AsyncServer, sid: Text, room: Text, namespace: Optional[Text]) -> None:
    """`enter_room` is a coroutine in newer python-socketio releases and a plain call in older ones."""
    result = sio.enter_room(sid, room, namespace=namespace)
    if hasattr(result, "__await__"):
        await result
