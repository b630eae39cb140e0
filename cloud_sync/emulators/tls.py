"""A throwaway certificate authority and a loopback certificate for HTTPS emulators.

Several SDKs insist on HTTPS (Dropbox, MSAL, Drive uploads). One CA per process,
made with ``trustme``; clients trust it through :func:`ca_bundle`.
"""

from __future__ import annotations

import functools
import os
import tempfile
from dataclasses import dataclass


@dataclass(frozen=True)
class TLSFiles:
    ca_bundle: str  # PEM of the CA, for the clients' ``verify``
    cert_chain: str  # server certificate chain (PEM)
    private_key: str  # server key (PEM)


@functools.cache
def tls_files() -> TLSFiles:
    import trustme  # test/emulator dependency, see requirements-test.txt

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost", "::1")
    folder = tempfile.mkdtemp(prefix="cloud-sync-tls-")
    paths = {}
    for name, blob in (
        ("ca.pem", ca.cert_pem),
        ("chain.pem", None),
        ("key.pem", cert.private_key_pem),
    ):
        path = os.path.join(folder, name)
        with open(path, "wb") as fh:
            if blob is None:
                for pem in cert.cert_chain_pems:
                    fh.write(pem.bytes())
            else:
                fh.write(blob.bytes())
        paths[name] = path
    return TLSFiles(paths["ca.pem"], paths["chain.pem"], paths["key.pem"])


def ca_bundle() -> str:
    return tls_files().ca_bundle
