"""Management commands: createsuperuser asks for a phone number and makes an Owner (the demo shop's
command is checked in pos/tests/test_demo_seed.py)."""

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from core.roles import Role
from pos.people.models import User

pytestmark = pytest.mark.django_db

OUR_APPS = ("pos", "inventory", "cashdesk", "reports")


def _counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for label in OUR_APPS
        for model in apps.get_app_config(label).get_models()
    }


def test_createsuperuser_non_interactive_makes_an_owner(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "Boss-pass-2024")
    call_command("createsuperuser", interactive=False, phone_number="0712 000 999", full_name="Big Boss",
                 stdout=StringIO())
    boss = User.objects.get(phone_number="+254712000999")
    assert boss.role == Role.OWNER and boss.is_superuser and boss.is_staff and boss.is_active
    assert boss.full_name == "Big Boss"
    assert boss.branch.code == "MAIN"
    assert boss.check_password("Boss-pass-2024")


def test_createsuperuser_refuses_a_malformed_number(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "Boss-pass-2024")
    with pytest.raises(CommandError, match="Kenyan mobile number"):
        call_command("createsuperuser", interactive=False, phone_number="12345", full_name="Big Boss",
                     stdout=StringIO(), stderr=StringIO())
    assert not User.objects.filter(full_name="Big Boss").exists()


def test_createsuperuser_refuses_a_number_already_in_use(monkeypatch, owner):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "Boss-pass-2024")
    local = "0" + owner.phone_number[4:]
    with pytest.raises(CommandError, match="already"):
        call_command("createsuperuser", interactive=False, phone_number=local, full_name="Twin",
                     stdout=StringIO(), stderr=StringIO())


class _TTY(StringIO):
    def isatty(self):
        return True


def test_createsuperuser_asks_for_a_phone_number(monkeypatch):
    prompts = []
    answers = iter(["0733 222 111", "Wanjiru Owner"])

    def fake_input(prompt=""):
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr("builtins.input", fake_input)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "Boss-pass-2024")
    call_command("createsuperuser", interactive=True, stdin=_TTY(), stdout=StringIO(), stderr=StringIO())
    assert prompts[0].startswith("Phone number")
    assert any(p.startswith("Full name") for p in prompts)
    person = User.objects.get(phone_number="+254733222111")
    assert person.role == Role.OWNER and person.full_name == "Wanjiru Owner"
