#!/usr/bin/env python3
"""Export every addon's translation template (i18n/<addon>.pot) with Odoo's own exporter.

    python3 tools/export_pot.py                 # every addon of the suite
    python3 tools/export_pot.py --addons cloud_base,cloud_share

Creates a throwaway database (PostgreSQL from PGHOST/PGPORT/PGUSER/PGPASSWORD, default
127.0.0.1:5432), installs Odoo's contacts and project apps and then the suite without
demo data (as ``tools/odoo_tests.py`` installs them, so the same fields exist), exports
each addon's terms with ``odoo.tools.translate.trans_export`` (what ``odoo-bin
--i18n-export=<addon>.pot --modules=<addon>`` does) and drops the database.

Then it merges each ``i18n/fr.po`` with its new template, as ``msgmerge`` would: French
translations are kept by msgid, new msgids get an empty msgstr (to be translated; the
``TestI18n`` test of cloud_base fails until they are), terms gone from the code are
dropped. A file whose terms did not change is left alone (its dates too).

It runs Odoo 18 as installed for this Python; it never installs Odoo.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from odoo_tests import (  # noqa: E402
    BASE_APPS,
    ROOT,
    db_args,
    drop_db,
    odoo_addons_path,
    odoo_version,
    suite_addons,
)

FRENCH_HEADER = {"Language": "fr", "Plural-Forms": "nplurals=2; plural=(n > 1);"}
DATES = ("POT-Creation-Date", "PO-Revision-Date")

# Run by `odoo shell` in the throwaway database: one template per addon.
EXPORT = """
import odoo.tools.translate as translate
for addon, target in {targets!r}:
    with open(target, "wb") as buf:
        translate.trans_export(None, [addon], buf, "po", env.cr)
    print("exported", addon, flush=True)
"""


def without_dates(text: str) -> str:
    return "\n".join(line for line in text.splitlines()
                     if not line.startswith(tuple(f'"{d}:' for d in DATES)))


def write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` unless the file already says the same apart from its dates."""
    if path.exists() and without_dates(path.read_text(encoding="utf-8")) == without_dates(text):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def merge_french(pot_path: Path, po_path: Path) -> tuple[bool, int]:
    """fr.po = the template's entries with the French already written for each msgid.

    Returns (file changed, number of msgids without a translation)."""
    import polib  # Odoo's own dependency: present wherever Odoo is importable

    known = {}
    if po_path.exists():
        old = polib.pofile(str(po_path))
        known = {(e.msgctxt, e.msgid): e.msgstr for e in old if not e.obsolete}
    po = polib.pofile(str(pot_path))
    untranslated = 0
    for entry in po:
        entry.msgstr = known.get((entry.msgctxt, entry.msgid), "")
        untranslated += not entry.msgstr
    po.metadata.update(FRENCH_HEADER)
    return write_if_changed(po_path, str(po)), untranslated


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=str(ROOT), text=True, **kwargs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addons", help="comma-separated addons (default: all of the suite)")
    parser.add_argument("--db", help="export from this database, where the addons are "
                        "installed already (it is neither created nor dropped)")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    args = parser.parse_args()

    if odoo_version() != "18":
        print("Odoo 18 must be importable by this Python (see README.md, Install).")
        return 2
    addons = args.addons.split(",") if args.addons else suite_addons()
    unknown = sorted(set(addons) - set(suite_addons()))
    if unknown:
        print(f"not addons of this repository: {', '.join(unknown)}")
        return 2
    dbname = args.db or f"cloud_i18n_{uuid.uuid4().hex[:8]}"
    odoo = [sys.executable, "-m", "odoo"]
    options = [*db_args(), f"--database={dbname}",
               f"--addons-path={odoo_addons_path(stand_ins=True)}",
               "--data-dir", str(ROOT / ".odoo-data"), "--max-cron-threads=0"]
    try:
        if not args.db:
            # Both steps as tools/odoo_tests.py does them: the fields the suite's models
            # get from the apps installed before it are part of its terms.
            for step, apps in (("Odoo apps", BASE_APPS), ("the suite", suite_addons())):
                print(f"Installing {step} ({', '.join(apps)}) in {dbname} without demo "
                      "data...", flush=True)
                init = run([*odoo, *options, f"--init={','.join(apps)}", "--without-demo=all",
                            "--stop-after-init", "--log-level=warn", "--no-http"])
                if init.returncode:
                    print("Installing failed: see the log above.")
                    return 1
        with tempfile.TemporaryDirectory() as tmp:
            targets = [(addon, os.path.join(tmp, f"{addon}.pot")) for addon in addons]
            print(f"Exporting the terms of {', '.join(addons)}...", flush=True)
            export = run([*odoo, "shell", *options, "--no-http", "--log-level=warn"],
                         input=EXPORT.format(targets=targets))
            if export.returncode or not all(os.path.exists(t) for _a, t in targets):
                print("Exporting failed: see the log above.")
                return 1
            for addon, target in targets:
                i18n = ROOT / addon / "i18n"
                pot_path = i18n / f"{addon}.pot"
                pot_changed = write_if_changed(pot_path, Path(target).read_text("utf-8"))
                po_changed, untranslated = merge_french(pot_path, i18n / "fr.po")
                print(f"{addon}: {pot_path.relative_to(ROOT)} "
                      f"{'updated' if pot_changed else 'unchanged'}, fr.po "
                      f"{'updated' if po_changed else 'unchanged'}"
                      + (f", {untranslated} msgids to translate" if untranslated else ""))
    finally:
        if not args.db and not args.keep_db:
            drop_db(dbname)
    return 0


if __name__ == "__main__":
    sys.exit(main())
