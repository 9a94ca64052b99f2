"""The world every URL-walking suite shares: each app's role-matrix cases and the objects they need.

Each app lists its URLs in `<app>/tests/role_matrix.py` (and `role_matrix_<part>.py` beside it) as
`CASES = [...]`, with `prepare(world)` adding the objects its URLs need (see `pos/tests/matrix.py`). The
role matrix, branch isolation, XSS, CSP and no-500 suites all walk these cases; they build the world
through `build_world` here, and the per-module fixture `url_world` (the root conftest) builds it once per
test module instead of once per case.
"""

from __future__ import annotations

import importlib
from functools import cached_property
from pathlib import Path
from types import SimpleNamespace

from core.roles import Role
from pos.people.models import DEFAULT_BRANCH_CODE, Branch
from pos.tests.factories import UserFactory
from pos.tests.matrix import OK

APPS = ["pos", "inventory", "cashdesk", "reports", "config"]


def _modules():
    """Each app's `tests/role_matrix.py` and any `tests/role_matrix_<part>.py` beside it (API, analytics…)."""
    found = []
    for app in APPS:
        try:
            tests = importlib.import_module(f"{app}.tests")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.tests":
                raise
            continue
        folder = Path(tests.__file__).parent
        for path in sorted(folder.glob("role_matrix*.py")):
            found.append(importlib.import_module(f"{app}.tests.{path.stem}"))
    return found


MODULES = _modules()
ALL_CASES = [case for module in MODULES for case in getattr(module, "CASES", [])]
ALL_EXEMPT = [exempt for module in MODULES for exempt in getattr(module, "EXEMPT", [])]


def build_world(branch: Branch | None = None, *, who: str = "Matrix") -> SimpleNamespace:
    """A person of each role at `branch` (the migration-made main branch by default) and every object
    the apps' `prepare(world)` hooks add there."""
    if branch is None:
        branch = Branch.objects.get_or_create(code=DEFAULT_BRANCH_CODE, defaults={"name": "Main branch"})[0]
    world = SimpleNamespace(branch=branch)
    world.users = {
        "employee": UserFactory(role=Role.EMPLOYEE, branch=branch, full_name=f"{who} Employee"),
        "manager": UserFactory(role=Role.MANAGER, branch=branch, full_name=f"{who} Manager"),
        "owner": UserFactory(role=Role.OWNER, branch=branch, full_name=f"{who} Owner", is_superuser=True),
    }
    for module in MODULES:
        prepare = getattr(module, "prepare", None)
        if prepare:
            prepare(world)
    return world


def page_cases(roles=("owner", "anonymous")):
    """Each GET page (not the JSON API) with each of `roles` that may open it: (case, role)."""
    for case in ALL_CASES:
        if case.method != "get" or case.api:
            continue
        for role in roles:
            if case.expected(role) == OK:
                yield case, role


def materialise(world, cases=None) -> None:
    """Make every object the cases (all by default) point at or send (the till's are made on first use)."""
    for case in ALL_CASES if cases is None else cases:
        if case.args:
            case.args(world)
        if case.data:
            case.data(world)


def forget_made_on_first_use(world) -> None:
    """Drop the objects the world's parts made on first use (`functools.cached_property`)."""
    for part in vars(world).values():
        if not hasattr(part, "__dict__"):
            continue
        for name, attribute in vars(type(part)).items():
            if isinstance(attribute, cached_property):
                vars(part).pop(name, None)
