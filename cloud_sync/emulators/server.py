"""Serve a WSGI application on a loopback port in a background thread (cheroot)."""

from __future__ import annotations

import socket
import threading

from cheroot import wsgi


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class LocalServer:
    """A threaded HTTP(S) server for one WSGI app; use as a context manager."""

    def __init__(self, app, *, host: str = "127.0.0.1", port: int = 0, tls: bool = False,
                 threads: int = 16):
        self.app = app
        self.host = host
        self.port = port or free_port(host)
        self.tls = tls
        self._server = wsgi.Server((host, self.port), app, numthreads=threads,
                                   request_queue_size=64, timeout=30)
        self._server.max_request_body_size = 0
        if tls:
            from cheroot.ssl.builtin import BuiltinSSLAdapter

            from .tls import tls_files

            files = tls_files()
            self._server.ssl_adapter = BuiltinSSLAdapter(files.cert_chain, files.private_key)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def start(self) -> LocalServer:
        self._server.prepare()
        self._thread = threading.Thread(target=self._server.serve, daemon=True,
                                        name=f"emulator-{self.port}")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.stop()
        if self._thread:
            self._thread.join(timeout=10)

    def serve_forever(self) -> None:
        """Serve in the foreground (the CLI)."""
        try:
            self._server.safe_start()
        finally:
            self._server.stop()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
