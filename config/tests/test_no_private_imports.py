"""No module reaches into another's private (`_name`) helpers: a helper two modules need is public."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = ("cashdesk", "config", "core", "inventory", "pos", "reports")
pytestmark = pytest.mark.django_db  # the suite's session fixtures need the database

DJANGO_API = {"_meta", "_default_manager", "_base_manager"}  # Django's public API on models starts with "_"


def _our_modules():
    for package in OURS:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path


def private_uses(path: Path, root: Path = ROOT) -> list[str]:
    """`from our.module import _helper` and `our_module._helper` in one file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found, imported = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in OURS:
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{path.relative_to(root)}:{node.lineno}: from {node.module} import {alias.name}")
                imported.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in OURS:
                    imported.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in imported
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and node.attr not in DJANGO_API
        ):
            found.append(f"{path.relative_to(root)}:{node.lineno}: {node.value.id}.{node.attr}")
    return found


def test_no_module_uses_another_modules_private_helpers():
    found = [use for path in _our_modules() for use in private_uses(path)]
    assert not found, "make these helpers public where both modules can reach them:\n" + "\n".join(found)


def test_the_check_sees_a_private_import_and_a_private_attribute(tmp_path):
    module = tmp_path / "example.py"
    module.write_text(
        "from inventory.errors import _hidden, StockError\n"
        "from cashdesk import services\n"
        "import cashdesk.models as cash\n"
        "services._claim(1)\n"
        "cash.Payment._meta\n"
        "services.sale_checkout\n"
    )
    assert private_uses(module, root=tmp_path) == [
        "example.py:1: from inventory.errors import _hidden",
        "example.py:4: services._claim",
    ]
