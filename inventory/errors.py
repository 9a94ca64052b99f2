"""The stock app's domain errors, and the permission checks that raise them."""


from dataclasses import dataclass
from decimal import Decimal

from core.branches import may_use_branch
from core.errors import ConflictError, DomainError


class StockError(DomainError):
    """A stock rule refused the change (bad quantity, unknown product…)."""


class StockConflictError(ConflictError, StockError):
    """The request is valid but the document is not in a state that allows it (already approved…)."""


class StockShortError(ConflictError, StockError):
    """Not enough stock on hand and the shop does not allow negative stock."""

    def __init__(self, shortages: list["Shortage"]):
        self.shortages = shortages
        parts = [
            f"{s.product_name}: {s.on_hand.normalize():f} in stock, {s.requested.normalize():f} needed"
            for s in shortages
        ]
        super().__init__("Not enough stock — " + "; ".join(parts) + ".", code="stock_short")


@dataclass(frozen=True)
class Shortage:
    product_id: int
    product_name: str
    on_hand: Decimal
    requested: Decimal


def require_permission(user, perm: str, message: str) -> None:
    """Refuse (`StockError`, code forbidden) a stock action the user's role does not allow."""
    if user is None or not user.has_perm(perm):
        raise StockError(message, code="forbidden")


def require_branch(user, branch_id: int, field: str | None = "branch") -> None:
    """Refuse a stock action at a branch the user may not work at (`core.branches.may_use_branch`)."""
    if not may_use_branch(user, branch_id):
        raise StockError("That branch is not yours to manage.", field=field, code="forbidden")
