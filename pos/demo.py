"""Demo data of the `pos` app (`manage.py seed_demo` finds it here), defined by area."""

from pos.customers import demo as customers_demo
from pos.people import demo as people_demo

STEPS = [*people_demo.STEPS, *customers_demo.STEPS]
