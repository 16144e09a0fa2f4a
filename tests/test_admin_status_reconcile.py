"""The admin front page's "last reconciliation run" figure: its age and outcome, linked to that run.

Rendered through Django's test client as a staff member sees it (tests/test_admin_inbox.py has
the rest of the status board).
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from reconcile.models import ReconcileRun, RunOutcome, RunTrigger

pytestmark = pytest.mark.django_db

LABEL = "Last reconciliation run"


@pytest.fixture
def staff(client, django_user_model):
    user = django_user_model.objects.create_user("watcher", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=["view_chat", "view_reconcilerun"]))
    client.force_login(user)
    return client


def run(*, minutes_ago: float, outcome: str = RunOutcome.OK, trigger: str = RunTrigger.BEAT) -> ReconcileRun:
    finished = timezone.now() - timedelta(minutes=minutes_ago)
    return ReconcileRun.objects.create(trigger=trigger, started_at=finished - timedelta(seconds=2),
                                       finished_at=finished, outcome=outcome, messages_found=3)


def figure(client):
    page = client.get(reverse("admin:index"))
    assert page.status_code == 200
    return next(f for f in page.context["status_board"] if f.label == LABEL), page.content.decode()


def test_the_figure_shows_the_latest_runs_age_and_outcome_and_links_to_it(staff, settings):
    settings.RECONCILE_INTERVAL = 60
    run(minutes_ago=30, outcome=RunOutcome.ERROR)
    latest = run(minutes_ago=2)
    shown, page = figure(staff)
    assert shown.value == "2\xa0minutes ago, ok" and not shown.alert
    assert shown.url == f"/admin/reconcile/reconcilerun/?id__exact={latest.pk}"
    assert f'href="{shown.url}"' in page and "2\xa0minutes ago, ok" in page
    listing = staff.get(shown.url)
    assert listing.status_code == 200
    assert [row.pk for row in listing.context["cl"].result_list] == [latest.pk]


@pytest.mark.parametrize("minutes_ago, outcome, expected", [
    (1, RunOutcome.ERROR, "1\xa0minute ago, error"),   # the last run failed
    (4, RunOutcome.OK, "4\xa0minutes ago, ok"),          # none for more than three intervals
])
def test_a_failed_or_late_run_is_shown_as_an_alert(staff, settings, minutes_ago, outcome, expected):
    settings.RECONCILE_INTERVAL = 60
    run(minutes_ago=minutes_ago, outcome=outcome)
    shown, page = figure(staff)
    assert (shown.value, shown.alert) == (expected, True)
    assert f'<li class="alert" data-figure="{LABEL}">' in page


def test_an_early_stop_for_the_budget_is_not_an_alert(staff, settings):
    settings.RECONCILE_INTERVAL = 60
    run(minutes_ago=1, outcome=RunOutcome.BUDGET)
    shown, _ = figure(staff)
    assert (shown.value, shown.alert) == ("1\xa0minute ago, budget", False)


def test_no_run_yet(staff, settings):
    settings.RECONCILE_INTERVAL = 60
    shown, _ = figure(staff)
    assert (shown.value, shown.url) == ("none yet", "/admin/reconcile/reconcilerun/")
    assert staff.get(shown.url).status_code == 200


def test_interval_zero_shows_disabled_even_after_a_run_by_hand(staff, settings):
    settings.RECONCILE_INTERVAL = 0
    shown, page = figure(staff)
    assert (shown.value, shown.note) == ("disabled", "RECONCILE_INTERVAL=0")
    by_hand = run(minutes_ago=600, trigger=RunTrigger.COMMAND)
    shown, page = figure(staff)
    assert shown.value == "disabled" and not shown.alert and "the last (by hand) was ok" in shown.note
    assert shown.url.endswith(f"?id__exact={by_hand.pk}") and "disabled" in page
