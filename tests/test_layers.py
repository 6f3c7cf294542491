"""The app's layers and sizes, read from the source: no import, no app, no database.

From the top: app.py (the factory) and gunicorn.conf.py; blueprints/ (routes); extensions.py
(the extension objects routes use); web/ (HTTP plumbing, no routes); services/ (the rules);
models/ (data access); config.py. A module imports from its own layer or those below it,
never from one above. App code imports nothing from tests/, scripts/, bench/, demo/, devtools/
or seed_videos.py; the tools (bench/, scripts/, demo/, devtools/, seed_videos.py) nothing from
tests/; and nothing imports scripts/, which holds entry points only.
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Top first: a layer may import the ones after it, never the ones before.
LAYERS = ["app", "blueprints", "extensions", "web", "services", "models", "config"]
NOT_APP = {"tests", "scripts", "bench", "demo", "devtools", "seed_videos"}
TOOLS = ["bench", "scripts", "demo", "devtools", "seed_videos.py"]
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 40
# Longer than MAX_FUNCTION_LINES today: to shorten. An entry that is short enough fails
# test_the_list_to_shorten_is_up_to_date, so the list only shrinks.
TO_SHORTEN = set()


def app_modules():
    """(path, layer) of every module of the app."""
    yield ROOT / "app.py", "app"
    yield ROOT / "gunicorn.conf.py", "app"
    yield ROOT / "worker.py", "app"
    yield ROOT / "extensions.py", "extensions"
    yield ROOT / "config.py", "config"
    yield ROOT / "config_env.py", "config"
    yield ROOT / "config_hls.py", "config"
    yield ROOT / "config_cache.py", "config"
    yield ROOT / "config_uploads.py", "config"
    for package in ("blueprints", "web", "services", "models"):
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path, package


def tool_modules():
    for name in TOOLS:
        path = ROOT / name
        yield from sorted(path.rglob("*.py")) if path.is_dir() else [path]


def tree(path):
    return ast.parse(path.read_text(), filename=str(path))


def imported(path):
    """The top-level packages or modules a file imports (relative imports stay at home)."""
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module.split(".")[0]


def functions(path):
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node.name, node.end_lineno - node.lineno + 1


def name(path):
    return str(path.relative_to(ROOT))


def test_no_import_runs_up_the_layers():
    upward = [
        (name(path), target)
        for path, layer in app_modules()
        for target in imported(path)
        if target in LAYERS and LAYERS.index(target) < LAYERS.index(layer)
    ]
    assert upward == []


def test_app_code_imports_no_test_script_bench_or_demo_module():
    found = [
        (name(path), target)
        for path, _ in app_modules()
        for target in imported(path)
        if target in NOT_APP
    ]
    assert found == []


def test_tools_import_no_test_module():
    found = [(name(path), "tests") for path in tool_modules() if "tests" in imported(path)]
    assert found == []


def test_nothing_imports_a_script():
    """scripts/ holds entry points; what they share with tests and bench is in devtools/."""
    modules = [path for path, _ in app_modules()] + list(tool_modules())
    modules += sorted((ROOT / "tests").rglob("*.py"))
    assert [name(path) for path in modules if "scripts" in imported(path)] == []


def test_blueprints_hold_routes_and_web_holds_none():
    """blueprints/<area>.py each declare routes (registry.py lists them); nothing in web/ does."""

    def has_routes(path):
        return any(
            isinstance(node, ast.Attribute) and node.attr == "route"
            for node in ast.walk(tree(path))
        )

    listing = ("__init__.py", "registry.py")
    areas = [p for p in (ROOT / "blueprints").glob("*.py") if p.name not in listing]
    assert [name(p) for p in areas if not has_routes(p)] == []
    assert [name(p) for p in (ROOT / "web").rglob("*.py") if has_routes(p)] == []


def test_no_app_module_is_over_the_line_limit():
    lengths = {name(path): len(path.read_text().splitlines()) for path, _ in app_modules()}
    assert {path: n for path, n in lengths.items() if n > MAX_MODULE_LINES} == {}


def long_functions():
    return {
        (name(path), function): length
        for path, _ in app_modules()
        for function, length in functions(path)
        if length > MAX_FUNCTION_LINES
    }


def test_no_app_function_is_over_the_line_limit():
    assert {key: n for key, n in long_functions().items() if key not in TO_SHORTEN} == {}


def test_the_list_to_shorten_is_up_to_date():
    assert TO_SHORTEN - set(long_functions()) == set()


def test_the_readme_architecture_cites_what_exists():
    """Every `package/path` and `package/path: name` of README's Architecture section exists
    (paths that start with no top-level folder belong to the package just named)."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Architecture\n", 1)[1].split("\n## ", 1)[0]
    cited = re.findall(r"`([\w.-]+/[\w./-]*)(?:: ([\w.]+))?`", section)
    cited = [(path, name) for path, name in cited if (ROOT / path.split("/")[0]).is_dir()]
    assert cited
    missing = [
        (path, name)
        for path, name in cited
        if not (ROOT / path).exists() or (name and name.split(".")[-1] not in names_in(ROOT / path))
    ]
    assert missing == []


def names_in(path):
    """The functions, classes and module-level assignments of a file."""
    names = set()
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
    return names
