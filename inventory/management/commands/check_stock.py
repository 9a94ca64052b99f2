"""Prove stored stock equals the ledger for every product and branch; exit 1 when it does not."""

from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Sum

from inventory.models import StockLevel, StockMovement


def stock_discrepancies() -> list[tuple[int, int, Decimal, Decimal]]:
    """(product_id, branch_id, stored, ledger) for every pair where the two differ."""
    ledger = {
        (row["product_id"], row["branch_id"]): row["total"]
        for row in StockMovement.objects.values("product_id", "branch_id").annotate(total=Sum("quantity"))
    }
    stored = {(row[0], row[1]): row[2] for row in StockLevel.objects.values_list("product_id", "branch_id", "quantity")}
    problems = []
    for key in sorted(set(ledger) | set(stored)):
        on_ledger = ledger.get(key) or Decimal("0")
        on_level = stored.get(key) or Decimal("0")
        if on_ledger != on_level:
            problems.append((key[0], key[1], on_level, on_ledger))
    return problems


class Command(BaseCommand):
    help = "Check that stored stock on hand equals the sum of the stock ledger for every product and branch."

    def handle(self, *args, **options):
        problems = stock_discrepancies()
        pairs = StockLevel.objects.count()
        if problems:
            for product_id, branch_id, stored, ledger in problems[:100]:
                self.stderr.write(
                    f"product {product_id} branch {branch_id}: stored {stored:.3f} but ledger says {ledger:.3f}"
                )
            raise CommandError(f"{len(problems)} product/branch pair(s) disagree with the ledger.")
        self.stdout.write(self.style.SUCCESS(f"Stock matches the ledger for all {pairs} product/branch pairs."))
