#!/usr/bin/env python3
"""The real-message corpus (tests/data/real): add, training, check. See cramp_harness.real_corpus."""

import sys

from cramp_harness.real_corpus import main

if __name__ == "__main__":
    sys.exit(main())
