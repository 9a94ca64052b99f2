import factory
from django.contrib.auth.hashers import make_password

from core.roles import Role
from pos.people.models import Branch, User

DEFAULT_PASSWORD = "correct-horse-77"
DEFAULT_PIN = "2580"


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Branch
        django_get_or_create = ("code",)

    name = factory.Sequence(lambda n: f"Branch {n}")
    code = factory.Sequence(lambda n: f"B{n:03d}")


def _default_branch():
    return Branch.objects.get_or_create(code="MAIN", defaults={"name": "Main branch"})[0]


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    phone_number = factory.Sequence(lambda n: f"+25479{n:07d}")  # clear of the demo and test numbers
    full_name = factory.Faker("name")
    role = Role.EMPLOYEE
    branch = factory.LazyFunction(_default_branch)
    password = factory.LazyFunction(lambda: make_password(DEFAULT_PASSWORD))
    till_pin = factory.LazyFunction(lambda: make_password(DEFAULT_PIN))


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "pos.Customer"

    name = factory.Faker("name")
    phone_number = factory.Sequence(lambda n: f"+2541{n:08d}")
