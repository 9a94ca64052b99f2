"""Role matrix for the API's documentation: the schema, Swagger UI and ReDoc are public pages.

They are marked `api=True`: third-party pages (Swagger UI, ReDoc) that get their own CSP relaxation
(core/ops/csp.py), so the inline-code check of our own pages does not apply to them.
"""

from pos.tests.matrix import Case, public

CASES = [
    Case("api-schema", public(), api=True),
    Case("swagger-ui", public(), api=True),
    Case("swagger-ui", public(), api=True, query="script=", id="get:swagger-ui:script"),
    Case("redoc", public(), api=True),
]
