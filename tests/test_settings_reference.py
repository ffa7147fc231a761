"""docs/settings.md lists every environment variable the project reads, and only
those, with the defaults the code has.

The code is parsed, not imported: every ``os.environ.get("X")``,
``os.environ["X"]``, ``os.getenv("X")``, ``"X" in os.environ``,
``os.environ.setdefault("X", ...)``, and every call of a helper that reads the
variable its argument names (``env_bool("X", False)``).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "settings.md"
# Everything that runs in a deployment or starts it; not the tests or benchmarks.
SOURCES = [
    ROOT / "dev.py",
    ROOT / "manage.py",
    *sorted((ROOT / "cms").rglob("*.py")),
    *sorted((ROOT / "tracking").rglob("*.py")),
    *sorted((ROOT / "newsroom").rglob("*.py")),
]
_READ_METHODS = {"get", "setdefault", "pop"}
_NO_DEFAULT = object()


@dataclass(frozen=True)
class Read:
    name: str
    where: str
    default: object = _NO_DEFAULT  # a literal default, when the code has one


def _is_environ(node: ast.AST) -> bool:
    if isinstance(node, ast.Name):
        return node.id == "environ"
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _is_getenv(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "getenv"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _environ_key(node: ast.AST) -> tuple[ast.AST, ast.AST | None] | None:
    """The key expression (and default) if ``node`` reads the environment."""
    if isinstance(node, ast.Call) and node.args:
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr in _READ_METHODS
            and _is_environ(func.value)
        ) or _is_getenv(func):
            return node.args[0], node.args[1] if len(node.args) > 1 else None
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.ctx, ast.Load)
        and _is_environ(node.value)
    ):
        return node.slice, None
    if (
        isinstance(node, ast.Compare)
        and len(node.ops) == 1
        and isinstance(node.ops[0], ast.In | ast.NotIn)
        and _is_environ(node.comparators[0])
    ):
        return node.left, None
    return None


def _literal(node: ast.AST | None) -> object:
    if isinstance(node, ast.Constant) and isinstance(node.value, str | bool | int):
        return node.value
    return _NO_DEFAULT


def _helpers(tree: ast.AST) -> dict[str, int]:
    """Functions that read the variable named by one of their parameters:
    name -> that parameter's position."""
    found = {}
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef):
            continue
        params = [arg.arg for arg in function.args.args]
        for node in ast.walk(function):
            read = _environ_key(node)
            if read and isinstance(read[0], ast.Name) and read[0].id in params:
                found[function.name] = params.index(read[0].id)
    return found


def environment_reads(source: str, filename: str) -> list[Read]:
    tree = ast.parse(source, filename)
    helpers = _helpers(tree)
    reads = []
    for node in ast.walk(tree):
        key = default = None
        if read := _environ_key(node):
            key, default = read
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in helpers
            and len(node.args) > helpers[node.func.id]
        ):
            position = helpers[node.func.id]
            key = node.args[position]
            rest = node.args[position + 1 :]
            default = rest[0] if rest else None
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            reads.append(
                Read(key.value, f"{filename}:{node.lineno}", _literal(default))
            )
    return reads


def code_reads() -> list[Read]:
    reads = []
    for path in SOURCES:
        name = path.relative_to(ROOT).as_posix()
        reads += environment_reads(path.read_text(encoding="utf-8"), name)
    return reads


def documented() -> dict[str, str]:
    """Variables of the reference's tables (first column) -> their default cell."""
    found = {}
    in_table = False
    for line in REFERENCE.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            in_table = False
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[0] == "variable":
            in_table = True
            continue
        if not in_table or set(cells[0]) <= {"-", ":", " "}:
            continue
        for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", cells[0]):
            found[name] = cells[1] if len(cells) > 1 else ""
    return found


def test_the_scanner_finds_every_way_of_reading_the_environment():
    source = """
import os
from os import environ

def env_flag(name, default):
    return os.environ.get(name) == "1" if name in os.environ else default

A = os.environ.get("ONE", "x")
B = os.environ["TWO"]
C = os.getenv("THREE")
D = "FOUR" in os.environ
os.environ.setdefault("FIVE", "cms.settings")
E = environ.get("SIX")
F = env_flag("SEVEN", True)
os.environ["NOT_READ"] = "written, not read"
"""
    reads = {read.name: read.default for read in environment_reads(source, "x.py")}

    assert reads == {
        "ONE": "x",
        "TWO": _NO_DEFAULT,
        "THREE": _NO_DEFAULT,
        "FOUR": _NO_DEFAULT,
        "FIVE": "cms.settings",
        "SIX": _NO_DEFAULT,
        "SEVEN": True,
    }


def test_the_settings_are_scanned():
    names = {read.name for read in code_reads()}

    # Read directly, and through env_bool / env_list.
    assert {"DATABASE_URL", "DJANGO_HTTPS", "DJANGO_ALLOWED_HOSTS"} <= names


def test_every_variable_the_code_reads_is_in_the_reference():
    listed = documented()
    missing = sorted(
        f"{read.name} ({read.where})"
        for read in code_reads()
        if read.name not in listed
    )

    assert not missing, f"docs/settings.md does not list: {', '.join(missing)}"


def test_every_variable_in_the_reference_is_still_read():
    read = {read.name for read in code_reads()}
    stale = sorted(set(documented()) - read)

    assert not stale, f"docs/settings.md lists what nothing reads: {', '.join(stale)}"


def test_the_reference_gives_the_defaults_the_code_has():
    listed = documented()
    wrong = []
    for read in code_reads():
        cell = listed.get(read.name)
        if cell is None or read.default is _NO_DEFAULT or read.default == "":
            continue
        if isinstance(read.default, bool):
            words = re.findall(r"\b(on|off)\b", cell)
            expected = "on" if read.default else "off"
            if not words or words[0] != expected:
                wrong.append(f"{read.name}: code says {expected}, docs {cell!r}")
        elif f"`{read.default}`" not in cell:
            wrong.append(f"{read.name}: code says {read.default!r}, docs {cell!r}")

    assert not wrong, "docs/settings.md defaults differ: " + "; ".join(wrong)
