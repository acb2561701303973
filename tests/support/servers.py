"""Start the real action server and Rasa server for integration tests (loopback only)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MODEL = ROOT / "models" / "cramps.tar.gz"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: process exited; log:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} not up after {timeout}s; log:\n{log.read_text()[-3000:]}")


@dataclass
class Servers:
    """An action server and a Rasa server with the HTTP API, on free loopback ports."""

    workdir: Path
    rasa_port: int = field(default_factory=free_port)
    actions_port: int = field(default_factory=free_port)
    token: str = "test-token"
    #: credentials file for `rasa run` (channels); the project's own by default
    credentials: Path = ROOT / "credentials.yml"
    #: extra environment for both servers (channel secrets, API base URLs of stand-ins)
    env: Dict[str, str] = field(default_factory=dict)
    #: extra `rasa run` arguments (e.g. ["--cors", "http://127.0.0.1:8080"])
    rasa_args: List[str] = field(default_factory=list)
    processes: List[subprocess.Popen] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def tracker_db(self) -> Path:
        return self.workdir / "tracker.db"

    def _spawn(self, name: str, args: List[str]) -> subprocess.Popen:
        log = self.workdir / f"{name}.log"
        env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2",
               **self.env}
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=open(log, "w"),
                                   stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def start_actions(self) -> None:
        process = self._spawn("actions", [str(BIN / "rasa"), "run", "actions",
                                          "--port", str(self.actions_port)])
        wait_for(f"http://127.0.0.1:{self.actions_port}/health", process, 120,
                 self.workdir / "actions.log")

    def start_rasa(self) -> None:
        endpoints = self.workdir / "endpoints.yml"
        endpoints.write_text(
            f"action_endpoint:\n  url: http://127.0.0.1:{self.actions_port}/webhook\n"
            f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {self.tracker_db}\n")
        process = self._spawn("rasa", [
            str(BIN / "rasa"), "run", "--model", str(MODEL), "--endpoints", str(endpoints),
            "--credentials", str(self.credentials), "--port", str(self.rasa_port),
            "--interface", "127.0.0.1", "--enable-api", "--auth-token", self.token,
            *self.rasa_args])
        # /status answers once the model is loaded
        wait_for(f"{self.url}/status?token={self.token}", process, 300, self.workdir / "rasa.log")

    def stop_rasa(self) -> None:
        rasa = [p for p in self.processes if "run" in p.args and "actions" not in p.args]
        for process in rasa:
            process.terminate()
            process.wait(timeout=30)
            self.processes.remove(process)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()

    # ---- talking to it ----
    def say(self, sender: str, text: str) -> List[Dict]:
        response = requests.post(f"{self.url}/webhooks/rest/webhook",
                                 json={"sender": sender, "message": text}, timeout=60)
        response.raise_for_status()
        return response.json()

    def tracker(self, sender: str) -> Dict:
        response = requests.get(f"{self.url}/conversations/{sender}/tracker",
                                params={"token": self.token}, timeout=30)
        response.raise_for_status()
        return response.json()

    def slots(self, sender: str) -> Dict[str, Optional[str]]:
        return self.tracker(sender)["slots"]


@contextmanager
def started(workdir: Path, actions: bool = True, **settings) -> Iterator[Servers]:
    """Servers started for a `with` block (or a fixture's yield) and always stopped after it.

    `actions=False` leaves the action server down (its port stays unused), for fault tests.
    """
    servers = Servers(workdir=workdir, **settings)
    try:
        if actions:
            servers.start_actions()
        servers.start_rasa()
        yield servers
    finally:
        servers.stop()
