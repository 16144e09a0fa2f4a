"""The one HTTP client of n8n: POSTs signed deliveries to N8N_WEBHOOK_URL (and bulk callbacks to theirs).

One pooled `requests.Session` per process (rebuilt after a fork: a Session must not cross
one), a timeout on every POST, no redirects followed (requests would turn a 302 into a GET
and drop the body) and failures as types, so the delivery service records what happened
without knowing anything about HTTP libraries. Every non-2xx answer is a failure worth
retrying: n8n answers 404 while a workflow is inactive and 5xx while it is down.
"""
from __future__ import annotations


import requests
from requests.adapters import HTTPAdapter

from core.singleton import PerProcess

# Seconds to connect, and between bytes of n8n's answer. n8n's "respond immediately" webhook
# answers in milliseconds; a workflow that answers at its end should finish well within this.
N8N_CONNECT_TIMEOUT = 5.0
N8N_READ_TIMEOUT = 10.0
POOL_SIZE = 10


class N8nError(Exception):
    """A delivery attempt that did not get a 2xx from n8n."""

    def __init__(self, message: str, *, status_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.status_code = status_code


class N8nRejected(N8nError):
    """n8n answered, but not with 2xx."""


class N8nUnreachable(N8nError):
    """No answer: connection refused, timeout, broken connection."""


class N8nClient:
    def __init__(self, *, session: requests.Session,
                 timeout: tuple[float, float] = (N8N_CONNECT_TIMEOUT, N8N_READ_TIMEOUT), use_environment: bool = True):
        self.session, self.timeout, self.use_environment = session, timeout, use_environment
        self._environment: dict[str, dict] = {}

    def _environment_for(self, url: str) -> dict:
        """Proxies and CA bundle from the environment (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE...),
        read once per URL: requests reads them again on every request, a tenth of a delivery's CPU."""
        found = self._environment.get(url)
        if found is None:
            found = requests.Session().merge_environment_settings(url, {}, None, None, None)
            self._environment[url] = found = {"proxies": found["proxies"], "verify": found["verify"]}
        return found

    def post(self, url: str, *, body: bytes, headers: dict[str, str]) -> int:
        """POST the body; the status code on 2xx, else N8nRejected / N8nUnreachable."""
        try:
            response = self.session.post(url, data=body, timeout=self.timeout, allow_redirects=False,
                                         headers={"Content-Type": "application/json", **headers},
                                         **(self._environment_for(url) if self.use_environment else {}))
        except requests.exceptions.Timeout as exc:
            raise N8nUnreachable(f"n8n did not answer within {self.timeout[1]:g} s.") from exc
        except requests.exceptions.RequestException as exc:
            raise N8nUnreachable(f"n8n could not be reached: {type(exc).__name__}: {exc}"[:500]) from exc
        if 200 <= response.status_code < 300:
            return response.status_code
        snippet = response.text.strip()[:300]
        raise N8nRejected(f"n8n answered HTTP {response.status_code}" + (f": {snippet}" if snippet else "."),
                          status_code=response.status_code)


def _session(pool_classes: dict | None = None) -> requests.Session:
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=POOL_SIZE, max_retries=0)
    if pool_classes:
        adapter.poolmanager.pool_classes_by_scheme = pool_classes
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = "avitogw"
    session.trust_env = False  # the environment is read once per URL instead (N8nClient._environment_for)
    return session


_client: PerProcess[N8nClient] = PerProcess(lambda: N8nClient(session=_session()))


def guarded_n8n_client(pool_classes: dict) -> N8nClient:
    """A client for a URL a caller chose (a bulk callback): its connections check the peer they reach
    (core.url_guard), and no proxy from the environment hides that peer."""
    return N8nClient(session=_session(pool_classes), use_environment=False)


def get_n8n_client() -> N8nClient:
    """The process's n8n client (one pooled Session per process)."""
    return _client.get()
