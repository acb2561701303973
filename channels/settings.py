"""Every setting of the channels' flood protection, read once from the environment.

The defaults protect a bare `make run` (no proxy in front). Production adds nginx's own limits
(deploy/nginx/proxy.conf); these stay on behind it, per replica.

    CRAMP_RATE_LIMITS                 "on" (default) or "off"
    CRAMP_RATE_ADDRESS_PER_MINUTE     messages per minute from one client address, sustained (40)
    CRAMP_RATE_ADDRESS_BURST          ... and in one burst (20); several people may share an address
    CRAMP_RATE_CONVERSATION_PER_MINUTE  messages per minute in one conversation, sustained (20)
    CRAMP_RATE_CONVERSATION_BURST     ... and in one burst (10)
    CRAMP_SOCKETIO_CONNECTIONS_PER_ADDRESS  open socket.io connections from one address (20)
    CRAMP_RATE_EXEMPT                 comma-separated addresses never limited (none; the test
                                      harness exempts 127.0.0.1, from which it plays many users)
    CRAMP_TRUSTED_PROXIES             comma-separated addresses or networks of the proxies in front
                                      (none): only a request from one of them has its client
                                      address read from X-Forwarded-For / X-Real-IP
    CRAMP_REQUEST_TIMEOUT             seconds a client has to send a whole request (10)
    CRAMP_KEEP_ALIVE_TIMEOUT          seconds an idle keep-alive connection is kept (5)
    CRAMP_RESPONSE_TIMEOUT            seconds a response may take (60; a socket.io long-poll is
                                      held up to 25 s, a turn on a busy machine a few seconds)

Messaging apps (Telegram, Slack, Twilio) reach us from the platform's servers, shared by all
their users: only the per-conversation limit applies to them.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from typing import List, Mapping, Optional, Tuple, Union

Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]


def _number(environ: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    raw = (environ.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {raw!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum:g}, not {raw!r}")
    return value


def _list(environ: Mapping[str, str], name: str) -> List[str]:
    return [part.strip() for part in (environ.get(name) or "").split(",") if part.strip()]


def _networks(environ: Mapping[str, str], name: str) -> Tuple[Network, ...]:
    networks = []
    for part in _list(environ, name):
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"{name}: {part!r} is not an address or network") from None
    return tuple(networks)


@dataclass(frozen=True)
class Limits:
    """The flood-protection settings (see the module docstring for the variables)."""

    enabled: bool = True
    address_per_minute: float = 40
    address_burst: float = 20
    conversation_per_minute: float = 20
    conversation_burst: float = 10
    connections_per_address: int = 20
    exempt: Tuple[Network, ...] = ()
    trusted_proxies: Tuple[Network, ...] = field(default=())
    request_timeout: float = 10
    keep_alive_timeout: float = 5
    response_timeout: float = 60

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> "Limits":
        env = os.environ if environ is None else environ
        switch = (env.get("CRAMP_RATE_LIMITS") or "on").strip().lower()
        if switch not in ("on", "off", "1", "0", "true", "false"):
            raise ValueError(f"CRAMP_RATE_LIMITS must be on or off, not {switch!r}")
        return cls(
            enabled=switch in ("on", "1", "true"),
            address_per_minute=_number(env, "CRAMP_RATE_ADDRESS_PER_MINUTE", 40, 1),
            address_burst=_number(env, "CRAMP_RATE_ADDRESS_BURST", 20, 1),
            conversation_per_minute=_number(env, "CRAMP_RATE_CONVERSATION_PER_MINUTE", 20, 1),
            conversation_burst=_number(env, "CRAMP_RATE_CONVERSATION_BURST", 10, 1),
            connections_per_address=int(
                _number(env, "CRAMP_SOCKETIO_CONNECTIONS_PER_ADDRESS", 20, 1)
            ),
            exempt=_networks(env, "CRAMP_RATE_EXEMPT"),
            trusted_proxies=_networks(env, "CRAMP_TRUSTED_PROXIES"),
            request_timeout=_number(env, "CRAMP_REQUEST_TIMEOUT", 10, 1),
            keep_alive_timeout=_number(env, "CRAMP_KEEP_ALIVE_TIMEOUT", 5, 0),
            response_timeout=_number(env, "CRAMP_RESPONSE_TIMEOUT", 60, 30),
        )


#: read once, when Rasa loads the channels (a bad value stops the server at start)
LIMITS = Limits.from_env()
