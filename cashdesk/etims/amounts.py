"""The VAT-inclusive arithmetic of eTIMS payloads (docs/etims.md, "Amounts"). Pure functions.

Per line, with rate r of the line's band: `splyAmt = prc × qty` (VAT included), `dcAmt` the discount,
N = splyAmt − dcAmt; net basis: `taxblAmt = round2(N ÷ (1 + r/100))`, `taxAmt = N − taxblAmt`;
`totAmt = N`. Band fields are sums of the rounded line values, never rounded on their own, so
`totAmt` equals what the customer paid. ETIMS_TAXABLE_BASIS=inclusive sends N as `taxblAmt` instead
(KRA's older spec samples); ETIMS_ROUNDING picks half-up (default) or half-even.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

BANDS = ("A", "B", "C", "D", "E")
CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def round2(value: Decimal, rounding: str = "half_up") -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN if rounding == "half_even" else ROUND_HALF_UP)


@dataclass(frozen=True)
class LineAmounts:
    prc: Decimal
    qty: Decimal
    sply_amt: Decimal
    dc_amt: Decimal
    dc_rt: Decimal
    taxbl_amt: Decimal
    tax_amt: Decimal
    tot_amt: Decimal


def line_amounts(*, prc: Decimal, qty: Decimal, sply_amt: Decimal, dc_amt: Decimal, rate: Decimal,
                 basis: str = "net", rounding: str = "half_up") -> LineAmounts:
    """One line's eTIMS figures. `sply_amt` is the till's qty × price (already rounded to the cent)."""
    net = sply_amt - dc_amt
    if basis == "inclusive":
        taxable = net
        tax = round2(net * rate / (Decimal("100") + rate), rounding) if rate else ZERO
    else:
        taxable = round2(net / (Decimal("1") + rate / Decimal("100")), rounding) if rate else net
        tax = net - taxable
    dc_rt = round2(dc_amt * Decimal("100") / sply_amt, rounding) if sply_amt else ZERO
    return LineAmounts(prc, qty, sply_amt, dc_amt, dc_rt, taxable, tax, net)


def band_fields(lines: list[tuple[str, Decimal, LineAmounts]], *, band_rates: dict[str, Decimal],
                unused_band_rate: str = "zero") -> dict:
    """The 15 band fields and the three totals from (band, rate, amounts) of every line.

    A band's rate is that of its lines; a band with no lines gets 0 (or, with ETIMS_UNUSED_BAND_RATE=rate,
    the code list's rate from `band_rates`).
    """
    taxable = dict.fromkeys(BANDS, ZERO)
    tax = dict.fromkeys(BANDS, ZERO)
    rates: dict[str, Decimal] = {}
    for band, rate, amounts in lines:
        taxable[band] += amounts.taxbl_amt
        tax[band] += amounts.tax_amt
        rates.setdefault(band, rate)
    fields: dict = {}
    for band in BANDS:
        fields[f"taxblAmt{band}"] = taxable[band]
    for band in BANDS:
        rate = rates.get(band)
        if rate is None:
            rate = band_rates.get(band, ZERO) if unused_band_rate == "rate" else ZERO
        fields[f"taxRt{band}"] = rate
    for band in BANDS:
        fields[f"taxAmt{band}"] = tax[band]
    fields["totTaxblAmt"] = sum(taxable.values(), ZERO)
    fields["totTaxAmt"] = sum(tax.values(), ZERO)
    fields["totAmt"] = sum((amounts.tot_amt for _, _, amounts in lines), ZERO)
    return fields


def to_json_numbers(value):
    """Decimals as JSON numbers with their cents (KRA wants numbers, not strings)."""
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    if isinstance(value, dict):
        return {k: to_json_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json_numbers(v) for v in value]
    return value
