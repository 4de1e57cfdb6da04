"""Every relative link in the README and the docs leads somewhere: the file exists, and a
`#fragment` names a heading of that file (GitHub's anchor for it). A page renamed or a
heading reworded without its links fails here."""

from __future__ import annotations

import re
from pathlib import Path

from orchestration.settings import REPO_ROOT

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} +(.+?) *#*$", re.MULTILINE)


def pages(root: Path) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").rglob("*.md"))]


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def broken_links(page: Path) -> list[str]:
    """The relative links of `page` that lead nowhere."""
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)
    broken = []
    for match in LINK.finditer(text):
        target = match.group(1) or match.group(2)
        if re.match(r"[a-z]+:", target):
            continue  # http(s), mailto: not this test's business
        path, _, fragment = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif fragment and linked.suffix == ".md":
            anchors = {anchor(h) for h in HEADING.findall(linked.read_text())}
            if fragment not in anchors:
                broken.append(f"{target}: no heading with that anchor")
    return broken


def test_every_relative_link_in_the_readme_and_docs_resolves() -> None:
    found = {
        str(page.relative_to(REPO_ROOT)): broken
        for page in pages(REPO_ROOT)
        if (broken := broken_links(page))
    }
    assert not found, found


def test_a_link_to_a_missing_page_or_heading_is_found(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A page\n\n## Its `make run` part\n")
    page = tmp_path / "README.md"
    page.write_text(
        "[ok](docs/a.md) [ok too](docs/a.md#its-make-run-part) [web](https://x.org/y)\n"
        "[gone](docs/b.md) [no such part](docs/a.md#elsewhere) ![img](docs/c.png)\n"
    )
    assert broken_links(page) == [
        "docs/b.md: no such file",
        "docs/a.md#elsewhere: no heading with that anchor",
        "docs/c.png: no such file",
    ]


def test_the_docs_index_links_every_page() -> None:
    index = (REPO_ROOT / "docs" / "index.md").read_text()
    unlisted = [
        page.name
        for page in sorted((REPO_ROOT / "docs").glob("*.md"))
        if page.name != "index.md" and f"]({page.name})" not in index
    ]
    assert not unlisted, unlisted
