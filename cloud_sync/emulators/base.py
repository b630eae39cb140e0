"""What every emulator offers to tests, benchmarks, the demo and the CLI."""

from __future__ import annotations

import html

from .faults import FaultInjector
from .server import LocalServer


class Emulator:
    """A local server for one provider.

    Subclasses build ``self.app`` (their WSGI application, without faults) and words
    for errors; this class wraps it in a :class:`FaultInjector` and serves it.
    """

    key: str = ""
    tls: bool = False

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, data_dir: str | None = None,
                 auto_consent: bool = False):
        self.host = host
        # OAuth authorize endpoints: a consent page by default (as the providers serve,
        # for the browser tours and the demo); True answers at once (browserless tests)
        self.auto_consent = auto_consent
        self.data_dir = data_dir
        self.faults = FaultInjector(self.make_app(), **self.fault_wording())
        self.server = LocalServer(self.faults, host=host, port=port, tls=self.tls)

    # -- to implement -----------------------------------------------------------------
    def make_app(self):
        raise NotImplementedError

    def fault_wording(self) -> dict:
        """Keyword arguments for :class:`FaultInjector` (error/expired answers, skip)."""
        return {}

    def provider_config(self, root: str = "") -> dict:
        """The provider's config dict that points at this server, credentials included."""
        raise NotImplementedError

    def expire_cursors(self) -> None:
        """Make every change-feed cursor handed out so far invalid (expired)."""
        raise NotImplementedError

    # -- lifecycle --------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self.server.url

    def start(self):
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def consent_page(provider: str, app: str, scopes: list[str], query: dict, allow: str,
                 deny: str) -> str:
    """The consent page of an OAuth authorize endpoint: names the app and the scopes;
    its buttons send the same query back with ``consent=allow`` or ``consent=deny`` (a GET
    form, so a test browser whose requests are proxied can submit it)."""
    hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                     for k, v in query.items() if k != "consent")
    items = "".join(f"<li>{html.escape(s)}</li>" for s in scopes)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(provider)}"
            f" - consent</title></head><body><h1>{html.escape(provider)}</h1>"
            f"<p><b class='consent-app'>{html.escape(app)}</b> wants to access your account:</p>"
            f"<ul class='consent-scopes'>{items}</ul><form method='get'>{hidden}"
            f"<button type='submit' name='consent' value='allow'>{html.escape(allow)}</button>"
            f" <button type='submit' name='consent' value='deny'>{html.escape(deny)}</button>"
            "</form></body></html>")


def consent_answer(emulator: Emulator, query: dict, denied: bool) -> str | None:
    """What the authorize endpoint does: "page" (show it), "allow" or "deny"."""
    decision = query.get("consent")
    if decision in ("allow", "deny"):
        return decision
    if denied:  # the test switch: the user declines at once
        return "deny"
    return "allow" if emulator.auto_consent else "page"


def make_emulator(cls, **kwargs) -> Emulator:
    return cls(**kwargs)
