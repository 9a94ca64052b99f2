from decimal import Decimal

from cashdesk.services import session_open


def open_session(user, opening_float="1000.00"):
    return session_open(cashier=user, opening_float=Decimal(opening_float))
