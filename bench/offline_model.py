"""Benchmark 3 — offline model: modq's local provider against NudeNet called directly.

    .venv/bin/python bench/offline_model.py
    .venv/bin/python bench/offline_model.py --seconds 5 --video-seconds 10 --no-record   # quicker

The same JPEG bytes go through both sides, per size class (the bundled samples
at their own size, ~0.3 MP; the samples scaled to 1920×1080; to 4000×3000, a
phone photo):

- NudeNet direct: ``nudenet.NudeDetector().detect(jpeg_bytes)``, the library as
  shipped (cv2 decode, its own onnxruntime session and threading).
- modq local provider: ``LocalProvider.analyze_image(imaging.prepare(jpeg_bytes, keep_decoded=True))``,
  what the worker runs per image: validation, EXIF-upright decode, the same
  model with one onnxruntime thread, labels mapped to the Rekognition taxonomy.

Two measurements per class: one process (each side with its own default
threads), and the machine's throughput with one process per core (how modq is
deployed: prefork, one thread each; NudeNet's processes keep its default
threading). Target: local ≥ 0.9 × NudeNet direct images/s. The video real-time
factor at 1 frame/s comes from bench/video_rtf.py (issue 3's benchmark), run here.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import common  # noqa: E402

SECTION = common.Section(
    key="offline_model",
    title="## 3. Offline model (local provider vs NudeNet direct; video real-time factor)",
    intro="""
Command: `.venv/bin/python bench/offline_model.py` (defaults: 6 s per side and size class, one process and
one process per core; video from `bench/video_rtf.py --seconds 20 --runs 1`, 1 frame/s, sampling mode auto).
Target: local provider ≥ 0.9 × NudeNet direct, images/s on the machine (one process per core).
""",
    columns=["date (UTC)", "machine", "images", "NudeNet direct img/s (1 proc / per core)",
             "local provider img/s (1 proc / per core)", "ratio per core (target ≥ 0.9)", "video RTF at 1 fps"],
)
SIZES = {"samples (~0.3 MP)": None, "1920×1080": (1920, 1080), "4000×3000": (4000, 3000)}


def images_for(size: tuple[int, int] | None) -> list[bytes]:
    from PIL import Image

    out = []
    for path in sorted((common.REPO / "samples").glob("*.jpg")) + sorted((common.REPO / "samples").glob("*.png")):
        img = Image.open(path).convert("RGB")
        if size is not None:
            img = img.resize(size, Image.BILINEAR)
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=90)
        out.append(buf.getvalue())
    return out


def _direct():
    from nudenet import NudeDetector

    detector = NudeDetector()
    return detector.detect


def _local(threads: int = 1):
    from moderation.infra.media import imaging
    from moderation.providers.local import LocalProvider

    provider = LocalProvider(threads=threads)  # as moderation.items.services._load_image prepares for it:
    return lambda data: provider.analyze_image(imaging.prepare(data, keep_decoded=provider.decodes_pixels), 20.0)


def run_side(side: str, images: list[bytes], seconds: float, threads: int = 1) -> tuple[int, float, float]:
    """Images done, wall seconds, CPU seconds; after a warm-up over every image."""
    fn = _direct() if side == "direct" else _local(threads)
    for data in images:
        fn(data)
    done, start, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        fn(images[done % len(images)])
        done += 1
    return done, time.perf_counter() - start, time.process_time() - cpu


def _child(side, size, seconds, threads, barrier, queue):
    images = images_for(size)
    fn = _direct() if side == "direct" else _local(threads)
    for data in images:
        fn(data)
    barrier.wait()
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn(images[done % len(images)])
        done += 1
    queue.put((done, time.perf_counter() - start))


def per_core(side: str, size, seconds: float, processes: int) -> float:
    """Images/s of ``processes`` processes running side by side (spawned: no session shared across a fork)."""
    ctx = multiprocessing.get_context("spawn")
    barrier, queue = ctx.Barrier(processes), ctx.Queue()
    procs = [ctx.Process(target=_child, args=(side, size, seconds, 1, barrier, queue)) for _ in range(processes)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=seconds * 10 + 120) for _ in procs]
    for p in procs:
        p.join(30)
    return sum(done / wall for done, wall in results)


def video_rtf(seconds: int, runs: int) -> tuple[str, list[str]]:
    """Issue 3's bench/video_rtf.py, run as is; the auto-mode rows of its table."""
    script = common.REPO / "bench" / "video_rtf.py"
    if not script.exists():
        return "not measured (bench/video_rtf.py missing)", []
    out = subprocess.run([sys.executable, str(script), "--seconds", str(seconds), "--runs", str(runs)],
                         cwd=common.REPO, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        return f"video_rtf.py failed: {out.stderr.strip()[-300:]}", []
    rows = [line for line in out.stdout.splitlines() if line.startswith("| ") and "auto" in line]
    factors = []
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        match = re.search(r"([\d.]+)×", cells[5]) if len(cells) > 5 else None
        if match:
            factors.append(f"{cells[0]} key/{cells[1]}: {match.group(1)}×")
    return "; ".join(factors) or "no auto rows found", rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="per side, size class and measurement")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 2, help="for the per-core figure")
    parser.add_argument("--video-seconds", type=int, default=20, help="clip length for bench/video_rtf.py")
    parser.add_argument("--video-runs", type=int, default=1)
    parser.add_argument("--no-video", action="store_true")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)

    info = common.machine_info(["av"])
    common.print_header("Benchmark 3: offline model", info)
    print(f"{'images':18} {'side':14} {'1 proc img/s':>12} {'CPU ms/img':>10} {'per-core img/s':>15}")
    rows, details = [], [f"- Machine: {common.machine_line(info)}", f"- Versions: {common.versions_line(info)}", ""]
    details += ["| images | side | 1 process img/s | CPU ms/img (1 process) | one process per core img/s |",
                "|---|---|---|---|---|"]
    figures = {}
    for label, size in SIZES.items():
        images = images_for(size)
        for side, name in (("direct", "NudeNet direct"), ("local", "local provider")):
            done, wall, cpu = run_side(side, images, args.seconds)
            one = done / wall
            many = per_core(side, size, args.seconds, args.processes)
            figures[(label, side)] = (one, many)
            print(f"{label:18} {name:14} {one:12.1f} {1000 * cpu / done:10.1f} {many:15.1f}", flush=True)
            details.append(f"| {label} | {name} | {one:.1f} | {1000 * cpu / done:.1f} | {many:.1f} |")
    if args.no_video:
        rtf, video_rows = "not run", []
    else:
        print("\nvideo: bench/video_rtf.py ...", flush=True)
        rtf, video_rows = video_rtf(args.video_seconds, args.video_runs)
        print(f"video real-time factor (auto mode, 1 fps): {rtf}")
    print()
    machine = f"{info['cores']} cores, load {info['load'][0]:.2f}" + (" (loaded)" if common.loaded(info) else "")
    for label in SIZES:
        (d1, dn), (l1, ln) = figures[(label, "direct")], figures[(label, "local")]
        ratio = ln / dn
        print(f"{label}: local/direct per core {ratio:.2f} (1 process {l1 / d1:.2f}) -> "
              f"{'target met' if ratio >= 0.9 else 'target NOT met'}")
        rows.append([info["date"], machine, label, f"{d1:.1f} / {dn:.1f}", f"{l1:.1f} / {ln:.1f}",
                     f"{ratio:.2f} ({'met' if ratio >= 0.9 else 'NOT met'}); 1 proc {l1 / d1:.2f}",
                     rtf if not rows else "(above)"])
    if video_rows:
        command = f"bench/video_rtf.py --seconds {args.video_seconds} --runs {args.video_runs}"
        details += ["", f"Video ({command}, auto mode):",
                    "", "| clip | keyframe every | mode | frames analysed | wall s | real-time factor (wall) | CPU s | "
                    "video s per CPU s |", "|---|---|---|---|---|---|---|---|", *video_rows]
    if not args.no_record:
        common.record_rows(SECTION, rows, details)
    return 0


if __name__ == "__main__":
    sys.exit(main())
