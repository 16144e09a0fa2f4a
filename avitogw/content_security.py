"""A Content-Security-Policy on every answer the gateway gives, the admin's pages above all.

The admin shows what customers wrote; its templates escape it, and the policy is the second
line: scripts only from the gateway's own files (no inline script, no eval), nothing loaded
from another origin, forms posted only back here, and no page framed by another site
(`frame-ancestors`, alongside X-Frame-Options). Styles may be inline: Django's own admin
templates carry `<style>` blocks (the change list), and a style cannot run code.

/docs and /redoc are the exception: drf-spectacular starts Swagger UI and ReDoc with an
inline script, and ReDoc styles itself inline and searches in a `blob:` worker, so there
inline script is allowed, but still nothing from another origin and no framing. A view that
sets a policy of its own keeps it (the chat image view: `default-src 'none'; sandbox`).
X-Content-Type-Options and Referrer-Policy come from Django's SecurityMiddleware (its
defaults: nosniff, same-origin).
"""
from __future__ import annotations

HEADER = "Content-Security-Policy"
_COMMON = ["default-src 'self'", "img-src 'self' data:", "object-src 'none'", "base-uri 'none'",
           "form-action 'self'", "frame-ancestors 'none'"]
PAGE_POLICY = "; ".join([*_COMMON, "script-src 'self'", "style-src 'self' 'unsafe-inline'"])
DOCS_POLICY = "; ".join([*_COMMON, "script-src 'self' 'unsafe-inline'", "style-src 'self' 'unsafe-inline'",
                         "worker-src 'self' blob:"])
DOCS_PATHS = ("/docs", "/redoc")


def policy_for(path: str) -> str:
    return DOCS_POLICY if path in DOCS_PATHS else PAGE_POLICY


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if HEADER not in response:
            response[HEADER] = policy_for(request.path_info)
        return response
