"""JSON API of the catalogue and stock: products, categories, units, suppliers, purchases, the ledger,
adjustments and alerts.

Reads come from `inventory.selectors` (scoped to the caller's branch as the web pages are); writes go
through `inventory.catalogue_services`, `inventory.purchase_services` and `inventory.adjustment_services`, which
hold every rule. A service's `ValidationError` / `StockError` becomes a 400 with field errors here
(renamed to the API's field names), a conflict a 409; nothing is written when anything is wrong.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from core import branches
from core.api import ServiceViewSetMixin
from core.decimal_input import DecimalSerializerField
from core.errors import DomainError
from core.money import QTY_DIGITS, QTY_PLACES
from core.phone import PHONE_HELP
from core.roles import Perm
from inventory import adjustment_services, catalogue_services, purchase_services
from inventory.models import (
    AdjustmentReason,
    Category,
    Product,
    Purchase,
    PurchaseLine,
    StockAdjustment,
    StockAlert,
    StockMovement,
    Supplier,
    Unit,
)
from inventory.selectors import (
    adjustment_list,
    low_stock_products,
    movement_list,
    open_alerts,
    out_of_stock_products,
    product_by_code,
    products_with_stock,
    purchase_list,
    search_products,
)
from pos.people.models import Branch

router = SimpleRouter()

MONEY = {"max_digits": 12, "decimal_places": 2}
QTY = {"max_digits": QTY_DIGITS, "decimal_places": QTY_PLACES}


def _as_api_errors(exc, rename: dict | None = None) -> ValidationError:
    """A service's error as DRF field errors, with model field names renamed to the API's."""
    rename = rename or {}
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            errors = {rename.get(k, k): [m for e in v for m in e.messages] for k, v in exc.error_dict.items()}
        else:
            errors = {"non_field_errors": list(exc.messages)}
        return ValidationError(errors)
    field = rename.get(exc.field, exc.field) if exc.field else "non_field_errors"
    return ValidationError({field: [exc.message]}, code=exc.code)


def _call(rename: dict | None, function, **kwargs):
    """Run a service; its 400-kind errors come back as field errors (409s pass through unchanged)."""
    try:
        return function(**kwargs)
    except DjangoValidationError as exc:
        raise _as_api_errors(exc, rename) from exc
    except DomainError as exc:
        if exc.status_code != 400:
            raise
        raise _as_api_errors(exc, rename) from exc


def _branch_for(request, branch: Branch | None) -> Branch:
    """The branch a request works at: the one given (if the caller may use it) or their own."""
    if branch is None:
        return request.user.branch
    if not branches.may_use_branch(request.user, branch.pk):
        raise ValidationError({"branch": ["That branch is not yours to manage."]})
    return branch


# ---------------------------------------------------------------------------- categories, units, suppliers


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "description", "show_on_till", "sort_order", "is_active"]
        extra_kwargs = {"name": {"validators": []}}

    def create(self, validated_data):
        return _call(None, catalogue_services.category_save, actor=self.context["request"].user, data=validated_data)

    def update(self, instance, validated_data):
        return _call(
            None,
            catalogue_services.category_save,
            actor=self.context["request"].user,
            data=validated_data,
            category=instance,
        )


class UnitSerializer(serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = ["id", "name", "code", "decimal_places", "is_active"]
        extra_kwargs = {"name": {"validators": []}, "code": {"validators": []}}

    def create(self, validated_data):
        return _call(None, catalogue_services.unit_save, actor=self.context["request"].user, data=validated_data)

    def update(self, instance, validated_data):
        return _call(
            None, catalogue_services.unit_save, actor=self.context["request"].user, data=validated_data, unit=instance
        )


class SupplierSerializer(serializers.ModelSerializer):
    phone_number = serializers.CharField(required=False, allow_blank=True, max_length=32, help_text=PHONE_HELP)

    class Meta:
        model = Supplier
        fields = ["id", "name", "contact_person", "phone_number", "email", "address", "kra_pin", "is_active"]
        extra_kwargs = {"name": {"validators": []}, "kra_pin": {"validators": []}}

    def create(self, validated_data):
        return _call(None, catalogue_services.supplier_save, actor=self.context["request"].user, data=validated_data)

    def update(self, instance, validated_data):
        return _call(
            None,
            catalogue_services.supplier_save,
            actor=self.context["request"].user,
            data=validated_data,
            supplier=instance,
        )


_NO_DELETE = "Never deleted (history points at it): set `is_active: false`."


class _CatalogueViewSet(
    ServiceViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    required_perms = {"read": Perm.VIEW_PRODUCTS, "write": Perm.MANAGE_CATALOGUE}
    filterset_fields = ["is_active"]
    ordering = ["name", "id"]

    def visible(self):
        return self.queryset.model.objects.all()


@extend_schema(tags=["catalogue"])
class CategoryViewSet(_CatalogueViewSet):
    __doc__ = f"Product categories (the till's buttons). {_NO_DELETE}"
    serializer_class = CategorySerializer
    queryset = Category.objects.none()
    filterset_fields = ["is_active", "show_on_till"]
    search_fields = ["name", "description"]
    ordering_fields = ["name", "sort_order", "id"]


@extend_schema(tags=["catalogue"])
class UnitViewSet(_CatalogueViewSet):
    __doc__ = f"Units of sale (pc, kg, l…) and how many decimal places a quantity may have. {_NO_DELETE}"
    serializer_class = UnitSerializer
    queryset = Unit.objects.none()
    search_fields = ["name", "code"]
    ordering_fields = ["name", "code", "id"]


@extend_schema(tags=["purchasing"])
class SupplierViewSet(_CatalogueViewSet):
    __doc__ = f"Suppliers (owners and managers). {_NO_DELETE}"
    serializer_class = SupplierSerializer
    queryset = Supplier.objects.none()
    required_perms = {"read": Perm.VIEW_SUPPLIERS, "write": Perm.MANAGE_SUPPLIERS}
    search_fields = ["name", "contact_person", "phone_number", "email", "kra_pin"]
    ordering_fields = ["name", "id"]


# ---------------------------------------------------------------------------- products

_PRODUCT_RENAME = {"selling_price": "price", "cost_price": "cost_price"}


class ProductSerializer(serializers.ModelSerializer):
    price = DecimalSerializerField(
        source="selling_price", min_value=Decimal("0"), help_text="KES, VAT included.", **MONEY
    )
    cost_price = DecimalSerializerField(
        required=False, min_value=Decimal("0"), help_text="KES per unit. Only for roles that see costs.", **MONEY
    )
    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all())
    category_name = serializers.CharField(source="category.name", read_only=True)
    unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.all())
    unit_code = serializers.CharField(source="unit.code", read_only=True)
    default_supplier = serializers.PrimaryKeyRelatedField(
        queryset=Supplier.objects.all(), required=False, allow_null=True
    )
    tax_rate = DecimalSerializerField(max_digits=5, decimal_places=2, read_only=True, help_text="Percent.")
    barcode = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=14)
    sku = serializers.CharField(max_length=40)
    reorder_level = DecimalSerializerField(required=False, min_value=Decimal("0"), **QTY)
    reorder_quantity = DecimalSerializerField(required=False, min_value=Decimal("0"), **QTY)
    stock = DecimalSerializerField(
        source="on_hand", read_only=True, help_text="On hand at your branch (or ?branch=).", **QTY
    )
    is_active = serializers.BooleanField(required=False, help_text="false: no longer sold (history stays).")
    opening_stock = DecimalSerializerField(
        write_only=True, required=False, allow_null=True, min_value=Decimal("0"),
        help_text="Create only: stock on the shelf now, at your branch (an OPENING movement).", **QTY,
    )

    class Meta:
        model = Product
        fields = [
            "id", "name", "sku", "barcode", "category", "category_name", "unit", "unit_code", "price",
            "cost_price", "tax_class", "tax_rate", "kra_item_code", "reorder_level", "reorder_quantity",
            "default_supplier", "is_active", "is_favourite", "track_stock", "stock", "opening_stock",
        ]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and not request.user.has_perm(Perm.VIEW_COST_PRICES):
            fields.pop("cost_price", None)  # as on the web pages: employees never see costs
        return fields

    def create(self, validated_data):
        request = self.context["request"]
        opening = validated_data.pop("opening_stock", None)
        active = validated_data.pop("is_active", True)
        with transaction.atomic():
            product = _call(
                {**_PRODUCT_RENAME, "opening_stock": "opening_stock"},
                catalogue_services.product_create,
                actor=request.user,
                data=validated_data,
                opening_stock=opening,
                branch=request.user.branch,
                request=request,
            )
            if not active:
                product = catalogue_services.product_set_active(
                    actor=request.user, product=product, active=False, request=request
                )
        return product

    def update(self, instance, validated_data):
        request = self.context["request"]
        if "opening_stock" in validated_data:
            raise ValidationError({"opening_stock": ["Only when creating: later stock goes through adjustments."]})
        active = validated_data.pop("is_active", None)
        with transaction.atomic():
            product = instance
            if validated_data:
                product = _call(
                    _PRODUCT_RENAME, catalogue_services.product_update, actor=request.user, product=instance,
                    data=validated_data, request=request,
                )
            if active is not None:
                product = catalogue_services.product_set_active(
                    actor=request.user, product=product, active=active, request=request
                )
        return product


class ProductFilter(filters.FilterSet):
    barcode = filters.CharFilter(field_name="barcode", help_text="Exact barcode.")
    sku = filters.CharFilter(method="filter_sku", help_text="Exact SKU (any case).")
    q = filters.CharFilter(method="filter_q", help_text="As the till's search: every word in the name, or a code.")
    price_min = filters.NumberFilter(field_name="selling_price", lookup_expr="gte")
    price_max = filters.NumberFilter(field_name="selling_price", lookup_expr="lte")

    class Meta:
        model = Product
        fields = ["category", "unit", "tax_class", "is_active", "track_stock", "is_favourite", "default_supplier"]

    def filter_sku(self, qs, name, value):
        return qs.filter(sku__in=sorted({value, value.upper()}))

    def filter_q(self, qs, name, value):
        return search_products(qs, value)


_BRANCH_PARAM = OpenApiParameter(
    "branch", OpenApiTypes.INT, description="Stock at this branch (yours unless your role sees every branch)."
)


@extend_schema_view(
    list=extend_schema(parameters=[_BRANCH_PARAM]),
    retrieve=extend_schema(parameters=[_BRANCH_PARAM]),
    destroy=extend_schema(
        summary="Delete a product added by mistake; one with history is deactivated instead",
        responses={204: None, 200: OpenApiResponse(description="It had history: deactivated (body: the product).")},
    ),
)
@extend_schema(tags=["catalogue"])
class ProductViewSet(ServiceViewSetMixin, viewsets.ModelViewSet):
    """The catalogue, with `stock` on hand at your branch. Employees read; managers and owners write.

    DELETE removes a product only if nothing points at it; a product with any history (stock, sales,
    purchases) is deactivated instead and the answer is 200 with the product.
    """

    serializer_class = ProductSerializer
    queryset = Product.objects.none()
    required_perms = {"read": Perm.VIEW_PRODUCTS, "write": Perm.MANAGE_CATALOGUE}
    filterset_class = ProductFilter
    search_fields = ["name", "sku", "barcode"]
    ordering_fields = ["name", "sku", "selling_price", "on_hand", "created_at", "id"]
    ordering = ["name", "id"]

    def _branch_id(self) -> int:
        raw = self.request.query_params.get("branch")
        if raw in (None, ""):
            return self.request.user.branch_id
        try:
            branch_id = int(raw)
        except ValueError as exc:
            raise ValidationError({"branch": ["A branch id is a number."]}) from exc
        if not branches.may_use_branch(self.request.user, branch_id):
            raise PermissionDenied("You may only see your own branch's stock.")
        if not Branch.objects.filter(pk=branch_id).exists():
            raise ValidationError({"branch": ["No such branch."]})
        return branch_id

    def visible(self):
        return products_with_stock(branch_id=self._branch_id())

    def perform_create(self, serializer):
        product = serializer.save()
        serializer.instance = self.visible().get(pk=product.pk)

    def perform_update(self, serializer):
        product = serializer.save()
        serializer.instance = self.visible().get(pk=product.pk)

    def destroy(self, request, *args, **kwargs):
        product = self.get_object()
        with transaction.atomic():
            if catalogue_services.product_has_history(product) or product.on_hand:
                catalogue_services.product_set_active(
                    actor=request.user, product=product, active=False, reason="Deleted through the API", request=request
                )
                product = self.visible().get(pk=product.pk)
                return Response(self.get_serializer(product).data, status=status.HTTP_200_OK)
            _call(None, catalogue_services.product_delete, actor=request.user, product=product, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _state_list(self, selector):
        qs = self.filter_queryset(selector(branch_id=self._branch_id()))
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        parameters=[_BRANCH_PARAM],
        responses=ProductSerializer(many=True),
        summary="Active products at or under their reorder level (not out)",
    )
    @action(detail=False, methods=["get"], url_path="low_stock")
    def low_stock(self, request):
        return self._state_list(low_stock_products)

    @extend_schema(
        parameters=[_BRANCH_PARAM],
        responses=ProductSerializer(many=True),
        summary="Active products with nothing (or less) on hand",
    )
    @action(detail=False, methods=["get"], url_path="out_of_stock")
    def out_of_stock(self, request):
        return self._state_list(out_of_stock_products)

    @extend_schema(
        parameters=[_BRANCH_PARAM, OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH)],
        summary="The active product with this barcode (or SKU), as a scanner reads it",
    )
    @action(detail=False, methods=["get"], url_path=r"by-barcode/(?P<code>[^/]+)")
    def by_barcode(self, request, code=None):
        product = product_by_code(code=code)
        if product is None:
            return Response({"detail": f"No active product has the code {code}.", "code": "not_found"}, status=404)
        product = self.visible().get(pk=product.pk)
        return Response(self.get_serializer(product).data)


# ---------------------------------------------------------------------------- purchases


class PurchaseDetailSerializer(serializers.ModelSerializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    product_name = serializers.CharField(source="product.name", read_only=True)
    quantity = DecimalSerializerField(source="quantity_ordered", min_value=Decimal("0.001"), **QTY)
    quantity_received = DecimalSerializerField(read_only=True, **QTY)
    unit_cost = DecimalSerializerField(
        required=False, min_value=Decimal("0"), help_text="KES per unit; default: the product's cost.", **MONEY
    )
    line_total = DecimalSerializerField(read_only=True, **MONEY)

    class Meta:
        model = PurchaseLine
        fields = ["id", "product", "product_name", "quantity", "quantity_received", "unit_cost", "line_total"]


class PurchaseHeaderSerializer(serializers.ModelSerializer):
    supplier = serializers.PrimaryKeyRelatedField(queryset=Supplier.objects.all())
    supplier_name = serializers.CharField(source="supplier.name", read_only=True)
    branch = serializers.PrimaryKeyRelatedField(
        queryset=Branch.objects.all(), required=False, help_text="Default: your branch."
    )
    details = PurchaseDetailSerializer(many=True, source="lines", help_text="One line per product.")
    number = serializers.CharField(read_only=True)
    place_order = serializers.BooleanField(
        write_only=True, default=True,
        help_text="Create only: true (default) sends the order at once (status ORDERED, ready to receive); "
        "false keeps a DRAFT.",
    )

    class Meta:
        model = Purchase
        fields = [
            "id", "number", "supplier", "supplier_name", "branch", "status", "expected_date", "supplier_reference",
            "notes", "details", "total_ordered", "total_received", "ordered_at", "received_at", "created_at",
            "place_order",
        ]
        read_only_fields = ["status", "total_ordered", "total_received", "ordered_at", "received_at", "created_at"]

    def validate_details(self, value):
        if not value:
            raise ValidationError("Add at least one product.")
        products = [line["product"].pk for line in value]
        if len(products) != len(set(products)):
            raise ValidationError("Each product once: put the whole quantity on one line.")
        return value

    def create(self, validated_data):
        request = self.context["request"]
        lines = validated_data.pop("lines")
        place_order = validated_data.pop("place_order", True)
        branch = _branch_for(request, validated_data.pop("branch", None))
        with transaction.atomic():
            purchase = _call(
                None, purchase_services.purchase_create, user=request.user, supplier=validated_data["supplier"],
                branch=branch, expected_date=validated_data.get("expected_date"),
                supplier_reference=validated_data.get("supplier_reference", ""), notes=validated_data.get("notes", ""),
            )
            for index, line in enumerate(lines):
                try:
                    purchase_services.purchase_line_set(
                        user=request.user, purchase=purchase, product=line["product"],
                        quantity=line["quantity_ordered"], unit_cost=line.get("unit_cost"),
                    )
                except DomainError as exc:
                    if exc.status_code != 400:
                        raise
                    errors = [{} for _ in lines]
                    field = {"quantity": "quantity"}.get(exc.field, exc.field) or "non_field_errors"
                    errors[index] = {field: [exc.message]}
                    raise ValidationError({"details": errors}) from exc
            if place_order:
                purchase = _call(None, purchase_services.purchase_order, user=request.user, purchase=purchase)
        return purchase


class PurchaseUpdateSerializer(serializers.ModelSerializer):
    """PATCH/PUT: the header only (supplier while a draft; dates, references, notes until received)."""

    supplier = serializers.PrimaryKeyRelatedField(queryset=Supplier.objects.all())

    class Meta:
        model = Purchase
        fields = ["supplier", "expected_date", "supplier_reference", "notes"]

    def update(self, instance, validated_data):
        request = self.context["request"]
        return _call(None, purchase_services.purchase_update, user=request.user, purchase=instance, data=validated_data)


class ReceiveLineSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The purchase line (details[].id).")
    quantity = DecimalSerializerField(min_value=Decimal("0"), **QTY)
    unit_cost = DecimalSerializerField(required=False, min_value=Decimal("0"), **MONEY)


class ReceiveSerializer(serializers.Serializer):
    details = ReceiveLineSerializer(
        many=True, required=False, help_text="What arrived, per line. Leave out to receive everything outstanding."
    )
    over_receive = serializers.BooleanField(default=False)
    over_receive_reason = serializers.CharField(required=False, allow_blank=True, max_length=255)
    supplier_reference = serializers.CharField(required=False, allow_blank=True, max_length=60)


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=255)


class PurchaseFilter(filters.FilterSet):
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Purchase
        fields = ["status", "supplier", "branch"]


@extend_schema_view(
    update=extend_schema(request=PurchaseUpdateSerializer),
    partial_update=extend_schema(request=PurchaseUpdateSerializer),
)
@extend_schema(tags=["purchasing"])
class PurchaseHeaderViewSet(
    ServiceViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Purchase orders with their `details`, created in one request; `/receive/` puts the goods in stock.

    Never deleted: `/cancel/` an order nothing was received on.
    """

    serializer_class = PurchaseHeaderSerializer
    queryset = Purchase.objects.none()
    required_perms = {"read": Perm.MANAGE_PURCHASES, "write": Perm.MANAGE_PURCHASES}
    filterset_class = PurchaseFilter
    search_fields = ["supplier__name", "supplier_reference", "notes"]
    ordering_fields = ["created_at", "expected_date", "total_ordered", "id"]
    ordering = ["-created_at", "-id"]

    def visible(self):
        return purchase_list(viewer=self.request.user).prefetch_related("lines__product")

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return PurchaseUpdateSerializer
        return PurchaseHeaderSerializer

    def _answer(self, purchase, code=status.HTTP_200_OK):
        purchase = self.visible().get(pk=purchase.pk)
        return Response(PurchaseHeaderSerializer(purchase, context=self.get_serializer_context()).data, status=code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._answer(serializer.save(), status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return self._answer(serializer.save())

    @extend_schema(request=ReceiveSerializer, responses={200: PurchaseHeaderSerializer})
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        """Goods arrived: stock in through the ledger, cost prices to the moving average."""
        purchase = self.get_object()
        body = ReceiveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        lines = {line.pk: line for line in purchase.lines.all()}
        if "details" in data:
            unknown = [line["id"] for line in data["details"] if line["id"] not in lines]
            if unknown:
                raise ValidationError({"details": [f"Line {unknown[0]} is not on {purchase.number}."]})
            quantities = {line["id"]: line["quantity"] for line in data["details"]}
            costs = {line["id"]: line["unit_cost"] for line in data["details"] if "unit_cost" in line}
        else:
            quantities = {pk: line.outstanding for pk, line in lines.items()}
            costs = {}
        rename = {f"qty_{pk}": "details" for pk in lines} | {f"cost_{pk}": "details" for pk in lines}
        purchase = _call(
            rename, purchase_services.purchase_receive, user=request.user, purchase=purchase, quantities=quantities,
            unit_costs=costs, over_receive=data["over_receive"],
            over_receive_reason=data.get("over_receive_reason", ""),
            supplier_reference=data.get("supplier_reference", ""), request=request,
        )
        return self._answer(purchase)

    @extend_schema(request=None, responses={200: PurchaseHeaderSerializer})
    @action(detail=True, methods=["post"])
    def order(self, request, pk=None):
        """Draft → ordered (sent to the supplier; the lines are fixed now)."""
        purchase = _call(None, purchase_services.purchase_order, user=request.user, purchase=self.get_object())
        return self._answer(purchase)

    @extend_schema(request=CancelSerializer, responses={200: PurchaseHeaderSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel an order nothing was received on."""
        body = CancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        purchase = _call(
            None, purchase_services.purchase_cancel, user=request.user, purchase=self.get_object(),
            reason=body.validated_data.get("reason", ""), request=request,
        )
        return self._answer(purchase)


# ---------------------------------------------------------------------------- the ledger, adjustments, alerts


class StockMovementSerializer(serializers.ModelSerializer):
    product_name = serializers.CharField(source="product.name", read_only=True)
    unit_code = serializers.CharField(source="product.unit.code", read_only=True)
    user_name = serializers.CharField(source="user.full_name", read_only=True, default=None, allow_null=True)
    reference_type = serializers.SerializerMethodField(help_text='The document, e.g. "pos.sale", "inventory.purchase".')

    class Meta:
        model = StockMovement
        fields = [
            "id", "product", "product_name", "unit_code", "branch", "quantity", "kind", "reason", "reference_type",
            "reference_id", "reference_label", "unit_cost", "balance_after", "user", "user_name", "created_at",
        ]
        read_only_fields = fields

    def get_reference_type(self, movement) -> str | None:
        if not movement.reference_type_id:
            return None
        return f"{movement.reference_type.app_label}.{movement.reference_type.model}"


class StockMovementFilter(filters.FilterSet):
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = StockMovement
        fields = ["product", "kind", "branch", "user", "reference_id"]


@extend_schema(tags=["stock"])
class StockMovementViewSet(ServiceViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """The stock ledger: every change of stock, signed (+ in, − out), with the balance after it."""

    serializer_class = StockMovementSerializer
    queryset = StockMovement.objects.none()
    required_perms = {"read": Perm.VIEW_STOCK_MOVEMENTS}
    filterset_class = StockMovementFilter
    search_fields = ["product__name", "product__sku", "reason", "reference_label"]
    ordering_fields = ["created_at", "quantity", "id"]
    ordering = ["-created_at", "-id"]

    def visible(self):
        return movement_list(viewer=self.request.user)


class StockAdjustmentSerializer(serializers.ModelSerializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    product_name = serializers.CharField(source="product.name", read_only=True)
    branch = serializers.PrimaryKeyRelatedField(
        queryset=Branch.objects.all(), required=False, help_text="Default: your branch."
    )
    number = serializers.CharField(read_only=True)
    counted_quantity = DecimalSerializerField(
        required=False, allow_null=True, help_text="What is on the shelf (give this or `delta`).", **QTY
    )
    delta = DecimalSerializerField(
        required=False, allow_null=True, help_text="+ found, − lost (or `counted_quantity`).", **QTY
    )
    reason = serializers.ChoiceField(choices=AdjustmentReason.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=255)

    class Meta:
        model = StockAdjustment
        fields = [
            "id", "number", "product", "product_name", "branch", "counted_quantity", "expected_quantity", "delta",
            "reason", "note", "status", "requested_by", "decided_by", "decided_at", "decision_note",
            "quantity_before", "quantity_after", "created_at",
        ]
        read_only_fields = [
            "expected_quantity", "status", "requested_by", "decided_by", "decided_at", "decision_note",
            "quantity_before", "quantity_after", "created_at",
        ]

    def create(self, validated_data):
        request = self.context["request"]
        counted, delta = validated_data.get("counted_quantity"), validated_data.get("delta")
        # Which field a quantity error is about: the one given (neither or both: the request as a whole).
        if (counted is None) == (delta is None):
            quantity_field = "non_field_errors"
        else:
            quantity_field = "counted_quantity" if counted is not None else "delta"
        return _call(
            {"quantity": quantity_field},
            adjustment_services.stock_adjustment_request,
            user=request.user,
            product=validated_data["product"],
            branch=_branch_for(request, validated_data.get("branch")),
            reason=validated_data["reason"],
            note=validated_data.get("note", ""),
            counted_quantity=counted,
            delta=delta,
        )


class DecisionSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=255, help_text="Required to reject.")


class StockAdjustmentFilter(filters.FilterSet):
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = StockAdjustment
        fields = ["status", "reason", "product", "branch", "requested_by"]


@extend_schema(tags=["stock"])
class StockAdjustmentViewSet(
    ServiceViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Stock corrections: anyone may request one (POST, changes nothing); managers `/approve/` (stock
    moves through the ledger) or `/reject/` (with a note). Employees see their own requests."""

    serializer_class = StockAdjustmentSerializer
    queryset = StockAdjustment.objects.none()
    required_perms = {
        "read": Perm.REQUEST_ADJUSTMENT,
        "create": Perm.REQUEST_ADJUSTMENT,
        "approve": Perm.APPROVE_ADJUSTMENT,
        "reject": Perm.APPROVE_ADJUSTMENT,
    }
    filterset_class = StockAdjustmentFilter
    search_fields = ["product__name", "product__sku", "note"]
    ordering_fields = ["created_at", "id", "status"]
    ordering = ["-created_at", "-id"]

    def visible(self):
        return adjustment_list(viewer=self.request.user)

    def _decide(self, request, service, **extra):
        body = DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        adjustment = _call(
            None, service, adjustment=self.get_object(), user=request.user,
            note=body.validated_data.get("note", ""), request=request, **extra,
        )
        return Response(self.get_serializer(self.visible().get(pk=adjustment.pk)).data)

    @extend_schema(request=DecisionSerializer, responses={200: StockAdjustmentSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Apply it: one ADJUSTMENT movement; 409 if already decided, 400 if it would go below zero."""
        return self._decide(request, adjustment_services.stock_adjustment_approve)

    @extend_schema(request=DecisionSerializer, responses={200: StockAdjustmentSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Refuse it (a `note` saying why is required); stock is untouched."""
        return self._decide(request, adjustment_services.stock_adjustment_reject)


class StockAlertSerializer(serializers.ModelSerializer):
    product_name = serializers.CharField(source="product.name", read_only=True)
    unit_code = serializers.CharField(source="product.unit.code", read_only=True)

    class Meta:
        model = StockAlert
        fields = [
            "id", "product", "product_name", "unit_code", "branch", "kind", "balance", "reorder_level", "opened_at",
            "notified_at",
        ]
        read_only_fields = fields


@extend_schema(tags=["stock"])
class StockAlertViewSet(ServiceViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Open alerts: stock at or under the reorder level (LOW) or at or under zero (OUT). The ledger opens
    and resolves them; they are read-only here."""

    serializer_class = StockAlertSerializer
    queryset = StockAlert.objects.none()
    required_perms = {"read": Perm.VIEW_ALERTS}
    filterset_fields = ["kind", "product", "branch"]
    search_fields = ["product__name", "product__sku"]
    ordering_fields = ["opened_at", "balance", "id"]
    ordering = ["-opened_at", "-id"]

    def visible(self):
        return open_alerts(viewer=self.request.user)


router.register("products", ProductViewSet, basename="product")
router.register("categories", CategoryViewSet, basename="category")
router.register("units", UnitViewSet, basename="unit")
router.register("suppliers", SupplierViewSet, basename="supplier")
router.register("purchaseheaders", PurchaseHeaderViewSet, basename="purchaseheader")
router.register("stock-movements", StockMovementViewSet, basename="stockmovement")
router.register("stock-adjustments", StockAdjustmentViewSet, basename="stockadjustment")
router.register("stock-alerts", StockAlertViewSet, basename="stockalert")
