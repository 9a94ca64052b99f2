"""Branch scoping: which branches' records a member of staff may see and work with."""

from django.db.models import Q, QuerySet

from core.roles import Perm


# ---------------------------------------------------------------------------- who may do what
def may_use_branch(user, branch_id: int) -> bool:
    """Staff work at their own branch; owners (ALL_BRANCHES) at any."""
    return user.has_perm(Perm.ALL_BRANCHES) or user.branch_id == branch_id


# ---------------------------------------------------------------------------- what they may see
def for_viewer(
    queryset: QuerySet, user, field: str | tuple[str, ...] = "branch", *, unassigned: bool = False
) -> QuerySet:
    """`queryset` cut to the branches `user` may see: owners (ALL_BRANCHES) every branch, others their own.

    `field` is the lookup that leads to the row's branch: `"branch"`, `"device__branch"`, `"pk"` for a
    queryset of branches themselves, or several (`("from_branch", "to_branch")`: a row is seen when any
    of them is the viewer's). `unassigned=True` keeps rows with no branch as well (an M-Pesa payment
    whose till is not known yet is every branch's to match).
    """
    if user.has_perm(Perm.ALL_BRANCHES):
        return queryset
    lookups = (field,) if isinstance(field, str) else field
    seen = Q()
    for lookup in lookups:
        seen |= Q(**{lookup: user.branch_id})
        if unassigned:
            seen |= Q(**{f"{lookup}__isnull": True})
    return queryset.filter(seen)
