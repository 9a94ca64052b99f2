"""Forms of the stock pages. They parse input; the services decide (their errors land on the form)."""

from decimal import Decimal

from crispy_forms.helper import FormHelper
from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html

from core.decimal_input import DecimalFormField, DecimalInputError, parse_decimal
from core.roles import Perm
from inventory.catalogue_services import PRODUCT_FIELDS
from inventory.models import AdjustmentReason, Category, Product, Supplier, Unit
from inventory.selectors import product_by_code, product_search
from pos.people.models import Branch
from pos.people.selectors import branches_visible_to


class CrispyMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class ProductCodeField(forms.CharField):
    """A box for a barcode, a SKU or a few words of the name (with a list of matches as you type)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Product")
        kwargs.setdefault("max_length", 150)
        kwargs.setdefault("help_text", "Scan the barcode, or type the SKU or part of the name and pick from the list.")
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={"list": "product-options", "autocomplete": "off", "data-product-lookup": "", "autofocus": True}
            ),
        )
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        product = product_by_code(code=value)
        if product is not None:
            return product
        matches = product_search(query=value, branch_id=0, limit=2)
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise ValidationError(f"No active product matches “{value}”.")
        raise ValidationError(f"Several products match “{value}”: type more of the name or pick one from the list.")


# ---------------------------------------------------------------------------- catalogue
class KraClassificationInput(forms.TextInput):
    """A text box that suggests KRA item classifications as the owner types (an htmx search filling a
    datalist). The list comes from eTIMS's synced classifications, reached by URL name only."""

    def __init__(self, attrs=None):
        super().__init__({"autocomplete": "off", **(attrs or {})})

    def render(self, name, value, attrs=None, renderer=None):
        list_id = f"kra-classes-{name}"
        attrs = {
            **(attrs or {}),
            "list": list_id,
            "hx-get": reverse("etims:classification_search"),
            "hx-trigger": "input changed delay:300ms",
            "hx-target": f"#{list_id}",
            "hx-swap": "innerHTML",
        }
        return format_html('{}<datalist id="{}"></datalist>', super().render(name, value, attrs, renderer), list_id)


class ProductForm(CrispyMixin, forms.ModelForm):
    """The catalogue fields. Rules (barcode check digit, uniqueness, decimals per unit…) are the
    service's, so the API and the CSV import refuse the same things with the same words."""

    class Meta:
        model = Product
        fields = list(PRODUCT_FIELDS)  # what the product services accept, in the order the page shows
        widgets = {
            "barcode": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
            "kra_item_code": KraClassificationInput(),
        }
        labels = {"selling_price": "Selling price (KES, VAT included)", "cost_price": "Cost price (KES)"}
        help_texts = {"kra_item_code": "KRA eTIMS: type a word or code to search KRA's list; empty: the category's."}

    def __init__(self, *args, creating: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.instance if self.instance.pk else None
        self.fields["category"].queryset = Category.objects.filter(is_active=True) | Category.objects.filter(
            pk=getattr(current, "category_id", None)
        )
        self.fields["unit"].queryset = Unit.objects.filter(is_active=True) | Unit.objects.filter(
            pk=getattr(current, "unit_id", None)
        )
        self.fields["default_supplier"].queryset = Supplier.objects.filter(is_active=True)
        self.fields["barcode"].required = False
        for name in ("selling_price", "cost_price", "reorder_level", "reorder_quantity"):
            self.fields[name].widget.attrs.update({"inputmode": "decimal", "step": "any"})
            self.fields[name].min_value = None
            self.fields[name].validators = []
        if creating:
            self.fields["opening_stock"] = DecimalFormField(
                required=False,
                max_digits=12,
                decimal_places=3,
                help_text="Stock on the shelf at your branch now (written to the stock ledger).",
                widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
            )

    def _post_clean(self):
        """The service validates the product (one set of rules for the page, the API and imports)."""


class DeactivateForm(CrispyMixin, forms.Form):
    reason = forms.CharField(max_length=255, required=False, label="Why (optional)")


class CategoryForm(CrispyMixin, forms.ModelForm):
    class Meta:
        model = Category
        fields = ["name", "description", "show_on_till", "sort_order", "is_active", "kra_item_code"]
        widgets = {"kra_item_code": KraClassificationInput()}

    def _post_clean(self):
        pass


class UnitForm(CrispyMixin, forms.ModelForm):
    class Meta:
        model = Unit
        fields = ["name", "code", "decimal_places", "is_active"]

    def _post_clean(self):
        pass


class SupplierForm(CrispyMixin, forms.ModelForm):
    class Meta:
        model = Supplier
        fields = ["name", "contact_person", "phone_number", "email", "address", "kra_pin", "is_active"]

    def _post_clean(self):
        pass


class ImportUploadForm(CrispyMixin, forms.Form):
    file = forms.FileField(label="CSV file", help_text="Up to 5 MB. Use the template's columns; sku is required.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 5 * 1024 * 1024:
            raise ValidationError("The file is larger than 5 MB; split it.")
        return upload


# ---------------------------------------------------------------------------- adjustments and counts
class AdjustmentRequestForm(CrispyMixin, forms.Form):
    MODE_COUNTED = "counted"
    MODE_DELTA = "delta"

    product = ProductCodeField()
    mode = forms.ChoiceField(
        label="What do you know?",
        choices=[(MODE_COUNTED, "I counted what is on the shelf"), (MODE_DELTA, "Some were found (+) or lost (−)")],
        widget=forms.RadioSelect,
        initial=MODE_COUNTED,
    )
    quantity = DecimalFormField(
        max_digits=12,
        decimal_places=3,
        help_text="Counted: how many are there. Change: e.g. -2 for two damaged, 3 for three found.",
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
    )
    reason = forms.ChoiceField(choices=AdjustmentReason.choices)
    note = forms.CharField(
        max_length=255, required=False, widget=forms.TextInput(attrs={"placeholder": "What happened?"})
    )
    branch = forms.ModelChoiceField(queryset=Branch.objects.none(), empty_label=None)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches_visible_to(user)
        if not user.has_perm(Perm.ALL_BRANCHES):
            self.fields["branch"].widget = forms.HiddenInput()


class CountStartForm(CrispyMixin, forms.Form):
    category = forms.ModelChoiceField(
        queryset=Category.objects.filter(is_active=True), required=False, empty_label="The whole branch"
    )
    note = forms.CharField(max_length=255, required=False)
    branch = forms.ModelChoiceField(queryset=Branch.objects.none(), empty_label=None)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches_visible_to(user)
        if not user.has_perm(Perm.ALL_BRANCHES):
            self.fields["branch"].widget = forms.HiddenInput()


def parse_quantity(raw: str | None) -> Decimal | None:
    """A typed quantity ('12', '0.5', '1,5'): None when empty; ValueError when not a number."""

    raw = (raw or "").strip().replace(",", ".")
    if raw == "":
        return None
    try:
        return parse_decimal(raw)
    except DecimalInputError:
        raise ValueError(f"“{raw}” is not a number.") from None


# ---------------------------------------------------------------------------- purchases and transfers
class PurchaseForm(CrispyMixin, forms.Form):
    supplier = forms.ModelChoiceField(queryset=Supplier.objects.filter(is_active=True))
    branch = forms.ModelChoiceField(queryset=Branch.objects.none(), empty_label=None)
    expected_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    supplier_reference = forms.CharField(max_length=60, required=False, label="Supplier's reference")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches_visible_to(user)
        if editing or not user.has_perm(Perm.ALL_BRANCHES):
            self.fields["branch"].widget = forms.HiddenInput()
            self.fields["branch"].required = not editing


class LineForm(CrispyMixin, forms.Form):
    product = ProductCodeField(help_text="")
    quantity = DecimalFormField(
        max_digits=12, decimal_places=3, widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"})
    )


class PurchaseLineForm(LineForm):
    unit_cost = DecimalFormField(
        label="Cost per unit (KES)",
        max_digits=12,
        decimal_places=2,
        required=False,
        help_text="Empty: the product's cost price.",
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
    )


class TransferForm(CrispyMixin, forms.Form):
    from_branch = forms.ModelChoiceField(queryset=Branch.objects.none(), empty_label=None, label="From")
    to_branch = forms.ModelChoiceField(queryset=Branch.objects.filter(is_active=True), label="To")
    note = forms.CharField(max_length=255, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from_branch"].queryset = branches_visible_to(user)
        if not user.has_perm(Perm.ALL_BRANCHES):
            self.fields["from_branch"].widget = forms.HiddenInput()
