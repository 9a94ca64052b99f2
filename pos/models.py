"""The models of the `pos` app, defined by area: people (`pos.people.models`), customers
(`pos.customers.models`) and sales (`pos.sales.models`). Django loads them from here; code imports
them from their own module."""

from pos.customers.models import Customer, LoyaltyEntry  # noqa: F401
from pos.people.models import AuditLog, Branch, ShopSettings, User  # noqa: F401
from pos.sales.models import Refund, Sale, SaleLine, SaleReturn, SaleReturnLine, SaleScan, SaleSequence  # noqa: F401
