"""Every figure the README quotes comes from a results file that names its run.

A figure (seconds, minutes, GiB, MiB, a ratio or a percentage) in a section of the README
must appear in a file under bench/results/ that the same section names, and each such
file must say when it was measured, on which machine and at which commit. A figure typed
by hand, or left behind when the results moved on, fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from orchestration.settings import REPO_ROOT

README = REPO_ROOT / "README.md"
FIGURE = re.compile(r"(?<![\w.])(\d[\d,]*(?:\.\d+)?) ?(s|min|GiB|MiB|x|%)(?!\w)")
RESULTS_FILE = re.compile(r"bench/results/[\w.-]+\.(?:md|json|txt)")
NAMES_ITS_RUN = [
    re.compile(r"\b20\d\d-\d\d-\d\d \d\d:\d\d UTC\b"),  # when
    re.compile(r"\b\d+ cores\b"),  # on which machine
    re.compile(r"\bcommit [0-9a-f]{7,}\b(?! with uncommitted)"),  # which code, committed
]


def sections(text: str) -> list[str]:
    """The README cut at its headings (a fenced block's lines never start one)."""
    found, current, fenced = [], [], False
    for line in text.splitlines():
        fenced ^= line.startswith("```")
        if line.startswith("#") and not fenced and current:
            found.append("\n".join(current))
            current = []
        current.append(line)
    return [*found, "\n".join(current)]


def unbacked_figures(text: str, root: Path) -> list[str]:
    """Each figure of `text` (README-like) that no results file its section names holds."""
    missing = []
    for section in sections(text):
        files = [root / name for name in RESULTS_FILE.findall(section)]
        contents = [path.read_text() for path in files if path.is_file()]
        for match in FIGURE.finditer(section):
            number, unit = match.groups()
            quoted = re.compile(rf"(?<![\w.]){re.escape(number)} ?{re.escape(unit)}(?!\w)")
            if not any(quoted.search(content) for content in contents):
                heading = section.splitlines()[0]
                missing.append(f"{match.group(0)!r} in {heading!r}")
    return missing


def runs_unnamed(text: str, root: Path) -> list[str]:
    """Results files the README names that do not exist, or do not name their run."""
    found = []
    for name in sorted(set(RESULTS_FILE.findall(text))):
        path = root / name
        if not path.is_file():
            found.append(f"{name}: no such file")
        elif not all(pattern.search(path.read_text()) for pattern in NAMES_ITS_RUN):
            found.append(f"{name}: does not say when, where and at which commit")
    return found


def test_every_figure_the_readme_quotes_is_in_a_results_file_it_names() -> None:
    text = README.read_text()
    assert FIGURE.search(text), "the README quotes no figure: this test would hold nothing"
    assert unbacked_figures(text, REPO_ROOT) == []
    assert runs_unnamed(text, REPO_ROOT) == []


@pytest.mark.parametrize(
    ("readme", "finding"),
    [
        ("## How fast\n\nFull build 28.9 s.\n", "'28.9 s' in '## How fast'"),
        (
            "## How fast\n\nFrom bench/results/run.md: full build 99.9 s.\n",
            "'99.9 s' in '## How fast'",
        ),
    ],
    ids=["no results file named", "a figure the file does not hold"],
)
def test_a_figure_typed_by_hand_is_caught(tmp_path: Path, readme: str, finding: str) -> None:
    results = tmp_path / "bench" / "results"
    results.mkdir(parents=True)
    (results / "run.md").write_text(
        "Measured 2026-12-02 06:37 UTC on 2 cores, commit 3fb7fd2abcde.\n| S | 28.9 s |\n"
    )
    assert unbacked_figures(readme, tmp_path) == [finding]
    assert runs_unnamed(readme, tmp_path) == []
    backed = "## How fast\n\nFrom bench/results/run.md: full build 28.9 s.\n"
    assert unbacked_figures(backed, tmp_path) == []


def test_a_results_file_that_does_not_name_its_run_is_caught(tmp_path: Path) -> None:
    results = tmp_path / "bench" / "results"
    results.mkdir(parents=True)
    (results / "old.md").write_text("Measured 2026-12-02 06:37 UTC on 2 cores.\n| 28.9 s |\n")
    (results / "dirty.md").write_text(
        "Measured 2026-12-02 06:37 UTC on 2 cores, commit 3fb7fd2abcde with uncommitted "
        "changes.\n| 28.9 s |\n"
    )
    readme = (
        "## How fast\n\nFrom bench/results/old.md: 28.9 s; bench/results/gone.md; "
        "bench/results/dirty.md.\n"
    )
    assert runs_unnamed(readme, tmp_path) == [
        "bench/results/dirty.md: does not say when, where and at which commit",
        "bench/results/gone.md: no such file",
        "bench/results/old.md: does not say when, where and at which commit",
    ]
