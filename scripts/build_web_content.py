#!/usr/bin/env python3
"""Write the chat widget's words into web/dist/content.json, from the project's data.

    .venv/bin/python scripts/build_web_content.py [OUT]     (scripts/build_web.sh runs it)

The page says nothing of its own: its header names the source (title, author, date) as the
knowledge file has it (data/knowledge/topics.yml `article`, worded by phrases.yml `web.source`),
its note gives the emergency tier's action from the red-flag terms file, and its welcome is the
assistant's greeting, the domain's `utter_greet` (text and buttons), so the page says the same as
every other channel. The widget's own interface words (title, launcher, buttons, status lines;
`ui`) and its language (`lang`) come from channels/data/widget.yml. scripts/build_widget.py builds
the same content into widget.js. Standard library + PyYAML; no spaCy, no Rasa.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Dict

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from actions.knowledge import knowledge, phrases  # noqa: E402
from cramp_nlu.escalation import wording  # noqa: E402

DOMAIN_FILE = ROOT / "domain.yml"
WIDGET_FILE = ROOT / "channels" / "data" / "widget.yml"
#: the interface words web/src/chat.js asks for (a missing one stops the build)
UI_KEYS = (
    "title launcher_label launcher_unread_label launcher_text reply_announcement close close_label "
    "new_conversation log_label quick_replies_label you_said assistant_said typing input_label "
    "placeholder send send_label status_connecting status_new_conversation status_no_reply "
    "status_not_sent status_lost status_reconnecting status_unreachable status_no_client "
    "status_no_settings"
).split()
DEFAULT_OUT = ROOT / "web" / "dist" / "content.json"


def _one_line(text: Any) -> str:
    return " ".join(str(text or "").split())


def widget_words(widget_file: Path = WIDGET_FILE) -> Dict[str, Any]:
    """The widget's language and interface words, every one the widget asks for."""
    raw = yaml.safe_load(widget_file.read_text(encoding="utf-8")) or {}
    ui = {key: _one_line(value) for key, value in (raw.get("ui") or {}).items()}
    missing = [key for key in UI_KEYS if not ui.get(key)]
    if missing:
        raise ValueError(f"{widget_file}: ui needs {', '.join(missing)}")
    return {"lang": str(raw.get("lang") or "en"), "ui": ui}


def page_content(domain_file: Path = DOMAIN_FILE) -> Dict[str, Any]:
    """What the widget shows besides the conversation."""
    domain = yaml.safe_load(domain_file.read_text(encoding="utf-8"))
    greet = domain["responses"]["utter_greet"][0]
    return {
        **widget_words(),
        "source": phrases().text("web.source", source=knowledge().source()),
        "note": phrases().text("web.note", emergency=wording().actions["emergency"]),
        "welcome": {
            "text": _one_line(greet["text"]),
            "buttons": [
                {"title": _one_line(b["title"]), "payload": str(b["payload"])}
                for b in greet.get("buttons") or []
            ],
        },
    }


def main(argv: list) -> int:
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUT
    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(page_content(), ensure_ascii=False, indent=2) + "\n"
    out.write_text(text, encoding="utf-8")
    print(f"==> {out.name}: source, note, welcome and the widget's words from the project's data")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
