"""One process manager for tests and scripts.

Every child gets its own session (process group), so stopping it also stops whatever it spawned
(Rasa's Sanic workers, nginx's workers); its output goes to a log file whose tail is in every
error; readiness is a condition (e.g. `http_ok`: a URL answers 200), never a fixed sleep;
stopping is SIGTERM to the group, then SIGKILL after a grace period.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import requests

#: quiet, reproducible Rasa / TensorFlow processes (what the Makefile exports)
BASE_ENV = {
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "PYTHONWARNINGS": "ignore",
}

Condition = Callable[[], bool]


def free_port() -> int:
    """A TCP port nobody listens on right now, on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(
    condition: Condition,
    timeout: float,
    what: str,
    interval: float = 0.2,
    details: Callable[[], str] = lambda: "",
) -> float:
    """Poll `condition` until it holds; returns the seconds waited, raises TimeoutError naming
    `what` (and `details()`, e.g. a log tail) after `timeout`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{what}: not after {timeout:g}s\n{details()}".rstrip())
        time.sleep(interval)
    return time.monotonic() - started


def http_ok(url: str) -> Condition:
    """Ready when `url` answers 200."""

    def check() -> bool:
        try:
            return requests.get(url, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    return check


@dataclass
class Process:
    """A child process in its own process group, with its log and how to tell it is ready."""

    name: str
    popen: subprocess.Popen
    log: Path
    ready: Optional[Condition] = None
    port: Optional[int] = None
    timeout: float = 60  # default for `wait_ready`
    started: float = field(default_factory=time.monotonic)
    ready_after: Optional[float] = None  # seconds from spawn to ready

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def wait_ready(self, timeout: Optional[float] = None) -> float:
        """Block until the readiness condition holds (at once if it already did); returns the
        seconds from spawn to ready. Raises with the log tail if the process exits or times out."""
        if self.ready_after is None:
            timeout = self.timeout if timeout is None else timeout

            def up() -> bool:
                if not self.alive():
                    raise RuntimeError(
                        f"{self.name} exited ({self.popen.returncode}); "
                        f"log {self.log}:\n{self.tail()}"
                    )
                return self.ready is None or self.ready()

            wait_until(
                up,
                timeout,
                f"{self.name} ready",
                interval=0.25,
                details=lambda: f"log {self.log}:\n{self.tail()}",
            )
            self.ready_after = time.monotonic() - self.started
        return self.ready_after

    def send_signal(self, sig: int) -> None:
        """Send `sig` to the whole process group (the process alone if the group is gone)."""
        if not self.alive():
            return
        try:
            os.killpg(self.popen.pid, sig)
        except (ProcessLookupError, PermissionError):
            try:
                self.popen.send_signal(sig)
            except ProcessLookupError:
                pass

    def stop(self, sig: int = signal.SIGTERM, grace: float = 30) -> None:
        """`sig` (TERM by default) to the group, then `reap`. Nothing if it already ended."""
        if self.alive():
            self.send_signal(sig)
            self.reap(grace)

    def reap(self, grace: float) -> None:
        """Wait up to `grace` for the signalled process to end, then KILL its group: what
        ignored the signal, and members that outlived their leader."""
        try:
            self.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.popen.wait(timeout=10)

    def rss_bytes(self) -> int:
        """Resident memory of the process and all its descendants."""
        return sum(_rss(pid) for pid in _descendants(self.popen.pid))

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the process and its living descendants."""
        return sum(_cpu(pid) for pid in _descendants(self.popen.pid))


class Supervisor:
    """Named child processes in one work directory (one log each), all stopped by `stop_all`."""

    def __init__(self, workdir: Path, env: Optional[Dict[str, str]] = None) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.env = dict(env or {})
        self.procs: Dict[str, Process] = {}
        self._lock = threading.Lock()

    def __getitem__(self, name: str) -> Process:
        return self.procs[name]

    def __contains__(self, name: str) -> bool:
        return name in self.procs and self.procs[name].alive()

    def spawn(
        self,
        name: str,
        args: Sequence[object],
        *,
        ready: Optional[Condition] = None,
        timeout: float = 60,
        port: Optional[int] = None,
        cwd: Optional[Path] = None,
        env: Optional[Dict[str, str]] = None,
    ) -> Process:
        """Start `args` in a new session, output appended to <workdir>/<name>.log, without
        waiting: `wait_ready()` on the result waits up to `timeout` for `ready`."""
        with self._lock:
            if name in self:
                raise RuntimeError(f"{name} is already running")
            log = self.workdir / f"{name}.log"
            with open(log, "a") as out:
                popen = subprocess.Popen(
                    [str(a) for a in args],
                    cwd=cwd,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env={**os.environ, **BASE_ENV, **self.env, **(env or {})},
                    start_new_session=True,
                )
            process = Process(name, popen, log, ready, port, timeout)
            self.procs[name] = process
            return process

    def start(self, name: str, args: Sequence[object], **kwargs) -> Process:
        """`spawn`, then wait until ready (stopping it again if it never gets there)."""
        process = self.spawn(name, args, **kwargs)
        self.wait_ready(process)
        return process

    def wait_ready(self, process: Process) -> float:
        """`process.wait_ready()`, stopping the process if it never gets ready (it stays listed,
        so waiting for it again repeats the error with its log)."""
        try:
            return process.wait_ready()
        except BaseException:
            process.stop()
            raise

    def run(self, name: str, args: Sequence[object], *, timeout: float, **kwargs) -> float:
        """Run `args` to completion (e.g. a training); returns the seconds it took. Raises with
        the log tail if it fails, or after `timeout` (the group is stopped then)."""
        process = self.spawn(name, args, **kwargs)
        try:
            code = process.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop(name, grace=10)
            raise RuntimeError(
                f"{name} took longer than {timeout:g}s; log {process.log}:\n{process.tail()}"
            ) from None
        self.procs.pop(name, None)
        if code != 0:
            raise RuntimeError(f"{name} failed ({code}); log {process.log}:\n{process.tail()}")
        return time.monotonic() - process.started

    def stop(self, name: str, sig: int = signal.SIGTERM, grace: float = 30) -> None:
        process = self.procs.pop(name, None)
        if process is not None:
            process.stop(sig, grace)

    def stop_all(self, grace: float = 30) -> None:
        """TERM to every group at once, then wait (KILL what outlives `grace`)."""
        with self._lock:
            processes = list(self.procs.values())
            self.procs.clear()
        running = [process for process in processes if process.alive()]
        for process in running:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in running:
            process.reap(max(0.1, deadline - time.monotonic()))

    def wait_logs_quiet(self, settle: float = 0.5, timeout: float = 15) -> None:
        """Until no log has grown for `settle` seconds: output written after a reply is in."""

        def sizes() -> List[int]:
            return [log.stat().st_size for log in sorted(self.workdir.glob("*.log"))]

        last = {"sizes": sizes(), "since": time.monotonic()}

        def quiet() -> bool:
            now = sizes()
            if now != last["sizes"]:
                last.update(sizes=now, since=time.monotonic())
            return time.monotonic() - last["since"] >= settle

        wait_until(quiet, timeout, f"logs in {self.workdir} quiet", interval=0.1)

    def tails(self, chars: int = 3000) -> Dict[str, str]:
        """The last `chars` of every log in the work directory (for failure reports)."""
        return {
            log.stem: log.read_text(errors="replace")[-chars:]
            for log in sorted(self.workdir.glob("*.log"))
        }


def stop_on_time_limit_or_signal(seconds: float, cleanup: Callable[[], None]) -> threading.Timer:
    """Bound a script in time: after `seconds`, or on Ctrl-C / SIGTERM, run `cleanup` and exit
    (status 3 on the time limit, 130 on a signal), so nothing a script started outlives it.
    Cancel the returned timer when the work ends in time."""

    def on_timeout() -> None:
        print(
            f"!!  time limit of {seconds:.0f}s reached: stopping everything",
            file=sys.stderr,
            flush=True,
        )
        cleanup()
        os._exit(3)

    watchdog = threading.Timer(seconds, on_timeout)
    watchdog.daemon = True
    watchdog.start()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: (cleanup(), os._exit(130)))
    return watchdog


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


def _cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0
