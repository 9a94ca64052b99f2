"""Shared by the security tests: the free-text fields of our models, and the pages of the role matrix.

Both walks are generic on purpose: a model field or a page added later is covered the moment it exists
(the field by being a CharField/TextField of one of our apps, the page by being in its app's role matrix).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.apps import apps
from django.db import IntegrityError, models, transaction
from django.test import Client
from django.urls import reverse

from config.tests.url_world import ALL_CASES

OUR_APPS = ("pos", "inventory", "cashdesk", "reports")

# Fields that are not text a person types and a page shows, with why. Everything else is written to.
NOT_FREE_TEXT = {
    "pos.User.password": "a password hash",
    "pos.User.till_pin": "a PIN hash",
    "pos.Sale.idempotency_key": "sent by the till's JavaScript, never shown",
    "cashdesk.Payment.idempotency_key": "sent by the till's JavaScript, never shown",
    "cashdesk.MpesaInbox.applied_key": "an internal once-only key",
    "inventory.StockCount.open_marker": "an internal once-only key (one open count per branch and category)",
    "inventory.ProductImport.content": "the uploaded CSV itself: parsed, never shown (its parsed rows are data)",
    "cashdesk.MpesaInbox.raw_body": "Safaricom's raw JSON, stored for replay and never rendered",
}


@dataclass(frozen=True)
class TextField:
    model: type[models.Model]
    name: str
    max_length: int | None
    unique: bool

    @property
    def label(self) -> str:
        return f"{self.model._meta.label}.{self.name}"


def _unique_names(model) -> set[str]:
    names = {f.name for f in model._meta.concrete_fields if f.unique}
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint):
            names.update(constraint.fields)
    for together in model._meta.unique_together:
        names.update(together)
    return names


def free_text_fields(*, skip_models: tuple[str, ...] = ()) -> Iterator[TextField]:
    """Every CharField / TextField (e-mail and the like included) of our apps' models without choices."""
    for label in OUR_APPS:
        try:
            config = apps.get_app_config(label)
        except LookupError:
            continue
        for model in config.get_models():
            if model._meta.label in skip_models or model._meta.proxy or not model._meta.managed:
                continue
            unique = _unique_names(model)
            for field in model._meta.concrete_fields:
                if not isinstance(field, models.CharField | models.TextField) or field.choices or field.primary_key:
                    continue
                if f"{model._meta.label}.{field.name}" in NOT_FREE_TEXT:
                    continue
                yield TextField(model, field.name, field.max_length, field.name in unique)


def fill(field: TextField, rows, value_for) -> int:
    """Write `value_for(pk, max_length)` into `field` of each row (per row: unique fields need their own
    value). Returns how many rows took it; -1 when the database itself refuses such text (a CHECK
    constraint, as on phone numbers), which is a protection of its own."""
    written = 0
    for pk in rows:
        value = value_for(pk, field.max_length)
        if value is None:
            continue
        # update(), not save(): the point is what pages do with whatever is stored, however it got there
        # (an import, the API, the admin, an old version's data), so model validation is bypassed.
        try:
            with transaction.atomic():
                field.model._default_manager.filter(pk=pk).update(**{field.name: value})
        except IntegrityError:
            return -1
        written += 1
    return written


def get_cases(*, api: bool = False):
    """The role matrix's GET cases (pages, htmx fragments, downloads; the JSON API when `api`)."""
    for case in ALL_CASES:
        if case.method == "get" and (api or not case.api):
            yield case


def case_url(case, world) -> str:
    url = reverse(case.name, args=case.args(world) if case.args else [])
    return f"{url}?{case.query}" if case.query else url


def client_for(user, *, api: bool = False) -> Client:
    client = Client()
    if user is None:
        return client
    if api:
        from pos.people.tokens import refresh_token_for

        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {refresh_token_for(user).access_token}"
    else:
        client.force_login(user)
    return client


def fetch(client: Client, case, url: str):
    headers = {"HTTP_HX_REQUEST": "true"} if case.htmx else {}
    return client.get(url, **headers)
