"""Benchmark 4 — ingest API: POST /v1/items under concurrent clients, on PostgreSQL.

    .venv/bin/python bench/ingest_api.py
    .venv/bin/python bench/ingest_api.py --clients 1,16 --seconds 5 --api-workers 1 --no-record

`modq api` (uvicorn) runs in its own process(es) on a fresh PostgreSQL
database, with an ingest token made by `moderation.review.tokens.create` as `modq
tokens create --role ingest` does. Each client is one keep-alive HTTP/1.1
connection sending `POST /v1/items` (a new external_id and s3:// URI each time,
so every request stores an item and sends its task to Redis) as soon as the
previous answer arrived. The load generator is a small asyncio client (its
CPU is reported: it shares the machine). Figures: requests/s, p50/p99 latency,
non-202 answers, and CPU per request of the API processes and of PostgreSQL.
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
    key="ingest_api",
    title="## 4. Ingest API (POST /v1/items on PostgreSQL)",
    intro="""
Command: `.venv/bin/python bench/ingest_api.py` (defaults: 1, 8 and 32 keep-alive clients, 10 s each,
`modq api` with 1 and with 2 uvicorn workers, INFO logging). Every request stores an item and queues its task.
""",
    columns=["date (UTC)", "machine", "API workers", "clients", "requests/s", "p50 ms", "p99 ms", "errors",
             "API CPU ms/req", "PostgreSQL CPU ms/req"],
)


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


async def client(host: str, port: int, token: str, until: float, latencies: list[float], statuses: dict) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < until:
            started = time.perf_counter()
            writer.write(request_bytes(f"{host}:{port}", token))
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


async def load(host: str, port: int, token: str, clients: int, seconds: float) -> tuple[list[float], dict, float]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    start = time.perf_counter()
    until = start + seconds
    await asyncio.gather(*(client(host, port, token, until, latencies, statuses) for _ in range(clients)))
    return latencies, statuses, time.perf_counter() - start


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


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
    parser.add_argument("--clients", default="1,8,32", help="concurrent clients, comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0, help="per level")
    parser.add_argument("--api-workers", default="1,2", help="uvicorn worker processes, comma-separated")
    parser.add_argument("--loglevel", default="INFO")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)

    common.install_signal_cleanup()
    info = common.machine_info()
    common.print_header("Benchmark 4: ingest API", info)
    logs = Path(tempfile.mkdtemp(prefix="modq-bench4-"))
    rows, details = [], [f"- Machine: {common.machine_line(info)}", f"- Versions: {common.versions_line(info)}"]
    print(f"{'API workers':>11} {'clients':>7} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} "
          f"{'API CPU ms/req':>14} {'PG CPU ms/req':>13} {'client CPU ms/req':>17}")
    with common.cleaned_up():
        with common.temp_database() as url:
            from moderation.review import tokens

            _, token = tokens.create(url, "bench-ingest", "ingest", created_by="bench")
            database = url.rsplit("/", 1)[1]
            for workers in (int(w) for w in args.api_workers.split(",")):
                port = free_port()
                env = common.base_env(url, MODQ_LOG_LEVEL=args.loglevel, MODQ_API_WORKERS=str(workers),
                                      MODQ_MEDIA_ROOT=str(logs))
                common.flush_broker()
                api = common.Proc([str(Path(sys.executable).parent / "modq"), "api", "--host", "127.0.0.1",
                                   "--port", str(port), "--workers", str(workers)], env, logs / f"api-{workers}.log",
                                  "api")
                try:
                    wait_healthy(port, api)
                    asyncio.run(load("127.0.0.1", port, token, 2, 1.0))  # warm-up: connections, caches
                    for clients in (int(c) for c in args.clients.split(",")):
                        meter = common.CpuMeter({"api": lambda: common.process_tree(api.pid),
                                                 "postgres": lambda: common.postgres_backends(database),
                                                 "client": "self"})
                        meter.start()
                        latencies, statuses, wall = asyncio.run(load("127.0.0.1", port, token, clients, args.seconds))
                        cpu = meter.stop()
                        n = len(latencies)
                        rate = n / wall
                        errors = n - statuses.get(202, 0)
                        p50, p99 = 1000 * percentile(latencies, 0.5), 1000 * percentile(latencies, 0.99)
                        per = {k: 1000 * v / max(1, n) for k, v in cpu.items()}
                        print(f"{workers:>11} {clients:>7} {rate:8.1f} {p50:7.1f} {p99:7.1f} {errors:>6} "
                              f"{per['api']:14.2f} {per['postgres']:13.2f} {per['client']:17.2f}", flush=True)
                        machine = (f"{info['cores']} cores, load {info['load'][0]:.2f}"
                                   + (" (loaded)" if common.loaded(info) else ""))
                        rows.append([info["date"], machine, str(workers), str(clients), f"{rate:.1f}", f"{p50:.1f}",
                                     f"{p99:.1f}", f"{errors}" + (f" {statuses}" if errors else ""),
                                     f"{per['api']:.2f}", f"{per['postgres']:.2f}"])
                        details.append(f"- {workers} API worker(s), {clients} clients: {n:,} requests in "
                                       f"{wall:.1f} s; load generator CPU {per['client']:.2f} ms/request; "
                                       f"answers {statuses}.")
                finally:
                    api.stop()
                    if "Traceback" in api.output():
                        print(f"!! the API logged a traceback; see {api.log_path}")
    if not args.no_record:
        common.record_rows(SECTION, rows, details)
    print(f"logs: {logs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
