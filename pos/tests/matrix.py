"""The role matrix: every URL the project has, against every role.

Each app lists its URLs in `<app>/tests/role_matrix.py` as `CASES = [Case(...), ...]` and may add the
objects its URLs need with `def prepare(world): ...`. `pos/tests/test_role_matrix.py` runs them all and
fails when a URL pattern of the project is in no app's list (or in `EXEMPT` with a reason).

Expectations per role: `OK` (2xx, or a redirect that is not to the login page), `FORBIDDEN` (403),
`LOGIN` (redirect to the login page; for htmx requests an HX-Redirect to it), or an exact status code.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

OK = "ok"
FORBIDDEN = "forbidden"
LOGIN = "login"
NOT_FOUND = 404
ROLES = ("anonymous", "employee", "manager", "owner")


@dataclass
class Case:
    name: str  # URL name, with namespace ("pos:staff_list")
    expect: dict  # role -> OK / FORBIDDEN / LOGIN / int; roles not given default to `default`
    default: str | int | None = None
    args: Callable[[SimpleNamespace], list] | None = None  # world -> reverse() args
    query: str = ""
    method: str = "get"
    data: Callable[[SimpleNamespace], dict] | None = None
    htmx: bool = False
    api: bool = False  # JSON API: anonymous expects 401, authenticated clients use a JWT
    id: str = ""  # distinguishes two cases of the same URL name
    fresh_world: bool = False  # mutating POSTs: build the world again for each role

    def expected(self, role: str):
        if role in self.expect:
            return self.expect[role]
        return self.default

    @property
    def label(self) -> str:
        return self.id or f"{self.method}:{self.name}{'?' + self.query if self.query else ''}"


def everyone_but_anonymous(**overrides) -> dict:
    expect = {"anonymous": LOGIN, "employee": OK, "manager": OK, "owner": OK}
    expect.update(overrides)
    return expect


def managers_and_owners(**overrides) -> dict:
    expect = {"anonymous": LOGIN, "employee": FORBIDDEN, "manager": OK, "owner": OK}
    expect.update(overrides)
    return expect


def owners_only(**overrides) -> dict:
    expect = {"anonymous": LOGIN, "employee": FORBIDDEN, "manager": FORBIDDEN, "owner": OK}
    expect.update(overrides)
    return expect


def public(**overrides) -> dict:
    expect = {role: OK for role in ROLES}
    expect.update(overrides)
    return expect


@dataclass
class Exempt:
    pattern: str  # a URL name ("admin:index") or a prefix ending in "*" ("admin:*")
    reason: str = field(default="")
