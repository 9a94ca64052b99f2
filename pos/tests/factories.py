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


def put_back_migration_rows() -> None:
    """The rows migrations make (the MAIN branch, the shop's settings row, the site), put back when a
    transactional test's flush took them: one query when they are there."""
    from django.conf import settings
    from django.contrib.sites.models import Site

    from pos.people.models import DEFAULT_BRANCH_CODE, Branch, ShopSettings

    if Branch.objects.filter(code=DEFAULT_BRANCH_CODE).exists():
        return
    Branch.objects.get_or_create(code=DEFAULT_BRANCH_CODE, defaults={"name": "Main branch"})
    ShopSettings.objects.get_or_create(pk=1)
    Site.objects.get_or_create(pk=settings.SITE_ID, defaults={"domain": "example.com", "name": "example.com"})
