"""Prompts are data (spec ai.md §2): services hold no string literal over 120 characters.

Model-bound text lives in ``tgpilot/prompts/*.md``. Long literals in services are
almost always prompt text in disguise, so the scan flags every string constant (and
the literal part of every f-string) longer than 120 characters that is not
documentation — a docstring or an attribute docstring, i.e. a bare string statement.
"""

from __future__ import annotations

import ast
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[1] / "src" / "tgpilot" / "services"
LIMIT = 120


def _documentation(tree: ast.AST) -> set[int]:
    """Ids of string constants that stand alone as statements (docstrings)."""
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }


def _literal_length(node: ast.AST) -> int:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return len(node.value)
    if isinstance(node, ast.JoinedStr):
        return sum(_literal_length(part) for part in node.values)
    return 0


def long_literals(path: Path, root: Path = SERVICES) -> list[str]:
    """``file:line (N chars)`` for each long non-documentation literal of ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    docs = _documentation(tree)
    inside_fstrings = {
        id(part)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for part in node.values
    }
    found = []
    for node in ast.walk(tree):
        if id(node) in docs or id(node) in inside_fstrings:
            continue
        length = _literal_length(node)
        if length > LIMIT:
            found.append(f"services/{path.relative_to(root)}:{node.lineno} ({length} chars)")
    return found


def test_the_scan_flags_long_literals_but_not_docstrings(tmp_path: Path) -> None:
    long_text = "x" * (LIMIT + 1)
    sample = tmp_path / "sample.py"
    sample.write_text(
        f'"""{long_text}"""\n'
        f'class A:\n    field: int = 1\n    """{long_text}"""\n'
        f"PROMPT = '{long_text}'\n"
        f"def f(name):\n    return f'{long_text}{{name}}'\n"
        f"SHORT = '{'y' * LIMIT}'\n",
        encoding="utf-8",
    )
    assert long_literals(sample, tmp_path) == [
        f"services/sample.py:5 ({LIMIT + 1} chars)",
        f"services/sample.py:7 ({LIMIT + 1} chars)",
    ]


def test_services_hold_no_model_bound_text() -> None:
    offenders = [hit for path in sorted(SERVICES.rglob("*.py")) for hit in long_literals(path)]
    assert not offenders, (
        "string literals over 120 characters in services (prompt text belongs in "
        "tgpilot/prompts/*.md):\n" + "\n".join(offenders)
    )
