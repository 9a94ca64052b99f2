"""Demo data for eTIMS: the main branch's device in the environment of ETIMS_ENVIRONMENT (the local
simulator by default), and a classification for each demo category. Run after the sales history, so
only sales made from now on go to eTIMS; `.ci/start` initialises the device with the simulator."""

from cashdesk.etims.config import OFF, get_config
from cashdesk.etims.models import EtimsDevice
from inventory.models import Category
from pos.people.models import DEFAULT_BRANCH_CODE, Branch

DEMO_TIN = "P051234567X"
DEMO_BHF_ID = "01"
# Demo categories → a classification the simulator knows (any of its list would do).
CATEGORY_CLASSES = {
    "Food": "5022110100",
    "Flour": "5022110100",
    "Drinks": "5020230100",
    "Beverages": "5020000000",
    "Household": "5310000000",
    "Bakery": "5013000000",
}
DEFAULT_CLASS = "5310000000"


def seed_etims(*, log) -> None:
    config = get_config()
    if config.environment == OFF:
        return
    branch = Branch.objects.filter(code=DEFAULT_BRANCH_CODE).first()
    if branch is None:
        return
    device, created = EtimsDevice.objects.get_or_create(
        branch=branch,
        defaults={"environment": config.environment, "tin": config.tin or DEMO_TIN,
                  "bhf_id": config.bhf_id or DEMO_BHF_ID, "serial_number": config.device_serial or "ASIRIAPOS-DEMO-01"},
    )
    for category in Category.objects.filter(kra_item_code=""):
        category.kra_item_code = next((code for word, code in CATEGORY_CLASSES.items()
                                       if word.lower() in category.name.lower()), DEFAULT_CLASS)
        category.save(update_fields=["kra_item_code", "updated_at"])
    if created:
        log(f"eTIMS: {branch.code} sends to the {device.get_environment_display().lower()} as "
            f"{device.tin}/{device.bhf_id} (initialise: manage.py etims_init --branch {branch.code})")


STEPS = [(60, seed_etims)]
