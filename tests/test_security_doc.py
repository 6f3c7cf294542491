"""SECURITY.md's threat table cites code and tests: every citation must exist.

A protection whose proof was renamed or deleted would otherwise still look proved.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CELL = re.compile(r"`([^`]+)`")


def threat_rows():
    rows = []
    for line in (ROOT / "SECURITY.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] not in ("threat", "---"):
            rows.append(cells)
    return rows


def cited_tests(cell):
    """``file::[Class::]test`` ids; one starting with ``::`` continues the previous one's
    file (and class)."""
    ids, prefix = [], None
    for reference in CELL.findall(cell):
        if reference.startswith("::"):
            assert prefix, f"{reference} continues nothing"
            reference = prefix + reference
        parts = reference.split("::")
        prefix = "::".join(parts[:-1])
        ids.append(parts)
    return ids


# A quoted Python expression such as `limiter.limit`, not a file: dotted identifiers whose
# last part is no file suffix. Everything else quoted in the "where" column is a path,
# extensionless ones (`Dockerfile`, `.dockerignore`) included.
QUOTED_WORD = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")
FILE_SUFFIXES = {".py", ".toml", ".cfg", ".ini", ".conf", ".txt", ".yml", ".yaml", ".json", ".sh"}


def cited_code(cell):
    """(path, [names]) from ``path: name, Class.method`` or a bare ``path``."""
    for reference in CELL.findall(cell):
        path, _, names = reference.partition(": ")
        if QUOTED_WORD.fullmatch(path) and Path(path).suffix not in FILE_SUFFIXES:
            continue
        yield path, [name.strip() for name in names.split(",") if name.strip()]


def defined_names(path):
    """Every function, class and assigned name, qualified by its class (``Class.method``)."""
    names = set()

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(prefix + child.name)
                visit(child, prefix + child.name + ".")
            elif isinstance(child, ast.Assign | ast.AnnAssign):
                targets = child.targets if isinstance(child, ast.Assign) else [child.target]
                names.update(prefix + t.id for t in targets if isinstance(t, ast.Name))

    visit(ast.parse(path.read_text()), "")
    return names


ROWS = threat_rows()


def test_the_table_is_there():
    assert len(ROWS) >= 20


@pytest.mark.parametrize("row", ROWS, ids=[row[0][:40] for row in ROWS])
def test_every_cited_test_exists(row):
    tests = cited_tests(row[3])
    assert tests, f"{row[0]}: no test proves it"
    for parts in tests:
        path = ROOT / "tests" / parts[0]
        assert path.is_file(), parts
        qualified = ".".join(re.sub(r"\[.*\]$", "", part) for part in parts[1:])
        assert qualified in defined_names(path), "::".join(parts)


@pytest.mark.parametrize("row", ROWS, ids=[row[0][:40] for row in ROWS])
def test_every_cited_piece_of_code_exists(row):
    code = list(cited_code(row[2]))
    assert code, f"{row[0]}: cites no code"
    for path, names in code:
        source = ROOT / path
        assert source.exists(), path
        if source.suffix == ".py":
            missing = set(names) - defined_names(source)
            assert not missing, f"{path}: {sorted(missing)}"
        else:  # names are only checked in Python files: cite none elsewhere
            assert not names, f"{path}: {names} cannot be checked"


def test_quoted_words_are_not_taken_for_code():
    cell = "`blueprints/auth.py` (its `limiter.limit` decorators), `Dockerfile`, `.dockerignore`"
    assert [path for path, _ in cited_code(cell)] == [
        "blueprints/auth.py",
        "Dockerfile",
        ".dockerignore",
    ]
