#!/usr/bin/env python3
"""Write the chat page's own words into web/dist/content.json, from the project's data.

    .venv/bin/python scripts/build_web_content.py [OUT]     (scripts/build_web.sh runs it)

The page says nothing of its own: its header names the source (title, author, date) as the
knowledge file has it (data/knowledge/topics.yml `article`, worded by phrases.yml `web.source`),
its note gives the emergency tier's action from the red-flag terms file, and its welcome is the
assistant's greeting, the domain's `utter_greet` (text and buttons), so the page says the same as
every other channel. Standard library + PyYAML; no spaCy, no Rasa.
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
DEFAULT_OUT = ROOT / "web" / "dist" / "content.json"


def _one_line(text: Any) -> str:
    return " ".join(str(text or "").split())


def page_content(domain_file: Path = DOMAIN_FILE) -> Dict[str, Any]:
    """What the page shows besides the conversation."""
    domain = yaml.safe_load(domain_file.read_text(encoding="utf-8"))
    greet = domain["responses"]["utter_greet"][0]
    return {
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
    print(f"==> {out.name}: source, note and welcome from the project's data")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
