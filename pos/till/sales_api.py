"""The JSON API of sales: `/api/salesheaders/` (a sale with nested details), `/api/salesdetails/`,
voids and returns. Every write calls the till's services (`pos.sales.services`, and the refund
services of the cash desk for money going back); nothing here decides a business rule.

Guarded actions (price override, line void, sale void, return) are done by whoever holds the
permission, or by a cashier with a manager's `authoriser` (user id) and `pin` in the body, exactly
as the till's PIN dialog does (`pos.people.authorise`).
"""

from decimal import Decimal

import django_filters
from django.db import transaction
from django.db.models import DateTimeField, Prefetch
from django.db.models.functions import Coalesce
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from cashdesk.refund_services import sale_return_refund, sale_void_completed
from core.api import RolePermission
from core.api_schema import errors
from core.db import run_retrying
from core.decimal_input import DecimalSerializerField
from core.idempotency import IDEMPOTENCY_PARAMETER, run_idempotent
from core.roles import Perm
from inventory.models import Product
from inventory.selectors import product_for_scan
from pos.customers.models import Customer
from pos.people.authorise import AuthoriserFields, guarded_by
from pos.people.models import User
from pos.sales.models import RefundTo, Sale, SaleLine, SaleReturn, SaleStatus
from pos.sales.selectors import sales_returnable_by, sales_visible_to
from pos.sales.serializers import SaleDetailSerializer, SalesHeaderSerializer
from pos.sales.services import (
    ReturnItem,
    SaleConflictError,
    sale_add_product,
    sale_line_override_price,
    sale_line_remove,
    sale_line_set_quantity,
    sale_open_with_lines,
    sale_void_open,
)

MAX_ID = 2**63 - 1  # the largest id a BIGINT column holds


def _as_id(value) -> int | None:
    """`value` as a product id the database can hold (the JSON number or its digits), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 19):
            return None  # anything else is left to DRF's own lookup and message
        value = int(text)
    return value if isinstance(value, int) and 0 < value <= MAX_ID else None


class PreloadedProductField(serializers.PrimaryKeyRelatedField):
    """A product id, answered from the products the whole request named (fetched in one query by
    `SalesHeaderCreateSerializer`); an id not among them is looked up, and refused, as DRF does."""

    def to_internal_value(self, data):
        product = self.context.get("products", {}).get(_as_id(data))
        return product if product is not None else super().to_internal_value(data)


class SaleDetailInputSerializer(serializers.Serializer):
    product = PreloadedProductField(queryset=Product.objects.select_related("unit"))
    quantity = DecimalSerializerField(
        max_digits=12, decimal_places=3, min_value=Decimal("0.001"),
        error_messages={"min_value": "The quantity must be more than zero."},
    )


class SalesHeaderCreateSerializer(serializers.Serializer):
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all(), required=False, allow_null=True)
    note = serializers.CharField(max_length=255, required=False, allow_blank=True)
    details = SaleDetailInputSerializer(many=True, allow_empty=False)

    def to_internal_value(self, data):
        # One query for every product of the sale (with its unit, for the quantity rules), not one per line.
        details = data.get("details") if isinstance(data, dict) else None
        items = details if isinstance(details, list) else []
        ids = {_as_id(item.get("product")) for item in items if isinstance(item, dict)} - {None}
        self._context["products"] = Product.objects.select_related("unit").in_bulk(ids) if ids else {}
        return super().to_internal_value(data)


class SaleVoidSerializer(AuthoriserFields):
    reason = serializers.CharField(max_length=255)
    reference = serializers.CharField(
        max_length=64, required=False, allow_blank=True,
        help_text="Card or M-Pesa reversal reference, when a completed sale paid that way is voided.",
    )


class ReturnItemSerializer(serializers.Serializer):
    detail = serializers.IntegerField(help_text="The sales detail (line) id.")
    quantity = DecimalSerializerField(max_digits=12, decimal_places=3, min_value=Decimal("0.001"))
    restock = serializers.BooleanField(default=True)


class SaleReturnCreateSerializer(AuthoriserFields):
    reason = serializers.CharField(max_length=255)
    refund_to = serializers.ChoiceField(choices=RefundTo.choices, default=RefundTo.ORIGINAL)
    reference = serializers.CharField(max_length=64, required=False, allow_blank=True)
    items = ReturnItemSerializer(many=True, allow_empty=False)


class RefundBriefSerializer(serializers.Serializer):
    method = serializers.CharField()
    amount = DecimalSerializerField(max_digits=12, decimal_places=2)
    reference = serializers.CharField()


class SaleReturnSerializer(serializers.ModelSerializer):
    sales_header = serializers.IntegerField(source="sale_id", read_only=True)
    refunds = RefundBriefSerializer(many=True, read_only=True)

    class Meta:
        model = SaleReturn
        fields = ["id", "number", "sales_header", "reason", "refund_to", "total", "tax_total", "created_at", "refunds"]
        read_only_fields = fields


class SaleDetailCreateSerializer(serializers.Serializer):
    sales_header = serializers.IntegerField()
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all(), required=False)
    barcode = serializers.CharField(
        max_length=40, required=False,
        help_text="Instead of `product`: what a scanner read (barcode, SKU, or a scale label, which also "
        "gives the quantity: its weight, or its price over the price per unit).",
    )
    quantity = DecimalSerializerField(
        max_digits=12, decimal_places=3, min_value=Decimal("0.001"), required=False,
        error_messages={"min_value": "The quantity must be more than zero."},
        help_text="Default 1; with a scale label, how many labels of that weight.",
    )

    def validate(self, attrs):
        if ("product" in attrs) == ("barcode" in attrs):
            raise serializers.ValidationError({"product": ["Send either product or barcode."]})
        if "barcode" in attrs:
            code = attrs["barcode"].strip()
            found = product_for_scan(code=code)  # the till's rule: one place decodes scale labels
            if found is None:
                raise serializers.ValidationError({"barcode": [f"No product has the barcode {code}."]})
            attrs["product"] = found.product
            if found.quantity is not None:
                attrs["quantity"] = found.quantity * attrs.get("quantity", Decimal("1"))
        attrs.setdefault("quantity", Decimal("1"))
        return attrs


class SaleDetailUpdateSerializer(AuthoriserFields):
    quantity = DecimalSerializerField(
        max_digits=12, decimal_places=3, min_value=Decimal("0.001"), required=False,
        error_messages={"min_value": "The quantity must be more than zero."},
    )
    unit_price = DecimalSerializerField(
        max_digits=12, decimal_places=2, min_value=Decimal("0"), required=False,
        error_messages={"min_value": "A price cannot be negative."},
        help_text="A price override: needs `reason`, and a manager (or their `authoriser` + `pin`).",
    )
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True)

    def validate(self, attrs):
        if "quantity" not in attrs and "unit_price" not in attrs:
            raise serializers.ValidationError({"unit_price": ["Send a new unit_price (with a reason) or quantity."]})
        return attrs


class SaleDetailVoidSerializer(AuthoriserFields):
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True)


# ---------------------------------------------------------------------------- filters
class SaleFilter(django_filters.FilterSet):
    date_from = django_filters.DateFilter(field_name="sale_date", lookup_expr="date__gte", label="From (sale date)")
    date_to = django_filters.DateFilter(field_name="sale_date", lookup_expr="date__lte", label="To (sale date)")
    status = django_filters.ChoiceFilter(choices=SaleStatus.choices)
    cashier = django_filters.ModelChoiceFilter(queryset=User.objects.all())
    customer = django_filters.ModelChoiceFilter(queryset=Customer.objects.all())

    class Meta:
        model = Sale
        fields = ["status", "cashier", "customer", "date_from", "date_to"]


class SaleDetailFilter(django_filters.FilterSet):
    sales_header = django_filters.ModelChoiceFilter(field_name="sale", queryset=Sale.objects.all(), label="Sale id")
    product = django_filters.ModelChoiceFilter(queryset=Product.objects.all())

    class Meta:
        model = SaleLine
        fields = ["sales_header", "product"]


def _sales_for(user):
    """What the sales pages show this user (their branch; their own sales unless they see all)."""
    return (
        sales_visible_to(user=user)
        .annotate(sale_date=Coalesce("completed_at", "created_at", output_field=DateTimeField()))
        .prefetch_related(Prefetch("lines", queryset=SaleLine.objects.order_by("position", "id")), "payments")
        .order_by("-created_at", "-pk")
    )


def _fresh(sale_id: int, user) -> Sale:
    return _sales_for(user).get(pk=sale_id)


# ---------------------------------------------------------------------------- views
@extend_schema(tags=["sales"])
@extend_schema_view(
    list=extend_schema(
        summary="Sales (headers with their details)",
        responses={200: SalesHeaderSerializer(many=True), **errors(401, 403)},
    ),
    retrieve=extend_schema(
        summary="One sale with its details and payments",
        responses={200: SalesHeaderSerializer, **errors(401, 403, 404)},
    ),
)
class SalesHeaderViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Sales. Employees see their own; managers their branch's; owners every branch's."""

    serializer_class = SalesHeaderSerializer
    permission_classes = [RolePermission]
    required_perms = {"read": (Perm.VIEW_SALES,), "write": (Perm.USE_TILL,)}
    filterset_class = SaleFilter
    search_fields = ["number", "customer__name"]
    ordering_fields = ["created_at", "completed_at", "total", "number"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return self.serializer_class.Meta.model.objects.none()
        return _sales_for(self.request.user)

    @extend_schema(
        summary="Create a sale with its details (the caller's open sale, awaiting payment)",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=SalesHeaderCreateSerializer,
        responses={201: SalesHeaderSerializer, **errors(400, 401, 403, 409)},
    )
    def create(self, request, *args, **kwargs):
        def run():
            serializer = SalesHeaderCreateSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            sale = sale_open_with_lines(
                cashier=request.user,
                items=[(item["product"], item["quantity"]) for item in data["details"]],
                customer=data.get("customer"),
                note=data.get("note", ""),
            )
            return Response(SalesHeaderSerializer(_fresh(sale.pk, request.user)).data, status=status.HTTP_201_CREATED)

        return run_idempotent(request, endpoint="salesheaders:create", run=run)

    @extend_schema(
        summary="Void a sale (open: the cart is cancelled; completed: stock back and money refunded)",
        request=SaleVoidSerializer,
        responses={200: SalesHeaderSerializer, **errors(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        sale = self.get_object()
        serializer = SaleVoidSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        authoriser = guarded_by(request, data, perm=Perm.AUTHORISE_OVERRIDES)
        if sale.status == SaleStatus.OPEN:
            sale_void_open(
                sale=sale, user=request.user, reason=data["reason"], authorised_by=authoriser, request=request
            )
        elif sale.status == SaleStatus.COMPLETED:

            sale_void_completed(sale=sale, user=request.user, reason=data["reason"], authorised_by=authoriser,
                                reference=data.get("reference", ""), request=request)
        else:
            raise SaleConflictError(f"This sale is {sale.get_status_display().lower()}: it cannot be voided.")
        return Response(SalesHeaderSerializer(_fresh(sale.pk, request.user)).data)

    @extend_schema(
        methods=["GET"],
        summary="The sale's returns (credit notes) and their refunds",
        request=None,
        responses={200: SaleReturnSerializer(many=True), **errors(401, 403, 404)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Return goods of a completed sale and refund them (a credit note)",
        request=SaleReturnCreateSerializer,
        responses={201: SaleReturnSerializer, **errors(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["get", "post"], url_path="returns", pagination_class=None)
    def returns(self, request, pk=None):
        if request.method == "GET":
            sale = self.get_object()
            returns = sale.returns.prefetch_related("refunds").order_by("created_at", "pk")
            return Response(SaleReturnSerializer(returns, many=True).data)
        # any completed sale of the branch (the customer holds the receipt), as the till's return page
        sale = sales_returnable_by(user=request.user).filter(pk=pk).first() if str(pk).isdigit() else None
        if sale is None:
            sale = self.get_object()
        serializer = SaleReturnCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        authoriser = guarded_by(request, data, perm=Perm.REFUND)

        sale_return = sale_return_refund(
            sale=sale,
            items=[ReturnItem(item["detail"], item["quantity"], item["restock"]) for item in data["items"]],
            user=request.user,
            reason=data["reason"],
            authorised_by=authoriser,
            refund_to=data["refund_to"],
            reference=data.get("reference", ""),
            request=request,
        )
        sale_return = SaleReturn.objects.prefetch_related("refunds").get(pk=sale_return.pk)
        return Response(SaleReturnSerializer(sale_return).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["sales"])
@extend_schema_view(
    list=extend_schema(
        summary="Sales details (lines) of the sales the caller sees",
        responses={200: SaleDetailSerializer(many=True), **errors(401, 403)},
    ),
    retrieve=extend_schema(summary="One sales detail", responses={200: SaleDetailSerializer, **errors(401, 403, 404)}),
)
class SalesDetailViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Lines of sales. Changes only on the caller's own open sale (the till's rule)."""

    serializer_class = SaleDetailSerializer
    permission_classes = [RolePermission]
    required_perms = {"read": (Perm.VIEW_SALES,), "write": (Perm.USE_TILL,)}
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    filterset_class = SaleDetailFilter
    ordering_fields = ["id", "position"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return self.serializer_class.Meta.model.objects.none()
        visible = sales_visible_to(user=self.request.user).values("pk")
        return SaleLine.objects.filter(sale__in=visible).order_by("sale_id", "position", "id")

    @extend_schema(
        summary="Add a product to the caller's open sale",
        request=SaleDetailCreateSerializer,
        responses={201: SaleDetailSerializer, **errors(400, 401, 403, 409)},
    )
    def create(self, request, *args, **kwargs):
        serializer = SaleDetailCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        sale = sales_visible_to(user=request.user).filter(pk=data["sales_header"]).first()
        if sale is None:
            message = f"No sale #{data['sales_header']} that you can change."
            raise serializers.ValidationError({"sales_header": [message]})
        line = sale_add_product(sale=sale, product=data["product"], user=request.user, quantity=data["quantity"])
        return Response(SaleDetailSerializer(line).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a line: `unit_price` + `reason` is a price override (audited); `quantity`",
        request=SaleDetailUpdateSerializer,
        responses={200: SaleDetailSerializer, **errors(400, 401, 403, 404, 409)},
    )
    def partial_update(self, request, *args, **kwargs):
        line = self.get_object()
        serializer = SaleDetailUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        authoriser = guarded_by(request, data, perm=Perm.AUTHORISE_OVERRIDES) if "unit_price" in data else None

        def change() -> SaleLine:  # both changes or neither, retried as one when it loses a lock race
            changed = line
            with transaction.atomic():
                if "quantity" in data:
                    changed = sale_line_set_quantity(line=changed, quantity=data["quantity"], user=request.user)
                if "unit_price" in data:
                    changed = sale_line_override_price(
                        line=changed, unit_price=data["unit_price"], user=request.user,
                        reason=data.get("reason", ""), authorised_by=authoriser, request=request,
                    )
            return changed

        line = run_retrying(change)
        return Response(SaleDetailSerializer(SaleLine.objects.get(pk=line.pk)).data)

    @extend_schema(
        summary="Void a line of the caller's open sale (audited; needs a manager). `reason` in the body or query",
        request=SaleDetailVoidSerializer,
        parameters=[OpenApiParameter("reason", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False)],
        responses={204: None, **errors(400, 401, 403, 404, 409)},
    )
    def destroy(self, request, *args, **kwargs):
        line = self.get_object()
        body = request.data if isinstance(request.data, dict) else {}
        serializer = SaleDetailVoidSerializer(data={**request.query_params.dict(), **body})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        authoriser = guarded_by(request, data, perm=Perm.AUTHORISE_OVERRIDES)
        sale_line_remove(line=line, user=request.user, reason=data.get("reason", ""), authorised_by=authoriser,
                         request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


router = SimpleRouter()
router.register("salesheaders", SalesHeaderViewSet, basename="salesheader")
router.register("salesdetails", SalesDetailViewSet, basename="salesdetail")
