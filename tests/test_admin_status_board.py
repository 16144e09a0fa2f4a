"""The status board shows a staff member only the figures of what they may view.

Each figure counts some model's rows (chats, deliveries, events, runs, bulk jobs); it is on
the front page only for a staff member with that model's view permission, so a staff
account with no permissions sees no figures at all.
"""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

pytestmark = pytest.mark.django_db

EVERY_FIGURE = ["Unread chats", "Deliveries to n8n pending", "Deliveries to n8n failed",
                "Last notification from Avito", "Last reconciliation run", "Avito token", "Avito calls in the current window",
                "Bulk jobs running"]


def board_of(client, django_user_model, *codenames: str, superuser: bool = False):
    user = django_user_model.objects.create_user("staff", password="pw", is_staff=True, is_superuser=superuser)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    page = client.get(reverse("admin:index"))
    assert page.status_code == 200
    return [figure.label for figure in page.context["status_board"]], page.content.decode()


def test_a_staff_member_with_no_permissions_sees_no_figures(client, django_user_model):
    labels, page = board_of(client, django_user_model)
    assert labels == []
    assert "Gateway status" not in page and "Deliveries to n8n" not in page and "Avito calls" not in page


def test_each_figure_needs_the_view_permission_of_what_it_counts(client, django_user_model):
    labels, page = board_of(client, django_user_model, "view_delivery", "view_bulkjob")
    assert labels == ["Deliveries to n8n pending", "Deliveries to n8n failed", "Bulk jobs running"]
    assert "Unread chats" not in page and "Last notification" not in page


def test_the_avito_connection_goes_with_the_chats(client, django_user_model):
    labels, _ = board_of(client, django_user_model, "view_chat")
    assert labels == ["Unread chats", "Avito token", "Avito calls in the current window"]


def test_a_superuser_sees_every_figure(client, django_user_model):
    labels, _ = board_of(client, django_user_model, superuser=True)
    assert labels == EVERY_FIGURE
