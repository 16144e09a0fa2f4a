"""The admin under the product's name, with the status board on its front page.

Installed in place of `django.contrib.admin` (settings.INSTALLED_APPS), so every
`admin.site.register` and `@admin.register` of the apps lands on this site.
"""
from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class GatewayAdminSite(admin.AdminSite):
    site_header = "avitogw"
    site_title = "avitogw"
    index_title = "Staff inbox and gateway status"
    site_url = None  # the gateway has no site to view: "/" is an API path

    def index(self, request, extra_context=None):
        from avitogw.status_board import status_board  # this module loads before the apps' models

        return super().index(request, {"status_board": status_board(), **(extra_context or {})})


class GatewayAdminConfig(AdminConfig):
    default_site = "avitogw.admin_site.GatewayAdminSite"
