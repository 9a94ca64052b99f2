"""JSON API of the people side: tokens (login by phone number), staff, branches, clients, the audit log.

Thin views: reads come from `pos.people.selectors` / `pos.sale_selectors`, writes go through `pos.people.services`
and `pos.customers.services`, exactly as the web pages do (docs/api.md).
"""

from __future__ import annotations

from django.contrib.auth import authenticate, get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework_simplejwt import serializers as jwt_serializers
from rest_framework_simplejwt import views as jwt_views
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from core.api import AccountRateThrottle, ServiceViewSetMixin, TokenRateThrottle
from core.api_schema import ErrorSerializer
from core.phone import PHONE_HELP, normalize_phone
from core.roles import Perm, Role
from pos.people import lockout
from pos.people.audit import AuditAction, audit_record
from pos.people.models import AuditLog, Branch, User
from pos.people.selectors import audit_log_list, branches_visible_to, staff_list
from pos.people.services import staff_create, staff_reset_password, staff_set_active, staff_update
from pos.people.tokens import refresh_token_for, token_is_current

# ---------------------------------------------------------------------------- tokens


class TokenUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField()
    phone_number = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)
    branch = serializers.IntegerField(source="branch_id", help_text="The branch id.")
    branch_name = serializers.CharField(source="branch.name")


class PhoneTokenObtainSerializer(jwt_serializers.TokenObtainPairSerializer):
    """`{"phone_number", "password"}` → `{"refresh", "access", "user"}`; the number in any Kenyan format."""

    username_field = "phone_number"
    refresh = serializers.CharField(read_only=True)
    access = serializers.CharField(read_only=True)
    user = TokenUserSerializer(read_only=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone_number"] = serializers.CharField(help_text=PHONE_HELP, max_length=32)
        self.fields["password"] = serializers.CharField(write_only=True, trim_whitespace=False, max_length=128)

    def validate_phone_number(self, value: str) -> str:
        try:
            return normalize_phone(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages[0]) from exc

    @classmethod
    def get_token(cls, user):
        return refresh_token_for(user)

    def validate(self, attrs):
        # allauth's backend (the web login's) takes the number as `phone`; wrong or inactive → 401.
        request = self.context.get("request")
        account = lockout.account_key(phone=attrs["phone_number"])
        if lockout.refuse_if_locked(request=request, account=account, channel=lockout.API):
            raise exceptions.Throttled(detail=lockout.LOCKED_MESSAGE, code="login_locked")
        # A wrong password is counted and audited by the `user_login_failed` receiver, as on the web login.
        user = authenticate(request, phone=attrs["phone_number"], password=attrs["password"])
        if user is None or not jwt_settings.USER_AUTHENTICATION_RULE(user):
            raise AuthenticationFailed(self.error_messages["no_active_account"], "no_active_account")
        lockout.record_success(account=account)
        self.user = user
        refresh = self.get_token(user)
        audit_record(action=AuditAction.LOGIN, user=user, instance=user, request=request, after={"method": "api token"})
        return {"refresh": str(refresh), "access": str(refresh.access_token), "user": TokenUserSerializer(user).data}


class RefreshSerializer(jwt_serializers.TokenRefreshSerializer):
    """SimpleJWT's, but a token whose user has gone (or is deactivated) is a 401, never a 500."""

    refresh = serializers.CharField(max_length=4096)
    access = serializers.CharField(read_only=True)

    def validate(self, attrs):
        token = self.token_class(attrs["refresh"])
        user_id = token.payload.get(jwt_settings.USER_ID_CLAIM)
        user = get_user_model().objects.filter(**{jwt_settings.USER_ID_FIELD: user_id}).first()
        if user is None or not jwt_settings.USER_AUTHENTICATION_RULE(user):
            raise AuthenticationFailed(self.error_messages["no_active_account"], "no_active_account")
        if not token_is_current(token.payload, user):
            # Minted before a password change, a deactivation or a role change.
            raise AuthenticationFailed("Token is no longer valid: log in again.", "token_not_valid")
        return super().validate(attrs)


class RefreshResponseSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField(help_text="A new refresh token (the one sent is now blacklisted).")


class LogoutSerializer(jwt_serializers.TokenBlacklistSerializer):
    refresh = serializers.CharField(max_length=4096, write_only=True)


class TokenObtainResponseSerializer(serializers.Serializer):
    refresh = serializers.CharField()
    access = serializers.CharField()
    user = TokenUserSerializer()


_TOKEN_ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="A field is missing or the phone number is not Kenyan."),
    401: OpenApiResponse(ErrorSerializer, description="Wrong number or password, or the account is deactivated."),
    429: OpenApiResponse(
        ErrorSerializer,
        description="Too many attempts from this address or for this phone number, or the account is locked "
        "after failed logins (code `login_locked`, the same lock as the web login's).",
    ),
}


class _TokenView:
    throttle_classes = [TokenRateThrottle, AccountRateThrottle]


@extend_schema(
    tags=["auth"],
    summary="Log in: a phone number and password give a refresh and an access token",
    request=PhoneTokenObtainSerializer,
    responses={200: TokenObtainResponseSerializer, **_TOKEN_ERRORS},
)
class TokenObtainView(_TokenView, jwt_views.TokenObtainPairView):
    serializer_class = PhoneTokenObtainSerializer


@extend_schema(
    tags=["auth"],
    summary="A new access token (and refresh token) for a refresh token",
    request=RefreshSerializer,
    responses={200: RefreshResponseSerializer, **_TOKEN_ERRORS},
)
class TokenRefreshView(_TokenView, jwt_views.TokenRefreshView):
    serializer_class = RefreshSerializer


@extend_schema(
    tags=["auth"],
    summary="Log out: the refresh token stops working",
    request=LogoutSerializer,
    responses={200: OpenApiResponse(inline_serializer("LogoutResponse", {})), **_TOKEN_ERRORS},
)
class TokenBlacklistView(_TokenView, jwt_views.TokenBlacklistView):
    serializer_class = LogoutSerializer


urlpatterns = [
    path("token/", TokenObtainView.as_view(), name="token_obtain_pair"),
    path("token/refresh/", TokenRefreshView.as_view(), name="token_refresh"),
    path("token/blacklist/", TokenBlacklistView.as_view(), name="token_blacklist"),
]
router = SimpleRouter()


# ---------------------------------------------------------------------------- shared


class PhoneField(serializers.CharField):
    """A Kenyan mobile number in any format, stored as +2547XXXXXXXX (core.phone)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("help_text", PHONE_HELP)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value == "":
            return value
        try:
            return normalize_phone(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages[0]) from exc


# ---------------------------------------------------------------------------- staff


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    phone_number = PhoneField()
    full_name = serializers.CharField(max_length=150)
    email = serializers.EmailField(required=False, allow_blank=True, allow_null=True, max_length=254)
    role = serializers.ChoiceField(choices=Role.choices)
    branch = serializers.PrimaryKeyRelatedField(queryset=Branch.objects.all())
    is_active = serializers.BooleanField(
        required=False, help_text="Set false to deactivate (history stays; their tokens stop working)."
    )
    password = serializers.CharField(
        write_only=True, required=False, trim_whitespace=False, max_length=128,
        help_text="Required when creating someone. Later changes: POST …/set_password/.",
    )
    date_joined = serializers.DateTimeField(read_only=True)
    has_till_pin = serializers.BooleanField(read_only=True)

    def validate(self, attrs):
        if self.instance is None and not attrs.get("password"):
            raise serializers.ValidationError({"password": ["A new member of staff needs a password."]})
        return attrs

    def create(self, validated_data):
        request = self.context["request"]
        user = staff_create(
            actor=request.user,
            phone_number=validated_data["phone_number"],
            full_name=validated_data["full_name"],
            role=validated_data["role"],
            branch=validated_data["branch"],
            password=validated_data["password"],
            email=validated_data.get("email"),
            request=request,
        )
        if validated_data.get("is_active") is False:
            user = staff_set_active(actor=request.user, user=user, active=False, request=request)
        return user

    def update(self, instance, validated_data):
        request = self.context["request"]
        if "password" in validated_data:
            raise serializers.ValidationError({"password": ["Change a password with POST …/set_password/."]})
        fields = ("full_name", "role", "branch", "email", "phone_number")
        changed = any(key in validated_data for key in fields)
        user = instance
        if changed:
            user = staff_update(
                actor=request.user,
                user=instance,
                full_name=validated_data.get("full_name", instance.full_name),
                role=validated_data.get("role", instance.role),
                branch=validated_data.get("branch", instance.branch),
                email=validated_data.get("email", instance.email),
                phone_number=validated_data.get("phone_number", instance.phone_number),
                request=request,
            )
        if "is_active" in validated_data and validated_data["is_active"] != user.is_active:
            user = staff_set_active(actor=request.user, user=user, active=validated_data["is_active"], request=request)
        return user


class SetPasswordSerializer(serializers.Serializer):
    password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=128)


class UserFilter(filters.FilterSet):
    class Meta:
        model = User
        fields = ["role", "is_active", "branch"]


@extend_schema_view(
    list=extend_schema(summary="Staff you may see (your branch; owners: every branch)"),
    create=extend_schema(summary="Add a member of staff (managers: not owners, own branch only)"),
    partial_update=extend_schema(summary="Change details, role, branch, or deactivate (is_active=false)"),
    update=extend_schema(summary="Change details, role, branch, or deactivate (is_active=false)"),
)
@extend_schema(tags=["staff"])
class UserViewSet(
    ServiceViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Staff accounts. Never deleted: deactivate with `is_active: false` (history stays)."""

    serializer_class = UserSerializer
    required_perms = {"read": Perm.VIEW_STAFF, "write": Perm.MANAGE_STAFF}
    filterset_class = UserFilter
    search_fields = ["full_name", "email", "phone_number"]
    ordering_fields = ["full_name", "date_joined", "role", "id"]
    ordering = ["full_name", "id"]

    queryset = User.objects.none()  # the schema's model; rows come from visible()

    def visible(self):
        return staff_list(viewer=self.request.user)

    @extend_schema(request=SetPasswordSerializer, responses={204: None})
    @action(detail=True, methods=["post"], url_path="set_password")
    def set_password(self, request, pk=None):
        """Set a new password for someone who forgot theirs."""
        user = self.get_object()
        serializer = SetPasswordSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        password = serializer.validated_data["password"]
        staff_reset_password(actor=request.user, user=user, password=password, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------------------- branches


class BranchSerializer(serializers.ModelSerializer):
    class Meta:
        model = Branch
        fields = ["id", "name", "code", "address", "phone_number", "mpesa_till_number", "mpesa_paybill", "is_active"]
        read_only_fields = fields


@extend_schema(tags=["branches"])
class BranchViewSet(ServiceViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Open branches you may see (your own; owners: all). Branches are managed in the admin."""

    serializer_class = BranchSerializer
    required_perms = {"read": Perm.VIEW_BRANCHES}
    filterset_fields = ["code"]
    search_fields = ["name", "code", "address"]
    ordering_fields = ["name", "code", "id"]
    ordering = ["name"]

    queryset = Branch.objects.none()  # the schema's model; rows come from visible()

    def visible(self):
        return branches_visible_to(self.request.user)


# ---------------------------------------------------------------------------- audit log


class AuditLogSerializer(serializers.ModelSerializer):
    user_name = serializers.CharField(source="user.full_name", read_only=True, default=None, allow_null=True)
    authorised_by_name = serializers.CharField(
        source="authorised_by.full_name", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = AuditLog
        fields = [
            "id", "action", "model_name", "object_id", "user", "user_name", "authorised_by",
            "authorised_by_name", "branch", "reason", "before_data", "after_data", "ip_address", "created_at",
        ]
        read_only_fields = fields


class AuditLogFilter(filters.FilterSet):
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = AuditLog
        fields = ["action", "model_name", "object_id", "user", "branch"]


@extend_schema(tags=["audit"])
class AuditLogViewSet(ServiceViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Who did what, when, why (price overrides, voids, refunds, staff changes…). Read-only."""

    serializer_class = AuditLogSerializer
    required_perms = {"read": Perm.VIEW_AUDIT_LOG}
    filterset_class = AuditLogFilter
    search_fields = ["reason", "object_id", "model_name", "user__full_name"]
    ordering_fields = ["created_at", "id", "action"]
    ordering = ["-created_at", "-id"]

    queryset = AuditLog.objects.none()  # the schema's model; rows come from visible()

    def visible(self):
        return audit_log_list(viewer=self.request.user)


router.register("users", UserViewSet, basename="user")
router.register("branches", BranchViewSet, basename="branch")
router.register("audit-logs", AuditLogViewSet, basename="auditlog")
