"""Real-time factor of the offline video path: video seconds moderated per wall-clock second.

    .venv/bin/python bench/video_rtf.py --record   # the figures in bench/RESULTS.md (its "video_rtf" section)
    .venv/bin/python bench/video_rtf.py --seconds 20 --runs 1   # quicker, prints only

Clips are made here with PyAV (H.264, 30 fps): a bundled sample photo panned
across the frame, so every frame differs as in real footage. Each clip is
moderated end to end by ``moderation.providers.local_video.analyze`` with the
real offline model (onnxruntime, one thread: the deployment's one process per
core) at 1 frame per second, once per sampling mode. Prints the machine,
versions and a Markdown table (median of ``--runs``). CPU seconds are shown
beside wall seconds: on a shared machine they show how much of the wall time
was waiting for a core.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import common  # noqa: E402
from moderation.providers import local_video  # noqa: E402
from moderation.providers.local import LocalProvider  # noqa: E402

REPO = common.REPO
CLIPS = [("640x360", 640, 360, 30), ("640x360", 640, 360, 240), ("1920x1080", 1920, 1080, 30),
         ("1920x1080", 1920, 1080, 240)]  # (name, width, height, frames between keyframes at 30 fps)
SECTION = common.Section(
    key="video_rtf",
    title="## Video: offline path real-time factor (issue 3)",
    intro="""
Command: `.venv/bin/python bench/video_rtf.py --record` (60 s H.264 clips at 30 fps made by the script, a sample
photo panned across the frame; the real offline model with one onnxruntime thread, as deployed one process per
core; 1 frame analysed per second, MODQ_VIDEO_SAMPLING=auto; median of 3). Real-time factor = video seconds per
wall-clock second, so 10× moderates an hour of video in 6 minutes on one core.
""",
    columns=["date (UTC)", "machine", "640x360, key 1 s", "640x360, key 8 s", "1080p, key 1 s", "1080p, key 8 s"],
)


def make_clip(path: Path, seconds: int, width: int, height: int, gop: int, fps: int = 30) -> None:
    """A pan across a sample photo; a keyframe every ``gop`` frames."""
    photo = Image.open(REPO / "samples" / "astronaut.jpg").convert("RGB")
    wide = np.asarray(photo.resize((width * 2, height), Image.BILINEAR))
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = Fraction(1, fps)
        stream.options = {"g": str(gop), "keyint_min": str(gop), "sc_threshold": "0", "preset": "veryfast"}
        total = seconds * fps
        for i in range(total):
            x = int((width - 1) * i / max(1, total - 1))
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(wide[:, x:x + width]), format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="clip length")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--fps", type=float, default=1.0, help="sampling rate (MODQ_VIDEO_SAMPLE_FPS)")
    parser.add_argument("--record", action="store_true", help="add the run to bench/RESULTS.md")
    args = parser.parse_args(argv)
    info = common.machine_info(["av"])
    provider = LocalProvider(threads=1)
    provider.analyze_pil(Image.new("RGB", (320, 240)), 20.0)  # model loaded before timing
    lines = [f"{args.seconds} s clips at 30 fps, sampled at {args.fps:g} fps, median of {args.runs}; "
             f"{common.machine_line(info)}; {common.versions_line(info)} (libavcodec "
             f"{'.'.join(map(str, av.library_versions['libavcodec']))})", "",
             "| clip | keyframe every | mode | frames analysed | wall s | real-time factor (wall) | CPU s | "
             "video s per CPU s |", "|---|---|---|---|---|---|---|---|"]
    print("\n".join(lines), flush=True)
    auto = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, width, height, gop in CLIPS:
            path = Path(tmp) / f"{name}-g{gop}.mp4"
            make_clip(path, args.seconds, width, height, gop)
            for mode in ("decode", "seek", "auto"):
                wall, cpu, meta = measure(path, provider, args.fps, mode, args.runs)
                chosen = f"auto→{meta['Sampling']}" if mode == "auto" else mode
                line = (f"| {name} | {gop / 30:g} s | {chosen} | {meta['FramesAnalysed']} | {wall:.2f} | "
                        f"**{args.seconds / wall:.0f}×** | {cpu:.2f} | {args.seconds / cpu:.0f}× |")
                print(line, flush=True)
                lines.append(line)
                if mode == "auto":
                    auto.append(f"{args.seconds / wall:.0f}× ({meta['Sampling']})")
    end_load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    lines.append(f"\nLoad average at the end: {end_load}. CPU seconds beside wall seconds show how much of the "
                 "wall time went to waiting for a core on a shared machine.")
    print(lines[-1])
    if args.record:
        common.record(SECTION, [info["date"], common.machine_line(info), *auto], "\n".join(lines))
        print(f"recorded in {common.RESULTS}")
    return 0


def measure(path: Path, provider, fps: float, mode: str, runs: int) -> tuple[float, float, dict]:
    """Median wall and CPU seconds of ``runs`` analyses, and the last run's metadata."""
    walls, cpus, meta = [], [], {}
    for _ in range(runs):
        started, cpu = time.perf_counter(), time.process_time()
        meta = local_video.analyze(path, provider, 20.0, fps=fps, mode=mode).metadata
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), meta


if __name__ == "__main__":
    sys.exit(main())
