#!/usr/bin/env python3
"""Flood test on loopback: one address floods at 20x a person's rate while ten people chat.

    .venv/bin/python scripts/flood_test.py [--seconds 20] [--rounds 2] [--users 10] [--check]

Starts its own action server and Rasa (the project's credentials and endpoints, SQLite store in a
temporary directory, the default flood limits; 127.0.0.1 is exempt as in every harness run, the
test's addresses are not), then runs cramp_harness.flood: baseline and flood phases alternate,
users on 127.0.0.3 and up, the flooder on 127.0.0.2 over REST and socket.io. Prints each phase,
then the figures as JSON (docs/measurements.md keeps them). With --check it exits 1 when a bound of
issue 16 fails: an ordinary turn unanswered or limited, p95 under flood above 1.5x the baseline's,
no limit replies, a refused red flag without its escalation, a refused message stored.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cramp_harness import flood  # noqa: E402
from cramp_harness.servers import Servers  # noqa: E402
from cramp_harness.standins import CHANNEL_VARS  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20, help="length of each phase")
    parser.add_argument("--rounds", type=int, default=2, help="baseline + flood pairs")
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--think", type=float, default=3.0, help="a person's pause after an answer")
    parser.add_argument("--factor", type=float, default=20, help="flooder rate / a person's rate")
    parser.add_argument("--check", action="store_true", help="exit 1 when a bound fails")
    parser.add_argument(
        "--limits-off", action="store_true", help="for comparison: Rasa without its flood limits"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="flood-") as workdir:
        env = {name: "" for name in CHANNEL_VARS}
        if args.limits_off:
            env["CRAMP_RATE_LIMITS"] = "off"
        servers = Servers(Path(workdir), env=env)
        try:
            print("==> starting the action server and Rasa (model load: about half a minute)")
            servers.start_actions(wait=False)
            servers.start_rasa(wait=False)
            servers.wait_ready()
            time.sleep(2)
            servers.say("warm-up", "hi")  # first-turn costs out of the figures (127.0.0.1)
            print(
                f"==> {args.users} users (127.0.0.{flood.FIRST_USER}+), flooder 127.0.0.2 at "
                f"{args.factor:g}x; {args.rounds} x (baseline + flood) x {args.seconds:g} s"
            )
            result = flood.run(
                servers.url,
                servers.tracker_db,
                users=args.users,
                seconds=args.seconds,
                rounds=args.rounds,
                think=args.think,
                factor=args.factor,
            )
        finally:
            servers.stop(grace=5)
    print(flood.dumps(result))
    failures = flood.check(result)
    for failure in failures:
        print(f"FAIL: {failure}")
    if not failures:
        print("==> every bound held")
    return 1 if failures and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
