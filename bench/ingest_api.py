"""Benchmark 4 — ingest API: POST /v1/items under concurrent clients, on PostgreSQL, against a bare endpoint.

    .venv/bin/python bench/ingest_api.py
    .venv/bin/python bench/ingest_api.py --clients 1,16 --seconds 5 --api-workers 1 --no-record

`modq api` (uvicorn) runs in its own process(es) on a fresh PostgreSQL
database, with an ingest token made by `moderation.tenants.tokens.create` as `modq
tokens create --role ingest` does. Each client is one keep-alive HTTP/1.1
connection sending `POST /v1/items` (a new external_id and s3:// URI each time,
so every request stores an item and sends its task to Redis) as soon as the
previous answer arrived. The load generator is a small asyncio client (its
CPU is reported: it shares the machine). Figures: requests/s, p50/p99 latency,
non-202 answers, and CPU per request of the API processes and of PostgreSQL.

The baseline (``bench/bare_ingest.py``) is a bare FastAPI endpoint doing the essential work of the same request
(token check, one row insert, one task send) on the same database, broker and uvicorn, served beside `modq api`
and loaded in turns with it (rounds) at each client count, so the ratio compares the two under the same machine load.
Target (issue 15): modq >= 0.6 x bare at 1 and 8 clients.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import common  # noqa: E402

SECTION = common.Section(
    key="ingest_api_vs_bare",
    title="## 4. Ingest API vs a bare endpoint (POST /v1/items on PostgreSQL, issue 15)",
    intro="""
Command: `.venv/bin/python bench/ingest_api.py` (defaults: 1 and 8 keep-alive clients, 12 s per endpoint and
level in 4 alternating rounds of 3 s, 1 uvicorn worker, INFO logging). Every request stores an item and queues its task. Baseline: `bench/bare_ingest.py`, a bare
FastAPI endpoint doing the essential work (token check, one row insert, one task send) on the same database,
broker and uvicorn, loaded in turns with modq at each client count. Target: modq >= 0.6 x bare at 1 and 8 clients.
CPU ms/request: API process(es) / PostgreSQL backends.
""",
    columns=["date (UTC)", "machine", "API workers", "clients", "modq req/s", "bare req/s", "ratio", "target >= 0.6",
             "modq p50 / p99 ms", "bare p50 / p99 ms", "errors", "modq CPU ms/req", "bare CPU ms/req"],
    after="ingest_api",
)
ENDPOINTS = ("modq", "bare")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request_bytes(host: str, token: str) -> bytes:
    body = json.dumps({"external_id": f"bench-{uuid.uuid4().hex}",
                       "media_uri": f"s3://bench-media/api/{uuid.uuid4().hex}.jpg",
                       "metadata": {"user": "bench"}}).encode()
    head = (f"POST /v1/items HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    return head + body


async def client(host: str, port: int, token: str, until: float, latencies: list[float], statuses: dict,
                 make_request=request_bytes) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < until:
            started = time.perf_counter()
            writer.write(make_request(f"{host}:{port}", token))
            await writer.drain()
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if length:
                await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            code = int(status_line.split()[1]) if status_line else 0
            statuses[code] = statuses.get(code, 0) + 1
            if not status_line:
                break
    finally:
        writer.close()


async def load(host: str, port: int, token: str, clients: int, seconds: float,
               make_request=request_bytes) -> tuple[list[float], dict, float]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    start = time.perf_counter()
    until = start + seconds
    await asyncio.gather(*(client(host, port, token, until, latencies, statuses, make_request)
                           for _ in range(clients)))
    return latencies, statuses, time.perf_counter() - start


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def start_api(kind: str, url: str, token: str, workers: int, loglevel: str, logs: Path) -> tuple[common.Proc, int]:
    """``modq api``, or the bare baseline under uvicorn, on a free port; healthy when returned."""
    port = free_port()
    env = common.base_env(url, MODQ_LOG_LEVEL=loglevel, MODQ_API_WORKERS=str(workers), MODQ_MEDIA_ROOT=str(logs))
    bin_dir = Path(sys.executable).parent
    if kind == "modq":
        cmd = [str(bin_dir / "modq"), "api", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    else:
        cmd = [str(bin_dir / "uvicorn"), "bench.bare_ingest:app", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    proc = common.Proc(cmd, env, logs / f"{kind}-{workers}.log", kind)
    wait_healthy(port, proc)
    asyncio.run(load("127.0.0.1", port, token, 2, 1.0))  # warm-up: connections, caches
    return proc, port


def accumulate(acc: dict, cpu: dict[str, float], latencies: list[float], statuses: dict[int, int],
               wall: float) -> None:
    """Add one round of load to a side's totals (rounds alternate between the sides)."""
    for name, value in cpu.items():
        acc["cpu"][name] = acc["cpu"].get(name, 0.0) + value
    acc["latencies"] += latencies
    acc["wall"] += wall
    for code, count in statuses.items():
        acc["statuses"][code] = acc["statuses"].get(code, 0) + count



def measure(servers: dict, database: str, token: str, clients: int, seconds: float, rounds: int) -> dict:
    """Each endpoint in turn, ``rounds`` times (seconds / rounds each): the machine's load, which drifts, is
    shared alike. Per endpoint: the rounds' requests and time added up, latencies pooled."""
    got = {kind: {"latencies": [], "statuses": {}, "wall": 0.0, "cpu": {}} for kind in servers}
    for _ in range(rounds):
        for kind, (proc, port) in servers.items():
            meter = common.CpuMeter({"api": lambda proc=proc: common.process_tree(proc.pid),
                                     "postgres": lambda: common.postgres_backends(database), "client": "self"})
            meter.start()
            latencies, statuses, wall = asyncio.run(load("127.0.0.1", port, token, clients, seconds / rounds))
            accumulate(got[kind], meter.stop(), latencies, statuses, wall)
    out = {}
    for kind, acc in got.items():
        n = len(acc["latencies"])
        out[kind] = {"n": n, "rate": n / acc["wall"], "wall": acc["wall"], "statuses": acc["statuses"],
                     "errors": n - acc["statuses"].get(202, 0), "p50": 1000 * percentile(acc["latencies"], 0.5),
                     "p99": 1000 * percentile(acc["latencies"], 0.99),
                     "cpu": {k: 1000 * v / max(1, n) for k, v in acc["cpu"].items()}}
    return out


def wait_healthy(port: int, proc: common.Proc, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"modq api exited:\n{proc.output()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"modq api not healthy after {timeout}s:\n{proc.output()[-3000:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", default="1,8", help="concurrent clients, comma-separated")
    parser.add_argument("--seconds", type=float, default=12.0, help="per endpoint and level")
    parser.add_argument("--rounds", type=int, default=4, help="modq and bare take turns this many times per level")
    parser.add_argument("--api-workers", default="1", help="uvicorn worker processes, comma-separated")
    parser.add_argument("--loglevel", default="INFO")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)

    common.install_signal_cleanup()
    info = common.machine_info()
    common.print_header("Benchmark 4: ingest API vs a bare endpoint", info)
    logs = Path(tempfile.mkdtemp(prefix="modq-bench4-"))
    rows, details = [], [f"- Machine: {common.machine_line(info)}", f"- Versions: {common.versions_line(info)}"]
    print(f"{'workers':>7} {'clients':>7} {'endpoint':>8} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} "
          f"{'API CPU ms/req':>14} {'PG CPU ms/req':>13} {'client CPU ms/req':>17}")
    with common.cleaned_up():
        with common.temp_database() as url:
            from moderation.tenants import tokens

            _, token = tokens.create(url, "bench-ingest", "ingest", created_by="bench")
            database = url.rsplit("/", 1)[1]
            for workers in (int(w) for w in args.api_workers.split(",")):
                common.flush_broker()
                servers = {kind: start_api(kind, url, token, workers, args.loglevel, logs) for kind in ENDPOINTS}
                try:
                    for clients in (int(c) for c in args.clients.split(",")):
                        got = measure(servers, database, token, clients, args.seconds, args.rounds)
                        for kind, r in got.items():
                            print(f"{workers:>7} {clients:>7} {kind:>8} {r['rate']:8.1f} {r['p50']:7.1f} "
                                  f"{r['p99']:7.1f} {r['errors']:>6} {r['cpu']['api']:14.2f} "
                                  f"{r['cpu']['postgres']:13.2f} {r['cpu']['client']:17.2f}", flush=True)
                            details.append(f"- {workers} API worker(s), {clients} clients, {kind}: {r['n']:,} "
                                           f"requests in {r['wall']:.1f} s; load generator CPU "
                                           f"{r['cpu']['client']:.2f} ms/request; answers {r['statuses']}.")
                        m, b = got["modq"], got["bare"]
                        ratio = m["rate"] / b["rate"] if b["rate"] else float("nan")
                        print(f"{'':>16} ratio modq / bare = {ratio:.2f} (target >= 0.6)", flush=True)
                        machine = (f"{info['cores']} cores, load {info['load'][0]:.2f}"
                                   + (" (loaded)" if common.loaded(info) else ""))
                        errors = m["errors"] + b["errors"]
                        rows.append([info["date"], machine, str(workers), str(clients), f"{m['rate']:.1f}",
                                     f"{b['rate']:.1f}", f"{ratio:.2f}", "met" if ratio >= 0.6 else "NOT met",
                                     f"{m['p50']:.1f} / {m['p99']:.1f}", f"{b['p50']:.1f} / {b['p99']:.1f}",
                                     str(errors), f"{m['cpu']['api']:.2f} / {m['cpu']['postgres']:.2f}",
                                     f"{b['cpu']['api']:.2f} / {b['cpu']['postgres']:.2f}"])
                finally:
                    for kind, (proc, _) in servers.items():
                        proc.stop()
                        if "Traceback" in proc.output():
                            print(f"!! {kind} logged a traceback; see {proc.log_path}")
    return common.finish_run(SECTION, rows, details, logs, record_it=not args.no_record)


if __name__ == "__main__":
    sys.exit(main())
