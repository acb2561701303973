#!/usr/bin/env python3
"""Assemble the chat widget into a build directory (scripts/build_web.sh runs it).

    .venv/bin/python scripts/build_widget.py OUT_DIR SOCKET_IO_CLIENT

Writes into OUT_DIR:
  widget.js     one file: the pinned socket.io client, the widget's words (CONTENT, from the
                project's data, as content.json), its stylesheet (STYLES, web/src/chat.css) and
                web/src/chat.js, all inside one function: no global name is defined (the socket.io
                client's UMD wrapper sees a local `module`, so it does not set window.io)
  widget.css    the same stylesheet, for browsers without constructable stylesheets
  index.html    the full-page chat (web/src/index.html with its title and language filled in)
  content.json  the same words, for review (docs/content-review.md)

and prints the size budget: widget.js (socket.io client included) at most 60 KB gzipped (issue 16);
the build fails above it. Standard library + PyYAML.
"""

from __future__ import annotations

import gzip
import html
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "web" / "src"
sys.path.insert(0, str(ROOT / "scripts"))

from build_web_content import page_content  # noqa: E402

BUDGET_BYTES = 60 * 1024  # gzipped: widget.js with the socket.io client inside

HEADER = """/*! Foot-cramp assistant chat widget. Embed: <script src="<this URL>" async></script>
 * Options on the tag: data-side="left", data-server="https://<rasa>" (see the project's README).
 * Includes socket.io-client {version} (MIT License, (c) Guillermo Rauch and contributors). */
"""


def gzipped_size(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def socket_io_client(path: Path) -> str:
    """The client without its source-map comment (the map is not served with the widget)."""
    text = path.read_text(encoding="utf-8")
    return re.sub(r"\n?//# sourceMappingURL=\S+\s*$", "\n", text)


def widget_js(client: str, content: dict, styles: str, code: str, version: str) -> str:
    return "".join(
        [
            HEADER.format(version=version),
            "(function () {\n",
            # UMD sees CommonJS here: the client is returned, never put on window or given to AMD
            "var io = (function () { var module = { exports: {} }; var exports = module.exports;"
            " var define;\n",
            client,
            "\nreturn module.exports; })();\n",
            "var CONTENT = ",
            json.dumps(content, ensure_ascii=False),
            ";\n",
            "var STYLES = ",
            json.dumps(styles, ensure_ascii=False),
            ";\n",
            code,
            "\n})();\n",
        ]
    )


def index_html(content: dict) -> str:
    text = (SRC / "index.html").read_text(encoding="utf-8")
    text = text.replace("{{title}}", html.escape(content["ui"]["title"]))
    return text.replace("{{lang}}", html.escape(content["lang"], quote=True))


def main(argv: list) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    out, client_path = Path(argv[1]), Path(argv[2])
    version = json.loads((client_path.parent.parent / "package.json").read_text())["version"]
    content = page_content()
    styles = (SRC / "chat.css").read_text(encoding="utf-8")
    client = socket_io_client(client_path)
    bundle = widget_js(client, content, styles, (SRC / "chat.js").read_text("utf-8"), version)
    out.mkdir(parents=True, exist_ok=True)
    (out / "widget.js").write_text(bundle, encoding="utf-8")
    (out / "widget.css").write_text(styles, encoding="utf-8")
    (out / "index.html").write_text(index_html(content), encoding="utf-8")
    (out / "content.json").write_text(
        json.dumps(content, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )

    total = gzipped_size(bundle.encode("utf-8"))
    client_gz = gzipped_size(client.encode("utf-8"))
    print(
        f"==> widget.js: {len(bundle.encode()) / 1024:.1f} KB, {total / 1024:.1f} KB gzipped "
        f"(socket.io-client {version} alone {client_gz / 1024:.1f} KB gzipped); "
        f"budget {BUDGET_BYTES / 1024:.0f} KB gzipped: "
        f"{'within' if total <= BUDGET_BYTES else 'OVER'}"
    )
    if total > BUDGET_BYTES:
        print("error: widget.js is over its size budget", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
