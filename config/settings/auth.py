"""Logging in: phone number and password (allauth), single sign-on, passkeys, the till PIN, sessions."""

from config.settings.environment import env
from config.settings.platform import REDIS_URL

AUTH_USER_MODEL = "pos.User"
AUTHENTICATION_BACKENDS = ["pos.people.backends.RoleBackend"]  # allauth's phone login + role permissions
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

# django-allauth: phone number + password, no public sign-up, no SMS verification (staff are
# created by an owner or manager who checks the number in person).
ACCOUNT_ADAPTER = "pos.people.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "pos.people.adapters.SocialAccountAdapter"
MFA_ADAPTER = "pos.people.adapters.MFAAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_USER_MODEL_EMAIL_FIELD = "email"
ACCOUNT_LOGIN_METHODS = {"phone"}
ACCOUNT_SIGNUP_FIELDS = ["phone*", "password1*"]
ACCOUNT_PHONE_VERIFICATION_ENABLED = False
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_USER_DISPLAY = lambda user: user.full_name  # "Signed in as Njeri Wambui", not the number  # noqa: E731
ACCOUNT_RATE_LIMITS = {
    # allauth's own limits. Failed logins are counted by pos/people/lockout.py (LOGIN_LOCKOUT_*), the one
    # lockout of every way in; allauth's "login_failed" is left only for its second-factor re-authentication.
    "login": env.str("RATE_LIMIT_LOGIN", default="30/m/ip"),
    "login_failed": "60/m/ip,5/5m/key",
    "change_password": "5/m/user",
    "reset_password": "5/m/ip,3/m/key",
}
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # matching is done by our adapter, verified e-mail only
SOCIALACCOUNT_ONLY = False
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_PROVIDERS: dict = {}
if env.str("GOOGLE_CLIENT_ID", default=""):
    SOCIALACCOUNT_PROVIDERS["google"] = {
        "APPS": [
            {
                "client_id": env.str("GOOGLE_CLIENT_ID"),
                "secret": env.str("GOOGLE_CLIENT_SECRET", default=""),
                "key": "",
            }
        ],
        "SCOPE": ["profile", "email"],
        "AUTH_PARAMS": {"access_type": "online"},
    }
if env.str("MICROSOFT_CLIENT_ID", default=""):
    SOCIALACCOUNT_PROVIDERS["microsoft"] = {
        "APPS": [
            {
                "client_id": env.str("MICROSOFT_CLIENT_ID"),
                "secret": env.str("MICROSOFT_CLIENT_SECRET", default=""),
                "settings": {"tenant": env.str("MICROSOFT_TENANT", default="organizations")},
            }
        ]
    }
if env.str("OIDC_CLIENT_ID", default=""):
    SOCIALACCOUNT_PROVIDERS["openid_connect"] = {
        "APPS": [
            {
                "provider_id": env.str("OIDC_PROVIDER_ID", default="oidc"),
                "name": env.str("OIDC_PROVIDER_NAME", default="Single sign-on"),
                "client_id": env.str("OIDC_CLIENT_ID"),
                "secret": env.str("OIDC_CLIENT_SECRET", default=""),
                "settings": {"server_url": env.str("OIDC_SERVER_URL", default="")},
            }
        ]
    }

# Passkeys ("fingerprint / face" on the tablet) through allauth.mfa.
MFA_SUPPORTED_TYPES = ["webauthn", "totp", "recovery_codes"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_PASSKEY_SIGNUP_ENABLED = False
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = env.bool("MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN", default=False)
MFA_TOTP_ISSUER = env.str("SHOP_NAME", default="AsiriaPOS")
# Our forms turn a malformed passkey POST into a form error (allauth 65.21 + fido2 2.2 answer 500).
MFA_FORMS = {
    "login_webauthn": "pos.people.forms.PasskeyLoginForm",
    "reauthenticate_webauthn": "pos.people.forms.PasskeyReauthenticateForm",
    "add_webauthn": "pos.people.forms.PasskeyAddForm",
}
# Staff e-mails are typed in by a manager, not verified by a link: don't let that block passkeys.
MFA_ALLOW_UNVERIFIED_EMAIL = True

# One lockout for every way in (web login, API token, passkeys, the till PIN: pos/people/lockout.py):
# failures per account (phone number) and per trusted client address within the window lock it for
# the rest of the window. The per-address limit is loose: a shop's tablets share one public address.
LOGIN_LOCKOUT_ACCOUNT_FAILURES = env.int("LOGIN_LOCKOUT_ACCOUNT_FAILURES", default=5)
LOGIN_LOCKOUT_ADDRESS_FAILURES = env.int("LOGIN_LOCKOUT_ADDRESS_FAILURES", default=60)
LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=15)

# Till PIN: managers authorise overrides with a 4–6 digit PIN; repeated failures lock the PIN.
TILL_PIN_MAX_FAILURES = env.int("TILL_PIN_MAX_FAILURES", default=5)
TILL_PIN_LOCKOUT_MINUTES = env.int("TILL_PIN_LOCKOUT_MINUTES", default=15)
# ...and whoever is typing them is slowed down too: wrong PINs per logged-in person, and per address (a
# shop's tablets share one public IP, so that one is loose), within a window. Guessing by going through
# every manager's PIN in turn stops here before any one of them locks.
TILL_PIN_RATE_LIMIT = env.int("TILL_PIN_RATE_LIMIT", default=8)
TILL_PIN_RATE_LIMIT_IP = env.int("TILL_PIN_RATE_LIMIT_IP", default=40)
TILL_PIN_RATE_WINDOW_MINUTES = env.int("TILL_PIN_RATE_WINDOW_MINUTES", default=10)

SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 60 * 60)  # one trading day
SESSION_SAVE_EVERY_REQUEST = False

# --- sessions: in Redis (write-through to the database) when there is one, so any app server can
# answer any till; "django.contrib.sessions.backends.cache" keeps them in Redis only.
if REDIS_URL:
    SESSION_ENGINE = env.str("SESSION_ENGINE", default="django.contrib.sessions.backends.cached_db")
else:
    SESSION_ENGINE = env.str("SESSION_ENGINE", default="django.contrib.sessions.backends.db")
# A till left logged in and unattended is logged out after this many minutes without a click (0 = never).
SESSION_IDLE_TIMEOUT_MINUTES = env.int("SESSION_IDLE_TIMEOUT_MINUTES", default=30)
