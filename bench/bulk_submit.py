"""Bulk submit (issue 15, target 4): items/s accepted by one `modq api` process through POST /v1/items/batch,
beside single submit's rate measured in the same run, and `service.submit_many` for Python callers.

    .venv/bin/python bench/bulk_submit.py
    .venv/bin/python bench/bulk_submit.py --seconds 6 --no-record

`modq api` (1 uvicorn worker, INFO logging) on a fresh PostgreSQL database, Redis as broker. Single: 8
keep-alive clients sending POST /v1/items. Batch: 1 and 2 clients sending POST /v1/items/batch with 500
new items each (new external ids and s3:// URIs, so every item is stored and its task queued). The two take
turns (rounds) so they share the machine's load alike. In-process: `service.submit_many` in batches of 500
from this process (no HTTP). CLI: `modq submit --from` a 20,000-line NDJSON file, its own process, start-up
included. Target: >= 3,000 items/s accepted by one API process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import common, ingest_api  # noqa: E402

BATCH = 500
TARGET = 3000
SECTION = common.Section(
    key="bulk_submit",
    title="## 4b. Bulk submit (POST /v1/items/batch and service.submit_many, issue 15)",
    intro="""
Command: `.venv/bin/python bench/bulk_submit.py` (defaults: 12 s per mode in 4 alternating rounds, `modq api`
with 1 uvicorn worker, INFO logging, PostgreSQL). Every item is new: stored, audited and its task queued.
Single: 8 keep-alive clients on POST /v1/items. Batch: 500 items per POST /v1/items/batch, 1 and 2 clients.
In-process: `service.submit_many`, 500 per call. CLI: `modq submit --from` a 20,000-line NDJSON file (wall time,
start-up included). Target: >= 3,000 items/s accepted by one API process.
CPU ms/item: API process / PostgreSQL backends.
""",
    columns=["date (UTC)", "machine", "single items/s (8 clients)", "batch items/s (1 client)",
             "batch items/s (2 clients)", "batch p50 / p99 ms per request (1 client)", "batch / single",
             "target >= 3,000", "submit_many items/s (in-process)", "modq submit --from lines/s",
             "CPU ms/item single", "CPU ms/item batch"],
    after="ingest_api_vs_bare",
)


def batch_request(host: str, token: str) -> bytes:
    tag = uuid.uuid4().hex
    items = [{"external_id": f"bulk-{tag}-{n}", "media_uri": f"s3://bench-media/bulk/{tag}/{n}.jpg",
              "metadata": {"user": "bench"}} for n in range(BATCH)]
    body = json.dumps({"items": items}).encode()
    head = (f"POST /v1/items/batch HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    return head + body


MODES = {"single": (8, ingest_api.request_bytes, 1), "batch-1": (1, batch_request, BATCH),
         "batch-2": (2, batch_request, BATCH)}  # name -> (clients, request maker, items per request)


def run_modes(port: int, api: common.Proc, database: str, token: str, seconds: float, rounds: int) -> dict:
    got = {name: {"latencies": [], "statuses": {}, "wall": 0.0, "cpu": {}} for name in MODES}
    for _ in range(rounds):
        for name, (clients, maker, _) in MODES.items():
            meter = common.CpuMeter({"api": lambda: common.process_tree(api.pid),
                                     "postgres": lambda: common.postgres_backends(database)})
            meter.start()
            latencies, statuses, wall = asyncio.run(ingest_api.load("127.0.0.1", port, token, clients,
                                                                    seconds / rounds, maker))
            ingest_api.accumulate(got[name], meter.stop(), latencies, statuses, wall)
    out = {}
    for name, acc in got.items():
        per_request = MODES[name][2]
        ok = acc["statuses"].get(200 if per_request > 1 else 202, 0)
        items = ok * per_request
        out[name] = {"rate": items / acc["wall"], "requests": len(acc["latencies"]), "statuses": acc["statuses"],
                     "p50": 1000 * ingest_api.percentile(acc["latencies"], 0.5),
                     "p99": 1000 * ingest_api.percentile(acc["latencies"], 0.99),
                     "cpu": {k: 1000 * v / max(1, items) for k, v in acc["cpu"].items()}}
    return out


def in_process(url: str, seconds: float) -> float:
    """``service.submit_many`` from this process, batches of 500, for ``seconds``: items/s."""
    os.environ.update({"MODQ_DATABASE_URL": url, "MODQ_BROKER_URL": common.BROKER_URL})
    from moderation.bootstrap import get_runtime
    from moderation.items import services as service
    from worker.app import dispatcher

    rt = get_runtime(dispatcher)
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        tag = uuid.uuid4().hex
        results = service.submit_many([service.Entry(f"s3://bench-media/py/{tag}/{n}.jpg", f"py-{tag}-{n}",
                                                     {"user": "bench"}) for n in range(BATCH)], rt=rt)
        done += sum(r.created for r in results)
    return done / (time.perf_counter() - start)


def cli_rate(url: str, lines: int, logs: Path) -> float:
    """``modq submit --from`` an NDJSON file of ``lines`` new items, in its own process: lines/s, start-up included."""
    path, tag = logs / "items.ndjson", uuid.uuid4().hex
    with open(path, "w") as fh:
        for n in range(lines):
            fh.write(json.dumps({"uri": f"s3://bench-media/cli/{tag}/{n}.jpg", "external_id": f"cli-{tag}-{n}",
                                 "metadata": {"user": "bench"}}) + "\n")
    env = common.base_env(url, MODQ_LOG_LEVEL="WARNING")
    start = time.perf_counter()
    done = subprocess.run([str(Path(sys.executable).parent / "modq"), "submit", "--from", str(path)], env=env,
                          capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - start
    if done.returncode != 0 or f"created {lines}," not in done.stdout:
        raise RuntimeError(f"modq submit --from: exit {done.returncode}: {done.stdout[-500:]} {done.stderr[-1000:]}")
    return lines / wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=12.0, help="per mode")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--cli-lines", type=int, default=20_000, help="lines of the modq submit --from file")
    parser.add_argument("--loglevel", default="INFO")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)

    common.install_signal_cleanup()
    info = common.machine_info()
    common.print_header("Bulk submit", info)
    logs = Path(tempfile.mkdtemp(prefix="modq-bulk-"))
    with common.cleaned_up():
        with common.temp_database() as url:
            from moderation.tenants import tokens

            _, token = tokens.create(url, "bench-bulk", "ingest", created_by="bench")
            database = url.rsplit("/", 1)[1]
            common.flush_broker()
            api, port = ingest_api.start_api("modq", url, token, 1, args.loglevel, logs)
            try:
                got = run_modes(port, api, database, token, args.seconds, args.rounds)
            finally:
                api.stop()
                if "Traceback" in api.output():
                    print(f"!! the API logged a traceback; see {api.log_path}")
            common.flush_broker()
            python_rate = in_process(url, args.seconds / 2)
            common.flush_broker()
            file_rate = cli_rate(url, args.cli_lines, logs)
    for name, r in got.items():
        print(f"{name:>8}: {r['rate']:8.1f} items/s  {r['requests']:,} requests  p50 {r['p50']:.1f} ms  "
              f"p99 {r['p99']:.1f} ms  CPU ms/item API {r['cpu']['api']:.3f} PG {r['cpu']['postgres']:.3f}  "
              f"answers {r['statuses']}")
    single, b1, b2 = got["single"], got["batch-1"], got["batch-2"]
    best = max(b1["rate"], b2["rate"])
    print(f"modq submit --from: {file_rate:.1f} lines/s ({args.cli_lines:,} lines, start-up included)")
    print(f"in-process submit_many: {python_rate:.1f} items/s; batch / single = {best / single['rate']:.1f}x; "
          f"target >= {TARGET}: {'met' if best >= TARGET else 'NOT met'}")
    machine = f"{info['cores']} cores, load {info['load'][0]:.2f}" + (" (loaded)" if common.loaded(info) else "")
    row = [info["date"], machine, f"{single['rate']:.1f}", f"{b1['rate']:.0f}", f"{b2['rate']:.0f}",
           f"{b1['p50']:.0f} / {b1['p99']:.0f}", f"{best / single['rate']:.1f}x", "met" if best >= TARGET else "NOT met",
           f"{python_rate:.0f}", f"{file_rate:.0f}", f"{single['cpu']['api']:.2f} / {single['cpu']['postgres']:.2f}",
           f"{b1['cpu']['api']:.3f} / {b1['cpu']['postgres']:.3f}"]
    details = [f"- Machine: {common.machine_line(info)}", f"- Versions: {common.versions_line(info)}"]
    details += [f"- {name}: {r['requests']:,} requests, answers {r['statuses']}, p50 {r['p50']:.1f} ms, "
                f"p99 {r['p99']:.1f} ms per request" for name, r in got.items()]
    return common.finish_run(SECTION, [row], details, logs, record_it=not args.no_record)


if __name__ == "__main__":
    sys.exit(main())
