"""A covering index on the till's sale lines for the reports (bench/README.md has the figures).

Every sales, profit and VAT report joins a period's sales to their lines and sums quantity, line total,
VAT and cost per product or tax class. With this index the database reads those columns from the index
alone instead of the whole line rows (names, SKUs, discounts…): on MariaDB with a year of a busy shop
(≥ 1,000,000 lines) the by-product report went from 5.9 s to 2.1 s. It starts with `sale_id`, so on
MariaDB it also serves the foreign key (InnoDB then drops its own single-column index).

The index belongs to `pos_saleline` but only the reports need it, so it lives here rather than in the
till's model. Written in SQL both SQLite and MariaDB understand, and created only when missing (the
bench builds it on a database it filled before the migration existed).
"""

from django.db import migrations

INDEX = "saleline_report_cover_idx"
COLUMNS = "sale_id, product_id, tax_class, quantity, line_total, tax_amount, cost_price"


def create(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        existing = connection.introspection.get_constraints(cursor, "pos_saleline")
    if INDEX not in existing:
        schema_editor.execute(f"CREATE INDEX {INDEX} ON pos_saleline ({COLUMNS})")


def drop(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        existing = connection.introspection.get_constraints(cursor, "pos_saleline")
    if INDEX in existing:
        if connection.vendor == "mysql":
            # The foreign key needs an index on sale_id: give it its own back first.
            schema_editor.execute("CREATE INDEX pos_saleline_sale_id_report_fk ON pos_saleline (sale_id)")
            schema_editor.execute(f"DROP INDEX {INDEX} ON pos_saleline")
        else:
            schema_editor.execute(f"DROP INDEX {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0002_analytics_notifications"),
        ("pos", "0003_sales_and_customers"),
    ]

    operations = [migrations.RunPython(create, drop)]
