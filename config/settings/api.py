"""The JSON API: Django REST framework, JWT tokens and the OpenAPI schema."""

from datetime import timedelta

from config.settings.environment import env

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["pos.people.tokens.StampedJWTAuthentication"],  # tokens die with the password
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "core.api_schema.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "core.api.StandardPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_PARSER_CLASSES": ["core.api.JSONParser"],  # JSON bodies only (415 otherwise), 32 levels deep at most
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    # 429 past these: per user (per address before login) and, stricter, on the token endpoints.
    "DEFAULT_THROTTLE_CLASSES": ["core.api.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_RATE_USER", default="600/minute"),
        "token": env.str("API_RATE_TOKEN", default="20/minute"),
    },
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "AsiriaPOS API",
    "DESCRIPTION": "Point of sale for Kenyan shops: catalogue, stock, sales, cash sessions, M-Pesa.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,  # separate request/response components: read-only fields stay out of requests
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True, "deepLinking": True},
    "SCHEMA_PATH_PREFIX": "/api/",
    # Two apps name a field "method" with different choices: give each set its own enum name.
    "ENUM_NAME_OVERRIDES": {
        "PaymentMethodEnum": "cashdesk.models.PaymentMethod",
        "MoneyMethodEnum": "cashdesk.models.MoneyMethod",
        "RefundToEnum": "pos.sales.models.RefundTo",
    },
}
