"""A new shop is named by SHOP_NAME from the environment until the owner renames it in Settings."""

import pytest

from pos.people.models import ShopSettings
from pos.people.selectors import shop_settings

pytestmark = pytest.mark.django_db


def test_a_new_settings_row_takes_shop_name_from_the_environment(settings):
    settings.SHOP_NAME = "Mama Mboga Supermarket"
    ShopSettings.objects.all().delete()
    assert shop_settings().shop_name == "Mama Mboga Supermarket"


def test_a_saved_name_wins_over_the_environment(settings):
    settings.SHOP_NAME = "Mama Mboga Supermarket"
    ShopSettings.objects.update_or_create(pk=1, defaults={"shop_name": "Duka la Juma"})
    assert ShopSettings.load().shop_name == "Duka la Juma"
