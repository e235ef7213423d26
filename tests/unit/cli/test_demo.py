"""`modq demo`: what it runs on (the end-to-end run itself needs a broker and a worker: `make demo`)."""

from __future__ import annotations

from moderation.cli import demo


def test_demo_copies_the_bundled_samples_and_one_broken_file(tmp_path):
    files = demo.prepare_media(tmp_path)
    assert len(files) > 1 and all(f.parent == tmp_path and f.is_file() for f in files)
    assert files[-1].name == "not-really-a-photo.jpg"


def test_demo_starts_its_worker_from_the_repository_root():
    assert (demo.REPO / "worker" / "app.py").is_file()  # `celery -A worker` runs with cwd=REPO
