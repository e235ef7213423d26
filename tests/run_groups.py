"""`make test`'s pytest: the suite's two independent halves at once, each on a Redis database of its own.

The unit tests are CPU-bound (SQLite, in-process fakes); the integration and browser tests mostly wait on
Celery workers, PostgreSQL, servers and Chromium. On a 2-core machine the two overlap well, where
pytest-xdist would split by test and need every fixture (Celery workers, the session's PostgreSQL database,
the fake Rekognition server) made once per xdist worker. The first group prints as it runs; the second's
output is kept and printed whole when it ends. The exit status is the worst of the two. Arguments are passed
to both pytest runs.

    python -m tests.run_groups [pytest args...]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

GROUPS = (  # name, paths, Redis database (tests/conftest.py reads MODQ_TEST_REDIS_DB)
    ("unit", ["tests/unit"], 13),
    ("integration and browser", ["tests/integration", "tests/e2e"], 14),
)


def main(args: list[str]) -> int:
    started = time.monotonic()
    running = []
    try:
        for i, (name, paths, redis_db) in enumerate(GROUPS):
            out = None if i == 0 else tempfile.TemporaryFile(mode="w+")  # None: straight to this terminal
            env = {**os.environ, "MODQ_TEST_REDIS_DB": str(redis_db)}
            proc = subprocess.Popen([sys.executable, "-m", "pytest", *paths, *args], env=env, stdout=out,
                                    stderr=subprocess.STDOUT if out else None, text=True)
            running.append((name, proc, out))
        for name, proc, out in running:
            proc.wait()
            print(f"===== {name}: pytest exited {proc.returncode} after {time.monotonic() - started:.0f} s =====",
                  flush=True)
            if out is not None:
                out.seek(0)
                sys.stdout.write(out.read())
                sys.stdout.flush()
    finally:
        for _, proc, _ in running:
            if proc.poll() is None:
                proc.terminate()
    worst = max(proc.returncode for _, proc, _ in running)
    print(f"===== both groups done in {time.monotonic() - started:.0f} s: exit {worst} =====")
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
