"""What every emulator offers to tests, benchmarks, the demo and the CLI."""

from __future__ import annotations

from .faults import FaultInjector
from .server import LocalServer


class Emulator:
    """A local server for one provider.

    Subclasses build ``self.app`` (their WSGI application, without faults) and words
    for errors; this class wraps it in a :class:`FaultInjector` and serves it.
    """

    key: str = ""
    tls: bool = False

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, data_dir: str | None = None):
        self.host = host
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


def make_emulator(cls, **kwargs) -> Emulator:
    return cls(**kwargs)
