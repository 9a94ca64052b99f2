"""A till left open is logged out after SESSION_IDLE_TIMEOUT_MINUTES without a click."""

import time

import pytest
from django.urls import reverse

from pos.people.middleware import BACKGROUND_HEADER, IDLE_SESSION_KEY

pytestmark = pytest.mark.django_db


def _last_seen(client, seconds_ago: int) -> None:
    session = client.session
    session[IDLE_SESSION_KEY] = int(time.time()) - seconds_ago
    session.save()


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_activity_is_stamped_and_a_recent_click_keeps_the_session(employee_client):
    assert employee_client.get("/").status_code == 200
    assert abs(employee_client.session[IDLE_SESSION_KEY] - time.time()) < 5
    _last_seen(employee_client, 29 * 60)
    assert employee_client.get("/").status_code == 200
    assert _logged_in(employee_client)
    assert abs(employee_client.session[IDLE_SESSION_KEY] - time.time()) < 5  # the click renewed it


def test_an_idle_till_is_logged_out_and_told_why(employee_client):
    employee_client.get("/")
    _last_seen(employee_client, 31 * 60)
    response = employee_client.get(reverse("pos:my_pin"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={reverse('pos:my_pin')}"
    assert not _logged_in(employee_client)
    login_page = employee_client.get(response["Location"])
    assert b"logged out because this screen was not used for 30 minutes" in login_page.content


def test_an_htmx_request_sends_the_whole_page_to_login(manager_client):
    manager_client.get("/")
    _last_seen(manager_client, 31 * 60)
    response = manager_client.get(
        reverse("pos:staff_list"), HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/people/staff/"
    )
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("account_login"))
    assert not _logged_in(manager_client)


def test_a_post_after_the_timeout_changes_nothing(manager_client, employee):
    manager_client.get("/")
    _last_seen(manager_client, 31 * 60)
    response = manager_client.post(reverse("pos:staff_active", args=[employee.pk]), {"reason": "left"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    employee.refresh_from_db()
    assert employee.is_active


def test_background_polling_does_not_keep_a_till_alive(employee_client):
    employee_client.get("/")
    _last_seen(employee_client, 20 * 60)
    stamp = employee_client.session[IDLE_SESSION_KEY]
    employee_client.get("/", **{f"HTTP_{BACKGROUND_HEADER.upper().replace('-', '_')}": "1"})
    assert employee_client.session[IDLE_SESSION_KEY] == stamp
    _last_seen(employee_client, 31 * 60)
    response = employee_client.get("/", **{f"HTTP_{BACKGROUND_HEADER.upper().replace('-', '_')}": "1"})
    assert response.status_code == 302 and not _logged_in(employee_client)


def test_the_timeout_is_a_setting_and_zero_turns_it_off(employee_client, employee, settings):
    employee_client.get("/")
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 5
    _last_seen(employee_client, 6 * 60)
    assert employee_client.get("/").status_code == 302
    employee_client.force_login(employee)
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 0
    _last_seen(employee_client, 10 * 60 * 60)
    assert employee_client.get("/").status_code == 200


def test_anonymous_visitors_and_the_api_are_not_affected(client):
    assert client.get(reverse("account_login")).status_code == 200
    assert client.get("/healthz").status_code == 200
    assert IDLE_SESSION_KEY not in client.session


def test_logging_in_starts_the_clock_and_the_first_page_writes_no_session(
    client, employee, django_assert_max_num_queries
):
    client.force_login(employee)
    assert abs(client.session[IDLE_SESSION_KEY] - time.time()) < 5
    with django_assert_max_num_queries(20) as captured:
        client.get(reverse("pos:my_pin"))
    writes = [q["sql"] for q in captured.captured_queries
              if "django_session" in q["sql"] and q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))]
    assert writes == []  # pages' query counts are not changed by the idle clock
