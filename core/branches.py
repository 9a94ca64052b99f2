"""Branch scoping: which branches' records a member of staff may see and work with."""




from core.roles import Perm


# ---------------------------------------------------------------------------- who may do what
def may_use_branch(user, branch_id: int) -> bool:
    """Staff work at their own branch; owners (ALL_BRANCHES) at any."""
    return user.has_perm(Perm.ALL_BRANCHES) or user.branch_id == branch_id
