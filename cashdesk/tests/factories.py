from decimal import Decimal

from cashdesk.services import session_open


def open_session(user, opening_float="1000.00"):
    return session_open(cashier=user, opening_float=Decimal(opening_float))


def ring_up(cashier, branch, *items, customer=None):
    """An open sale for `cashier` with (price, quantity[, tax_class]) items, stocked at `branch`."""
    from inventory.tests.factories import ProductFactory, stock_in
    from pos.sales.services import sale_add_product, sale_get_or_open

    sale = sale_get_or_open(cashier=cashier)
    for item in items:
        price, quantity, *rest = item
        kwargs = {"selling_price": Decimal(price)}
        if rest:
            kwargs["tax_class"] = rest[0]
        product = ProductFactory(**kwargs)
        stock_in(product, branch, 100)
        sale_add_product(sale=sale, product=product, user=cashier, quantity=Decimal(quantity))
    if customer is not None:
        sale.customer = customer
        sale.save(update_fields=["customer"])
    sale.refresh_from_db()
    return sale
