"""Role matrix for the foundation's URLs (people, settings, audit log, start page, health)."""

from pos.tests.matrix import FORBIDDEN, LOGIN, OK, Case, Exempt, everyone_but_anonymous, managers_and_owners, owners_only, public


def prepare(world):
    from pos.tests.factories import UserFactory
    from pos.roles import Role

    world.staff_member = UserFactory(role=Role.EMPLOYEE, branch=world.branch, full_name="Target Cashier")
    world.an_owner = UserFactory(role=Role.OWNER, branch=world.branch, full_name="Second Owner")


CASES = [
    Case("home", everyone_but_anonymous()),
    Case("healthz", public()),
    Case("pos:staff_list", managers_and_owners()),
    Case("pos:staff_create", managers_and_owners()),
    Case(
        "pos:staff_create",
        managers_and_owners(),
        id="post:pos:staff_create",
        method="post",
        fresh_world=True,
        data=lambda w: {
            "full_name": "New Person",
            "phone_number": "0799 123 456",
            "role": "EMPLOYEE",
            "branch": w.branch.pk,
            "password1": "a-long-pass-99",
            "password2": "a-long-pass-99",
        },
    ),
    Case("pos:staff_edit", managers_and_owners(), args=lambda w: [w.staff_member.pk]),
    # A manager may open an owner's page (read) but not change it: the POST is refused by the service.
    Case("pos:staff_edit", managers_and_owners(), args=lambda w: [w.an_owner.pk], id="get:pos:staff_edit:owner"),
    Case("pos:staff_password", managers_and_owners(), args=lambda w: [w.staff_member.pk], method="post",
         data=lambda w: {"password1": "another-pass-11", "password2": "another-pass-11"}),
    Case("pos:staff_pin", managers_and_owners(), args=lambda w: [w.staff_member.pk], method="post",
         data=lambda w: {"pin": "4826", "pin2": "4826"}),
    Case("pos:staff_active", managers_and_owners(), args=lambda w: [w.staff_member.pk], method="post",
         fresh_world=True, data=lambda w: {"reason": "left"}),
    Case("pos:my_pin", everyone_but_anonymous()),
    Case("pos:settings", owners_only()),
    Case("pos:audit_log", managers_and_owners()),
    Case("pos:audit_log", managers_and_owners(), htmx=True, id="htmx:pos:audit_log"),
    Case("pos:staff_list", managers_and_owners(), htmx=True, id="htmx:pos:staff_list"),
    Case("account_login", public(employee=OK, manager=OK, owner=OK)),
    Case("account_login", public(), method="post", id="post:account_login:bad",
         data=lambda w: {"login": "0712", "password": "x"}),  # a form error, never a crash
    Case("account_logout", everyone_but_anonymous()),  # GET asks; anonymous are sent to login
    # Logging out sends everyone (logged in or not) to the login page.
    Case("account_logout", {}, default=LOGIN, method="post", id="post:account_logout", fresh_world=True),
    Case("account_change_password", everyone_but_anonymous()),
    Case("account_reauthenticate", everyone_but_anonymous()),
    Case("account_email", everyone_but_anonymous()),  # "ask a manager": e-mail is kept on the Staff page
    Case("account_change_phone", everyone_but_anonymous()),  # same for the phone number
    Case("account_inactive", public()),
    Case("account_signup", public()),  # answers "sign-up is closed" to everyone
    Case("account_signup", public(), method="post", id="post:account_signup",
         data=lambda w: {"phone": "0711 222 333", "password1": "a-long-pass-99"}),
    Case("mfa_index", everyone_but_anonymous()),
    Case("mfa_add_webauthn", everyone_but_anonymous()),  # logged in: first "confirm it is you"
    Case("mfa_list_webauthn", everyone_but_anonymous()),
    Case("mfa_login_webauthn", everyone_but_anonymous()),  # GET without JS: back to the login page
    Case("mfa_activate_totp", everyone_but_anonymous()),
    Case("socialaccount_connections", everyone_but_anonymous()),
]

EXEMPT = [
    Exempt("admin:*", "Django admin: its own staff check (is_staff + model permissions), tested in test_audit"),
    Exempt("<admin/login/>", "redirects to the allauth login page for everyone"),
    Exempt("account_*", "allauth's e-mail/phone verification, reset-by-key and login-code steps: one-time "
           "links and codes of flows that are off here; login, logout, password and passkey pages are cases"),
    Exempt("mfa_*", "allauth.mfa steps reached only inside a login or with an authenticator's id (tested in "
           "test_passkeys); the pages people open are cases above"),
    Exempt("socialaccount_*", "allauth social views: provider flows, no data of ours"),
    Exempt("google_*", "OAuth provider callback"),
    Exempt("microsoft_*", "OAuth provider callback"),
    Exempt("openid_connect_*", "OpenID Connect provider callback"),
    Exempt("<accounts/*", "allauth's unnamed compatibility redirects"),
]
