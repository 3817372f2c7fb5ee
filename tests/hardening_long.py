"""The hardening tests with ten times the trials (not part of CI):

    .venv/bin/python tests/hardening_long.py            # all of tests/test_hardening_*.py
    .venv/bin/python tests/hardening_long.py -k crash   # extra pytest arguments pass through

It sets QA_HARDENING_LONG=1, which the tests read: fuzzing 3,000 schema-valid and 3,000
schema-violating cases per operation and 2,000 engine-reaching ones; 200 corruption trials per
index file and kind; a SIGKILL before every file-system step of a build plus 20 at random delays;
600 excess requests per overload burst and 30 overload rounds against `qa serve`; issue 18's
hang-up reproduction 1,000 times and 80 s of chaos (clients hanging up at random points).
"""

import os
import subprocess
import sys
from pathlib import Path

if __name__ == "__main__":
    tests = Path(__file__).resolve().parent
    files = sorted(str(p) for p in tests.glob("test_hardening_*.py"))
    env = {**os.environ, "QA_HARDENING_LONG": "1"}
    sys.exit(subprocess.call([sys.executable, "-m", "pytest", "-q", *files, *sys.argv[1:]], cwd=tests.parent, env=env))
