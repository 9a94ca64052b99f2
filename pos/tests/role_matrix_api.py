"""Role matrix for the people side of the JSON API (pos/people/api.py): tokens, staff, branches, clients, audit log.

`api=True`: a JWT for each role; anonymous expects 401.
"""

from pos.tests.matrix import FORBIDDEN, LOGIN, OK, ROLES, Case

EVERYONE_400 = {role: 400 for role in ROLES}

CASES = [
    # The token endpoints take no token: an empty body is a 400 with field errors for everyone.
    Case("token_obtain_pair", EVERYONE_400, method="post", api=True, data=lambda w: {}),
    Case("token_refresh", EVERYONE_400, method="post", api=True, data=lambda w: {}),
    Case("token_blacklist", EVERYONE_400, method="post", api=True, data=lambda w: {}),
]

API_READ_ALL = {"anonymous": LOGIN, "employee": OK, "manager": OK, "owner": OK}
API_MANAGERS = {"anonymous": LOGIN, "employee": FORBIDDEN, "manager": OK, "owner": OK}


def prepare(world):
    from core.roles import Role
    from pos.people.models import AuditLog
    from pos.tests.factories import CustomerFactory, UserFactory

    world.api_staff = UserFactory(role=Role.EMPLOYEE, branch=world.branch, full_name="API Target")
    world.api_owner = UserFactory(role=Role.OWNER, branch=world.branch, full_name="API Other Owner")
    world.api_customer = CustomerFactory(name="API Client", branch=world.branch)
    world.api_audit = AuditLog.objects.create(action="login", user=world.users["owner"], branch=world.branch)


CASES += [
    Case("user-list", API_MANAGERS, api=True),
    Case("user-detail", API_MANAGERS, api=True, args=lambda w: [w.api_staff.pk]),
    Case("user-list", API_MANAGERS, api=True, method="post", fresh_world=True, id="post:user-list",
         data=lambda w: {"phone_number": f"07980{w.api_staff.pk:05d}", "full_name": "Api New", "role": "EMPLOYEE",
                         "branch": w.branch.pk, "password": "a-long-pass-99"}),
    # A manager may read an owner's record but not change it (the service refuses: 400).
    Case("user-detail", {**API_MANAGERS, "manager": 400}, api=True, method="patch", id="patch:user-detail:owner",
         args=lambda w: [w.api_owner.pk], data=lambda w: {"full_name": "Renamed Owner"}),
    Case("user-detail", API_MANAGERS, api=True, method="patch", id="patch:user-detail",
         args=lambda w: [w.api_staff.pk], data=lambda w: {"full_name": "Renamed"}),
    Case("user-detail", API_MANAGERS, api=True, method="put", id="put:user-detail",
         args=lambda w: [w.api_staff.pk],
         data=lambda w: {"phone_number": w.api_staff.phone_number, "full_name": "Put Name", "role": "EMPLOYEE",
                         "branch": w.branch.pk}),
    Case("user-set-password", API_MANAGERS, api=True, method="post", args=lambda w: [w.api_staff.pk],
         data=lambda w: {"password": "another-pass-11"}),
    Case("branch-list", API_MANAGERS, api=True),
    Case("branch-detail", API_MANAGERS, api=True, args=lambda w: [w.branch.pk]),
    Case("client-list", API_READ_ALL, api=True),
    Case("client-detail", API_READ_ALL, api=True, args=lambda w: [w.api_customer.pk]),
    Case("client-list", API_READ_ALL, api=True, method="post", fresh_world=True, id="post:client-list",
         data=lambda w: {"name": "Api Client New"}),
    Case("client-detail", API_READ_ALL, api=True, method="patch", id="patch:client-detail",
         args=lambda w: [w.api_customer.pk], data=lambda w: {"notes": "VIP"}),
    Case("client-detail", API_READ_ALL, api=True, method="put", id="put:client-detail",
         args=lambda w: [w.api_customer.pk], data=lambda w: {"name": "Put Client"}),
    Case("auditlog-list", API_MANAGERS, api=True),
    Case("auditlog-detail", API_MANAGERS, api=True, args=lambda w: [w.api_audit.pk]),
]
