"""The admin under the product's name, with the status board on its front page and a throttled sign-in.

Installed in place of `django.contrib.admin` (settings.INSTALLED_APPS), so every
`admin.site.register` and `@admin.register` of the apps lands on this site.
"""
from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.template.response import TemplateResponse

from avitogw.login_throttle import login_failed, login_wait


class GatewayAdminSite(admin.AdminSite):
    site_header = "avitogw"
    site_title = "avitogw"
    index_title = "Staff inbox and gateway status"
    site_url = None  # the gateway has no site to view: "/" is an API path

    def index(self, request, extra_context=None):
        from avitogw.status_board import status_board  # this module loads before the apps' models

        return super().index(request, {"status_board": status_board(user=request.user), **(extra_context or {})})

    def login(self, request, extra_context=None):
        """Django's sign-in, refused while its username or address has failed too often (avitogw.login_throttle)."""
        if request.method != "POST":
            return super().login(request, extra_context)
        username = request.POST.get("username", "")
        wait = login_wait(request, username=username)
        if wait is not None:  # refused before the password is checked
            context = {**self.each_context(request), "title": "Too many failed sign-ins", "wait_minutes": -(-wait // 60)}
            return TemplateResponse(request, "admin/login_throttled.html", context, status=429,
                                    headers={"Retry-After": str(wait)})
        response = super().login(request, extra_context)
        if response.status_code == 200 and not request.user.is_authenticated:  # the form again: not signed in
            login_failed(request, username=username)
        return response


class GatewayAdminConfig(AdminConfig):
    default_site = "avitogw.admin_site.GatewayAdminSite"
