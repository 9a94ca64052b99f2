"""A lunch rush: N tills (default 8) selling at once against gunicorn, then proof that nothing was lost.

    # MariaDB + Redis, gunicorn with one worker per core, a Huey consumer, the Daraja simulator:
    DATABASE_URL=mysql://root@127.0.0.1:3306/asiria_load REDIS_URL=redis://127.0.0.1:6391/0 \\
        python bench/loadtest.py --tills 8 --sales 400 --migrate
    python bench/loadtest.py --tills 3 --sales 12            # SQLite file var/loadtest.sqlite3
    python bench/loadtest.py --url http://127.0.0.1:8000 …   # a server you started (same database!)

Each simulated till is an `httpx.AsyncClient` with its own cashier (made by `prepare`, with a cash
session opened over HTTP like the pay panel does) and sends exactly what the browser till sends:
the login form with its CSRF token, then htmx requests (`HX-Request`, `X-CSRFToken` from the page's
`hx-headers`): `POST /till/scan/` for 3–8 barcodes drawn from a small set of hot products (so every
checkout locks the same stock rows), `GET /till/pay/` (which hands out the idempotency key), then
either `POST /till/checkout/` with cash — and now and then the same request again, which must answer
with the same receipt — or an M-Pesa push (`POST /cash/sale/<id>/mpesa/push/`) whose callback the
Daraja simulator posts to gunicorn and the Huey consumer applies, while the till polls
`/cash/mpesa/<id>/` once a second, as the panel does, until `saleCompleted`.

Afterwards `verify` reads the database: completed sales of these cashiers = what the tills saw
completed (none lost, none doubled), each paid in full by confirmed payments (one per sale here),
one stock movement per line, `check_stock` clean, every M-Pesa callback processed; and no 5xx.
Prints sales per second and the median / 99th percentile of add-item and checkout; `--json` writes
the whole result for a test (config/tests/test_loadtest.py runs a short version in CI).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PASSWORD = "load-till-pass-7731"  # throw-away cashiers of a bench database  # nosec B105
HOT_PRODUCTS = 24
MPESA_PHONE = "07220{till:05d}"  # one phone per till: the simulator refuses a second prompt on a busy phone
_CSRF_PAGE = re.compile(r'hx-headers=\'\{"x-csrftoken": "([^"]+)"\}\'')
_CSRF_FORM = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_SALE = re.compile(r'name="sale" value="(\d+)"')
_KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
_DUE = re.compile(r"data-pay-due>([\d,]+\.\d\d)<")  # "Still to pay", as the server computed it
_STK = re.compile(r"/cash/mpesa/(\d+)/")
_RECEIPT = re.compile(r"/sales/(\d+)/receipt/")
_STK_STATUS = re.compile(r'data-testid="mpesa-status" data-status="([a-z_]+)"')


# ---------------------------------------------------------------------------- the database side (Django)
def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()


def prepare(*, tills: int, run: str, stock: int = 1_000_000) -> dict:
    """Cashiers `Load till <run>-<n>` (EMPLOYEE, branch MAIN) and the hot products with plenty of stock.

    Products are made once and topped up through the ledger; cashiers are new for every run (their
    phone numbers carry the run id), so a run counts only its own sales. Whole-shilling prices: an
    M-Pesa push asks for whole shillings and must pay the sale in full.
    """
    from django.db import transaction

    from core.roles import Role
    from inventory.barcodes import make_ean13
    from inventory.ledger_services import StockLine, stock_move
    from inventory.models import Category, MovementKind, Product, StockLevel, Unit
    from pos.people.models import Branch, User

    branch = Branch.objects.get(code="MAIN")
    unit, _ = Unit.objects.get_or_create(code="pc", defaults={"name": "Piece"})
    category, _ = Category.objects.get_or_create(name="Load test")
    names = ["Maize flour 2kg", "Sugar 1kg", "Milk 500ml", "Bread 400g", "Cooking oil 1l", "Rice 1kg", "Soap bar",
             "Tea leaves 250g", "Salt 1kg", "Eggs tray", "Water 1l", "Biscuits", "Juice 1l", "Matches",
             "Margarine 250g", "Beans 1kg", "Spaghetti 500g", "Toothpaste", "Candles", "Detergent 1kg",
             "Tomatoes 1kg", "Onions 1kg", "Sukuma wiki", "Chapati flour 2kg"]
    products = []
    for n, name in enumerate(names[:HOT_PRODUCTS]):
        product, _ = Product.objects.get_or_create(
            sku=f"LOAD{n:03d}",
            defaults={"name": f"{name} (load)", "barcode": make_ean13(f"61699{n:07d}"), "category": category,
                      "unit": unit, "selling_price": Decimal(35 + 17 * n), "cost_price": Decimal(20 + 10 * n),
                      "tax_class": "A" if n % 5 == 0 else "B"},
        )
        products.append(product)
    on_hand = dict(StockLevel.objects.filter(branch=branch, product__in=products).values_list("product_id", "quantity"))
    top_up = [StockLine(p.pk, Decimal(stock) - on_hand.get(p.pk, Decimal(0))) for p in products
              if on_hand.get(p.pk, Decimal(0)) < stock]
    if top_up:
        with transaction.atomic():
            stock_move(branch=branch, lines=top_up, kind=MovementKind.OPENING, reason="load test stock")
    cashiers = []
    for till in range(1, tills + 1):
        phone = f"+25471{int(run) % 10000:04d}{till:03d}"
        user = User.objects.filter(phone_number=phone).first() or User.objects.create_user(
            phone, PASSWORD, full_name=f"Load till {run}-{till}", role=Role.EMPLOYEE, branch=branch)
        cashiers.append({"till": till, "user_id": user.pk, "phone": phone})
    return {"run": run, "cashiers": cashiers, "barcodes": [p.barcode for p in products]}


def verify(*, cashier_ids: list[int], completed_ids: set[int], wait_seconds: float = 30.0) -> dict:
    """Read back what the server recorded and compare it with what the tills saw."""
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Count, Q, Sum

    from cashdesk.models import Payment, PaymentStatus
    from cashdesk.mpesa.models import MpesaInbox, StkRequest
    from inventory.management.commands.check_stock import stock_discrepancies
    from inventory.models import StockMovement
    from pos.sales.models import Sale, SaleLine, SaleStatus

    deadline = time.monotonic() + wait_seconds
    while True:  # the consumer may still be applying the last callbacks (a repeat, a stock alert…)
        stk_ids = list(StkRequest.objects.filter(sale__cashier_id__in=cashier_ids)
                       .values_list("checkout_request_id", flat=True))
        unprocessed = MpesaInbox.objects.filter(checkout_request_id__in=stk_ids, processed_at__isnull=True).count()
        if not unprocessed or time.monotonic() > deadline:
            break
        time.sleep(0.5)

    sales = Sale.objects.filter(cashier_id__in=cashier_ids, status=SaleStatus.COMPLETED)
    server_ids = set(sales.values_list("pk", flat=True))
    unpaid = []
    for sale in sales.annotate(
        paid=Sum("payments__amount", filter=Q(payments__status=PaymentStatus.CONFIRMED)),
        change=Sum("payments__change_given", filter=Q(payments__status=PaymentStatus.CONFIRMED)),
        confirmed=Count("payments", filter=Q(payments__status=PaymentStatus.CONFIRMED)),
    ).values("pk", "total", "paid", "change", "confirmed", "paid_total", "change_given"):
        if (sale["paid"] or 0) - (sale["change"] or 0) != sale["total"] or sale["confirmed"] != 1 \
                or sale["paid"] != sale["paid_total"] or sale["change"] != sale["change_given"]:
            unpaid.append(sale)
    pending_on_completed = Payment.objects.filter(sale__in=sales, status=PaymentStatus.PENDING).count()
    lines = SaleLine.objects.filter(sale__in=sales).count()
    movements = StockMovement.objects.filter(
        kind="SALE", reference_type=ContentType.objects.get_for_model(Sale),
        reference_id__in=[str(pk) for pk in server_ids]).count() if server_ids else 0
    methods = Counter(Payment.objects.filter(sale__in=sales, status=PaymentStatus.CONFIRMED)
                      .values_list("method", flat=True))
    open_lines = SaleLine.objects.filter(sale__cashier_id__in=cashier_ids, sale__status=SaleStatus.OPEN).count()
    return {
        "server_completed": len(server_ids),
        "client_completed": len(completed_ids),
        "lost": sorted(completed_ids - server_ids),
        "unexpected": sorted(server_ids - completed_ids),
        "not_paid_in_full": [str(x) for x in unpaid],
        "pending_payments_on_completed_sales": pending_on_completed,
        "lines": lines,
        "sale_stock_movements": movements,
        "stock_discrepancies": [list(map(str, x)) for x in stock_discrepancies()],
        "mpesa_callbacks_unprocessed": unprocessed,
        "payment_methods": dict(methods),
        "lines_left_in_open_carts": open_lines,
    }


def verdict(result: dict) -> list[str]:
    """Every broken invariant, in words; empty when the run is clean."""
    v, c = result["verify"], result["client"]
    problems = []
    if v["server_completed"] != v["client_completed"] or v["lost"] or v["unexpected"]:
        problems.append(f"sales: server {v['server_completed']} vs tills {v['client_completed']}, "
                        f"lost {v['lost'][:10]}, unexpected {v['unexpected'][:10]}")
    if v["client_completed"] != c["sales_planned"]:
        problems.append(f"the tills completed {v['client_completed']} of {c['sales_planned']} sales")
    if v["not_paid_in_full"] or v["pending_payments_on_completed_sales"]:
        problems.append(f"payments: {v['not_paid_in_full'][:5]}, {v['pending_payments_on_completed_sales']} pending")
    if v["sale_stock_movements"] != v["lines"]:
        problems.append(f"{v['sale_stock_movements']} sale stock movements for {v['lines']} lines")
    if v["stock_discrepancies"]:
        problems.append(f"check_stock: {v['stock_discrepancies'][:5]}")
    if v["mpesa_callbacks_unprocessed"]:
        problems.append(f"{v['mpesa_callbacks_unprocessed']} M-Pesa callbacks never applied")
    if c["status_5xx"]:
        problems.append(f"{c['status_5xx']} responses with a 5xx status")
    if c["errors"]:
        problems.append(f"till errors: {c['errors'][:5]}")
    if c["retries"] and c["retries_same_receipt"] != c["retries"]:
        problems.append(f"{c['retries'] - c['retries_same_receipt']} retried checkouts answered differently")
    return problems


# ---------------------------------------------------------------------------- the tills (HTTP only)
@dataclass
class Tally:
    scan: list[float] = field(default_factory=list)
    checkout: list[float] = field(default_factory=list)
    mpesa_push: list[float] = field(default_factory=list)
    mpesa_to_paid: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    completed: set[int] = field(default_factory=set)
    cash_sales: int = 0
    mpesa_sales: int = 0
    retries: int = 0
    retries_same_receipt: int = 0
    errors: list[str] = field(default_factory=list)


class TillError(Exception):
    pass


class Till:
    def __init__(self, *, base_url: str, number: int, phone: str, barcodes: list[str], tally: Tally,
                 rng: random.Random, mpesa_share: float, retry_share: float, poll: float):
        self.number, self.phone, self.barcodes, self.tally, self.rng = number, phone, barcodes, tally, rng
        self.mpesa_share, self.retry_share, self.poll = mpesa_share, retry_share, poll
        self.client = httpx.AsyncClient(base_url=base_url, timeout=60, follow_redirects=False,
                                        headers={"User-Agent": f"asiria-loadtest till {number}"})
        self.csrf = ""
        self.requests = 0

    async def request(self, method: str, url: str, *, htmx: bool = True, background: bool = False, **kwargs):
        self.requests += 1
        headers = {"X-Request-ID": f"till{self.number}-{self.requests}"}
        if htmx:
            headers |= {"HX-Request": "true", "HX-Current-URL": str(self.client.base_url.join("/till/"))}
        if self.csrf and method == "POST":
            headers["X-CSRFToken"] = self.csrf
        if background:
            headers["X-Asiria-Background"] = "1"
        response = await self.client.request(method, url, headers=headers, **kwargs)
        self.tally.statuses[response.status_code] += 1
        if response.status_code >= 500:
            raise TillError(f"till {self.number}: {method} {url} → {response.status_code}")
        return response

    async def login(self) -> None:
        page = await self.request("GET", "/accounts/login/", htmx=False)
        token = _CSRF_FORM.search(page.text).group(1)
        answer = await self.request("POST", "/accounts/login/", htmx=False, data={
            "csrfmiddlewaretoken": token, "login": self.phone, "password": PASSWORD})
        if answer.status_code != 302:
            raise TillError(f"till {self.number}: login answered {answer.status_code}")
        till = await self.request("GET", "/till/", htmx=False)
        if till.status_code != 200:
            raise TillError(f"till {self.number}: /till/ answered {till.status_code}")
        self.csrf = _CSRF_PAGE.search(till.text).group(1)  # what the page's <body hx-headers> sends

    async def open_session(self) -> None:
        await self.scan()  # the pay panel needs a sale; the first item goes on it
        panel = await self.request("GET", "/till/pay/")
        if 'name="opening_float"' in panel.text:
            opened = await self.request("POST", "/till/pay/session/", data={"opening_float": "5000"})
            if 'name="idempotency_key"' not in opened.text:
                raise TillError(f"till {self.number}: the cash session did not open")

    async def scan(self) -> None:
        code = self.rng.choice(self.barcodes)
        started = time.perf_counter()
        response = await self.request("POST", "/till/scan/", data={"q": code})
        self.tally.scan.append(time.perf_counter() - started)
        if response.status_code != 200 or 'data-testid="cart-line"' not in response.text:
            raise TillError(f"till {self.number}: scan answered {response.status_code}")

    async def sell(self, first_scanned: bool = False) -> None:
        for _ in range(self.rng.randint(3, 8) - (1 if first_scanned else 0)):
            await self.scan()
        panel = await self.request("GET", "/till/pay/")
        sale_id, key = int(_SALE.search(panel.text).group(1)), _KEY.search(panel.text).group(1)
        due = Decimal(_DUE.search(panel.text).group(1).replace(",", ""))
        if self.rng.random() < self.mpesa_share:
            await self.pay_mpesa(sale_id)
        else:
            await self.pay_cash(sale_id, key, due)

    async def pay_cash(self, sale_id: int, key: str, due: Decimal) -> None:
        handed = (due / 100).to_integral_value(rounding="ROUND_CEILING") * 100  # the notes a customer hands over
        form = {"sale": sale_id, "idempotency_key": key, "cash": str(handed)}
        started = time.perf_counter()
        response = await self.request("POST", "/till/checkout/", data=form)
        self.tally.checkout.append(time.perf_counter() - started)
        receipt = response.headers.get("HX-Redirect", "")
        if response.status_code != 200 or not _RECEIPT.search(receipt):
            raise TillError(f"till {self.number}: checkout of sale {sale_id} answered {response.status_code} "
                            f"without a receipt")
        completed = int(_RECEIPT.search(receipt).group(1))
        if self.rng.random() < self.retry_share:  # a double tap, or the network retried the request
            self.tally.retries += 1
            again = await self.request("POST", "/till/checkout/", data=form)
            if again.headers.get("HX-Redirect") == receipt:
                self.tally.retries_same_receipt += 1
        self.tally.completed.add(completed)
        self.tally.cash_sales += 1

    async def pay_mpesa(self, sale_id: int) -> None:
        started = time.perf_counter()
        pushed = await self.request("POST", f"/cash/sale/{sale_id}/mpesa/push/", data={
            "in_till": "1", "mpesa_phone": MPESA_PHONE.format(till=self.number), "mpesa_amount": ""})
        self.tally.mpesa_push.append(time.perf_counter() - started)
        match = _STK.search(pushed.text)
        if pushed.status_code != 200 or not match:
            raise TillError(f"till {self.number}: M-Pesa push for sale {sale_id} answered {pushed.status_code}")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            await asyncio.sleep(self.poll)
            status = await self.request("GET", f"/cash/mpesa/{match.group(1)}/", background=True,
                                        params={"in_till": "1"})
            trigger = status.headers.get("HX-Trigger-After-Settle", "") + status.headers.get("HX-Trigger", "")
            if "saleCompleted" in trigger:
                self.tally.mpesa_to_paid.append(time.perf_counter() - started)
                self.tally.completed.add(json.loads(status.headers["HX-Trigger-After-Settle"])["saleCompleted"]["sale"])
                self.tally.mpesa_sales += 1
                return
            ended = _STK_STATUS.search(status.text)
            if ended and ended.group(1) not in ("waiting", "paid"):
                raise TillError(f"till {self.number}: M-Pesa payment of sale {sale_id} ended {ended.group(1)}")
        raise TillError(f"till {self.number}: M-Pesa payment of sale {sale_id} never completed")

    async def run(self, sales: int) -> None:
        try:
            await self.login()
            await self.open_session()
            for n in range(sales):
                await self.sell(first_scanned=n == 0)
        except (TillError, httpx.HTTPError, AttributeError) as exc:  # AttributeError: a page without its field
            self.tally.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            await self.client.aclose()


async def drive(*, base_url: str, cashiers: list[dict], barcodes: list[str], sales: int, mpesa_share: float,
                retry_share: float, seed: int, poll: float = 1.0) -> tuple[Tally, float]:
    """Run every till at once; `sales` in total, shared out evenly. Returns the tally and the seconds taken."""
    tally = Tally()
    share = [sales // len(cashiers) + (1 if i < sales % len(cashiers) else 0) for i in range(len(cashiers))]
    tills = [Till(base_url=base_url, number=c["till"], phone=c["phone"], barcodes=barcodes, tally=tally,
                  rng=random.Random(seed * 1000 + c["till"]), mpesa_share=mpesa_share, retry_share=retry_share,
                  poll=poll) for c in cashiers]
    started = time.perf_counter()
    await asyncio.gather(*(till.run(n) for till, n in zip(tills, share, strict=True)))
    return tally, time.perf_counter() - started


# ---------------------------------------------------------------------------- the server side (processes)
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(*, port: int, daraja_url: str, workdir: Path, workers: int | None) -> dict:
    """The environment gunicorn and the consumer run with: this process's database and Redis settings,
    production-like otherwise (DEBUG off, JSON logs at WARNING, no .env file read)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV_"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.local"),
        "ENV_FILE": str(workdir / "no.env"),
        "DEBUG": "false",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_ACCESS_LOG": "",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
        "MPESA_ENVIRONMENT": "simulator",
        "MPESA_BASE_URL": daraja_url,
        "MPESA_CONSUMER_KEY": "",
        "MPESA_CONSUMER_SECRET": "",
        "HUEY_IMMEDIATE": "false",
        "TMPDIR": str(workdir),
        "RATE_LIMIT_LOGIN": "1000/m/ip",  # every till logs in from 127.0.0.1
    })
    env.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    env.setdefault("MPESA_CALLBACK_SECRET", secrets.token_urlsafe(30))
    if workers:
        env["GUNICORN_WORKERS"] = str(workers)
    return env


@contextlib.contextmanager
def serving(*, workdir: Path, workers: int | None = None, huey_workers: int = 2, callback_delay: float = 1.0):
    """The Daraja simulator (a thread here), gunicorn and a Huey consumer (processes); yields the base URL."""
    from cashdesk.mpesa.daraja.simulator import DarajaSimulator

    workdir.mkdir(parents=True, exist_ok=True)
    simulator = DarajaSimulator(port=0, callback_delay=callback_delay).start()
    port = free_port()
    env = server_env(port=port, daraja_url=simulator.base_url, workdir=workdir, workers=workers)
    env["HUEY_WORKERS"] = str(huey_workers)
    os.environ["MPESA_CALLBACK_SECRET"] = env["MPESA_CALLBACK_SECRET"]
    python = sys.executable
    processes = []
    logs = []
    try:
        for name, command in (
            ("gunicorn", [str(Path(python).parent / "gunicorn"), "config.wsgi", "-c", "config/gunicorn.conf.py"]),
            ("huey", [python, "manage.py", "run_huey"]),
        ):
            out = (workdir / f"{name}.log").open("w")
            logs.append(out)
            processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                              start_new_session=True))
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if processes[0].poll() is not None:
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not answer /healthz: " + (workdir / "gunicorn.log").read_text()[-2000:])
        if processes[0].poll() is not None:
            raise RuntimeError("gunicorn stopped: " + (workdir / "gunicorn.log").read_text()[-2000:])
        time.sleep(1.0)  # a consumer that cannot start (a bad setting, an import cycle) has exited by now
        if processes[1].poll() is not None:
            raise RuntimeError("the Huey consumer stopped: " + (workdir / "huey.log").read_text()[-3000:])
        yield base
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGINT if process is processes[-1] else signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for out in logs:
            out.close()
        simulator.stop()


# ---------------------------------------------------------------------------- report
def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))] if ordered else 0.0


def summary(tally: Tally, seconds: float, *, sales_planned: int) -> dict:
    def timing(values):
        return {"n": len(values), "median_ms": round(statistics.median(values) * 1000, 1) if values else None,
                "p99_ms": round(percentile(values, 99) * 1000, 1) if values else None,
                "max_ms": round(max(values) * 1000, 1) if values else None}

    return {
        "sales_planned": sales_planned,
        "sales_completed": len(tally.completed),
        "cash_sales": tally.cash_sales,
        "mpesa_sales": tally.mpesa_sales,
        "seconds": round(seconds, 2),
        "sales_per_second": round(len(tally.completed) / seconds, 2) if seconds else 0,
        "requests": sum(tally.statuses.values()),
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "status_5xx": sum(v for k, v in tally.statuses.items() if k >= 500),
        "retries": tally.retries,
        "retries_same_receipt": tally.retries_same_receipt,
        "errors": tally.errors,
        "add_item": timing(tally.scan),
        "checkout_cash": timing(tally.checkout),
        "mpesa_push": timing(tally.mpesa_push),
        "mpesa_push_to_completed": timing(tally.mpesa_to_paid),
    }


def print_report(result: dict) -> None:
    c, v = result["client"], result["verify"]
    print(f"# AsiriaPOS load test — {result['database']}, {result['tills']} tills, {result['workers']} gunicorn "
          f"workers, {result['cores']} cores")
    print(f"{c['sales_completed']} sales ({c['cash_sales']} cash, {c['mpesa_sales']} M-Pesa) in {c['seconds']} s: "
          f"**{c['sales_per_second']} sales/s**; {c['requests']} requests, statuses {c['statuses']}, "
          f"{c['retries']} checkouts retried")
    print("| request | n | median ms | p99 ms | max ms |\n| --- | ---: | ---: | ---: | ---: |")
    for label, key in (("add item (POST /till/scan/)", "add_item"), ("checkout, cash (POST /till/checkout/)",
                       "checkout_cash"), ("M-Pesa push (POST …/mpesa/push/)", "mpesa_push"),
                       ("M-Pesa push → sale completed seen by the till", "mpesa_push_to_completed")):
        t = c[key]
        print(f"| {label} | {t['n']} | {t['median_ms']} | {t['p99_ms']} | {t['max_ms']} |")
    print(f"server: {v['server_completed']} completed sales (tills saw {v['client_completed']}), {v['lines']} lines, "
          f"{v['sale_stock_movements']} sale stock movements, payments {v['payment_methods']}, "
          f"check_stock {'clean' if not v['stock_discrepancies'] else 'NOT clean'}")
    problems = result["problems"]
    print("OK: no sale lost or doubled, every sale paid in full, stock matches the ledger, no 5xx"
          if not problems else "FAILED:\n  " + "\n  ".join(problems))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tills", type=int, default=8)
    parser.add_argument("--sales", type=int, default=400, help="sales in total, shared out between the tills")
    parser.add_argument("--mpesa-share", type=float, default=0.3, help="share of sales paid by M-Pesa")
    parser.add_argument("--retry-share", type=float, default=0.1, help="share of cash checkouts sent twice")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: one per core)")
    parser.add_argument("--huey-workers", type=int, default=2)
    parser.add_argument("--callback-delay", type=float, default=1.0, help="simulated customer's PIN time (s)")
    parser.add_argument("--poll", type=float, default=1.0, help="the pay panel's M-Pesa polling interval (s)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--url", help="drive a server that is already running instead of starting one")
    parser.add_argument("--migrate", action="store_true", help="create the database if needed and migrate first")
    parser.add_argument("--workdir", type=Path, default=None, help="logs of gunicorn and the consumer")
    parser.add_argument("--json", type=Path, default=None, help="write the result here as JSON")
    args = parser.parse_args(argv)

    if not os.environ.get("DATABASE_URL") and not os.environ.get("SQLITE_PATH"):
        os.environ["SQLITE_PATH"] = str(ROOT / "var" / "loadtest.sqlite3")
    django_setup()
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would drown the report
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    if args.migrate:
        call_command("ensure_database", verbosity=0)
        call_command("migrate", verbosity=0, interactive=False)
    run = str(int(time.time()) % 10000)
    data = prepare(tills=args.tills, run=run)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="asiria-load-"))
    with contextlib.ExitStack() as stack:
        base = args.url or stack.enter_context(serving(workdir=workdir, workers=args.workers,
                                                       huey_workers=args.huey_workers,
                                                       callback_delay=args.callback_delay))
        tally, seconds = asyncio.run(drive(base_url=base, cashiers=data["cashiers"], barcodes=data["barcodes"],
                                           sales=args.sales, mpesa_share=args.mpesa_share,
                                           retry_share=args.retry_share, seed=args.seed, poll=args.poll))
        connection.close()  # the database may have been busy for minutes; start verification afresh
        checked = verify(cashier_ids=[c["user_id"] for c in data["cashiers"]], completed_ids=tally.completed)
    workers = args.workers or len(os.sched_getaffinity(0))
    result = {
        "database": f"{connection.vendor} {connection.settings_dict['NAME']}",
        "queue": settings.HUEY.get("huey_class"),
        "tills": args.tills, "workers": workers, "cores": os.cpu_count(),
        "client": summary(tally, seconds, sales_planned=args.sales), "verify": checked, "workdir": str(workdir),
    }
    result["problems"] = verdict(result)
    print_report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
