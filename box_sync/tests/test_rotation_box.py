"""Box's single-use refresh token shared by two workers on two real database connections.

Real commits in an Odoo 18 test: only ``HttpCase`` puts the registry in test mode
(``registry_test_mode``), where ``registry.cursor()`` hands out ``TestCursor`` proxies of
the test's one transaction that take turns under a lock, so the ``NOWAIT`` row lock never
meets a second connection. In a ``TransactionCase`` the registry stays out of test mode:
``self.registry.cursor()`` opens a real connection of its own (an ``odoo.sql_db.Cursor``,
what ``odoo.sql_db.db_connect(dbname).cursor()`` gives, and what the refresh lock takes).
Such a cursor commits when its ``with`` block ends; the test's own transaction (rolled
back at the end) neither sees nor holds anything of it. So the connection the workers
share is created and committed on a real cursor, and deleted the same way by a cleanup.
"""

import json
import threading
import time
from contextlib import contextmanager

from odoo import SUPERUSER_ID, api
from odoo.addons.cloud_base.tests.test_oauth_common import RealRequestsMixin
from odoo.addons.cloud_base.tests.test_sync_common import FAST_RETRY
from odoo.sql_db import TestCursor
from odoo.tests import TransactionCase, tagged

from cloud_sync.emulators.box import BoxEmulator

CONTEXT = {"clouds_retry_policy": FAST_RETRY, "tracking_disable": True,
           "mail_create_nolog": True, "mail_create_nosubscribe": True}


@tagged("post_install", "-at_install")
class TestBoxRotationTwoConnections(RealRequestsMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.emulator = BoxEmulator().start()
        cls.addClassCleanup(cls.emulator.stop)

    @contextmanager
    def real_env(self):
        """An environment on a new real connection; committed when the block ends."""
        with self.registry.cursor() as cr:
            assert not isinstance(cr, TestCursor), "the registry is in test mode"
            # Given, not looked up: ``Registry(dbname)`` waits for the registries' lock,
            # which the test runner's main thread holds for the whole run.
            cr.transaction = api.Transaction(self.registry)
            yield api.Environment(cr, SUPERUSER_ID, CONTEXT)

    def setUp(self):
        super().setUp()
        config = self.emulator.provider_config()
        with self.real_env() as env:
            self.client_id = env["clouds.client"].with_context(clouds_no_check=True).create({
                "name": "Box two workers", "provider": "box",
                "bx_client_id": config["client_id"], "bx_client_secret": config["client_secret"],
                "bx_api_url": config["api_url"], "bx_upload_url": config["upload_url"],
                "bx_oauth_url": config["oauth_url"], "bx_ca_bundle": config["ca_bundle"],
                "token_json": json.dumps({"access_token": config["access_token"],
                                          "refresh_token": config["refresh_token"]}),
            }).id
        self.addCleanup(self.drop_client)

    def drop_client(self):
        with self.real_env() as env:
            env["clouds.client"].browse(self.client_id).unlink()

    def stored(self):
        with self.real_env() as env:
            return json.loads(env["clouds.client"].browse(self.client_id).token_json)

    # ---------------------------------------------------------------- the workers
    def work(self, barrier, results, name):
        """One worker: its own connection and environment, the root listed once."""
        try:
            with self.real_env() as env:
                provider = env["clouds.client"].browse(self.client_id)._cloud_provider()
                try:
                    barrier.wait(timeout=30)
                    names = sorted(i.name for i in provider.list_children(provider.root_id))
                    results[name] = (names, provider.auth.token_storage.get().refresh_token)
                finally:
                    provider.close()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            results[name] = exc

    def race(self, gate):
        """Both workers meet the expired access token at once. With ``gate``, a third
        connection holds the client's row until both were refused by Box, so both are in
        the lock's ``NOWAIT`` retry loop before either may refresh."""
        self.emulator.expire_access_tokens()
        rejected = self.emulator.rejected_calls
        barrier, results = threading.Barrier(2), {}
        threads = [threading.Thread(target=self.work, args=(barrier, results, name))
                   for name in ("first", "second")]
        holder = self.registry.cursor() if gate else None
        try:
            if holder:
                holder.execute("SELECT id FROM clouds_client WHERE id = %s FOR UPDATE",
                               [self.client_id])
            for thread in threads:
                thread.start()
            if holder:
                deadline = time.monotonic() + 30
                while (self.emulator.rejected_calls < rejected + 2
                       and time.monotonic() < deadline):
                    time.sleep(0.01)
                self.assertEqual(self.emulator.rejected_calls, rejected + 2)
                time.sleep(0.3)  # both keep finding the row locked
        finally:
            if holder:
                holder.rollback()
                holder.close()
            for thread in threads:
                thread.join(60)
        return results

    def assertOneRotation(self, results, spent, grants):
        """``spent`` was presented to Box once, by one worker; both hold the new pair,
        which is stored and valid."""
        self.assertEqual({n: r for n, r in results.items() if isinstance(r, Exception)}, {})
        self.assertEqual(len(results), 2)
        refreshes = [token for grant, token in self.emulator.grants[grants:]
                     if grant == "refresh_token"]
        self.assertEqual(refreshes, [spent])  # one grant, no spent token presented again
        stored = self.stored()
        self.assertNotEqual(stored["refresh_token"], spent)
        self.assertIn(stored["refresh_token"], self.emulator.refresh_tokens)
        self.assertGreater(self.emulator.access_tokens[stored["access_token"]], time.time())
        self.assertEqual({held for _names, held in results.values()}, {stored["refresh_token"]})
        self.assertEqual(len({tuple(names) for names, _held in results.values()}), 1)
        return stored

    def test_one_refresh_between_two_connections(self):
        spent = self.stored()["refresh_token"]
        grants = len(self.emulator.grants)
        stored = self.assertOneRotation(self.race(gate=True), spent, grants)
        # the stored pair works as it is: a new worker lists without any grant
        grants = len(self.emulator.grants)
        with self.real_env() as env:
            provider = env["clouds.client"].browse(self.client_id)._cloud_provider()
            try:
                list(provider.list_children(provider.root_id))
            finally:
                provider.close()
        self.assertEqual(self.emulator.grants[grants:], [])
        # and again, racing freely: still one rotation, from the stored token
        grants = len(self.emulator.grants)
        self.assertOneRotation(self.race(gate=False), stored["refresh_token"], grants)

    def test_a_save_that_wrote_the_row_refreshes_in_its_own_transaction(self):
        """Saving a checked field writes the row, then checks the connection: with an
        expired access token the refresh cannot wait for a lock its own transaction
        holds; it rotates there and the new pair is committed with the save."""
        spent = self.stored()["refresh_token"]
        config = self.emulator.provider_config()
        self.emulator.expire_access_tokens()
        started = time.monotonic()
        with self.real_env() as env:
            env["clouds.client"].browse(self.client_id).write(
                {"bx_client_secret": config["client_secret"]})
        self.assertLess(time.monotonic() - started, 5, "the save waited for its own lock")
        stored = self.stored()
        self.assertNotEqual(stored["refresh_token"], spent)
        self.assertIn(stored["refresh_token"], self.emulator.refresh_tokens)
        self.assertIn(spent, self.emulator.spent_refresh_tokens)
