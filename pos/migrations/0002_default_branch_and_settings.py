"""The shop starts with one branch (code MAIN) and its settings row."""

from django.db import migrations


def create_defaults(apps, schema_editor):
    Branch = apps.get_model("pos", "Branch")
    ShopSettings = apps.get_model("pos", "ShopSettings")
    Branch.objects.get_or_create(code="MAIN", defaults={"name": "Main branch"})
    ShopSettings.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("pos", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
