"""Faults a shop will meet: the database connection dies in the middle of a checkout, Redis (cache and
queue) stops, and M-Pesa callbacks arrive while the Huey consumer is down. docs/production.md ("When
things fail") says what the till does in each case; these tests hold it to that.

The Huey consumer is played by `run_consumer`: it takes tasks off the real queue storage (Redis or a
SQLite file) and executes them, which is what a consumer's worker does; the consumer being "down" is
simply nobody doing that. Tests that run tasks are transactional: a task closes its database connection
when it ends, as in the consumer, which a test's wrapping transaction would not survive on MariaDB.
"""

import re
import shutil
import socket
import subprocess
import threading
import time
import uuid
from decimal import Decimal as D

import pytest
from django.db import OperationalError, connection, connections
from django.test import Client
from huey.contrib.djhuey import HUEY
from huey.storage import RedisStorage, SqliteStorage
from prometheus_client import REGISTRY

from cashdesk.models import Payment, PaymentStatus
from cashdesk.mpesa import services as mpesa
from cashdesk.mpesa import tasks
from cashdesk.mpesa.models import InboxOutcome, MpesaInbox, StkRequest, StkStatus
from cashdesk.tests.factories import open_session, ring_up
from cashdesk.tests.mpesa_support import FakeDaraja, callback_url, sample_bytes, stk_callback_body
from core.ops.queue import enqueue_on_commit
from core.roles import Role
from inventory.management.commands.check_stock import stock_discrepancies
from inventory.models import StockLevel, StockMovement
from inventory.tests.factories import ProductFactory, stock_in
from pos.sales.models import Sale, SaleStatus
from pos.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SUCCESS_ID = "ws_CO_191220191020363925"  # the CheckoutRequestID of the stk_callback_success sample
_KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


def counter(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def run_consumer() -> int:
    """What a Huey consumer's worker does: take each waiting task off the queue and run it, or put it
    on the schedule if it is for later (the STK query a push schedules a minute ahead). Returns how
    many tasks ran."""
    done = 0
    while (task := HUEY.dequeue()) is not None:
        if not HUEY.ready_to_run(task):
            HUEY.add_schedule(task)
            continue
        HUEY.execute(task)
        done += 1
    return done


@pytest.fixture
def real_queue(monkeypatch):
    """Tasks go onto a real queue storage instead of running at once (the suite's default). The
    cash desk's conftest runs M-Pesa tasks inline; here they are enqueued as in production."""

    def use(storage):
        monkeypatch.setattr(HUEY, "_immediate", False)
        monkeypatch.setattr(HUEY, "storage", storage)
        monkeypatch.setattr(
            mpesa, "enqueue_task", lambda task, *args: enqueue_on_commit(task, *args, fallback="inline")
        )
        return storage

    return use


@pytest.fixture
def daraja():
    with FakeDaraja() as fake:
        yield fake


def post_callback(client, body: bytes):
    return client.post(callback_url(), data=body, content_type="application/json")


def sold_once(sale: Sale) -> None:
    """Completed exactly once: one confirmed payment covering it, one stock movement per line."""
    sale.refresh_from_db()
    assert sale.status == SaleStatus.COMPLETED and sale.number
    payments = list(sale.payments.filter(status=PaymentStatus.CONFIRMED))
    assert len(payments) == 1 and payments[0].amount - payments[0].change_given == sale.total
    assert StockMovement.objects.filter(kind="SALE", reference_id=str(sale.pk)).count() == sale.lines.count()
    assert stock_discrepancies() == []


# ---------------------------------------------------------------------------- the database connection dies
def _lose_the_connection() -> None:
    """The checkout's database connection dies under it.

    MariaDB: another connection `KILL`s it, as a server restart or a network cut would; its next query
    fails with "Lost connection"/"server has gone away" and the server rolls the transaction back.
    SQLite has no connection to lose (the database is a file in the process): the write fails as a
    full disk or an I/O error would make it fail.
    """
    if connection.vendor == "mysql":
        victim = connection.connection.thread_id()

        def kill():
            with connections["default"].cursor() as cursor:
                cursor.execute(f"KILL {int(victim)}")
            connections["default"].close()

        killer = threading.Thread(target=kill)
        killer.start()
        killer.join()
        return
    raise OperationalError("disk I/O error")


@pytest.mark.django_db(transaction=True)  # real commits and a real rollback, as in production
def test_a_connection_lost_mid_checkout_writes_nothing_and_the_retry_completes_once(employee, branch, monkeypatch):
    open_session(employee)
    sale = ring_up(employee, branch, ("120", "2"), ("80", "1"), ("45", "3"))
    stock_before = dict(StockLevel.objects.values_list("product_id", "quantity"))
    till = Client(raise_request_exception=False)  # the browser sees a 500, not a Python exception
    till.force_login(employee)
    key = uuid.uuid4().hex
    form = {"sale": sale.pk, "idempotency_key": key, "cash": "500"}

    import pos.sales.services

    real_stock_move = pos.sales.services.stock_move
    written = {}

    def stock_move_then_lose_the_connection(**kwargs):
        result = real_stock_move(**kwargs)  # payments, the sale's number, stock rows and movements are written…
        if not written:
            written["payments"] = Payment.objects.filter(sale=sale).count()
            written["movements"] = StockMovement.objects.filter(kind="SALE", reference_id=str(sale.pk)).count()
            _lose_the_connection()  # …then the connection dies before the transaction commits
        return result

    monkeypatch.setattr(pos.sales.services, "stock_move", stock_move_then_lose_the_connection)
    failed = till.post("/till/checkout/", form, HTTP_HX_REQUEST="true")
    assert failed.status_code == 500
    assert written == {"payments": 1, "movements": 3}  # it really failed half-way through

    # Nothing of it was kept.
    sale.refresh_from_db()
    assert sale.status == SaleStatus.OPEN and not sale.number and not sale.idempotency_key
    assert not Payment.objects.filter(sale=sale).exists()
    assert not StockMovement.objects.filter(kind="SALE").exists()
    assert dict(StockLevel.objects.values_list("product_id", "quantity")) == stock_before
    assert stock_discrepancies() == []

    # The till sends the same request again (the pay panel still holds the key): it completes, once.
    retried = till.post("/till/checkout/", form, HTTP_HX_REQUEST="true")
    assert retried.status_code == 200 and retried["HX-Redirect"] == f"/sales/{sale.pk}/receipt/"
    again = till.post("/till/checkout/", form, HTTP_HX_REQUEST="true")
    assert again["HX-Redirect"] == retried["HX-Redirect"]
    sold_once(sale)
    assert Sale.objects.filter(status=SaleStatus.COMPLETED).count() == 1
    after = dict(StockLevel.objects.values_list("product_id", "quantity"))
    assert sum(stock_before[pk] - after[pk] for pk in after) == D("6")  # 2 + 1 + 3 items left the shelf once


# ---------------------------------------------------------------------------- Redis stops
class PrivateRedis:
    """A redis-server of this test's own on a free port, with an append-only file (as docs/production.md
    configures Redis), that the test can stop and start again."""

    def __init__(self, folder):
        self.folder = folder
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
             "--dir", str(self.folder), "--daemonize", "no", "--logfile", str(self.folder / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.process is not None:
            self.process.terminate()  # SIGTERM: Redis flushes its append-only file and exits
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def private_redis(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    redis = PrivateRedis(tmp_path).start()
    yield redis
    redis.stop()


def _sell_through_the_till(till, employee, branch, *prices) -> Sale:
    """Add items by tapping them and pay cash, as the till's pages do; returns the completed sale."""
    products = [ProductFactory(selling_price=D(price)) for price in prices]
    for product in products:
        stock_in(product, branch, 50)
        added = till.post(f"/till/add/{product.pk}/", HTTP_HX_REQUEST="true")
        assert added.status_code == 200 and 'data-testid="cart-line"' in added.content.decode()
    sale = Sale.objects.get(open_for_cashier=employee.pk)
    panel = till.get("/till/pay/", HTTP_HX_REQUEST="true")
    key = _KEY.search(panel.content.decode()).group(1)
    paid = till.post("/till/checkout/", {"sale": sale.pk, "idempotency_key": key, "cash": "1000"},
                     HTTP_HX_REQUEST="true")
    assert paid.status_code == 200 and paid["HX-Redirect"] == f"/sales/{sale.pk}/receipt/"
    return sale


@pytest.mark.django_db(transaction=True)  # a Huey task closes its database connection when done
def test_with_redis_stopped_the_till_still_sells_and_the_queue_catches_up(
        private_redis, real_queue, daraja, settings, employee, branch, client, django_capture_on_commit_callbacks):
    settings.CACHES = {
        "default": {
            "BACKEND": "core.ops.cache.ResilientRedisCache",
            "LOCATION": private_redis.url,
            "KEY_PREFIX": "asiria",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    real_queue(RedisStorage(name="asiria-faults", url=private_redis.url))
    open_session(employee)
    till = Client()
    till.force_login(employee)
    # one open sale per cashier: the two M-Pesa customers are served at two other tills
    second_till, third_till = (UserFactory(role=Role.EMPLOYEE, branch=branch) for _ in range(2))
    open_session(second_till)
    open_session(third_till)

    # Redis up: a sale, and an M-Pesa push that waits in the queue for the consumer.
    with django_capture_on_commit_callbacks(execute=True):
        first = _sell_through_the_till(till, employee, branch, "150", "90")
    mpesa_sale = ring_up(second_till, branch, ("700", "1"))
    with django_capture_on_commit_callbacks(execute=True):
        queued = mpesa.mpesa_stk_start(sale=mpesa_sale, phone="0708374149", user=second_till)
    assert HUEY.pending_count() == 1 and daraja.pushes == []

    private_redis.stop()
    cache_errors = counter("asiria_cache_errors_total", operation="get")
    inline = counter("asiria_queue_fallbacks_total", fallback="inline")

    # Redis down: the till still sells (sessions and shop settings come from the database)…
    with django_capture_on_commit_callbacks(execute=True):
        during = _sell_through_the_till(till, employee, branch, "230", "45", "60")
    assert counter("asiria_cache_errors_total", operation="get") > cache_errors
    # …and M-Pesa still works: the request sends the push and applies the callback itself.
    second = ring_up(third_till, branch, ("1650", "1"))
    with django_capture_on_commit_callbacks(execute=True):
        pushed = mpesa.mpesa_stk_start(sale=second, phone="0722000111", user=third_till)
    pushed.refresh_from_db()
    assert pushed.status == StkStatus.SENT and pushed.checkout_request_id == SUCCESS_ID
    with django_capture_on_commit_callbacks(execute=True):
        assert post_callback(client, sample_bytes("stk_callback_success")).status_code == 200
    assert counter("asiria_queue_fallbacks_total", fallback="inline") == inline + 2
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json()["checks"]["cache"].startswith("down")

    # Redis back (its append-only file kept the queue): the consumer sends the push queued before the stop.
    private_redis.start()
    assert HUEY.pending_count() == 1
    assert run_consumer() == 1
    queued.refresh_from_db()
    assert queued.status == StkStatus.SENT and queued.checkout_request_id and len(daraja.pushes) == 2
    with django_capture_on_commit_callbacks(execute=True):
        post_callback(client, stk_callback_body("stk_callback_success", checkout_request_id=queued.checkout_request_id,
                                                amount="700", receipt="QKB7RT61SW"))
    assert run_consumer() == 1

    for sale in (first, during, second, mpesa_sale):
        sold_once(sale)
    assert Sale.objects.filter(status=SaleStatus.COMPLETED).count() == 4
    assert client.get("/healthz").status_code == 200


# ---------------------------------------------------------------------------- the consumer is down
@pytest.fixture
def sqlite_queue(real_queue, tmp_path):
    return real_queue(SqliteStorage(name="asiria-faults", filename=str(tmp_path / "huey.sqlite3")))


@pytest.mark.django_db(transaction=True)  # a Huey task closes its database connection when done
def test_callbacks_while_the_consumer_is_down_are_kept_and_applied_once_when_it_runs(
        sqlite_queue, daraja, employee, branch, client, django_capture_on_commit_callbacks):
    open_session(employee)
    sale = ring_up(employee, branch, ("1650", "1"))
    with django_capture_on_commit_callbacks(execute=True):
        stk = mpesa.mpesa_stk_start(sale=sale, phone="0708374149", user=employee)
    run_consumer()  # the push goes out while the consumer is still running
    stk.refresh_from_db()
    assert stk.status == StkStatus.SENT

    # The consumer stops. The customer pays; Safaricom posts the callback three times.
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            answer = post_callback(client, sample_bytes("stk_callback_success"))
        assert answer.status_code == 200 and answer.json()["ResultCode"] == 0  # answered at once, stored
    assert MpesaInbox.objects.filter(processed_at__isnull=True).count() == 3
    assert HUEY.pending_count() == 3
    sale.refresh_from_db()
    stk.refresh_from_db()
    assert sale.status == SaleStatus.OPEN and stk.status == StkStatus.SENT
    assert stk.payment.status == PaymentStatus.PENDING

    # The consumer comes back: the first copy is applied, the repeats are recorded and ignored.
    assert run_consumer() == 3
    assert list(MpesaInbox.objects.order_by("pk").values_list("outcome", flat=True)) == [
        InboxOutcome.APPLIED, InboxOutcome.DUPLICATE, InboxOutcome.DUPLICATE]
    sold_once(sale)
    stk.refresh_from_db()
    assert stk.status == StkStatus.PAID and stk.receipt_number == "NLJ7RT61SV"

    # Safaricom repeats itself once more, later: nothing changes.
    with django_capture_on_commit_callbacks(execute=True):
        post_callback(client, sample_bytes("stk_callback_success"))
    run_consumer()
    assert MpesaInbox.objects.order_by("-pk").first().outcome == InboxOutcome.DUPLICATE
    sold_once(sale)


@pytest.mark.django_db(transaction=True)  # a Huey task closes its database connection when done
def test_a_callback_whose_task_was_lost_is_applied_by_the_sweep_once(
        sqlite_queue, daraja, employee, branch, client, django_capture_on_commit_callbacks):
    open_session(employee)
    sale = ring_up(employee, branch, ("1650", "1"))
    with django_capture_on_commit_callbacks(execute=True):
        mpesa.mpesa_stk_start(sale=sale, phone="0708374149", user=employee)
    run_consumer()
    with django_capture_on_commit_callbacks(execute=True):
        post_callback(client, sample_bytes("stk_callback_success"))
    HUEY.storage.flush_queue()  # the queue lost it (Redis restarted without its append-only file)
    assert HUEY.pending_count() == 0

    tasks.mpesa_apply_stranded_callbacks.call_local()  # too fresh: it may still be on its way
    assert MpesaInbox.objects.get().processed_at is None
    MpesaInbox.objects.update(received_at=MpesaInbox.objects.get().received_at - mpesa.timedelta(seconds=31))
    tasks.mpesa_apply_stranded_callbacks.call_local()
    tasks.mpesa_apply_stranded_callbacks.call_local()  # the next minute's sweep finds nothing to do
    assert MpesaInbox.objects.get().outcome == InboxOutcome.APPLIED
    sold_once(sale)
    assert StkRequest.objects.get().status == StkStatus.PAID
