"""The JSON API of the cash desk: cash sessions (open, close, X/Z report), sales payments (one, or the
API's split payment), M-Pesa STK push and its status, supplier payments, customer receipts and expenses.

Every write calls a cash-desk service (`services`, `mpesa_services`, `money_services`); a payment
that covers what is due completes the sale through `sale_checkout`, exactly once per
`Idempotency-Key`.
"""

import uuid
from decimal import Decimal

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from cashdesk.models import (
    CashSession,
    CustomerReceipt,
    Expense,
    ExpenseCategory,
    Payment,
    PaymentMethod,
    SessionStatus,
    SupplierPayment,
)
from cashdesk.money_services import customer_receipt_record, expense_record, supplier_payment_record
from cashdesk.selectors import (
    customer_receipts_visible_to,
    expenses_visible_to,
    session_report_for_display,
    sessions_visible_to,
    supplier_payments_visible_to,
)
from cashdesk.services import (
    MAX_SPLIT_PARTS,
    PaymentError,
    Tender,
    sale_checkout,
    session_close,
    session_open,
    session_x_report_read,
)
from core.api import RolePermission
from core.api_schema import errors
from core.decimal_input import DecimalSerializerField
from core.errors import ConflictError
from core.idempotency import IDEMPOTENCY_PARAMETER, checkout_key, idempotency_key, run_idempotent
from core.roles import Perm
from inventory.models import Purchase, Supplier
from pos.customers.models import Customer
from pos.people.authorise import AuthoriserFields, guarded_by
from pos.sales.models import Sale
from pos.sales.selectors import sales_visible_to
from pos.sales.serializers import SalesHeaderSerializer


# ---------------------------------------------------------------------------- cash sessions
class CashSessionSerializer(serializers.ModelSerializer):
    cashier_name = serializers.CharField(source="cashier.full_name", read_only=True)

    class Meta:
        model = CashSession
        fields = [
            "id", "cashier", "cashier_name", "branch", "status", "opened_at", "opening_float", "note", "closed_at",
            "closed_by", "closing_total", "expected_cash", "difference", "force_closed", "close_note",
        ]
        read_only_fields = fields


class CashSessionOpenSerializer(serializers.Serializer):
    opening_float = DecimalSerializerField(
        max_digits=12, decimal_places=2, min_value=Decimal("0"),
        error_messages={"min_value": "The opening float cannot be negative."},
    )
    note = serializers.CharField(max_length=255, required=False, allow_blank=True)


class CashSessionCloseSerializer(AuthoriserFields):
    closing_total = DecimalSerializerField(
        max_digits=12, decimal_places=2, min_value=Decimal("0"), required=False, allow_null=True,
        error_messages={"min_value": "Counted cash cannot be negative."},
        help_text="The cash counted in the drawer (or send `denominations`).",
    )
    denominations = serializers.DictField(
        child=serializers.IntegerField(min_value=0), required=False, help_text='{"1000": 3, "50": 4}'
    )
    counted_by_method = serializers.DictField(
        child=DecimalSerializerField(max_digits=12, decimal_places=2, min_value=Decimal("0")), required=False,
        help_text='What the card terminal / M-Pesa statement shows: {"CARD": "1250.00"}',
    )
    note = serializers.CharField(
        max_length=255, required=False, allow_blank=True,
        help_text="Required when a manager force-closes another cashier's session.",
    )


class SessionReportSerializer(serializers.Serializer):
    """The X report of an open session (live) or the Z report frozen at close (`cashdesk.selectors.session_report`)."""

    report = serializers.DictField()
    kind = serializers.ChoiceField(choices=["X", "Z"])


@extend_schema(tags=["cash sessions"])
@extend_schema_view(
    list=extend_schema(summary="Cash sessions (cashiers: their own; managers: their branch's)",
                       responses={200: CashSessionSerializer(many=True), **errors(401, 403)}),
    retrieve=extend_schema(summary="One cash session", responses={200: CashSessionSerializer, **errors(401, 403, 404)}),
)
class CashSessionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = CashSessionSerializer
    permission_classes = [RolePermission]
    required_perms = {"read": Perm.USE_OWN_CASH_SESSION, "write": Perm.USE_OWN_CASH_SESSION}
    filterset_fields = ["status", "cashier"]
    ordering_fields = ["opened_at", "closed_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return self.serializer_class.Meta.model.objects.none()
        return sessions_visible_to(self.request.user).order_by("-opened_at", "-pk")

    @extend_schema(
        summary="Open the caller's cash session with an opening float",
        request=CashSessionOpenSerializer,
        responses={201: CashSessionSerializer, **errors(400, 401, 403, 409)},
    )
    def create(self, request, *args, **kwargs):
        serializer = CashSessionOpenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = session_open(
            cashier=request.user,
            opening_float=serializer.validated_data["opening_float"],
            note=serializer.validated_data.get("note", ""),
        )
        return Response(CashSessionSerializer(session).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Close a session with the counted cash (`closing_total`); a manager closing another's force-closes it",
        request=CashSessionCloseSerializer,
        responses={200: CashSessionSerializer, **errors(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        session = self.get_object()
        serializer = CashSessionCloseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if session.status != SessionStatus.OPEN:
            raise ConflictError("This cash session is already closed.", code="session_closed")
        approver = guarded_by(request, data, perm=Perm.APPROVE_CASH_DIFFERENCE)
        session = session_close(
            session=session,
            closed_by=request.user,
            closing_total=data.get("closing_total"),
            denominations=data.get("denominations"),
            counted_by_method=data.get("counted_by_method"),
            approved_by=approver,
            note=data.get("note", ""),
            force=session.cashier_id != request.user.pk,
            request=request,
        )
        return Response(CashSessionSerializer(session).data)

    @extend_schema(
        summary="The session's X report (open: live figures) or Z report (closed: frozen at close)",
        responses={200: SessionReportSerializer, **errors(401, 403, 404)},
        description="Under a blind close (the shop's setting) a cashier gets 403 for their open drawer's X report; "
        "every X report read is audited.",
    )
    @action(detail=True, methods=["get"])
    def report(self, request, pk=None):
        session = self.get_object()
        session_x_report_read(session=session, user=request.user, request=request)  # blind close; audited
        kind = "Z" if session.status == SessionStatus.CLOSED else "X"
        return Response({"kind": kind, "report": session_report_for_display(session=session)})


# ---------------------------------------------------------------------------- sales payments
class PaymentSerializer(serializers.ModelSerializer):
    sales_header = serializers.IntegerField(source="sale_id", read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id", "sales_header", "session", "method", "status", "amount", "change_given", "reference",
            "mpesa_receipt", "received_by", "confirmed_at", "created_at",
        ]
        read_only_fields = fields


class TenderSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    amount = DecimalSerializerField(
        max_digits=12, decimal_places=2, min_value=Decimal("0.01"),
        error_messages={"min_value": "Each payment must be more than zero."},
    )
    reference = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class SplitPaymentSerializer(serializers.Serializer):
    """The body: `{"sales_header", "session", "payments": [{"method", "amount", "reference"?}]}`."""

    sales_header = serializers.IntegerField(min_value=1)
    session = serializers.IntegerField(min_value=1)
    payments = TenderSerializer(many=True, allow_empty=False, max_length=MAX_SPLIT_PARTS)


class SinglePaymentSerializer(TenderSerializer):
    sales_header = serializers.IntegerField(min_value=1)
    session = serializers.IntegerField(min_value=1)


class PaymentFilter(django_filters.FilterSet):
    sale = django_filters.ModelChoiceFilter(field_name="sale", queryset=Sale.objects.all(), label="Sale id")
    sales_header = django_filters.ModelChoiceFilter(
        field_name="sale", queryset=Sale.objects.all(), label="Sale id (the same as `sale`)"
    )
    session = django_filters.ModelChoiceFilter(queryset=CashSession.objects.all())

    class Meta:
        model = Payment
        fields = ["sale", "sales_header", "session", "method", "status"]


def payable_sale(user, sale_id: int) -> Sale:
    """A sale the caller may take payment for, or a 400 that says why not (nothing is written)."""
    sale = sales_visible_to(user=user).filter(pk=sale_id).first()
    if sale is not None:
        return sale
    other = Sale.objects.filter(pk=sale_id).values("branch_id").first()
    if other is not None and other["branch_id"] != user.branch_id:
        raise PaymentError(f"Sale #{sale_id} belongs to another branch.", field="sales_header", code="other_branch")
    raise PaymentError(f"No sale #{sale_id} that you can take payment for.", field="sales_header", code="not_found")


def _own_open_session(user, session_id: int) -> CashSession:
    session = CashSession.objects.filter(pk=session_id).first()
    visible = session is not None and (
        session.cashier_id == user.pk or sessions_visible_to(user).filter(pk=session_id).exists()
    )
    if not visible:
        raise PaymentError(f"No cash session #{session_id}.", field="session", code="not_found")
    if session.cashier_id != user.pk:
        raise PaymentError(
            f"Cash session #{session_id} is {session.cashier.full_name}'s: payments go into your own drawer.",
            field="session",
        )
    if session.status != SessionStatus.OPEN:
        raise ConflictError(f"Cash session #{session_id} is closed: open a new session.", code="session_closed")
    return session


def _checkout(request, *, sale_id: int, session_id: int, tenders: list[Tender]) -> Response:
    sale = payable_sale(request.user, sale_id)
    _own_open_session(request.user, session_id)
    key = idempotency_key(request)
    sale = sale_checkout(
        sale=sale,
        user=request.user,
        tenders=tenders,
        idempotency_key=checkout_key(user=request.user, key=key) if key else uuid.uuid4().hex,
        request=request,
    )
    sale = sales_visible_to(user=request.user).prefetch_related("lines", "payments").get(pk=sale.pk)
    return Response(SalesHeaderSerializer(sale).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["sales payments"])
@extend_schema_view(
    list=extend_schema(
        summary="Sales payments of the sales the caller sees",
        responses={200: PaymentSerializer(many=True), **errors(401, 403)},
    ),
    retrieve=extend_schema(summary="One sales payment", responses={200: PaymentSerializer, **errors(401, 403, 404)}),
)
class SalesPaymentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Payments of sales. Paying completes the sale: the payments must cover what is due (cash may
    be more: the change is given back); all or nothing."""

    serializer_class = PaymentSerializer
    permission_classes = [RolePermission]
    required_perms = {"read": (Perm.VIEW_SALES,), "write": (Perm.TAKE_PAYMENT,)}
    filterset_class = PaymentFilter
    ordering_fields = ["created_at", "amount"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return self.serializer_class.Meta.model.objects.none()
        visible = sales_visible_to(user=self.request.user).values("pk")
        return Payment.objects.filter(sale__in=visible).order_by("-created_at", "-pk")

    @extend_schema(
        summary="Pay a sale with one payment (completes it; cash may be more, the change is returned)",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=SinglePaymentSerializer,
        responses={201: SalesHeaderSerializer, **errors(400, 401, 403, 409)},
    )
    def create(self, request, *args, **kwargs):
        def run():
            serializer = SinglePaymentSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            tender = Tender(data["method"], data["amount"], data.get("reference", ""))
            return _checkout(request, sale_id=data["sales_header"], session_id=data["session"], tenders=[tender])

        return run_idempotent(request, endpoint="sales-payments:create", run=run)

    @extend_schema(
        summary="Split payment: several methods for one sale, all or nothing (completes the sale)",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=SplitPaymentSerializer,
        responses={201: SalesHeaderSerializer, **errors(400, 401, 403, 409)},
    )
    @action(detail=False, methods=["post"])
    def split(self, request):
        def run():
            serializer = SplitPaymentSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            tenders = [Tender(p["method"], p["amount"], p.get("reference", "")) for p in data["payments"]]
            return _checkout(request, sale_id=data["sales_header"], session_id=data["session"], tenders=tenders)

        return run_idempotent(request, endpoint="sales-payments:split", run=run)


# ---------------------------------------------------------------------------- money in and out
class SupplierPaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = SupplierPayment
        fields = [
            "id", "supplier", "purchase", "purchase_reference", "branch", "session", "method", "amount", "reference",
            "paid_by", "note", "created_at",
        ]
        read_only_fields = ["id", "branch", "session", "paid_by", "created_at"]
        extra_kwargs = {
            "supplier": {"queryset": Supplier.objects.all()},
            "purchase": {"queryset": Purchase.objects.all()},
        }


class CustomerReceiptSerializer(serializers.ModelSerializer):
    sales = serializers.PrimaryKeyRelatedField(
        queryset=Sale.objects.all(), many=True, required=False, write_only=True,
        help_text="On-account sales to settle first (default: the oldest).",
    )

    class Meta:
        model = CustomerReceipt
        fields = [
            "id", "number", "customer", "branch", "session", "method", "amount", "reference", "balance_before",
            "balance_after", "received_by", "note", "created_at", "sales",
        ]
        read_only_fields = ["id", "number", "branch", "session", "balance_before", "balance_after", "received_by",
                            "created_at"]
        extra_kwargs = {"customer": {"queryset": Customer.objects.all()}}


class ExpenseSerializer(serializers.ModelSerializer):
    category = serializers.PrimaryKeyRelatedField(queryset=ExpenseCategory.objects.all())

    class Meta:
        model = Expense
        fields = [
            "id", "category", "branch", "session", "method", "amount", "description", "spent_on", "reference",
            "recorded_by", "created_at",
        ]
        read_only_fields = ["id", "branch", "session", "recorded_by", "created_at"]


_MONEY_AMOUNT = {"min_value": Decimal("0.01"), "error_messages": {"min_value": "The amount must be more than zero."}}
for _serializer in (SupplierPaymentSerializer, CustomerReceiptSerializer, ExpenseSerializer):
    _serializer.Meta.extra_kwargs = {**getattr(_serializer.Meta, "extra_kwargs", {}), "amount": _MONEY_AMOUNT}


class _MoneyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    permission_classes = [RolePermission]
    ordering_fields = ["created_at", "amount"]
    filterset_fields = ["method"]

    def create(self, request, *args, **kwargs):
        def run():
            serializer = self.get_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            row = self.record(serializer.validated_data)
            return Response(
                self.get_serializer(self.get_queryset().get(pk=row.pk)).data, status=status.HTTP_201_CREATED
            )

        return run_idempotent(request, endpoint=f"{self.basename}:create", run=run)


@extend_schema(tags=["money in and out"])
@extend_schema_view(
    list=extend_schema(
        summary="Supplier payments", responses={200: SupplierPaymentSerializer(many=True), **errors(401, 403)}
    ),
    retrieve=extend_schema(
        summary="One supplier payment", responses={200: SupplierPaymentSerializer, **errors(401, 403, 404)}
    ),
    create=extend_schema(summary="Pay a supplier (cash comes out of the caller's open drawer)",
                         parameters=[IDEMPOTENCY_PARAMETER],
                         responses={201: SupplierPaymentSerializer, **errors(400, 401, 403, 409)}),
)
class SupplierPaymentViewSet(_MoneyViewSet):
    serializer_class = SupplierPaymentSerializer
    required_perms = {"read": Perm.PAY_SUPPLIER, "write": Perm.PAY_SUPPLIER}
    filterset_fields = ["method", "supplier", "purchase"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return self.serializer_class.Meta.model.objects.none()
        return supplier_payments_visible_to(self.request.user).order_by("-created_at", "-pk")

    def record(self, data):
        return supplier_payment_record(
            supplier=data["supplier"], amount=data["amount"], method=data["method"], user=self.request.user,
            reference=data.get("reference", ""), purchase=data.get("purchase"),
            purchase_reference=data.get("purchase_reference", ""), note=data.get("note", ""), request=self.request,
        )


@extend_schema(tags=["money in and out"])
@extend_schema_view(
    list=extend_schema(summary="Customer receipts (customers paying off their account)",
                       responses={200: CustomerReceiptSerializer(many=True), **errors(401, 403)}),
    retrieve=extend_schema(
        summary="One customer receipt", responses={200: CustomerReceiptSerializer, **errors(401, 403, 404)}
    ),
    create=extend_schema(summary="Record a customer paying off what they owe",
                         parameters=[IDEMPOTENCY_PARAMETER],
                         responses={201: CustomerReceiptSerializer, **errors(400, 401, 403, 409)}),
)
class CustomerReceiptViewSet(_MoneyViewSet):
    serializer_class = CustomerReceiptSerializer
    required_perms = {"read": Perm.RECORD_CUSTOMER_RECEIPT, "write": Perm.RECORD_CUSTOMER_RECEIPT}
    filterset_fields = ["method", "customer"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return self.serializer_class.Meta.model.objects.none()
        return customer_receipts_visible_to(self.request.user).order_by("-created_at", "-pk")

    def record(self, data):
        return customer_receipt_record(
            customer=data["customer"], amount=data["amount"], method=data["method"], user=self.request.user,
            reference=data.get("reference", ""), note=data.get("note", ""), sales=data.get("sales") or [],
            request=self.request,
        )


class ExpenseFilter(django_filters.FilterSet):
    spent_on = django_filters.DateFilter(input_formats=["%Y-%m-%d"])
    category = django_filters.ModelChoiceFilter(queryset=ExpenseCategory.objects.all())

    class Meta:
        model = Expense
        fields = ["method", "category", "spent_on"]


@extend_schema(tags=["money in and out"])
@extend_schema_view(
    list=extend_schema(summary="Expenses", responses={200: ExpenseSerializer(many=True), **errors(401, 403)}),
    retrieve=extend_schema(summary="One expense", responses={200: ExpenseSerializer, **errors(401, 403, 404)}),
    create=extend_schema(summary="Record an expense (cash comes out of the caller's open drawer)",
                         parameters=[IDEMPOTENCY_PARAMETER],
                         responses={201: ExpenseSerializer, **errors(400, 401, 403, 409)}),
)
class ExpenseViewSet(_MoneyViewSet):
    serializer_class = ExpenseSerializer
    required_perms = {"read": Perm.RECORD_EXPENSE, "write": Perm.RECORD_EXPENSE}
    filterset_class = ExpenseFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return self.serializer_class.Meta.model.objects.none()
        return expenses_visible_to(self.request.user).order_by("-created_at", "-pk")

    def record(self, data):
        return expense_record(
            category=data["category"], amount=data["amount"], method=data["method"],
            description=data["description"], spent_on=data["spent_on"], user=self.request.user,
            reference=data.get("reference", ""), request=self.request,
        )


router = SimpleRouter()
router.register("cash-sessions", CashSessionViewSet, basename="cash-session")
router.register("sales-payments", SalesPaymentViewSet, basename="sales-payment")
router.register("payments", SupplierPaymentViewSet, basename="supplier-payment")
router.register("receipts", CustomerReceiptViewSet, basename="customer-receipt")
router.register("expenses", ExpenseViewSet, basename="expense")
