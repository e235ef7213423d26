"""Where an offline worker's CPU goes per photo (benchmark 5's ``--profile``): py-spy stacks folded into stages."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

# Stages of one item: the first frame below process_image that names one wins; inside the two that
# hold the offline path's own work (reading the image, the provider call) the deepest named frame wins.
STAGES = [
    ("item lease (Redis)", ("held ",)),
    ("begin: lock item, mark processing (DB)", ("begin ", "start ")),
    ("load", ("_load_image ",)),
    ("pay-once lookup (DB)", ("_known ",)),
    ("model", ("InstrumentedProvider.__getattr__.<locals>.call ",)),
    ("policy decision", ("decide ",)),
    ("record: analysis, decision, audit (DB)", ("record ",)),
]
SUBSTAGES = {
    "load": [("read file", ("read_file ",)), ("multi-frame probe", ("probe ",)),
             ("validate + decode (prepare)", ("prepare ", "_decode_fully "))],
    "model": [("upright + EXIF", ("PreparedImage.upright ", "_upright ")),
              ("preprocess (resize to 320)", ("preprocess ",)),
              ("onnxruntime session.run", ("Session.run ",)),
              ("postprocess + NMS", ("postprocess ",)), ("labels (taxonomy)", ("to_labels ",))],
}


def stage_of(frames: list[str], parent: int) -> str:
    names = [f.split(" (", 1)[0] + " " for f in frames]
    try:
        start = next(i for i, n in enumerate(names) if n.startswith("process_image "))
    except StopIteration:
        pids = [f for f in frames[:3] if f.startswith("process ")]
        if pids and pids[-1].startswith(f"process {parent}:"):
            return "prefork parent: receive, dispatch, ack"
        return "Celery + kombu + logging (pool process)"
    below = names[start + 1:]
    for i, name in enumerate(below):
        stage = next((st for st, prefixes in STAGES if name.startswith(prefixes)), None)
        if stage is None:
            continue
        if stage not in SUBSTAGES:
            return stage
        sub = f"{stage}: other"
        for deeper in below[i + 1:]:
            sub = next((f"{stage}: {st}" for st, prefixes in SUBSTAGES[stage] if deeper.startswith(prefixes)), sub)
        return sub
    return "task body (other: settle, attempts, usage)"


def fold(raw: Path, parent: int) -> tuple[dict[str, int], int]:
    counts: dict[str, int] = {}
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if stack and n.isdigit():
            stage = stage_of(stack.split(";"), parent)
            counts[stage] = counts.get(stage, 0) + int(n)
            total += int(n)
    return counts, total


def profiled(run, worker, raw: Path, rate: int = 200):
    """``run()`` with py-spy sampling every process of the worker: active threads only (not idle waits), with or
    without the GIL, since onnxruntime releases it while the model runs."""
    spy = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--format", "raw", "-o", str(raw),
                            "-r", str(rate), "--subprocesses", "--nonblocking", "-p", str(worker.pid)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)  # py-spy attached
    try:
        return run()
    finally:
        spy.send_signal(2)
        spy.wait(60)



def profile_table(size: str, cpu_ms: float, counts: dict[str, int], total: int, raw: Path) -> list[str]:
    lines = [f"Where the worker's CPU goes, {size} (py-spy, {total:,} samples of active threads, scaled by the "
             f"worker's {cpu_ms:.1f} ms CPU per photo in that run; stacks in {raw.name}):", "",
             "| stage | share | ms/photo |", "|---|---|---|"]
    print(f"\nworker CPU per photo, {size}: {cpu_ms:.1f} ms (py-spy, {total:,} samples; {raw})")
    for stage, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        share = n / max(1, total)
        print(f"  {stage:55} {100 * share:5.1f}% {cpu_ms * share:6.2f}")
        lines.append(f"| {stage} | {100 * share:.1f}% | {cpu_ms * share:.2f} |")
    return lines
