"""Two real WebDAV servers for the ``webdav`` provider: wsgidav and Apache mod_dav.

- :class:`WsgiDAVEmulator`: wsgidav (PyPI) serving a folder of the local filesystem, with
  HTTP basic auth, behind the shared :class:`FaultInjector`. Folders carry no ETag.
- :class:`ApacheEmulator`: Debian's Apache httpd with mod_dav/mod_dav_fs, started on a free
  loopback port from a generated, unprivileged configuration in a temporary directory (its
  own ServerRoot, PidFile, DavLockDB and logs; the system configuration and port 80 are
  never touched). Folders carry shallow ETags and Depth-infinity PROPFIND is refused, as
  Apache does by default. Faults are injected by a small reverse proxy (a WSGI app in
  front of Apache, wrapped in the same :class:`FaultInjector`), so both servers run the
  whole conformance suite including fault injection; ``direct_url`` bypasses the proxy.

The provider keeps its change-feed snapshots in ``state_dir`` (see the provider module);
each emulator hands out its own state folder, so :meth:`expire_cursors` can forget them.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

from .base import Emulator
from .server import free_port

USER = "odoo"
PASSWORD = "webdav-secret"
APACHE_BIN = "/usr/sbin/apache2"
APACHE_MODULES = "/usr/lib/apache2/modules"
PROXY_IDLE = 10.0  # seconds a proxy connection to Apache may idle (its KeepAliveTimeout: 15)


class _WebDAVBase(Emulator):
    key = "webdav"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, data_dir: str | None = None):
        self.state_dir = tempfile.mkdtemp(prefix="webdav-state-")
        self._temp_dirs = [self.state_dir]  # removed by stop(); a given data_dir never is
        if data_dir:
            self.files_dir = os.path.abspath(data_dir)
            os.makedirs(self.files_dir, exist_ok=True)
        else:
            self.files_dir = tempfile.mkdtemp(prefix="webdav-data-")
            self._temp_dirs.append(self.files_dir)
        try:
            super().__init__(host=host, port=port, data_dir=self.files_dir)
        except Exception:
            self._remove_temp_dirs()
            raise

    def _remove_temp_dirs(self) -> None:
        for path in self._temp_dirs:
            shutil.rmtree(path, ignore_errors=True)

    def stop(self) -> None:
        super().stop()
        self._remove_temp_dirs()

    @property
    def direct_url(self) -> str:
        """The server itself, without the fault injector (a second, independent path)."""
        return self.url

    def provider_config(self, root: str = "") -> dict:
        return {"url": self.url, "login": USER, "password": PASSWORD, "root": root,
                "verify_tls": True, "timeout": 10, "flavour": "generic",
                "state_dir": self.state_dir}

    def expire_cursors(self) -> None:
        """Forget every change-feed snapshot: cursors handed out so far become expired."""
        shutil.rmtree(self.state_dir, ignore_errors=True)
        os.makedirs(self.state_dir, exist_ok=True)


class WsgiDAVEmulator(_WebDAVBase):
    """wsgidav with a filesystem provider rooted at ``data_dir``, served at ``share``."""

    share = "/"

    def make_app(self):
        from wsgidav.wsgidav_app import WsgiDAVApp

        return WsgiDAVApp({
            "provider_mapping": {self.share: self.files_dir},
            "http_authenticator": {"accept_basic": True, "accept_digest": False,
                                   "default_to_digest": False},
            "simple_dc": {"user_mapping": {"*": {USER: {"password": PASSWORD}}}},
            "dir_browser": {"enable": False},
            "verbose": 0,
            "logging": {"enable": False},
        })


class ApacheServer:
    """Apache httpd + mod_dav_fs on ``127.0.0.1:port`` from a generated configuration.

    Started as root, Apache serves as www-data: ``files_dir`` (which must be reachable
    by www-data, e.g. under /tmp) and the lock folder are handed to that user.
    """

    def __init__(self, files_dir: str, *, host: str = "127.0.0.1", port: int = 0):
        if not os.access(APACHE_BIN, os.X_OK):
            raise RuntimeError(
                f"Apache httpd is not installed ({APACHE_BIN} missing): run "
                "`tools/system_packages.sh` (Debian package apache2) to test the Apache target")
        self.host = host
        self.port = port or free_port(host)
        self.files_dir = files_dir
        self.dir = tempfile.mkdtemp(prefix="webdav-apache-")
        self._proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _config(self) -> str:
        d = self.dir
        modules = ["mpm_event", "authn_core", "authn_file", "authz_core", "authz_user",
                   "auth_basic", "dav", "dav_fs"]
        loads = "\n".join(f"LoadModule {m}_module {APACHE_MODULES}/mod_{m}.so" for m in modules)
        user = ""
        if os.geteuid() == 0:  # Apache refuses to serve as root: children run as www-data
            user = "User www-data\nGroup www-data"
        return f"""ServerRoot "{d}"
ServerName {self.host}
Listen {self.host}:{self.port}
PidFile "{d}/httpd.pid"
DefaultRuntimeDir "{d}/run"
ErrorLog "{d}/error.log"
LogLevel warn
{loads}
{user}
StartServers 1
ServerLimit 1
ThreadsPerChild 16
MaxRequestWorkers 16
MinSpareThreads 1
MaxSpareThreads 16
Timeout 30
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 15
UseCanonicalName Off
DavLockDB "{d}/lock/DavLock"
DocumentRoot "{self.files_dir}"
<Directory />
    Require all denied
</Directory>
<Directory "{self.files_dir}">
    Dav On
    Options None
    AllowOverride None
    AuthType Basic
    AuthName "webdav"
    AuthUserFile "{d}/htpasswd"
    Require valid-user
</Directory>
"""

    def start(self) -> ApacheServer:
        d = self.dir
        os.makedirs(f"{d}/run")
        os.makedirs(f"{d}/lock")
        digest = base64.b64encode(hashlib.sha1(PASSWORD.encode()).digest()).decode()
        with open(f"{d}/htpasswd", "w") as fh:
            fh.write(f"{USER}:{{SHA}}{digest}\n")
        with open(f"{d}/httpd.conf", "w") as fh:
            fh.write(self._config())
        if os.geteuid() == 0:
            os.chmod(d, 0o755)
            for path in (f"{d}/lock", self.files_dir):
                shutil.chown(path, "www-data", "www-data")
        self._proc = subprocess.Popen(
            [APACHE_BIN, "-f", f"{d}/httpd.conf", "-DFOREGROUND"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={"PATH": "/usr/bin:/bin"})
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"Apache did not start: {self._log()}")
            try:
                socket.create_connection((self.host, self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"Apache did not listen on port {self.port}: {self._log()}")

    def _log(self) -> str:
        parts = []
        if self._proc and self._proc.poll() is not None and self._proc.stderr:
            parts.append(self._proc.stderr.read().decode(errors="replace"))
        path = os.path.join(self.dir, "error.log")
        if os.path.exists(path):
            with open(path, errors="replace") as fh:
                parts.append(fh.read()[-2000:])
        return "\n".join(p for p in parts if p).strip()

    def stop(self) -> None:
        if self._proc and self._proc.poll() is None:
            self._proc.terminate()  # SIGTERM: the parent stops its children
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._proc and self._proc.stderr:
            self._proc.stderr.close()
        self._proc = None


_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
               "trailers", "transfer-encoding", "upgrade"}


class ReverseProxy:
    """A streaming WSGI reverse proxy to one HTTP backend (fault injection in front of it).

    The client's Host header is forwarded, so with ``UseCanonicalName Off`` Apache checks
    MOVE/COPY ``Destination`` URLs against the proxy's address the client used. A
    connection idle for :data:`PROXY_IDLE` seconds is not reused: Apache closes it after
    its ``KeepAliveTimeout`` (15 s), and a request sent on it would fail.
    """

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        now = time.monotonic()
        if conn is not None and now - self._local.used > PROXY_IDLE:
            conn.close()
            conn = None
        if conn is None:
            conn = self._local.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        self._local.used = now
        return conn

    def __call__(self, environ, start_response):
        method = environ["REQUEST_METHOD"]
        path = environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
        headers = {key[5:].replace("_", "-").title(): value
                   for key, value in environ.items() if key.startswith("HTTP_")}
        headers = {k: v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP}
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        length = environ.get("CONTENT_LENGTH")
        body, chunked = None, False
        if length:
            headers["Content-Length"] = length
            body = _read_exactly(environ["wsgi.input"], int(length))
        elif environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
            body, chunked = _read_all(environ["wsgi.input"]), True
        conn = self._connection()
        try:
            conn.request(method, path, body=body, headers=headers, encode_chunked=chunked)
            response = conn.getresponse()
        except (OSError, http.client.HTTPException):
            conn.close()
            self._local.conn = None
            raise
        out = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
        start_response(f"{response.status} {response.reason}", out)
        return self._stream(response)

    def _stream(self, response):
        """Relay the answer; a connection left mid-answer (client gone) is not reused."""
        try:
            while chunk := response.read(1 << 16):
                yield chunk
        finally:
            if not response.isclosed():
                self._local.conn.close()
                self._local.conn = None
            response.close()


def _read_exactly(stream, length: int):
    while length > 0:
        chunk = stream.read(min(length, 1 << 16))
        if not chunk:
            return
        length -= len(chunk)
        yield chunk


def _read_all(stream):
    while chunk := stream.read(1 << 16):
        yield chunk


class ApacheEmulator(_WebDAVBase):
    """Apache mod_dav behind the fault-injecting reverse proxy."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, data_dir: str | None = None):
        self.apache: ApacheServer | None = None
        self._host = host
        super().__init__(host=host, port=port, data_dir=data_dir)

    def make_app(self):
        self.apache = ApacheServer(self.files_dir, host=self._host)
        return ReverseProxy(self.apache.host, self.apache.port)

    @property
    def direct_url(self) -> str:
        return self.apache.url

    def start(self):
        self.apache.start()
        try:
            return super().start()
        except Exception:
            self.apache.stop()
            raise

    def stop(self) -> None:
        try:
            super().stop()
        finally:
            self.apache.stop()
            shutil.rmtree(self.apache.dir, ignore_errors=True)

    def serve_forever(self) -> None:
        self.apache.start()
        try:
            super().serve_forever()
        finally:
            self.apache.stop()


def make_emulator(host: str = "127.0.0.1", port: int = 0, data_dir: str | None = None,
                  server: str = "wsgidav") -> _WebDAVBase:
    """``python -m cloud_sync.emulators webdav``: wsgidav (``server="apache"`` for Apache)."""
    cls = ApacheEmulator if server == "apache" else WsgiDAVEmulator
    return cls(host=host, port=port, data_dir=data_dir)
