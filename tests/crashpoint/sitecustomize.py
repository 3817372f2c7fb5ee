"""Crash points for tests/test_hardening_crash.py: put this directory on PYTHONPATH of a `qa index`
subprocess and Python imports this file at start-up (the command itself is unchanged).

With QA_CRASH_ROOT set, an audit hook numbers every file-system step under that directory (open,
mkdir, rename/replace, remove, rmdir, rmtree), writes one line per step to QA_CRASH_LOG, and at
step QA_CRASH_AT sends the process SIGKILL, before the step happens. Without QA_CRASH_ROOT it does
nothing.
"""

import os
import signal
import sys

_ROOT = os.environ.get("QA_CRASH_ROOT")
EVENTS = {"open", "os.mkdir", "os.rename", "os.remove", "os.rmdir", "shutil.rmtree"}

if _ROOT:
    _root = os.path.abspath(_ROOT) + os.sep
    _at = int(os.environ.get("QA_CRASH_AT", "0"))
    _log = os.open(os.environ["QA_CRASH_LOG"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    _step = 0

    def _path(value) -> str | None:
        if isinstance(value, int):  # a descriptor (rmtree's dir_fd walk): no path of its own
            return None
        try:
            return os.path.abspath(os.fsdecode(os.fspath(value)))
        except TypeError:
            return None

    def _hook(event: str, args: tuple) -> None:
        global _step
        if event not in EVENTS or not args:
            return
        path = _path(args[0])
        if path is None or not (path + os.sep).startswith(_root):
            return
        _step += 1
        target = _path(args[1]) if event == "os.rename" else ""
        mode = args[1] if event == "open" and isinstance(args[1], str) else ""
        os.write(_log, f"{_step}\t{event}\t{path[len(_root):]}\t{(target or '')[len(_root):]}\t{mode}\n".encode())
        if _step == _at:
            os.kill(os.getpid(), signal.SIGKILL)

    sys.addaudithook(_hook)
