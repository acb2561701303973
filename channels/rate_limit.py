"""Flood protection inside the Rasa process: token buckets per client address and per conversation,
a cap on open socket.io connections per address, the client address behind a trusted proxy, and
Sanic's timeouts. `make run` is protected without nginx; in production nginx limits first
(deploy/nginx/proxy.conf) and these still hold per replica.

A message over a limit never reaches Rasa, so it is never stored as a turn, and it is never met
with silence: REST answers 429 with Retry-After and a JSON reason, socket.io and the messaging apps
get a short reply over their own connection (the sentences: `data/rate_limit.yml`). A throttled
message that reports a red flag still gets the escalation first, from the channels' safety net
(`channels.safety_net.escalation`): an emergency is never rate-limited silently.

Settings: `channels.settings` (environment variables, read once). Pure Python apart from reading
a Sanic request's peer address; unit-tested in tests/test_rate_limit.py.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from importlib import resources
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import yaml

from channels.settings import LIMITS, Limits

logger = logging.getLogger(__name__)

TEXTS_RESOURCE = "data/rate_limit.yml"
#: buckets kept at most (oldest dropped first): a flood of fresh sender IDs cannot fill memory
MAX_BUCKETS = 100_000
#: a refusal is logged once per this many seconds per kind of limit, then counted
LOG_EVERY = 60.0


def _load_texts() -> Dict[str, str]:
    raw = yaml.safe_load(resources.files("channels").joinpath(TEXTS_RESOURCE).read_text("utf-8"))
    texts = {key: " ".join(str(value).split()) for key, value in (raw or {}).items()}
    missing = [key for key in ("reply", "reason", "connections") if not texts.get(key)]
    if missing:
        raise ValueError(f"{TEXTS_RESOURCE} needs {', '.join(missing)}")
    return texts


TEXTS = _load_texts()


def reply_text(seconds: int) -> str:
    """The short reply over a chat channel to a message over the limit."""
    return TEXTS["reply"].format(seconds=max(1, int(seconds)))


def http_reason(seconds: int) -> Dict[str, Any]:
    """The JSON body of a 429 (REST)."""
    seconds = max(1, int(seconds))
    return {
        "status": "too many requests",
        "reason": TEXTS["reason"].format(seconds=seconds),
        "retry_after": seconds,
    }


# ---------------------------------------------------------------- token buckets
class TokenBucket:
    """`capacity` tokens, refilled at `rate` tokens per second; one message takes one."""

    __slots__ = ("capacity", "rate", "tokens", "updated")

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self.tokens = capacity
        self.updated = now

    def refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now

    def wait(self, now: float) -> float:
        """Seconds until one token is there (0 when one is there now)."""
        self.refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


@dataclass(frozen=True)
class Decision:
    """The limiter's answer for one message."""

    allowed: bool
    retry_after: int = 0  # whole seconds, at least 1 when refused
    limit: Optional[str] = None  # "address" or "conversation" when refused


ALLOWED = Decision(True)


class RateLimiter:
    """Token buckets per client address and per conversation (thread-safe, one per process)."""

    def __init__(self, limits: Limits = LIMITS, clock: Callable[[], float] = time.monotonic):
        self.limits = limits
        self.clock = clock
        self._buckets: "OrderedDict[Tuple[str, str], TokenBucket]" = OrderedDict()
        self._lock = threading.Lock()
        self._last_log: Dict[str, float] = {}
        self._refused: Dict[str, int] = {}

    def exempt(self, address: Optional[str]) -> bool:
        return address is not None and in_networks(address, self.limits.exempt)

    def _bucket(self, kind: str, key: str, now: float) -> TokenBucket:
        bucket = self._buckets.get((kind, key))
        if bucket is None:
            if kind == "address":
                capacity, per_minute = self.limits.address_burst, self.limits.address_per_minute
            else:
                capacity = self.limits.conversation_burst
                per_minute = self.limits.conversation_per_minute
            bucket = TokenBucket(capacity, per_minute / 60.0, now)
            self._buckets[(kind, key)] = bucket
            while len(self._buckets) > MAX_BUCKETS:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end((kind, key))
        return bucket

    def check(self, address: Optional[str], conversation: Optional[str]) -> Decision:
        """Takes a token from the address's and the conversation's bucket when both have one;
        else takes nothing and says how long to wait. `address` is None for messaging apps (the
        platform's servers send for everyone), `conversation` None when there is none yet."""
        if not self.limits.enabled or self.exempt(address):
            return ALLOWED
        with self._lock:
            now = self.clock()
            wanted = []
            if address is not None:
                wanted.append(("address", self._bucket("address", address, now)))
            if conversation is not None:
                wanted.append(("conversation", self._bucket("conversation", conversation, now)))
            waits = [(bucket.wait(now), kind) for kind, bucket in wanted]
            longest, kind = max(waits, default=(0.0, None))
            if longest <= 0:
                for _, bucket in wanted:
                    bucket.take()
                return ALLOWED
            self.note_refusal(kind, now)
            return Decision(False, max(1, math.ceil(longest)), kind)

    def note_refusal(self, kind: str, now: float) -> None:
        self._refused[kind] = self._refused.get(kind, 0) + 1
        if now - self._last_log.get(kind, -math.inf) >= LOG_EVERY:
            logger.warning(
                f"rate limit: refused a message over the per-{kind} limit "
                f"({self._refused[kind]} refused so far by this limit; logged once a minute)"
            )
            self._last_log[kind] = now


class ConnectionCounter:
    """Open socket.io connections per client address, capped."""

    def __init__(self, limits: Limits = LIMITS) -> None:
        self.limits = limits
        self._open: Dict[str, int] = {}
        self._by_sid: Dict[str, str] = {}
        self._lock = threading.Lock()

    def open(self, sid: str, address: str) -> bool:
        """Counts the connection and says True, or says False when the address is at the cap."""
        with self._lock:
            exempt = in_networks(address, self.limits.exempt)
            if (
                self.limits.enabled
                and not exempt
                and self._open.get(address, 0) >= self.limits.connections_per_address
            ):
                return False
            self._open[address] = self._open.get(address, 0) + 1
            self._by_sid[sid] = address
            return True

    def close(self, sid: str) -> None:
        with self._lock:
            address = self._by_sid.pop(sid, None)
            if address is None:
                return
            left = self._open.get(address, 1) - 1
            if left > 0:
                self._open[address] = left
            else:
                self._open.pop(address, None)

    def address_of(self, sid: str) -> Optional[str]:
        """The client address a connection came from (None when unknown)."""
        return self._by_sid.get(sid)

    def count(self, address: str) -> int:
        return self._open.get(address, 0)


# ---------------------------------------------------------------- the client's address
def in_networks(address: str, networks: Tuple[Any, ...]) -> bool:
    if not networks:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(peer: Optional[str], headers: Mapping[str, str], limits: Limits = LIMITS) -> str:
    """The client's address: the peer's, unless the peer is a trusted proxy; then the nearest
    address in X-Forwarded-For that is not a trusted proxy (else X-Real-IP). A header from any
    other peer is ignored: anyone can write one."""
    peer = (peer or "").strip() or "unknown"
    if not in_networks(peer, limits.trusted_proxies):
        return peer
    forwarded = [part.strip() for part in (headers.get("x-forwarded-for") or "").split(",")]
    for candidate in reversed([part for part in forwarded if part]):
        try:
            ipaddress.ip_address(candidate)
        except ValueError:
            break  # a mangled header: stop at what the proxies vouch for
        if not in_networks(candidate, limits.trusted_proxies):
            return candidate
    real_ip = (headers.get("x-real-ip") or "").strip()
    try:
        return str(ipaddress.ip_address(real_ip))
    except ValueError:
        return peer


def request_address(request: Any, limits: Limits = LIMITS) -> str:
    """The client address of a Sanic request (its socket peer, or the proxy's header)."""
    conn_info = getattr(request, "conn_info", None)
    peer = getattr(conn_info, "client_ip", None) or getattr(request, "ip", None)
    return client_address(peer, getattr(request, "headers", None) or {}, limits)


# ---------------------------------------------------------------- answers
def limited_messages(text: Optional[str], retry_after: int) -> List[Dict[str, Any]]:
    """What a throttled message gets over a chat channel: the escalation first when it reports a
    red flag (the safety net's, same detector and words), then the short "too fast" reply."""
    from channels.safety_net import escalation

    messages: List[Dict[str, Any]] = []
    found = escalation(text or "")
    if found:
        messages.append(found)
    messages.append({"text": reply_text(retry_after)})
    return messages


async def answer_limited(
    output: Any, recipient_id: str, text: Optional[str], retry_after: int
) -> None:
    """Sends `limited_messages` over a channel's output (custom payloads go where the channel
    takes them: the widget's banner; text-only channels drop them, the text says it all)."""
    for message in limited_messages(text, retry_after):
        try:
            await output.send_response(recipient_id, dict(message))
        except Exception as error:  # the next message must still be tried
            logger.warning(f"rate limit: could not send the reply: {error}")


def apply_timeouts(app: Any, limits: Limits = LIMITS) -> None:
    """Sanic's request, keep-alive and response timeouts from the settings: a slow or idle client
    cannot hold a connection (and the single worker's attention) for long. Sanic reads them for
    each new connection, so setting them before the server starts is enough."""
    app.config.REQUEST_TIMEOUT = limits.request_timeout
    app.config.KEEP_ALIVE_TIMEOUT = limits.keep_alive_timeout
    app.config.RESPONSE_TIMEOUT = limits.response_timeout


#: one limiter and one connection counter per process, shared by every channel
LIMITER = RateLimiter()
CONNECTIONS = ConnectionCounter()
