"""Packaging (issue 14, points 2 and 12): pyproject.toml builds without deprecation warnings and ships files
that exist; `make demo` installs what running needs and `make test` adds the toolchain; ruff is pinned and
the code passes it."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions

import pytest

from tests.conftest import REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
TEST_ONLY = {"pytest", "moto", "playwright", "schemathesis", "cfn-lint", "hypothesis", "ruff", "import-linter"}


def pins(name: str) -> dict[str, str]:
    """Normalised distribution name -> pinned version, from a requirements file (not following -r)."""
    found = {}
    for line in (REPO / name).read_text().splitlines():
        spec = line.split("#", 1)[0].strip()
        if "==" in spec:
            dist, version = spec.split("==")
            found[normalise(dist)] = version.strip()
    return found


def normalise(dist: str) -> str:
    return re.sub(r"[-_.]+", "-", dist).lower().strip()


def test_the_license_is_an_spdx_string_not_the_deprecated_table():
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    # setuptools reads a string license from 77 on (PEP 639); older ones would refuse it.
    [setuptools] = [r for r in PYPROJECT["build-system"]["requires"] if r.startswith("setuptools")]
    assert setuptools == "setuptools>=77"


def test_every_package_data_pattern_matches_files_that_exist():
    for package, patterns in PYPROJECT["tool"]["setuptools"]["package-data"].items():
        for pattern in patterns:
            assert list((REPO / package).glob(pattern)), f"{package}: {pattern} matches no file"


def test_the_runtime_requirements_hold_no_test_tool_and_the_dev_ones_add_them():
    runtime = pins("requirements.txt")
    assert TEST_ONLY.isdisjoint(runtime), TEST_ONLY & set(runtime)
    dev = (REPO / "requirements-dev.txt").read_text()
    assert "-r requirements.txt" in dev and TEST_ONLY <= set(pins("requirements-dev.txt"))


def test_every_library_the_code_imports_is_a_runtime_requirement_or_an_optional_extra():
    """`make demo` installs requirements.txt only: nothing modq imports may come from the test toolchain."""
    runtime = set(pins("requirements.txt"))
    extras = {normalise(re.split(r"[<>=\[ ]", r)[0]) for deps in PYPROJECT["project"]["optional-dependencies"].values()
              for r in deps}
    local = {"moderation", "worker", "config", "__future__"} | set(sys.stdlib_module_names)
    distributions = packages_distributions()
    missing = {}
    for package in ("moderation", "worker", "config"):
        for path in (REPO / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module] if isinstance(node, ast.ImportFrom) and not node.level and node.module else []
                for top in {n.split(".")[0] for n in names} - local:
                    dists = {normalise(d) for d in distributions.get(top, [top])}
                    if not dists & (runtime | extras):
                        missing[top] = str(path.relative_to(REPO))
    assert missing == {}


def test_ruff_is_pinned_and_the_code_passes_it():
    assert PYPROJECT["tool"]["ruff"]["lint"]["select"]
    assert "ruff" in pins("requirements-dev.txt")
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def make(target: str, venv, *more: str) -> str:
    """What `make -n` would run for ``target`` with the venv at ``venv``."""
    # Under `make test` the environment carries the outer make's MAKEFLAGS and MAKELEVEL, and a nested make
    # prints "Entering directory" lines: plan as a fresh shell would.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")}
    result = subprocess.run(["make", "-n", "--no-print-directory", target, f"VENV={venv}", *more], cwd=REPO,
                            capture_output=True, text=True, check=True, env=env)
    return result.stdout


needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


@needs_make
def test_demo_from_scratch_installs_the_runtime_only(tmp_path):
    plan = make("demo", tmp_path / "venv")
    assert "-m venv" in plan and "-r requirements.txt" in plan and "--no-deps -e ." in plan
    assert "requirements-dev.txt" not in plan and plan.rstrip().endswith("modq demo")


@needs_make
def test_test_alone_installs_the_runtime_then_the_toolchain(tmp_path):
    plan = make("test", tmp_path / "venv")
    assert plan.index("-r requirements.txt") < plan.index("-r requirements-dev.txt") < plan.index("-m tests.run_groups")
    assert "ruff check ." in plan and "lint-imports" in plan


@needs_make
def test_test_after_demo_adds_only_the_toolchain_and_demo_after_test_installs_nothing(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").touch()
    (venv / ".installed-runtime").touch()  # what `make demo` left
    plan = make("test", venv)
    assert "-r requirements-dev.txt" in plan
    assert "-m venv" not in plan and "-r requirements.txt" not in plan
    (venv / ".installed-dev").touch()  # what `make test` left
    assert make("demo", venv).strip().splitlines() == [f"{venv}/bin/modq demo"]
    assert make("demo", venv, "DEMO_ARGS=--serve").strip().endswith("modq demo --serve")
