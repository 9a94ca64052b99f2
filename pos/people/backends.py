"""Authentication (allauth: phone number + password) and authorisation by role.

`user.has_perm()` is answered from `core.roles` only; per-user permissions and groups are not used,
so the role table stays the one place that says who may do what.
"""

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth.models import Permission

from core.roles import ROLE_PERMISSIONS, role_has_perm
from pos.people.models import User


class RoleBackend(AuthenticationBackend):
    def get_user(self, user_id):

        user = User.objects.select_related("branch").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_user_permissions(self, user_obj, obj=None) -> set[str]:
        return set()

    def get_group_permissions(self, user_obj, obj=None) -> set[str]:
        return set()

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous:
            return set()
        granted = ROLE_PERMISSIONS.get(getattr(user_obj, "role", None), frozenset())
        if granted is None:

            perms = Permission.objects.values_list("content_type__app_label", "codename")
            return {f"{app}.{code}" for app, code in perms}
        return set(granted)

    def has_perm(self, user_obj, perm: str, obj=None) -> bool:
        if not user_obj.is_active or user_obj.is_anonymous:
            return False
        return role_has_perm(getattr(user_obj, "role", ""), perm)

    def has_module_perms(self, user_obj, app_label: str) -> bool:
        if not user_obj.is_active or user_obj.is_anonymous:
            return False
        granted = ROLE_PERMISSIONS.get(getattr(user_obj, "role", None), frozenset())
        return granted is None or any(p.startswith(app_label + ".") for p in granted)
