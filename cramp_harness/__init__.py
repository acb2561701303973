"""Test and script harness: child processes, the project's servers, platform stand-ins.

Installed with the project (`pip install -e .`), so tests and scripts import it without touching
`sys.path`.
"""
