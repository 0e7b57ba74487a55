"""The library's folders show the flow, and imports point one way: downstream to upstream.

source -> data (load and validate) -> cube -> analysis (pandas) -> views -> run (and publish). A module
may import from its own stage, from any earlier one, and from the foundation (errors, paths, i18n,
formats), never from a later stage. The package's ``__init__`` (the public API: ``salesbook.get_cube``,
``load_sales``, ``Book``) is the one place that gathers from every stage.
"""

import ast
from pathlib import Path

import salesbook

PACKAGE = Path(salesbook.__file__).resolve().parent
FOUNDATION = {"errors", "paths", "i18n", "formats"}
STAGES = ["data", "cube", "analysis", "views", "run"]


def stage_of(module: str) -> int:
    """0 for the foundation, 1.. for the stages in flow order."""
    parts = module.split(".")
    if parts[0] != "salesbook" or len(parts) < 2:
        raise ValueError(module)
    if parts[1] in FOUNDATION or parts[1] in ("__version__", "AHEAD"):  # the package's own constants
        return 0
    return 1 + STAGES.index(parts[1])


def imports(path: Path) -> list[tuple[int, str]]:
    """Every salesbook module ``path`` imports, at module level or inside a function, with its line."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.relative_to(PACKAGE)}:{node.lineno}: a relative import; write salesbook.<stage>.<module>"
            if node.module == "salesbook":
                out += [(node.lineno, f"salesbook.{a.name}") for a in node.names]
            elif node.module and node.module.startswith("salesbook."):
                out.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.startswith("salesbook.")]
    return out


def module_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    return ".".join(p for p in rel.parts if p != "__init__")


def test_every_module_sits_in_a_stage_or_the_foundation():
    loose = [p.name for p in PACKAGE.glob("*.py") if p.stem not in FOUNDATION | {"__init__"}]
    assert not loose, f"modules outside the stages: {loose}"
    assert sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()) == sorted(STAGES)
    for stage in STAGES:
        doc = ast.get_docstring(ast.parse((PACKAGE / stage / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "Enters" in doc and "Leaves" in doc, f"{stage}/__init__.py: say what enters and what leaves"


def test_imports_point_downstream_to_upstream_only():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "__init__.py":
            continue  # the public API gathers from every stage
        here = module_of(path)
        for line, name in imports(path):
            if stage_of(name) > stage_of(here):
                wrong.append(f"{path.relative_to(PACKAGE)}:{line}: {here} imports {name}, a later stage")
    assert not wrong, "\n".join(wrong)


def test_the_rule_itself_fails_on_an_import_that_points_back(tmp_path):
    bad = tmp_path / "x.py"
    bad.write_text("def f():\n    from salesbook.views.display import fmt_money\n", encoding="utf-8")
    (line, name), = imports(bad)
    assert stage_of(name) > stage_of("salesbook.analysis.segments") and line == 2
    assert stage_of("salesbook.formats") == 0 < stage_of("salesbook.data.load") < stage_of("salesbook.run.cli")


#: the command line reads the process's environment and hands it to paths' explicit setup; nothing else does
#: salesbook.run.forked: a forked kernel's process takes the environment jupyter_client gives it, as exec would
READS_ENVIRONMENT = {"salesbook.run.cli", "salesbook.paths", "salesbook.run.forked"}


def environment_reads(path: Path) -> list[int]:
    """Lines of ``path`` that read or change the process's environment (``os.environ``, ``os.getenv``,
    ``os.putenv``, ``from os import environ``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os" \
                and node.attr in ("environ", "environb", "getenv", "putenv", "unsetenv"):
            found.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os" \
                and any(a.name in ("environ", "getenv", "putenv") for a in node.names):
            found.append(node.lineno)
    return found


def test_only_the_command_line_and_paths_setup_read_the_environment():
    """Settings are passed, not hidden: the render mode, the folders and the switches come from
    ``salesbook.paths.setup`` (which the command line calls with its environment), never from a module
    reading ``os.environ`` on its own; and no module reads one at import."""
    wrong = [f"{path.relative_to(PACKAGE)}:{line}: reads the environment"
             for path in sorted(PACKAGE.rglob("*.py")) if module_of(path) not in READS_ENVIRONMENT
             for line in environment_reads(path)]
    assert not wrong, "\n".join(wrong)


def test_the_environment_rule_itself_finds_a_read(tmp_path):
    bad = tmp_path / "x.py"
    bad.write_text("import os\nfrom os import getenv\nMODE = os.environ.get('SALESBOOK_REPORT')\n", encoding="utf-8")
    assert environment_reads(bad) == [2, 3]


def test_importing_salesbook_reads_no_environment_variable():
    """Whatever the environment holds when salesbook is imported, the folders follow the setup made later."""
    import subprocess
    import sys
    code = ("import os, salesbook, salesbook.views.display as d\n"
            "from salesbook import paths\n"
            "os.environ['SALESBOOK_CACHE'] = '/tmp/sb-later'; os.environ['SALESBOOK_REPORT'] = '1'\n"
            "print(paths.CACHE_DIR, d.Mode.of().value, paths.setup({'SALESBOOK_CACHE': '/tmp/sb-x'}).cache, "
            "d.Book('en').mode.value)")
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("SALESBOOK_")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["/tmp/sb-later", "report", "/tmp/sb-x", "lab"]
