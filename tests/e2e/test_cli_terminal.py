"""What the CLI prints in a narrow terminal: paths on one line, so they can be copied, and help that keeps
each option's text beside it instead of in a narrow column."""

from __future__ import annotations

import itertools

import pytest

from ..conftest import INPUTS, run_cli

pytestmark = pytest.mark.e2e


def test_paths_are_printed_whole_in_a_narrow_terminal(tmp_path):
    ws = tmp_path / "a-workspace-folder-with-a-rather-long-name" / "and-another-level"
    proc = run_cli("make", str(INPUTS / "ad-brief.txt"), workspace=ws, env={"COLUMNS": "40"})
    assert proc.returncode == 0, proc.stderr
    video = next(line for line in proc.stderr.splitlines() if line.startswith("video: "))
    assert video.endswith("/video.mp4") and str(ws) in video  # one line, not broken at 40 columns
    missing = run_cli("render", "no-such-project", workspace=ws, env={"COLUMNS": "40"})
    assert missing.returncode == 2 and str(ws) in missing.stderr  # the error names the workspace on one line


def test_help_keeps_each_options_text_beside_it_in_80_columns():
    """Seen: `storyreel make --help` at 80 columns wrapped every option's help into a 20-character column."""
    proc = run_cli("make", "--help", env={"COLUMNS": "80"})
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    at = next(i for i, line in enumerate(lines) if line.lstrip().startswith("--image-provider"))
    assert lines[at].index("Image provider") <= 30, lines[at]
    block = [lines[at], *itertools.takewhile(lambda line: line.strip() and not line.lstrip().startswith("--"), lines[at + 1:])]
    assert len(block) <= 3, block  # its help and env var in three lines, not a dozen
