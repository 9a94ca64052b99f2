"""A service's refusal lands on the form: by its field when the form has it, above the form otherwise."""

import pytest
from django import forms
from django.core.exceptions import ValidationError

from core.errors import ConflictError, DomainError
from core.forms import add_domain_error

pytestmark = pytest.mark.django_db  # the suite's session fixtures need the database


class NoteForm(forms.Form):
    note = forms.CharField()
    amount = forms.DecimalField()


def bound() -> NoteForm:
    form = NoteForm({"note": "short", "amount": "10"})
    assert form.is_valid()
    return form


def test_an_error_naming_a_field_of_the_form_sits_by_that_field():
    form = bound()
    add_domain_error(form, DomainError("Too much.", field="amount"))
    assert form.errors == {"amount": ["Too much."]}


def test_an_error_naming_no_field_of_the_form_goes_above_it():
    form = bound()
    add_domain_error(form, ConflictError("The session is closed.", field="session"))
    assert form.non_field_errors() == ["The session is closed."]
    assert "session" not in form.errors


def test_the_fallback_field_takes_an_error_that_names_no_field_of_the_form():
    form = bound()
    add_domain_error(form, DomainError("Say why."), field="note")
    assert form.errors == {"note": ["Say why."]}
    form = bound()
    add_domain_error(form, DomainError("Too much.", field="amount"), field="note")
    assert form.errors == {"amount": ["Too much."]}


def test_a_django_validation_error_is_placed_field_by_field():
    form = bound()
    add_domain_error(form, ValidationError({"note": "Too short.", "branch_code": "Taken."}))
    assert form.errors["note"] == ["Too short."]
    assert form.non_field_errors() == ["Branch code: Taken."]
    form = bound()
    add_domain_error(form, ValidationError("Nothing to save."))
    assert form.non_field_errors() == ["Nothing to save."]
