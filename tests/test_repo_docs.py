"""The repository stands alone: its contract is docs/, and every reference to it resolves.

A clone must hold everything a maintainer needs: no file may cite a contract that is not in
the repository, and every relative link and every ``docs/<page>.md#<section>`` citation must
lead to a file and a heading that exist.
"""

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# Spelled in two parts so that this file does not cite it itself.
MISSING_CONTRACT = re.compile(rb"\bSPEC" + rb"(\.md)?\b")
LINKED_PAGES = [ROOT / "README.md", ROOT / "SECURITY.md", *sorted(DOCS.glob("*.md"))]
MARKDOWN_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]*`")
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.M)
# docs/<page>.md or docs/<page>.md#<anchor>, not part of a longer path.
DOCS_CITATION = re.compile(r"(?<![\w./-])docs/([\w.-]+\.md)(?:#([\w-]+))?")


def tracked_files():
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    paths = (ROOT / name for name in listed.decode().split("\0") if name)
    return [path for path in paths if path.is_file()]


def slug(heading):
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(page):
    """Every heading anchor of a Markdown page; repeated headings get -1, -2, ..."""
    seen, found = {}, set()
    for heading in HEADING.findall(FENCE.sub("", page.read_text())):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(page):
    """The targets of a page's Markdown links, outside code blocks and code spans."""
    text = INLINE_CODE.sub("", FENCE.sub("", page.read_text()))
    return MARKDOWN_LINK.findall(text)


def problem_with(target_path, anchor):
    """Why a reference to ``target_path`` (and ``anchor``) does not resolve, or None."""
    resolved = target_path.resolve()
    if not resolved.is_relative_to(ROOT):
        return "points outside the repository"
    if not resolved.exists():
        return "no such file"
    if anchor and (resolved.suffix != ".md" or anchor not in anchors(resolved)):
        return f"no heading #{anchor} in {resolved.relative_to(ROOT)}"
    return None


def test_no_tracked_file_cites_a_contract_that_is_not_in_the_repository():
    """Fails until the last citations (README, app, blueprints, ...) point to docs/."""
    citing = []
    for path in tracked_files():
        for number, line in enumerate(path.read_bytes().splitlines(), 1):
            if MISSING_CONTRACT.search(line):
                citing.append(f"{path.relative_to(ROOT)}:{number}")
    assert citing == []


def test_the_docs_index_lists_every_page():
    index = DOCS / "README.md"
    listed = {target.partition("#")[0] for target in links(index)}
    pages = {page.name for page in DOCS.glob("*.md")} - {"README.md"}
    assert pages and pages <= listed


@pytest.mark.parametrize("page", LINKED_PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    broken = []
    for target in links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        problem = problem_with(page.parent / path if path else page, anchor)
        if problem:
            broken.append(f"{target}: {problem}")
    assert broken == []


def test_every_docs_citation_resolves():
    """``docs/playback.md#range-requests`` in code, tests and documents names a real section."""
    broken = []
    for path in tracked_files():
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            for page, anchor in DOCS_CITATION.findall(line):
                problem = problem_with(DOCS / page, anchor)
                if problem:
                    where = f"{path.relative_to(ROOT)}:{number}"
                    broken.append(f"{where}: docs/{page}#{anchor}: {problem}")
    assert broken == []


def test_slugs_are_githubs():
    assert slug("Media and thumbnail routes") == "media-and-thumbnail-routes"
    assert slug("Edit, delete, restore and purge") == "edit-delete-restore-and-purge"
    assert slug("`GET /videos`: the catalogue") == "get-videos-the-catalogue"
    assert slug("The [admin](accounts.md) bootstrap") == "the-admin-bootstrap"
