"""The one operating-system packages check (`local/os-packages.sh`) that `make run`, `make test`,
`make package` and `.ci/run` share: it installs under CI=true as root, and otherwise stops with the
one command to run. apt-get is a stand-in script on PATH, so nothing is installed here."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FONTS = ("NotoSans-Regular.ttf", "NotoSansDevanagari-Regular.ttf")


def check(profile: str, font_dir: Path, fake_bin: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "CI"}
    environ.update({"PDF_FONT_DIR": str(font_dir), "PATH": f"{fake_bin}:{environ['PATH']}", **env})
    return subprocess.run(["bash", str(ROOT / "local" / "os-packages.sh"), profile], env=environ, text=True,
                          capture_output=True, stdin=subprocess.DEVNULL, timeout=60, check=False)


@pytest.fixture
def fake_apt(tmp_path: Path) -> Path:
    """An `apt-get` that records its arguments and 'installs' the fonts into PDF_FONT_DIR."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "apt-get"
    fonts = " ".join(FONTS)
    script.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path}/apt.log\n'
                      f'case "$*" in *install*) for f in {fonts}; do touch "$PDF_FONT_DIR/$f"; done;; esac\n')
    script.chmod(0o755)
    return bin_dir


def test_a_missing_package_stops_with_the_one_command_to_run(tmp_path, fake_apt):
    # Given a machine without the Noto fonts, and no terminal to ask on
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    # When `make package` checks the packages
    done = check("package", fonts, fake_apt)
    # Then it stops, names the package and why, and prints the command; nothing was installed
    assert done.returncode == 1
    assert "fonts-noto-core: the Noto Sans fonts of prescription PDFs" in done.stderr
    assert "apt-get update && " in done.stderr and "apt-get install -y fonts-noto-core" in done.stderr
    assert not (tmp_path / "apt.log").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="CI installs as root; as another user the check only prints")
def test_under_ci_it_installs_what_is_missing_with_apt(tmp_path, fake_apt):
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    done = check("package", fonts, fake_apt, CI="true")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "apt.log").read_text().splitlines() == ["update -qq", "install -y -qq fonts-noto-core"]
    assert all((fonts / name).exists() for name in FONTS)


def test_nothing_is_asked_or_installed_when_everything_is_there(tmp_path, fake_apt):
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    for name in FONTS:
        (fonts / name).touch()
    done = check("package", fonts, fake_apt)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_make_test_needs_node_and_npm_for_the_client_types_check(tmp_path, fake_apt):
    # Given a machine whose PATH has the shell's basics but no Node.js or npm
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    for name in FONTS:
        (fonts / name).touch()
    for tool in ("bash", "id", "ls", "python3", "dirname", "pdftoppm", "chromium", "go", "initdb"):
        found = subprocess.run(["bash", "-c", f"command -v {tool}"], capture_output=True, text=True, check=False)
        if found.stdout.strip():
            (fake_apt / tool).symlink_to(found.stdout.strip())
    # When `make test` checks the packages (no terminal to ask on)
    done = check("test", fonts, fake_apt, PATH=str(fake_apt), EMBEDDED_DB_BACKEND="sqlite")
    # Then it names nodejs and npm, for the client types' check, in the command to run
    assert done.returncode == 1
    assert "nodejs: Node.js, which runs openapi-typescript (make client)" in done.stderr
    assert "npm: npm ci of clients/package-lock.json (make client)" in done.stderr
