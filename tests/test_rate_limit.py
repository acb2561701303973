"""The flood limits' rules (channels/rate_limit.py, channels/settings.py), without a server."""

from __future__ import annotations

import asyncio

import pytest

from channels import rate_limit
from channels.rate_limit import ConnectionCounter, RateLimiter, client_address
from channels.settings import Limits
from cramp_nlu.escalation import wording


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limits(**overrides) -> Limits:
    base = dict(
        address_per_minute=60,
        address_burst=5,
        conversation_per_minute=30,
        conversation_burst=3,
        connections_per_address=2,
    )
    base.update(overrides)
    return Limits(**base)


def test_a_burst_then_the_refill_rate_per_conversation():
    clock = Clock()
    limiter = RateLimiter(limits(), clock)
    assert [limiter.check("10.0.0.1", "c1").allowed for _ in range(4)] == [True] * 3 + [False]
    refused = limiter.check("10.0.0.1", "c1")
    assert refused.limit == "conversation" and refused.retry_after == 2  # 30 a minute: one per 2 s
    clock.now += 2.0
    assert limiter.check("10.0.0.1", "c1").allowed
    assert not limiter.check("10.0.0.1", "c1").allowed
    # another conversation from the same address has its own bucket (the address has tokens left)
    assert limiter.check("10.0.0.1", "c2").allowed


def test_the_address_limit_holds_across_conversations():
    clock = Clock()
    limiter = RateLimiter(limits(), clock)
    allowed = [limiter.check("10.0.0.2", f"c{i}").allowed for i in range(8)]
    assert allowed == [True] * 5 + [False] * 3
    decision = limiter.check("10.0.0.2", "fresh")
    assert decision.limit == "address" and decision.retry_after == 1
    # a refused message takes no token: after one second exactly one more is let through
    clock.now += 1.0
    assert limiter.check("10.0.0.2", "fresh").allowed
    assert not limiter.check("10.0.0.2", "other").allowed
    # other addresses are not affected
    assert limiter.check("10.0.0.3", "c0").allowed


def test_sustained_flood_gets_only_the_refill_rate():
    clock = Clock()
    limiter = RateLimiter(limits(address_per_minute=60, address_burst=5), clock)
    allowed = 0
    for _ in range(200):  # 20 messages a second for 10 seconds, each in a new conversation
        allowed += limiter.check("10.0.0.9", None).allowed
        clock.now += 0.05
    assert 5 + 9 <= allowed <= 5 + 10  # the burst, then one a second (float steps)


def test_messaging_apps_are_limited_per_conversation_only():
    limiter = RateLimiter(limits(address_burst=1), Clock())
    assert all(limiter.check(None, f"chat{i}").allowed for i in range(10))
    assert [limiter.check(None, "chat0").allowed for _ in range(3)] == [True, True, False]


def test_exempt_addresses_and_switch_off():
    import ipaddress

    limiter = RateLimiter(limits(exempt=(ipaddress.ip_network("127.0.0.1/32"),)), Clock())
    assert all(limiter.check("127.0.0.1", "same").allowed for _ in range(50))
    assert not all(limiter.check("127.0.0.2", "same").allowed for _ in range(50))
    off = RateLimiter(limits(enabled=False), Clock())
    assert all(off.check("127.0.0.2", "same").allowed for _ in range(50))


def test_bucket_memory_is_bounded(monkeypatch):
    monkeypatch.setattr(rate_limit, "MAX_BUCKETS", 100)
    limiter = RateLimiter(limits(), Clock())
    for i in range(1000):
        limiter.check("10.0.0.1", f"conversation-{i}")
    assert len(limiter._buckets) <= 100


def test_connections_per_address_are_capped():
    counter = ConnectionCounter(limits())
    assert counter.open("s1", "10.0.0.1") and counter.open("s2", "10.0.0.1")
    assert not counter.open("s3", "10.0.0.1")
    assert counter.open("s4", "10.0.0.2")
    counter.close("s1")
    assert counter.open("s5", "10.0.0.1")
    assert counter.address_of("s5") == "10.0.0.1"
    counter.close("unknown")  # harmless
    assert counter.count("10.0.0.1") == 2


def test_client_address_trusts_headers_only_from_a_proxy():
    import ipaddress

    plain = limits()
    headers = {"x-forwarded-for": "1.2.3.4", "x-real-ip": "5.6.7.8"}
    # no trusted proxy: anyone can write these headers, so the peer counts
    assert client_address("9.9.9.9", headers, plain) == "9.9.9.9"
    proxied = limits(trusted_proxies=(ipaddress.ip_network("10.1.0.0/16"),))
    assert client_address("9.9.9.9", headers, proxied) == "9.9.9.9"
    assert client_address("10.1.2.3", headers, proxied) == "1.2.3.4"
    # the client's own X-Forwarded-For entry is further left: the proxy's appended one counts
    chain = {"x-forwarded-for": "6.6.6.6, 1.2.3.4, 10.1.0.9"}
    assert client_address("10.1.2.3", chain, proxied) == "1.2.3.4"
    assert client_address("10.1.2.3", {"x-real-ip": "5.6.7.8"}, proxied) == "5.6.7.8"
    assert client_address("10.1.2.3", {"x-forwarded-for": "junk"}, proxied) == "10.1.2.3"


def test_settings_from_the_environment():
    parsed = Limits.from_env(
        {
            "CRAMP_RATE_ADDRESS_PER_MINUTE": "90",
            "CRAMP_RATE_CONVERSATION_BURST": "4",
            "CRAMP_RATE_EXEMPT": "127.0.0.1, 10.0.0.0/8",
            "CRAMP_TRUSTED_PROXIES": "172.18.0.0/16",
            "CRAMP_REQUEST_TIMEOUT": "7",
        }
    )
    assert parsed.enabled and parsed.address_per_minute == 90 and parsed.conversation_burst == 4
    assert len(parsed.exempt) == 2 and parsed.request_timeout == 7
    assert Limits.from_env({"CRAMP_RATE_LIMITS": "off"}).enabled is False
    defaults = Limits.from_env({})
    assert defaults.enabled and defaults.exempt == () and defaults.trusted_proxies == ()
    for bad in (
        {"CRAMP_RATE_ADDRESS_BURST": "lots"},
        {"CRAMP_RATE_ADDRESS_BURST": "0"},
        {"CRAMP_TRUSTED_PROXIES": "proxy.local"},
        {"CRAMP_RATE_LIMITS": "maybe"},
        {"CRAMP_RESPONSE_TIMEOUT": "5"},  # shorter than a socket.io long-poll
    ):
        with pytest.raises(ValueError):
            Limits.from_env(bad)


def test_a_throttled_emergency_still_gets_the_escalation_first():
    messages = rate_limit.limited_messages("my chest hurts and I can't breathe", 3)
    assert len(messages) == 2
    assert messages[0]["custom"]["escalation"]["tier"] == "emergency"
    assert wording().headlines["emergency"] in messages[0]["text"] or "911" in messages[0]["text"]
    assert messages[1] == {"text": rate_limit.reply_text(3)}
    assert "3 seconds" in messages[1]["text"]
    calm = rate_limit.limited_messages("why do my feet cramp at night?", 2)
    assert calm == [{"text": rate_limit.reply_text(2)}]


def test_rest_reason_and_texts_come_from_data():
    body = rate_limit.http_reason(4)
    assert body["retry_after"] == 4 and "4 seconds" in body["reason"]
    assert set(rate_limit.TEXTS) >= {"reply", "reason", "connections"}


def test_answer_limited_sends_every_message_even_if_one_fails():
    sent = []

    class Output:
        async def send_response(self, recipient, message):
            if "custom" in message:
                raise RuntimeError("platform down")
            sent.append((recipient, message["text"]))

    asyncio.run(rate_limit.answer_limited(Output(), "r1", "I can't breathe and my chest hurts", 2))
    assert sent == [("r1", rate_limit.reply_text(2))]


def test_timeouts_are_applied_to_the_app():
    class App:
        class config:  # noqa: N801
            pass

    rate_limit.apply_timeouts(App, limits(request_timeout=9, keep_alive_timeout=3))
    assert App.config.REQUEST_TIMEOUT == 9 and App.config.KEEP_ALIVE_TIMEOUT == 3
    assert App.config.RESPONSE_TIMEOUT == 60
