"""JSON API of the customers ("clients"): list with what each has spent, create, edit. Writes go through
`pos.customers.services`, as the customer pages do."""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.routers import SimpleRouter

from core.api import ServiceViewSetMixin
from core.decimal_input import DecimalSerializerField
from core.roles import Perm
from pos.customers.models import Customer
from pos.customers.services import customer_create, customer_update
from pos.people.api import PhoneField
from pos.sales.selectors import customer_list


class ClientSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=150)
    phone_number = PhoneField(required=False, allow_blank=True, allow_null=True)
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    kra_pin = serializers.CharField(required=False, allow_blank=True, max_length=11)
    credit_limit = DecimalSerializerField(
        max_digits=12, decimal_places=2, required=False, help_text="KES. Owners only may set it."
    )
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    is_active = serializers.BooleanField(required=False)
    balance = DecimalSerializerField(max_digits=12, decimal_places=2, read_only=True, help_text="Owed to the shop.")
    loyalty_points = DecimalSerializerField(max_digits=12, decimal_places=2, read_only=True)
    total_spent = DecimalSerializerField(max_digits=14, decimal_places=2, read_only=True, default=None)
    branch = serializers.IntegerField(source="branch_id", read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)

    def create(self, validated_data):
        request = self.context["request"]
        return customer_create(actor=request.user, data=validated_data, request=request)

    def update(self, instance, validated_data):
        request = self.context["request"]
        return customer_update(actor=request.user, customer=instance, data=validated_data, request=request)


class ClientFilter(filters.FilterSet):
    has_balance = filters.BooleanFilter(method="filter_balance", label="Owes the shop something")

    class Meta:
        model = Customer
        fields = ["is_active", "branch"]

    def filter_balance(self, qs, name, value):
        return qs.filter(balance__gt=0) if value else qs.filter(balance__lte=0)


@extend_schema(tags=["clients"])
class ClientViewSet(
    ServiceViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Customers ("clients") of the whole shop. Never deleted: set `is_active: false`."""

    serializer_class = ClientSerializer
    required_perms = {"read": Perm.VIEW_CUSTOMERS, "write": Perm.MANAGE_CUSTOMERS}
    filterset_class = ClientFilter
    search_fields = ["name", "phone_number", "email", "kra_pin"]
    ordering_fields = ["name", "created_at", "balance", "total_spent", "id"]
    ordering = ["name", "id"]

    queryset = Customer.objects.none()  # the schema's model; rows come from visible()

    def visible(self):
        return customer_list()

    def perform_update(self, serializer):
        serializer.instance = serializer.save()
        # The answer shows total_spent too: read the row again through the selector.
        serializer.instance = self.visible().get(pk=serializer.instance.pk)

    def perform_create(self, serializer):
        customer = serializer.save()
        serializer.instance = self.visible().get(pk=customer.pk)


router = SimpleRouter()
router.register("clients", ClientViewSet, basename="client")
