"""The server sets the integration tests share, one per distinct set-up (tests/conftest.py).

    servers                  action server + Rasa with the project's credentials (REST, socket.io,
                             Telegram, Slack, Twilio against the local stand-ins), INFO logs, and
                             its chat page
    restartable_servers      Rasa on its own SQLite file, for tests that restart it (it uses the
                             default set's action server)
    servers_without_actions  Rasa whose action endpoint points at a port nobody listens on

In the last two the messaging channels have no secrets (so never the developer's real ones) and
are disabled. Tests use their own sender IDs, so sharing a set is safe.

A model load keeps both cores busy, so loading several at once gains nothing and makes the first
test wait for all of them: the first set asked for starts alone, and the other sets the selected
tests need start as soon as it is ready, loading while the first tests run.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, Iterable, Set

from cramp_harness.servers import Servers
from cramp_harness.standins import CHANNEL_VARS, Platforms

NAMES = ("servers", "restartable_servers", "servers_without_actions")
NO_CHANNELS = {name: "" for name in CHANNEL_VARS}


class ServerSets:
    """Starts the wanted sets (in the order given: the order the tests first use them)."""

    def __init__(self, root: Path, platforms: Platforms, wanted: Iterable[str]) -> None:
        self.root = root
        self.platforms = platforms
        self.wanted = [name for name in wanted if name in NAMES]
        self.sets: Dict[str, Servers] = {}
        self.spawned: Set[str] = set()

    def get(self, name: str) -> Servers:
        """The set `name`, ready; then every other wanted set is started in the background."""
        self._spawn(name)
        if name == "restartable_servers":
            default = self._default().procs
            default.wait_ready(default["actions"])
        self.sets[name].wait_ready()
        for other in self.wanted:
            self._spawn(other)
        return self.sets[name]

    def stop(self) -> None:
        """All sets at once, KILL after 5 s: nothing is tested any more, and a long-poll a
        socket.io client left open holds Sanic's graceful shutdown for 15 s."""
        with ThreadPoolExecutor() as pool:
            list(pool.map(lambda servers: servers.stop(grace=5), self.sets.values()))

    def _spawn(self, name: str) -> None:
        if name in self.spawned:
            return
        self.spawned.add(name)
        if name == "servers":
            self._default().start_rasa(wait=False)
            return
        if name == "restartable_servers":
            servers = Servers(
                self.root / "restartable",
                page=True,
                env=NO_CHANNELS,
                actions_port=self._default().actions_port,
            )
        else:
            servers = Servers(self.root / "without-actions", page=True, env=NO_CHANNELS)
        self.sets[name] = servers
        servers.start_rasa(wait=False)

    def _default(self) -> Servers:
        """The default set, with its action server started (its Rasa only if asked for)."""
        if "servers" not in self.sets:
            self.sets["servers"] = Servers(
                self.root / "default", env=self.platforms.env(), page=True
            )
            self.sets["servers"].start_actions(wait=False)
        return self.sets["servers"]
