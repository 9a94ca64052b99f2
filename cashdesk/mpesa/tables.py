"""django-tables2 tables of the M-Pesa pages."""


import django_tables2 as tables

from cashdesk.mpesa.models import C2BPayment


class C2BPaymentTable(tables.Table):
    trans_time = tables.DateTimeColumn(format="d M H:i", verbose_name="When")
    trans_id = tables.Column(verbose_name="M-Pesa code")
    amount = tables.Column(attrs={"td": {"class": "money"}})
    customer_name = tables.Column(verbose_name="Name")
    msisdn = tables.Column(verbose_name="Phone")
    bill_ref_number = tables.Column(verbose_name="Account no.")
    shortcode = tables.Column(verbose_name="Till / paybill")
    attach = tables.TemplateColumn(
        template_name="cashdesk/partials/c2b_attach_cell.html", orderable=False, verbose_name=""
    )

    class Meta:
        model = C2BPayment
        fields = ("trans_time", "trans_id", "amount", "customer_name", "msisdn", "bill_ref_number", "shortcode")
        attrs = {"class": "table table-hover align-middle"}
        empty_text = "No incoming M-Pesa payments waiting to be matched."
