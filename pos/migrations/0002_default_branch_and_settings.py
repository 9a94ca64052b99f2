"""The shop starts with one branch (code MAIN) and its settings row."""

from django.conf import settings
from django.db import migrations


def create_defaults(apps, schema_editor):
    Branch = apps.get_model("pos", "Branch")
    ShopSettings = apps.get_model("pos", "ShopSettings")
    Branch.objects.get_or_create(code="MAIN", defaults={"name": "Main branch"})
    # The shop's name starts as SHOP_NAME from the environment (the owner edits it later in Settings).
    ShopSettings.objects.get_or_create(pk=1, defaults={"shop_name": settings.SHOP_NAME[:120]})


class Migration(migrations.Migration):
    dependencies = [("pos", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
