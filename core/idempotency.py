"""The JSON API's `Idempotency-Key` header: a repeated POST gets the first answer, and writes nothing.

The key row is inserted first, in the same transaction as the work: a second request with the same
key waits on the unique index until the first commits, then replays its stored answer. A request
that fails rolls its key back with everything else, so the client may retry it. When InnoDB picks the
transaction as a deadlock victim, the whole of it (key and work) runs again here with the same key,
so the client sees an answer, never the database's lock race.
"""

import hashlib
import json
from collections.abc import Callable

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
)
from rest_framework.response import Response

from core.db import retry_on_deadlock
from core.errors import ConflictError, DomainError
from core.models import ApiIdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"


def idempotency_key(request) -> str:
    """The header's key ("" when none was sent); refuses one longer than 64 characters."""
    key = (request.headers.get(HEADER) or "").strip()
    if len(key) > 64:
        raise DomainError("The Idempotency-Key header takes at most 64 characters.", field=HEADER, code="invalid_key")
    return key


def checkout_key(*, user, key: str) -> str:
    """The sale's own idempotency key for a keyed API request: per user, 64 hex characters."""
    return hashlib.sha256(f"api:{user.pk}:{key}".encode()).hexdigest()


def _fingerprint(data) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, cls=DjangoJSONEncoder, default=str).encode()).hexdigest()


def run_idempotent(request, *, endpoint: str, run: Callable[[], Response]) -> Response:
    """Run `run()` once per (user, Idempotency-Key); without a key, just run it.

    Either way the whole of it is retried when it loses a lock race (`core.db.retry_on_deadlock`):
    `run()` must do nothing outside the database that a second attempt would repeat (M-Pesa pushes
    are sent by a task after the commit).
    """
    key = idempotency_key(request)
    if not key:
        return retry_on_deadlock(run)()
    return _run_keyed(request, key=key, endpoint=endpoint, fingerprint=_fingerprint(request.data), run=run)


@retry_on_deadlock
def _run_keyed(request, *, key: str, endpoint: str, fingerprint: str, run: Callable[[], Response]) -> Response:
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = ApiIdempotencyKey.objects.create(
                    user=request.user, key=key, endpoint=endpoint, request_hash=fingerprint
                )
        except IntegrityError:
            # The failed insert waited for the other request to commit and holds a shared lock on its
            # row; this first read of the transaction sees it. Asking for an exclusive lock on top (FOR
            # UPDATE) deadlocked whenever a third request with the same key held the same shared lock.
            row = ApiIdempotencyKey.objects.get(user=request.user, key=key)
            if row.endpoint != endpoint or row.request_hash != fingerprint:
                raise ConflictError(
                    "This Idempotency-Key was already used for a different request: send a new key.",
                    code="idempotency_key_reused",
                ) from None
            if row.status_code is None:
                raise ConflictError(
                    "A request with this Idempotency-Key is still running.", code="in_progress"
                ) from None
            response = Response(row.response_body, status=row.status_code)
            response[REPLAYED_HEADER] = "true"
            return response
        response = run()
        row.status_code = response.status_code
        row.response_body = json.loads(json.dumps(response.data, cls=DjangoJSONEncoder))
        row.save(update_fields=["status_code", "response_body"])
        return response


IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="1–64 characters. A repeat with the same key (and body) returns the first answer and writes nothing.",
)
