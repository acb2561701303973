#!/usr/bin/env bash
# Create the virtual environment from the pinned lock file.
#
# Rasa 3.6 declares Python < 3.11; on 3.11 it runs with the lock file's versions (see README,
# "Supported Python"). Every package is pinned in requirements/lock.txt, so pip installs exactly
# that set with --no-deps, and --ignore-requires-python lets rasa and rasa-sdk onto 3.11.
set -euo pipefail
python="${1:-python3}"
venv="${2:-.venv}"

version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
case "$version" in
  3.10|3.11) ;;
  *) echo "Python $version is not supported: use 3.10 or 3.11 (PYTHON=python3.11 make ...)" >&2; exit 1 ;;
esac

echo "==> creating $venv with Python $version"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
echo "==> installing the locked dependencies (a few minutes the first time)"
"$venv/bin/python" -m pip install --quiet --upgrade "pip==24.3.1"
"$venv/bin/python" -m pip install --quiet --no-deps --ignore-requires-python -r requirements/lock.txt
echo "==> installing the project (actions, cramp_nlu) in editable mode"
"$venv/bin/python" -m pip install --quiet --no-deps --no-build-isolation -e .
"$venv/bin/python" -c "import rasa, rasa_sdk, spacy; print('    rasa', rasa.__version__, '| rasa-sdk', rasa_sdk.__version__, '| spacy', spacy.__version__)"
