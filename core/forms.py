"""Putting a service's refusal on the form that asked for the work."""

from django import forms
from django.core.exceptions import ValidationError

from core.errors import DomainError


def add_domain_error(form: forms.BaseForm, error: DomainError | ValidationError, field: str | None = None) -> None:
    """Show `error` on `form`: by the field it names when the form has that field, else by `field`.

    `field` is where an error that names no field of this form belongs (a one-field form puts every
    refusal by its field); without it such an error goes above the form. A Django `ValidationError`
    (a model's `full_clean` inside a service) is placed the same way, field by field.
    """
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            for name, errors in error.error_dict.items():
                target = name if name in form.fields else field
                for each in errors:
                    # Above the form the message alone would not say what it is about: prefix the field.
                    message = each.messages[0]
                    form.add_error(target, message if target else f"{name.replace('_', ' ').capitalize()}: {message}")
        else:
            form.add_error(field, error)
        return
    own = getattr(error, "field", None)
    form.add_error(own if own in form.fields else field, error.message)
