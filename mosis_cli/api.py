"""The store's HTTP API (``/v1``) as the CLI uses it: one ``requests`` session, the credential, a refresh of
an expired sign-in, and every error turned into a ``CliError`` that says what to do.

It relies on the API contract only (SPEC §3, §5): the error body ``{"error": {code, message, details,
request_id}}``, list pages ``{"<items>": [...], "pagination": {...}}``, ``Retry-After`` on 429, and an upload
that is a plain HTTP request to ``upload_url`` with the method and headers the store returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import requests

from .errors import ApiError, CliError, ExitCode

USER_AGENT = "mosis-cli/0.1"
TIMEOUT = 30  # seconds for an API call (connect + read); uploads use UPLOAD_TIMEOUT per read
UPLOAD_TIMEOUT = 120
MAX_RETRY_AFTER = 120  # a 429 on a poll is waited out up to this long; longer ones are reported
MAX_OUTAGE_RETRIES = 5  # a poll waits out this many 503s with Retry-After before reporting the outage
PAGE_LIMIT = 100


@dataclass
class Credentials:
    """What the CLI signs requests with: an API key, or a JWT pair it refreshes when the access token
    expires (``on_refresh`` saves the new pair: refresh tokens rotate, the old one stops working)."""

    api_key: str | None = None
    access_token: str | None = None
    refresh_token: str | None = None
    on_refresh: Callable[[str, str], None] | None = None

    @property
    def present(self) -> bool:
        return bool(self.api_key or self.access_token or self.refresh_token)

    def header(self) -> dict:
        token = self.api_key or self.access_token
        return {"Authorization": f"Bearer {token}"} if token else {}


def _not_signed_in(store: str) -> CliError:
    return CliError(
        f"You are not signed in to {store}.",
        fix=f"Run `mosis login --store {store}` (or set MOSIS_API_KEY to an API key).",
        exit_code=ExitCode.AUTH,
    )


def _expired(store: str) -> CliError:
    return CliError(
        f"Your sign-in to {store} has expired or was revoked.",
        fix=f"Run `mosis login --store {store}` again.",
        exit_code=ExitCode.AUTH,
    )


class StoreClient:
    def __init__(self, store: str, credentials: Credentials | None = None, *, session=None):
        self.store = store
        self.base = store + "/v1"
        self.credentials = credentials or Credentials()
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT

    # -- the one request path --------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        json=None,
        params: dict | None = None,
        auth: bool = True,
        wait_on_rate_limit: bool = False,
    ):
        """Call ``/v1<path>``; the decoded JSON body, or ``CliError``/``ApiError``.

        With ``auth`` the credential is sent (``CliError`` AUTH if there is none) and an expired access token
        is refreshed once. ``wait_on_rate_limit`` (polls) waits out a short ``Retry-After`` of a 429 (rate
        limited) or a 503 (the store's database briefly away), a few times for the 503.
        """
        if auth and not self.credentials.present:
            raise _not_signed_in(self.store)
        refreshed = False
        outages = 0
        while True:
            headers = self.credentials.header() if auth else {}
            if auth and not headers and self.credentials.refresh_token:
                self._refresh()
                refreshed = True
                continue
            response = self._send(method, self.base + path, json=json, params=params, headers=headers)
            if response.status_code == 401 and auth and not refreshed and self._can_refresh():
                self._refresh()
                refreshed = True
                continue
            if response.status_code in (429, 503) and wait_on_rate_limit:
                delay = _retry_after(response)
                if response.status_code == 503:
                    outages += 1
                    if outages > MAX_OUTAGE_RETRIES:
                        delay = None
                if delay is not None and delay <= MAX_RETRY_AFTER:
                    time.sleep(delay)
                    continue
            if response.status_code >= 400:
                raise self._error(response, auth=auth)
            return _json(response, self.store)

    def _send(self, method: str, url: str, **kwargs) -> requests.Response:
        try:
            return self.session.request(method, url, timeout=TIMEOUT, **kwargs)
        except requests.exceptions.RequestException as exc:
            raise _unreachable(self.store, exc) from exc

    def _can_refresh(self) -> bool:
        return bool(self.credentials.refresh_token and not self.credentials.api_key)

    def _refresh(self) -> None:
        response = self._send(
            "POST", self.base + "/auth/refresh", json={"refresh_token": self.credentials.refresh_token}
        )
        if response.status_code in (400, 401, 403):
            raise _expired(self.store)
        if response.status_code >= 400:
            raise self._error(response, auth=False)
        body = _json(response, self.store)
        self.credentials.access_token = body["access_token"]
        self.credentials.refresh_token = body.get("refresh_token", self.credentials.refresh_token)
        if self.credentials.on_refresh:
            self.credentials.on_refresh(self.credentials.access_token, self.credentials.refresh_token)

    def _error(self, response: requests.Response, *, auth: bool) -> CliError:
        status = response.status_code
        try:
            error = response.json()["error"]
            code, message = str(error.get("code", "")), str(error.get("message", ""))
            details, request_id = error.get("details") or {}, error.get("request_id")
        except (ValueError, KeyError, TypeError, AttributeError):
            code, message, details, request_id = "", response.reason or f"HTTP {status}", {}, None
        if status >= 500:
            return ApiError(
                f"The store at {self.store} failed ({status} {code or response.reason}): {message}",
                fix="Try again in a minute; if it persists, tell the store's operators"
                + (f" (request id {request_id})." if request_id else "."),
                exit_code=ExitCode.UNAVAILABLE,
                status=status,
                code=code,
                request_id=request_id,
                details=details,
            )
        if status == 401:
            if auth:
                return _expired(self.store) if self.credentials.present else _not_signed_in(self.store)
            exit_code, fix = ExitCode.AUTH, "Check the email and password (or API key) and try again."
        elif status == 403:
            exit_code = ExitCode.AUTH
            fix = "Use a credential with that permission: `mosis login` with your password holds all of them."
        elif status == 413:
            exit_code, fix = ExitCode.INVALID_PACKAGE, None
        elif status == 429:
            delay = _retry_after(response)
            exit_code = ExitCode.ERROR
            fix = f"Wait {delay} seconds and run the command again." if delay else "Wait and try again."
        else:
            exit_code, fix = ExitCode.ERROR, None
        if details:
            flat = "; ".join(f"{field}: {' '.join(map(str, msgs))}" for field, msgs in details.items())
            if flat and flat not in message:
                message = f"{message} ({flat})"
        return ApiError(
            message or f"HTTP {status}",
            fix=fix,
            exit_code=exit_code,
            status=status,
            code=code,
            request_id=request_id,
            details=details,
        )

    # -- helpers ---------------------------------------------------------------------------------------
    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json=None, **kwargs):
        return self.request("POST", path, json=json, **kwargs)

    def pages(self, path: str, items_key: str, *, params: dict | None = None) -> Iterator[dict]:
        """Every item of a paginated list, fetched ``PAGE_LIMIT`` at a time."""
        page = 1
        while True:
            body = self.get(path, params={**(params or {}), "page": page, "limit": PAGE_LIMIT})
            yield from body.get(items_key, [])
            pagination = body.get("pagination") or {}
            if page >= int(pagination.get("total_pages") or 1):
                return
            page += 1

    def upload(self, url: str, *, method: str, headers: dict, body, size: int) -> None:
        """PUT (or the method the store named) the package to ``upload_url``: no credential is sent, the URL
        is the credential. ``body`` is a file-like object whose ``read`` reports progress."""
        try:
            response = requests.request(
                method,
                url,
                data=body,
                headers={**headers, "Content-Length": str(size)},
                timeout=(TIMEOUT, UPLOAD_TIMEOUT),
            )
        except requests.exceptions.RequestException as exc:
            raise _unreachable(url.split("?")[0], exc) from exc
        if response.status_code >= 400:
            if response.headers.get("Content-Type", "").startswith("application/json"):
                raise self._error(response, auth=False)
            raise ApiError(
                f"The upload was refused ({response.status_code} {response.reason}).",
                fix="Run `mosis publish` again: it asks for a fresh upload URL.",
                status=response.status_code,
                code="",
            )


def _json(response: requests.Response, store: str):
    try:
        return response.json()
    except ValueError:
        raise CliError(
            f"{store} answered something that is not the store's JSON API ({response.status_code}).",
            fix="Check the store address: it is the site's base URL, e.g. https://store.example.com",
            exit_code=ExitCode.UNAVAILABLE,
        )


def _retry_after(response: requests.Response) -> int | None:
    try:
        return max(0, int(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


def _unreachable(where: str, exc: Exception) -> CliError:
    return CliError(
        f"Cannot reach {where} ({type(exc).__name__}).",
        fix="Check the address and your connection; for the demo store run `make run` in the store's checkout.",
        exit_code=ExitCode.UNAVAILABLE,
    )
