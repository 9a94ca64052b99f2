"""The analytics and notification pages: figures on the page, empty states, bad input, branch
scoping, the one-click draft, htmx fragments and query counts that do not grow with the rows."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone

from core.roles import Role
from inventory.models import Purchase
from inventory.tests.factories import ProductFactory, SupplierFactory, stock_in
from pos.tests.factories import CustomerFactory, UserFactory
from reports.analytics_models import BasketPair, ProductForecast
from reports.notifications.models import Notification, NotificationEvent, NotificationPreference
from reports.tests.analytics_support import completed_sale, local_dt

pytestmark = pytest.mark.django_db


def _forecast(product, branch, per_day="2", **extra):
    daily = [D(per_day)] * 30
    return ProductForecast.objects.create(
        product=product, branch=branch, computed_at=timezone.now(), as_of=timezone.localdate(), method="HW",
        history_days=60, next_7=sum(daily[:7]), next_30=sum(daily), daily=[str(x) for x in daily], **extra,
    )


def _forecasts(branch, n, supplier=None):
    for i in range(n):
        product = ProductFactory(name=f"Item {i:03d}", default_supplier=supplier, reorder_level=D("0"),
                                 reorder_quantity=D("0"))
        _forecast(product, branch, holdout_days=14, holdout_sold=D("28"), mae=D("0.5"), wape=D("25.0"))


# ---------------------------------------------------------------------------- forecasts
def test_forecast_page_shows_figures_and_the_error(branch, manager_client):
    product = ProductFactory(name="Jogoo maize flour 2kg")
    stock_in(product, branch, 12)
    _forecast(product, branch, holdout_days=14, holdout_sold=D("28"), mae=D("0.5"), wape=D("25.0"))
    response = manager_client.get(reverse("reports:analytics_forecasts"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Jogoo maize flour 2kg" in html and "25.0 %" in html
    assert ">14<" in html and ">60<" in html and "12 pc" in html
    assert ">6<" in html  # days of stock: 12 on hand / 2 a day


def test_forecast_page_empty_state_and_search(branch, owner_client):
    response = owner_client.get(reverse("reports:analytics_forecasts"))
    assert "No forecasts yet" in response.content.decode()
    _forecast(ProductFactory(name="Sugar"), branch)
    response = owner_client.get(reverse("reports:analytics_forecasts"), {"q": "salt"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "No forecast for a product matching" in html and "<nav" not in html  # the fragment only


def test_forecast_list_query_count_does_not_grow(branch, manager_client, django_assert_max_num_queries):
    _forecasts(branch, 3)
    with django_assert_max_num_queries(12) as small:
        manager_client.get(reverse("reports:analytics_forecasts"))
    _forecasts(branch, 40)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = manager_client.get(reverse("reports:analytics_forecasts"))
    assert response.content.decode().count("Item 0") == 43  # all on one page (50 per page)


def test_a_manager_only_sees_their_branch(branch, other_branch, manager_client, owner_client):
    _forecast(ProductFactory(name="Westlands only"), other_branch)
    response = manager_client.get(reverse("reports:analytics_forecasts"), {"branch": other_branch.pk})
    assert response.status_code == 403 and "Westlands only" not in response.content.decode()
    assert "your own branch" in response.content.decode()
    response = owner_client.get(reverse("reports:analytics_forecasts"), {"branch": other_branch.pk})
    assert "Westlands only" in response.content.decode()


@pytest.mark.parametrize("bad", ["999999", "abc", "all"])
def test_unknown_branch_is_a_clear_message(owner_client, bad):
    response = owner_client.get(reverse("reports:analytics_forecasts"), {"branch": bad})
    assert response.status_code == 400 and "There is no such branch." in response.content.decode()


def test_overview_shows_the_overall_error(branch, owner_client):
    _forecasts(branch, 2)
    html = owner_client.get(reverse("reports:analytics_index")).content.decode()
    assert "2 products forecast" in html and "25.0 %" in html


# ---------------------------------------------------------------------------- reorder
def test_reorder_page_and_one_click_draft(branch, manager, manager_client, settings):
    settings.REORDER_LEAD_DAYS, settings.REORDER_COVER_DAYS = 7, 7
    supplier = SupplierFactory(name="Bidco Africa")
    product = ProductFactory(name="Cooking oil", default_supplier=supplier, reorder_level=D("0"),
                             reorder_quantity=D("0"), cost_price=D("250.00"))
    stock_in(product, branch, 5)
    _forecast(product, branch)  # 2 a day → 28 over 14 days, 5 on hand → order 23
    html = manager_client.get(reverse("reports:analytics_reorder")).content.decode()
    assert "Bidco Africa" in html and "23 pc" in html and "5,750.00" in html
    response = manager_client.post(
        reverse("reports:analytics_reorder_draft"), {"supplier": supplier.pk, "branch": branch.pk}
    )
    purchase = Purchase.objects.get()
    assert response.status_code == 302 and response["Location"] == purchase.get_absolute_url()
    assert purchase.created_by == manager and purchase.lines.get().quantity_ordered == D("23")
    # Again: now on order, nothing left to suggest; a clear message and no second purchase.
    response = manager_client.post(
        reverse("reports:analytics_reorder_draft"), {"supplier": supplier.pk, "branch": branch.pk}, follow=True
    )
    assert "Nothing to order from Bidco Africa" in response.content.decode()
    assert Purchase.objects.count() == 1


@pytest.mark.parametrize("data", [{}, {"supplier": "x", "branch": "1"}, {"supplier": "999999", "branch": "1"}])
def test_draft_with_bad_input_changes_nothing(manager_client, data):
    response = manager_client.post(reverse("reports:analytics_reorder_draft"), data, follow=True)
    assert "Choose a supplier and a branch" in response.content.decode()
    assert not Purchase.objects.exists()


def test_a_manager_cannot_draft_for_another_branch(other_branch, manager_client):
    supplier = SupplierFactory()
    response = manager_client.post(
        reverse("reports:analytics_reorder_draft"), {"supplier": supplier.pk, "branch": other_branch.pk}, follow=True
    )
    assert "only order for your own branch" in response.content.decode()
    assert not Purchase.objects.exists()


def test_reorder_query_count_does_not_grow(branch, manager_client, django_assert_max_num_queries):
    supplier = SupplierFactory()
    _forecasts(branch, 3, supplier)
    with django_assert_max_num_queries(12) as small:
        manager_client.get(reverse("reports:analytics_reorder"))
    _forecasts(branch, 30, supplier)
    with django_assert_max_num_queries(len(small.captured_queries)):
        html = manager_client.get(reverse("reports:analytics_reorder")).content.decode()
    assert html.count("Item 0") == 33


# ---------------------------------------------------------------------------- trends, basket, customers, anomalies
def test_trends_page(branch, employee, owner_client):
    product = ProductFactory(name="Rising star")
    completed_sale(branch=branch, cashier=employee, when=local_dt(timezone.localdate() - dt.timedelta(days=2)),
                   items=[(product, 9)])
    html = owner_client.get(reverse("reports:analytics_trends"), {"branch": "all"}).content.decode()
    assert "Rising star" in html and "+9" in html and "Nothing is selling less than before." in html


def test_trends_bad_period(owner_client):
    response = owner_client.get(reverse("reports:analytics_trends"), {"days": "5000"})
    assert response.status_code == 400 and "Choose a period" in response.content.decode()


def test_basket_page_and_query_count(branch, owner_client, django_assert_max_num_queries):
    html = owner_client.get(reverse("reports:analytics_basket")).content.decode()
    assert "No pairs yet" in html

    def pairs(n):
        for _ in range(n):
            a, b = sorted([ProductFactory(), ProductFactory()], key=lambda p: p.pk)
            BasketPair.objects.create(
                branch=branch, product_a=a, product_b=b, computed_at=timezone.now(), window_days=90, sales_count=10,
                pair_count=4, count_a=5, count_b=5, support=D("0.4"), confidence_a_b=D("0.8"),
                confidence_b_a=D("0.8"), lift=D("1.600"),
            )

    pairs(2)
    with django_assert_max_num_queries(12) as small:
        owner_client.get(reverse("reports:analytics_basket"))
    pairs(20)
    with django_assert_max_num_queries(len(small.captured_queries)):
        html = owner_client.get(reverse("reports:analytics_basket")).content.decode()
    assert "40.0 %" in html and "80.0 %" in html and "1.60" in html


def test_customer_segments_page(branch, employee, owner_client):
    assert "No sales to named customers" in owner_client.get(reverse("reports:analytics_customers")).content.decode()
    customer = CustomerFactory(name="Wanjiku Mwangi")
    completed_sale(branch=branch, cashier=employee, customer=customer,
                   when=local_dt(timezone.localdate() - dt.timedelta(days=1)), items=[(ProductFactory(), 2)])
    html = owner_client.get(reverse("reports:analytics_customers"), {"segment": "Regular"}).content.decode()
    assert "Wanjiku Mwangi" in html
    response = owner_client.get(reverse("reports:analytics_customers"), {"segment": "Nonsense"})
    assert response.status_code == 400 and "no such segment" in response.content.decode()


def test_anomalies_page(branch, owner_client):
    assert "No cashier sold" in owner_client.get(reverse("reports:analytics_anomalies")).content.decode()
    product = ProductFactory()
    for name in ("Ann", "Ben", "Cy"):
        person = UserFactory(role=Role.EMPLOYEE, branch=branch, full_name=name)
        completed_sale(branch=branch, cashier=person, when=local_dt(timezone.localdate()), items=[(product, 1)])
    html = owner_client.get(reverse("reports:analytics_anomalies"), {"days": "7"}).content.decode()
    assert "Ann" in html and "Cy" in html
    assert owner_client.get(reverse("reports:analytics_anomalies"), {"days": "x"}).status_code == 400


# ---------------------------------------------------------------------------- notifications
def _notes(user, n, start=0):
    for i in range(start, start + n):
        Notification.objects.create(user=user, event=NotificationEvent.LOW_STOCK, key=f"k{i}", title=f"Note {i}",
                                    url="/stock/alerts/", created_at=timezone.now())


def test_badge_list_and_mark_read(manager, manager_client):
    _notes(manager, 2)
    html = manager_client.get(reverse("home")).content.decode()
    assert 'id="notification-badge"' in html and ">2<span" in html
    note = Notification.objects.filter(user=manager).first()
    response = manager_client.post(reverse("reports:notification_read", args=[note.pk]), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "Read" in html and 'hx-swap-oob="true"' in html and ">1<span" in html
    note.refresh_from_db()
    assert note.read_at is not None
    html = manager_client.get(reverse("reports:notifications"), {"show": "unread"}).content.decode()
    assert "Note 0" in html or "Note 1" in html
    response = manager_client.post(reverse("reports:notification_read_all"), follow=True)
    assert "1 notification marked read." in response.content.decode()
    assert not Notification.objects.filter(user=manager, read_at__isnull=True).exists()


def test_mark_read_without_htmx_goes_to_the_link(manager, manager_client):
    _notes(manager, 1)
    note = Notification.objects.get()
    response = manager_client.post(reverse("reports:notification_read", args=[note.pk]))
    assert response.status_code == 302 and response["Location"] == "/stock/alerts/"


def test_someone_elses_notification_is_not_found(owner, manager_client):
    _notes(owner, 1)
    note = Notification.objects.get()
    assert manager_client.post(reverse("reports:notification_read", args=[note.pk])).status_code == 404
    note.refresh_from_db()
    assert note.read_at is None


def test_notification_list_query_count_does_not_grow(manager, manager_client, django_assert_max_num_queries):
    assert "No notifications yet" in manager_client.get(reverse("reports:notifications")).content.decode()
    _notes(manager, 3)
    with django_assert_max_num_queries(15) as small:
        manager_client.get(reverse("reports:notifications"))
    _notes(manager, 30, start=3)
    with django_assert_max_num_queries(len(small.captured_queries)):
        html = manager_client.get(reverse("reports:notifications")).content.decode()
    assert html.count("Note ") >= 33


def test_preferences_page_saves_choices(manager, manager_client):
    html = manager_client.get(reverse("reports:notification_settings")).content.decode()
    assert "Low or out of stock" in html and "Daily summary" not in html  # owners only
    response = manager_client.post(
        reverse("reports:notification_settings"), {"on": ["LOW_STOCK:EMAIL", "CASH_DIFF:IN_APP"]}
    )
    assert response.status_code == 302
    on = set(NotificationPreference.objects.filter(user=manager, enabled=True).values_list("event", "channel"))
    assert on == {("LOW_STOCK", "EMAIL"), ("CASH_DIFF", "IN_APP")}


@pytest.mark.parametrize("value", ["NOPE:EMAIL", "LOW_STOCK:PIGEON", "DAILY_SUMMARY:IN_APP"])
def test_preferences_bad_input_changes_nothing(manager_client, value):
    response = manager_client.post(reverse("reports:notification_settings"), {"on": [value]})
    assert response.status_code == 400
    assert not NotificationPreference.objects.exists()


def test_a_cashier_has_no_events_to_choose(employee_client):
    html = employee_client.get(reverse("reports:notification_settings")).content.decode()
    assert "Your role gets no notifications yet" in html
