"""The project's servers on free loopback ports: the action server, Rasa, the chat page.

`start_actions`, `start_rasa` and `start_page` start one of each under a `Supervisor` (the cluster
test and the benchmark use them directly); `Servers` is one such set as the integration tests share
it. With `wait=False` they return as soon as the process is spawned, so several can load at once
(a Rasa model load is mostly one core) and `wait_ready()` is called later.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import requests
import yaml

from cramp_harness.processes import Process, Supervisor, free_port, http_ok

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MODEL = ROOT / "models" / "cramps.tar.gz"
ACTIONS_TIMEOUT = 180
RASA_TIMEOUT = 420  # loading the model on two busy cores
PAGE_TIMEOUT = 30


def _started(procs: Supervisor, process: Process, wait: bool) -> Process:
    if wait:
        procs.wait_ready(process)
    return process


def start_actions(
    procs: Supervisor,
    name: str = "actions",
    port: Optional[int] = None,
    cwd: Path = ROOT,
    wait: bool = True,
) -> Process:
    """The action server as `make run` starts it (`cramp-actions`, on 127.0.0.1), with the
    `actions` package found from `cwd`; ready when /health answers."""
    port = port or free_port()
    args = [BIN / "cramp-actions", "--port", port, "--actions", "actions"]
    process = procs.spawn(
        name,
        args,
        ready=http_ok(f"http://127.0.0.1:{port}/health"),
        timeout=ACTIONS_TIMEOUT,
        port=port,
        cwd=cwd,
        env={"SANIC_HOST": "127.0.0.1"},
    )
    return _started(procs, process, wait)


def start_rasa(
    procs: Supervisor,
    name: str,
    endpoints: Path,
    *,
    port: Optional[int] = None,
    model: Path = MODEL,
    cwd: Path = ROOT,
    token: Optional[str] = "test-token",
    credentials: Optional[Path] = ROOT / "credentials.yml",
    extra_args: Sequence[str] = (),
    env: Optional[Dict[str, str]] = None,
    wait: bool = True,
) -> Process:
    """`rasa run` (one Sanic worker, HTTP API on when `token` is given); ready when "/" answers,
    which is once the model is loaded (Rasa loads it before it listens)."""
    port = port or free_port()
    args: List[object] = [
        BIN / "cramp-rasa",
        "run",
        "--model",
        model,
        "--endpoints",
        endpoints,
        "--port",
        port,
        "--interface",
        "127.0.0.1",
    ]
    if credentials:
        args += ["--credentials", credentials]
    if token:
        args += ["--enable-api", "--auth-token", token]
    args += list(extra_args)
    process = procs.spawn(
        name,
        args,
        ready=http_ok(f"http://127.0.0.1:{port}/"),
        timeout=RASA_TIMEOUT,
        port=port,
        cwd=cwd,
        # the harness plays many users from 127.0.0.1 (contract, real-message, bench, cluster):
        # that address is exempt from the flood limits; flood tests use 127.0.0.2 and up
        env={"SANIC_WORKERS": "1", "CRAMP_RATE_EXEMPT": "127.0.0.1", **(env or {})},
    )
    return _started(procs, process, wait)


def start_page(
    procs: Supervisor,
    rasa_url: str,
    name: str = "page",
    port: Optional[int] = None,
    wait: bool = True,
) -> Process:
    """scripts/serve_web.py (the chat page, web/dist) pointing at `rasa_url`."""
    port = port or free_port()
    process = procs.spawn(
        name,
        [sys.executable, ROOT / "scripts" / "serve_web.py"],
        ready=http_ok(f"http://127.0.0.1:{port}/config.json"),
        timeout=PAGE_TIMEOUT,
        port=port,
        cwd=ROOT,
        env={"WEB_PORT": str(port), "RASA_PUBLIC_URL": rasa_url},
    )
    return _started(procs, process, wait)


def write_endpoints(path: Path, actions_url: str, tracker_db: Path) -> Path:
    """The project's endpoints.yml (the path production runs: selective domain, SQL store) with
    the action server at `actions_url` (its base URL, as `Process.url`; "/webhook" is added here)
    and the SQLite store in `tracker_db`."""
    config = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
    config["action_endpoint"]["url"] = f"{actions_url}/webhook"
    config["tracker_store"]["db"] = str(tracker_db)
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


class Servers:
    """Rasa (HTTP API on, SQLite store in the work directory) with an action server and,
    optionally, the chat page, on free loopback ports.

    The action server may belong to another set: pass its port as `actions_port` and do not call
    `start_actions` (nor `stop_actions`). `page=True` reserves the page's port up front, because
    Rasa's socket.io channel reads the page's origin (CHAT_ALLOWED_ORIGINS) when it starts.
    Output is unbuffered, so a log line is in the file as soon as it is written.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        actions_port: Optional[int] = None,
        credentials: Path = ROOT / "credentials.yml",
        env: Optional[Dict[str, str]] = None,
        token: str = "test-token",
        page: bool = False,
    ) -> None:
        self.workdir = Path(workdir)
        self.procs = Supervisor(self.workdir, env={"PYTHONUNBUFFERED": "1", **(env or {})})
        self.credentials = credentials
        self.token = token
        self.actions_port = actions_port or free_port()
        self.rasa_port = free_port()
        self.page_port = free_port() if page else None
        #: a site that embeds the widget (cramp_harness.host_page), allowed like the page
        self.host_port = free_port() if page else None
        if page:
            # the page's own origin and the embedding site's: http://localhost:<port> (same
            # server) stays refused
            self.procs.env["CHAT_ALLOWED_ORIGINS"] = (
                f"http://127.0.0.1:{self.page_port},http://127.0.0.1:{self.host_port}"
            )
        self.endpoints = write_endpoints(
            self.workdir / "endpoints.yml", f"http://127.0.0.1:{self.actions_port}", self.tracker_db
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def tracker_db(self) -> Path:
        return self.workdir / "tracker.db"

    # ---- lifecycle ----
    def start_actions(self, wait: bool = True) -> None:
        start_actions(self.procs, port=self.actions_port, wait=wait)

    def stop_actions(self) -> None:
        self.procs.stop("actions")

    def start_rasa(self, wait: bool = True) -> None:
        start_rasa(
            self.procs,
            "rasa",
            self.endpoints,
            port=self.rasa_port,
            token=self.token,
            credentials=self.credentials,
            wait=wait,
        )

    def stop_rasa(self, sig: int = signal.SIGTERM) -> None:
        """Stop Rasa with `sig` (SIGKILL: no shutdown handlers, as in a crash)."""
        self.procs.stop("rasa", sig)

    def restart_rasa(self, sig: int = signal.SIGTERM) -> None:
        """Stop Rasa with `sig` and start it again on the same port and SQLite file."""
        self.stop_rasa(sig)
        self.start_rasa()

    def wait_ready(self) -> None:
        """Wait for every process started with `wait=False`."""
        for process in list(self.procs.procs.values()):
            self.procs.wait_ready(process)

    def start_page(self) -> Process:
        """The chat page for this Rasa (started on first use; needs web/dist built)."""
        if "page" not in self.procs:
            assert self.page_port, "Servers(page=True) reserves the page's port"
            start_page(self.procs, self.url, port=self.page_port)
        return self.procs["page"]

    def stop(self, grace: float = 30) -> None:
        """TERM to everything; KILL what still runs after `grace` seconds."""
        self.procs.stop_all(grace)

    # ---- looking at it ----
    def log(self, name: str = "rasa") -> str:
        return (self.workdir / f"{name}.log").read_text(errors="replace")

    def tails(self) -> Dict[str, str]:
        return self.procs.tails()

    # ---- talking to it ----
    def say(self, sender: str, text: str) -> List[Dict]:
        response = requests.post(
            f"{self.url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            timeout=60,
        )
        response.raise_for_status()
        return response.json()

    def tracker(self, sender: str) -> Dict:
        response = requests.get(
            f"{self.url}/conversations/{sender}/tracker", params={"token": self.token}, timeout=30
        )
        response.raise_for_status()
        return response.json()

    def slots(self, sender: str) -> Dict[str, Optional[str]]:
        return self.tracker(sender)["slots"]
