"""What every benchmark shares: machine facts, throw-away services, and RESULTS.md.

Benchmarks run against the real Redis and PostgreSQL on this machine, in a
Redis database of their own (9, ``MODQ_BENCH_REDIS_DB``) and a PostgreSQL
database created for the run and dropped afterwards. Every process they start
is stopped by its id on the way out, including on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "RESULTS.md"
PYTHON = sys.executable
REDIS_DB = int(os.environ.get("MODQ_BENCH_REDIS_DB", "9"))
BROKER_URL = os.environ.get("MODQ_BENCH_BROKER_URL", f"redis://127.0.0.1:6379/{REDIS_DB}")
PG_ADMIN = os.environ.get("MODQ_BENCH_PG_ADMIN", "postgresql://root@127.0.0.1:5432/test")
LOADED = 1.5  # 1-minute load average above which figures are marked as taken on a loaded machine
PACKAGES = ("celery", "kombu", "redis", "sqlalchemy", "psycopg", "boto3", "botocore", "prometheus-client",
            "onnxruntime", "nudenet", "pillow", "numpy", "fastapi", "uvicorn", "httpx")

if str(REPO) not in sys.path:  # `python bench/x.py` puts bench/ first, not the repository
    sys.path.insert(0, str(REPO))


# --- machine and versions ------------------------------------------------------


def machine_info(extra_packages: Iterable[str] = ()) -> dict[str, Any]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gib = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        mem_gib = round(kib / 1024 / 1024, 1)
    versions = {}
    for name in (*PACKAGES, *extra_packages):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    info = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "host": platform.node(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "mem_gib": mem_gib,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "load": os.getloadavg(),
        "versions": versions,
    }
    with contextlib.suppress(Exception):
        import redis

        info["redis_server"] = redis.Redis.from_url(BROKER_URL, socket_timeout=2).info("server")["redis_version"]
    with contextlib.suppress(Exception):
        import psycopg

        with psycopg.connect(PG_ADMIN, connect_timeout=3) as conn:
            info["postgresql_server"] = conn.execute("SHOW server_version").fetchone()[0].split()[0]
    return info


def loaded(info: dict[str, Any]) -> bool:
    return info["load"][0] > LOADED


def machine_line(info: dict[str, Any]) -> str:
    load = "/".join(f"{x:.2f}" for x in info["load"])
    note = " — LOADED MACHINE: figures are noisy" if loaded(info) else ""
    return f"{info['cores']}× {info['cpu']}, {info['mem_gib']} GiB, {info['os']}, load {load}{note}"


def versions_line(info: dict[str, Any]) -> str:
    parts = [f"Python {info['python']}"]
    parts += [f"{k} {v}" for k, v in info["versions"].items()]
    if "redis_server" in info:
        parts.append(f"Redis {info['redis_server']}")
    if "postgresql_server" in info:
        parts.append(f"PostgreSQL {info['postgresql_server']}")
    return ", ".join(parts)


def print_header(title: str, info: dict[str, Any]) -> None:
    print(f"== {title} ==")
    print(f"date     {info['date']}")
    print(f"machine  {machine_line(info)}")
    print(f"versions {versions_line(info)}")
    if loaded(info):
        print(f"WARNING  1-minute load average {info['load'][0]:.2f} > {LOADED}: another workload shares the CPU")
    print(flush=True)


# --- throw-away services -------------------------------------------------------


def temp_database(prefix: str = "modq_bench"):
    """A fresh PostgreSQL database migrated to the latest schema; dropped afterwards."""
    from tests.integration.fresh_pg import fresh_database

    return fresh_database(prefix, PG_ADMIN)


def redis_client():
    import redis

    return redis.Redis.from_url(BROKER_URL)


def flush_broker() -> None:
    redis_client().flushdb()


class Proc:
    """A child process we started: stopped by its own id (SIGTERM, then SIGKILL)."""

    def __init__(self, cmd: list[str], env: dict[str, str], log_path: Path, name: str):
        self.name, self.log_path = name, log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        _live.add(self)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 30) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        _live.discard(self)


_live: set[Proc] = set()


def stop_all() -> None:
    for proc in list(_live):
        proc.stop(10)


def base_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODQ_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update({
        "MODQ_DATABASE_URL": database_url,
        "MODQ_BROKER_URL": BROKER_URL,
        "MODQ_LOG_FORMAT": "json",
        # Every benchmark item is distinct: no reuse lookup to measure. (The worker still reads each S3 image's
        # first bytes, to check it is one picture Rekognition may read in place: the fake serves them.)
        "MODQ_DEDUPE": "false",
        "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
        "PYTHONPATH": str(REPO),
    })
    env.pop("AWS_PROFILE", None)
    env.update(extra)
    if "AWS_ENDPOINT_URL_REKOGNITION" in extra:  # the fake answers S3 GetObject for its objects too: the worker
        env.setdefault("AWS_ENDPOINT_URL_S3", extra["AWS_ENDPOINT_URL_REKOGNITION"])  # reads an image's first bytes
    return env


class FakeRekognitionProcess:
    """``python -m tests.fakes.rekognition_server`` in its own process (its CPU is not the worker's)."""

    def __init__(self, log_dir: Path, latency: float = 0.0, quota_tps: float | None = None,
                 labels: Iterable[str] = ()):
        cmd = [PYTHON, "-m", "tests.fakes.rekognition_server", "--port", "0", "--latency", str(latency)]
        if quota_tps is not None:
            cmd += ["--quota-tps", str(quota_tps)]
        for label in labels:
            cmd += ["--default-label", label]
        self.err_path = log_dir / "fake-rekognition.err"
        self._err = open(self.err_path, "w")
        self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=self._err, text=True,
                                     start_new_session=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("READY "):
            self.proc.kill()
            raise RuntimeError(f"fake Rekognition did not start: {line!r} {self.err_path.read_text()}")
        self.url = line.split(" ", 1)[1]
        self.summary: dict[str, Any] = {}

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> dict[str, Any]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._err.close()
        for line in self.err_path.read_text().splitlines():
            if line.startswith("STOPPED "):
                self.summary = json.loads(line.split(" ", 1)[1])
        return self.summary


def start_worker(app: str, queues: str, pool: str, concurrency: int, env: dict[str, str], log_path: Path,
                 name: str, loglevel: str = "INFO", extra: Iterable[str] = (), timeout: float = 90) -> Proc:
    cmd = [PYTHON, "-m", "celery", "-A", app, "worker", "-Q", queues, "-P", pool, "-c", str(concurrency),
           "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", loglevel,
           "-n", f"{name}-{uuid.uuid4().hex[:6]}@%h", *extra]
    proc = Proc(cmd, env, log_path, name)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{name} exited:\n{proc.output()[-3000:]}")
        if " ready." in proc.output():
            return proc
        time.sleep(0.1)
    proc.stop()
    raise RuntimeError(f"{name} not ready after {timeout}s:\n{proc.output()[-3000:]}")


# --- measuring ------------------------------------------------------------------


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (prefork pool processes)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(children.get(p, []))
    return tree


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU of these processes so far (ended ones count zero)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / tick


def postgres_backends(database: str) -> list[int]:
    """Server processes serving connections to ``database`` (their CPU is the database's cost)."""
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,)).fetchall()
    return [r[0] for r in rows]


class CpuMeter:
    """CPU seconds spent by named groups of processes between ``start()`` and ``stop()``.

    Processes come and go (prefork pool processes, PostgreSQL backends of a
    connection pool), so each pid is sampled every ``interval`` seconds in a
    thread and counted from its first sighting (or from 0 if it was born during
    the measurement) to its last.
    """

    def __init__(self, groups: dict[str, Any], interval: float = 0.25):
        self.groups = groups  # name -> callable returning pids, or "self"
        self.interval = interval
        self.first: dict[str, dict[int, float]] = {}
        self.last: dict[str, dict[int, float]] = {}
        self.result: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._self_start = 0.0

    def _sample(self, initial: bool = False) -> None:
        for name, pids in self.groups.items():
            if pids == "self":
                continue
            with contextlib.suppress(Exception):
                for pid in pids():
                    value = cpu_seconds([pid])
                    self.first.setdefault(name, {}).setdefault(pid, value if initial else 0.0)
                    self.last.setdefault(name, {})[pid] = value

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def start(self) -> None:
        t = os.times()
        self._self_start = t.user + t.system
        self._sample(initial=True)
        self._thread = threading.Thread(target=self._run, daemon=True, name="cpu-meter")
        self._thread.start()

    def stop(self) -> dict[str, float]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()
        for name, pids in self.groups.items():
            if pids == "self":
                t = os.times()
                self.result[name] = t.user + t.system - self._self_start
            else:
                first, last = self.first.get(name, {}), self.last.get(name, {})
                self.result[name] = sum(max(0.0, last[p] - first.get(p, 0.0)) for p in last)
        return self.result


def wait_drained(client, queues: Iterable[str], timeout: float, interval: float = 0.01) -> float:
    """Wait until the queues are empty and nothing is unacked (twice in a row); return the time it happened."""
    queues = list(queues)
    deadline = time.monotonic() + timeout
    streak = 0
    while time.monotonic() < deadline:
        with client.pipeline(transaction=False) as pipe:
            for q in queues:
                pipe.llen(q)
            pipe.hlen("unacked")
            counts = pipe.execute()
        now = time.perf_counter()
        if sum(counts) == 0:
            streak += 1
            if streak == 1:
                first_empty = now
            if streak >= 2:
                return first_empty
        else:
            streak = 0
        time.sleep(interval)
    raise TimeoutError(f"queues {queues} not drained after {timeout}s")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# --- RESULTS.md -----------------------------------------------------------------


@dataclass
class Section:
    key: str  # marker name, e.g. "pipeline_overhead"
    title: str  # "## 1. Pipeline overhead"
    intro: str  # what it measures, the command, the target
    columns: list[str]
    after: str | None = None  # a new section goes right after this one's (if present), else at the end


@contextlib.contextmanager
def cleaned_up():
    """Stop every process a benchmark started and empty its broker database, however the run ends."""
    try:
        yield
    finally:
        stop_all()
        flush_broker()


def submitter_runtime(env: dict[str, str], keys: Iterable[str]):
    """The submitting side of a benchmark, in this process, with the workers' settings (``keys`` of ``env``):
    the broker flushed, modq's logs quiet, a Runtime sending through Celery."""
    for key in keys:
        os.environ[key] = env[key]
    flush_broker()
    # Imported only now: modq reads its settings from the environment just set.
    from config.settings import get_settings
    from moderation.bootstrap import Runtime, build_publisher
    from moderation.domain import policy
    from moderation.infra import logs as modq_logs
    from worker.app import dispatcher

    modq_logs.configure("json", "WARNING")
    settings = get_settings()
    return Runtime(settings, policy.load(settings.thresholds), dispatcher(), build_publisher(settings))


def finish_run(section: "Section", rows: list[list[str]], details: list[str], logs: Path, record_it: bool) -> int:
    """End a run: the load average at its end (other jobs may have started meanwhile), its rows recorded
    unless --no-record, where its logs are; the script's exit code."""
    details.append("- Load average at the end: " + "/".join(f"{x:.2f}" for x in os.getloadavg()))
    if record_it:
        record_rows(section, rows, details)
    print(f"logs: {logs}")
    return 0


def record_rows(section: "Section", rows: list[list[str]], details: list[str]) -> None:
    """Record one run's rows (sharing its details) and say where they went."""
    for row in rows:
        record(section, row, "\n".join(details))
    print(f"recorded in {RESULTS.relative_to(REPO)}")


def record(section: Section, row: list[str], details: str) -> None:
    """Append ``row`` to the section's dated table and replace its "latest run" details.

    Only the text between this section's markers is touched; other sections
    (other people's benchmarks) are left as they are.
    """
    start, end = f"<!-- bench:{section.key} -->", f"<!-- /bench:{section.key} -->"
    text = RESULTS.read_text() if RESULTS.exists() else (
        "# Benchmark results\n\nNewest row last. Each benchmark is one command; see each section.\n")
    header = "| " + " | ".join(section.columns) + " |\n|" + "|".join("---" for _ in section.columns) + "|\n"
    line = "| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |\n"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        body, after = rest.split(end, 1)
        rows = re.findall(r"^\|(?!---).*\|$", body.split("### Latest run")[0], flags=re.M)
        table_rows = [r + "\n" for r in rows[1:]]  # drop the header row
    else:
        anchor = f"<!-- /bench:{section.after} -->" if section.after else None
        if anchor and anchor in text:
            head, tail = text.split(anchor, 1)
            before, after = head + anchor + "\n\n", "\n" + tail
        else:
            before, after = text.rstrip() + "\n\n", "\n"
        table_rows = []
    table_rows.append(line)
    body = (f"\n{section.title}\n\n{section.intro.strip()}\n\n{header}{''.join(table_rows)}\n"
            f"### Latest run\n\n{details.strip()}\n")
    RESULTS.write_text(before + start + body + end + after)


def fmt(x: float, digits: int = 1) -> str:
    return f"{x:,.{digits}f}"


def install_signal_cleanup() -> None:
    """Ctrl-C / SIGTERM: stop our children before exiting (the finally blocks drop databases)."""

    def handler(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)
