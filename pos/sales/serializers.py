"""The JSON shape of a sale, shared by the sales API and the payments API."""



from drf_spectacular.utils import (
    extend_schema_field,
)
from rest_framework import serializers

from core.decimal_input import DecimalSerializerField
from pos.sales.models import Sale, SaleLine
from pos.sales.selectors import sale_amount_due


# ---------------------------------------------------------------------------- serializers
class SaleDetailSerializer(serializers.ModelSerializer):
    sales_header = serializers.IntegerField(source="sale_id", read_only=True)
    price_overridden = serializers.BooleanField(read_only=True)

    class Meta:
        model = SaleLine
        fields = [
            "id", "sales_header", "product", "product_name", "sku", "unit_code", "quantity", "list_price",
            "unit_price", "price_overridden", "price_override_reason", "discount_amount", "line_total",
            "tax_rate", "tax_amount", "returned_quantity",
        ]
        read_only_fields = fields


class SalePaymentBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    method = serializers.CharField()
    status = serializers.CharField()
    amount = DecimalSerializerField(max_digits=12, decimal_places=2)
    change_given = DecimalSerializerField(max_digits=12, decimal_places=2)
    reference = serializers.CharField()
    session = serializers.IntegerField(source="session_id", allow_null=True)


class SalesHeaderSerializer(serializers.ModelSerializer):
    cashier_name = serializers.CharField(source="cashier.full_name", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True, default=None, allow_null=True)
    amount_due = serializers.SerializerMethodField()
    details = SaleDetailSerializer(source="lines", many=True, read_only=True)
    payments = SalePaymentBriefSerializer(many=True, read_only=True)

    class Meta:
        model = Sale
        fields = [
            "id", "number", "status", "branch", "cashier", "cashier_name", "customer", "customer_name", "note",
            "subtotal", "discount_total", "tax_total", "total", "paid_total", "change_given", "amount_due",
            "created_at", "completed_at", "voided_at", "void_reason", "details", "payments",
        ]
        read_only_fields = fields

    @extend_schema_field(DecimalSerializerField(max_digits=12, decimal_places=2))
    def get_amount_due(self, sale) -> str:
        """What is left to pay: the total less confirmed payments (net of change); 0 once not open."""
        return str(sale_amount_due(sale=sale))
