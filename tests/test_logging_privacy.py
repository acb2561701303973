"""At the default log level (INFO), neither server writes what users say (or who they are) to its log.

Conversations are health data; over SMS/WhatsApp the sender ID is a phone number. The real action
server and Rasa server run at INFO (no --debug), as `make run` runs them; we send messages with a
distinctive marker through the main paths (a knowledge question, a medicine, a red-flag
escalation, a follow-up, the cramp check, a typed intent) and look for the marker and the sender
ID in both logs. (At --debug Rasa does log messages and events: never run production at debug.)
"""

from __future__ import annotations

import uuid

import pytest

from cramp_harness.servers import Servers

pytestmark = pytest.mark.integration


def logs(servers: Servers) -> dict:
    return {name: servers.log(name) for name in ("rasa", "actions")}


def test_no_message_text_and_no_sender_id_in_either_log(servers):
    marker = f"zqx{uuid.uuid4().hex[:10]}"
    sender = f"+4479{uuid.uuid4().int % 10**8:08d}"  # a phone number, as Twilio's sender IDs are
    messages = [
        f"hello, I am {marker}",
        f"why do my feet cramp at night {marker}",
        "how do I treat that?",
        f"can lasix cause cramps in your feet, asks {marker}",
        f"my calf is red, swollen and warm after a cramp {marker}",
        f"help me figure out my cramps {marker}",
        "stop",
        "/ask_magnesium",
        f"thanks {marker}",
    ]
    for text in messages:
        assert servers.say(sender, text), text
    servers.procs.wait_logs_quiet()  # anything a turn logs after its reply is in the files too
    found = logs(servers)
    # the logs are really being written (so an absence means something)
    assert "Rasa server is up and running" in found["rasa"]
    assert found["actions"].strip()
    for name, text in found.items():
        assert marker not in text, f"the user's text is in the {name} log"
        assert sender not in text, f"the sender ID is in the {name} log"
        assert "swollen and warm" not in text, f"the user's text is in the {name} log"
