"""The JSON API of M-Pesa: start an STK push, read its status, stop waiting."""


from decimal import Decimal

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from cashdesk.api import TenderSerializer, payable_sale
from cashdesk.mpesa.models import StkRequest
from cashdesk.mpesa.services import mpesa_stk_start, mpesa_stk_stop_waiting
from cashdesk.services import Tender
from core.api import RolePermission
from core.api_schema import errors
from core.decimal_input import DecimalSerializerField
from core.idempotency import IDEMPOTENCY_PARAMETER, run_idempotent
from core.roles import Perm
from pos.sales.selectors import for_sales_viewer


# ---------------------------------------------------------------------------- M-Pesa STK push
class StkRequestSerializer(serializers.ModelSerializer):
    sales_header = serializers.IntegerField(source="sale_id", read_only=True)
    payment_status = serializers.CharField(source="payment.status", read_only=True)
    sale_status = serializers.CharField(source="sale.status", read_only=True)

    class Meta:
        model = StkRequest
        fields = [
            "id", "sales_header", "payment", "payment_status", "sale_status", "amount", "status", "message",
            "checkout_request_id", "receipt_number", "result_code", "result_desc", "created_at", "sent_at",
            "answered_at",
        ]
        read_only_fields = fields


class StkPushSerializer(serializers.Serializer):
    sales_header = serializers.IntegerField(min_value=1)
    phone = serializers.CharField(max_length=20, help_text="The customer's phone, any Kenyan format.")
    amount = DecimalSerializerField(
        max_digits=12, decimal_places=2, min_value=Decimal("1"), required=False, allow_null=True,
        help_text="Whole shillings; default: what is left to pay after `other_payments`.",
    )
    other_payments = TenderSerializer(
        many=True, required=False, help_text="The rest of a split (e.g. the cash part), taken when M-Pesa confirms."
    )


@extend_schema(tags=["m-pesa"])
@extend_schema_view(
    retrieve=extend_schema(summary="An STK push's status (poll it until it is PAID, FAILED, CANCELLED…)",
                           responses={200: StkRequestSerializer, **errors(401, 403, 404)}),
)
class StkPushViewSet(mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    serializer_class = StkRequestSerializer
    permission_classes = [RolePermission]
    required_perms = {"read": Perm.TAKE_PAYMENT, "write": Perm.TAKE_PAYMENT}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return self.serializer_class.Meta.model.objects.none()
        return for_sales_viewer(StkRequest.objects.select_related("sale", "payment"), self.request.user, sale="sale")

    @extend_schema(
        summary="Send an M-Pesa payment request (STK push) to the customer's phone for a sale",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=StkPushSerializer,
        responses={202: StkRequestSerializer, **errors(400, 401, 403, 409)},
    )
    def create(self, request, *args, **kwargs):
        def run():
            serializer = StkPushSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            sale = payable_sale(request.user, data["sales_header"])
            stk = mpesa_stk_start(
                sale=sale,
                phone=data["phone"],
                user=request.user,
                amount=data.get("amount"),
                other_tenders=[
                    Tender(p["method"], p["amount"], p.get("reference", "")) for p in data.get("other_payments", [])
                ],
                request=request,
            )
            stk = self.get_queryset().get(pk=stk.pk)
            return Response(StkRequestSerializer(stk).data, status=status.HTTP_202_ACCEPTED)

        return run_idempotent(request, endpoint="mpesa-stk-push:create", run=run)

    @extend_schema(
        summary="Stop waiting for the customer's PIN (they walked away, or pay another way)",
        request=None,
        responses={200: StkRequestSerializer, **errors(401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        """A request already answered is left as it is; if M-Pesa later says the customer paid after
        all, it is flagged for a manager (`mpesa_stk_stop_waiting`)."""
        stk = mpesa_stk_stop_waiting(stk=self.get_object(), user=request.user, request=request)
        return Response(StkRequestSerializer(self.get_queryset().get(pk=stk.pk)).data)


router = SimpleRouter()
router.register("mpesa/stk-push", StkPushViewSet, basename="mpesa-stk-push")
