"""One action server + Rasa server (`servers.Servers`, default INFO logging) shared by test modules.

Loading the model takes most of a minute on two cores; tests/test_bad_input.py and
tests/test_logging_privacy.py only talk to the servers, so they share one pair per pytest run.
The servers stop when the Python process exits.
"""
from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Optional

from support.servers import Servers

_running: Optional[Servers] = None


def shared_servers() -> Servers:
    global _running
    if _running is None:
        workdir = Path(tempfile.mkdtemp(prefix="shared-servers-"))
        # unbuffered: a log line is in the file as soon as it is written (the privacy test reads it)
        servers = Servers(workdir=workdir, env={"PYTHONUNBUFFERED": "1"})
        try:
            servers.start_actions()
            servers.start_rasa()
        except BaseException:
            servers.stop()
            raise
        atexit.register(shutil.rmtree, workdir, True)
        atexit.register(servers.stop)
        _running = servers
    return _running
