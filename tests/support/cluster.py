"""Processes beyond `servers.Servers`: Rasa replicas on any endpoints file, a private nginx, RSS.

Used by scripts/cluster_test.py, scripts/bench.py and the persistence / bad-input / logging tests.
Everything listens on free 127.0.0.1 ports; every process gets its own session (process group) so
it can be stopped with its children, and its own log file in the work directory.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import requests

from support.servers import BIN, MODEL, ROOT, free_port

NGINX_PROXY_CONF = ROOT / "deploy" / "nginx" / "proxy.conf"
BASE_ENV = {"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "PYTHONWARNINGS": "ignore"}


@dataclass
class Managed:
    name: str
    process: subprocess.Popen
    log: Path
    port: Optional[int] = None
    started: float = field(default_factory=time.monotonic)
    ready_after: Optional[float] = None  # seconds from spawn to ready

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


class ProcessSet:
    """Named child processes, each in its own process group, all stopped by `stop_all`."""

    def __init__(self, workdir: Path, env: Optional[Dict[str, str]] = None) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.env = dict(env or {})
        self.procs: Dict[str, Managed] = {}

    # ---- lifecycle ----
    def spawn(self, name: str, args: Sequence[str], *, cwd: Path = ROOT, port: Optional[int] = None,
              env: Optional[Dict[str, str]] = None) -> Managed:
        if name in self.procs and self.procs[name].process.poll() is None:
            raise RuntimeError(f"{name} is already running")
        log = self.workdir / f"{name}.log"
        full_env = {**os.environ, **BASE_ENV, **self.env, **(env or {})}
        with open(log, "a") as out:
            process = subprocess.Popen(list(map(str, args)), cwd=cwd, env=full_env, stdout=out,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
        managed = Managed(name, process, log, port)
        self.procs[name] = managed
        return managed

    def wait_http(self, name: str, url: str, timeout: float) -> float:
        """Wait until `url` answers 200; returns the seconds since the process was spawned."""
        managed = self.procs[name]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if managed.process.poll() is not None:
                raise RuntimeError(f"{name} exited ({managed.process.returncode}); log:\n{managed.tail()}")
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    managed.ready_after = time.monotonic() - managed.started
                    return managed.ready_after
            except requests.RequestException:
                pass
            time.sleep(0.25)
        raise TimeoutError(f"{name}: {url} not up after {timeout:.0f}s; log:\n{managed.tail()}")

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        managed = self.procs.pop(name, None)
        if managed is None:
            return
        _signal_group(managed.process, sig)
        try:
            managed.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _signal_group(managed.process, signal.SIGKILL)
            managed.process.wait(timeout=10)

    def stop_all(self) -> None:
        names = list(self.procs)
        for name in names:
            _signal_group(self.procs[name].process, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for name in names:
            process = self.procs[name].process
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait(timeout=10)
        self.procs.clear()

    # ---- the project's servers ----
    def start_actions(self, name: str = "actions", port: Optional[int] = None,
                      timeout: float = 180) -> Managed:
        port = port or free_port()
        managed = self.spawn(name, [BIN / "rasa", "run", "actions", "--port", str(port),
                                    "--actions", "actions"], port=port)
        self.wait_http(name, f"{managed.url}/health", timeout)
        return managed

    def start_rasa(self, name: str, endpoints: Path, *, port: Optional[int] = None,
                   model: Path = MODEL, cwd: Path = ROOT, token: Optional[str] = "test-token",
                   credentials: Optional[Path] = ROOT / "credentials.yml",
                   extra_args: Sequence[str] = (), env: Optional[Dict[str, str]] = None,
                   timeout: float = 420) -> Managed:
        """`rasa run` (one Sanic worker) on a free port; returns once the model is loaded."""
        port = port or free_port()
        args: List[str] = [str(BIN / "rasa"), "run", "--model", str(model), "--endpoints", str(endpoints),
                           "--port", str(port), "--interface", "127.0.0.1"]
        if credentials:
            args += ["--credentials", str(credentials)]
        if token:
            args += ["--enable-api", "--auth-token", token]
        args += list(extra_args)
        managed = self.spawn(name, args, cwd=cwd, port=port, env={"SANIC_WORKERS": "1", **(env or {})})
        # "/" answers only once the model is loaded (Rasa loads it before the server listens)
        self.wait_http(name, f"{managed.url}/", timeout)
        return managed

    def start_nginx(self, name: str, upstreams: Sequence[int], *, port: Optional[int] = None,
                    timeout: float = 20) -> Managed:
        """A private nginx (own config, pid, logs, temp dirs) in front of Rasa replicas.

        The top-level config mirrors deploy/nginx.conf and includes the same
        deploy/nginx/proxy.conf: round robin for REST, ip_hash (sticky) for socket.io.
        """
        port = port or free_port()
        root = self.workdir / name
        for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (root / "temp" / sub).mkdir(parents=True, exist_ok=True)
        servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=0;" for p in upstreams)
        conf = root / "nginx.conf"
        conf.write_text(NGINX_LOCAL_TEMPLATE.format(
            user="user root;" if os.geteuid() == 0 else "", root=root, port=port, servers=servers,
            proxy_conf=NGINX_PROXY_CONF))
        nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
        managed = self.spawn(name, [nginx_bin, "-p", str(root), "-e", str(root / "error.log"),
                                    "-c", str(conf), "-g", "daemon off;"], port=port)
        self.wait_http(name, f"{managed.url}/", timeout)
        return managed

    # ---- measurements ----
    def rss_bytes(self, name: str) -> int:
        """Resident memory of the process and all its descendants."""
        return sum(_rss(pid) for pid in _descendants(self.procs[name].process.pid))


NGINX_LOCAL_TEMPLATE = """# generated by tests/support/cluster.py: deploy/nginx.conf with local upstreams
{user}
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log {root}/access.log;
    client_body_temp_path {root}/temp/client_body;
    proxy_temp_path {root}/temp/proxy;
    fastcgi_temp_path {root}/temp/fastcgi;
    uwsgi_temp_path {root}/temp/uwsgi;
    scgi_temp_path {root}/temp/scgi;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    # REST: round robin, so consecutive turns of one conversation land on different replicas
    upstream rasa_rest {{
{servers}
    }}
    # socket.io: sticky by client address (the socket.io channel keeps per-connection state)
    upstream rasa_socketio {{
        ip_hash;
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        # which replica answered (read by the cluster test; not in the production config)
        add_header X-Upstream $upstream_addr always;
        include {proxy_conf};
    }}
}}
"""


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        try:
            process.send_signal(sig)
        except ProcessLookupError:
            pass


def _descendants(pid: int) -> List[int]:
    children: Dict[int, List[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def stop_on_time_limit_or_signal(seconds: float, cleanup: Callable[[], None]) -> threading.Timer:
    """Bound a script in time: after `seconds`, or on Ctrl-C / SIGTERM, run `cleanup` and exit
    (status 3 on the time limit, 130 on a signal). Scripts that start servers use it so that
    nothing they started outlives them."""

    def on_timeout() -> None:
        print(f"!!  time limit of {seconds:.0f}s reached: stopping everything", file=sys.stderr,
              flush=True)
        cleanup()
        os._exit(3)

    watchdog = threading.Timer(seconds, on_timeout)
    watchdog.daemon = True
    watchdog.start()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: (cleanup(), os._exit(130)))
    return watchdog  # cancel it when the work ends in time
