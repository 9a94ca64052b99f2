# The API's idempotency keys moved to the `core` app (core/models.py). The table stays where it is, with
# its name: only Django's record of which app owns the model changes.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('pos', '0006_api_idempotency_key'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='ApiIdempotencyKey')],
            database_operations=[],
        ),
    ]
