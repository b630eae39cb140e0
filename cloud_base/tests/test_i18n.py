"""Translations of the suite: every user-facing term is in its addon's template, and French
is complete.

- Each addon's terms are exported here with Odoo's own exporter
  (``odoo.tools.translate.TranslationModuleReader``, what ``--i18n-export`` uses) and
  compared with the committed ``i18n/<addon>.pot``: a term the code or the views show
  that the template lacks fails the test, named. Terms of demo records are left out (the
  templates are exported without demo data). Only installed addons can be exported:
  ``tools/odoo_tests.py`` installs them all.
- Every msgid of a template has a French msgstr in ``i18n/fr.po``, with the same
  placeholders (``%(name)s``, ``%s``, ``{{ }}``, ``` ``code`` ```) and the same markup.
- Odoo loads those fr.po files: menus, fields, views and code terms come out in French.
"""

import re
from collections import Counter, defaultdict
from pathlib import Path

import polib
from lxml import etree
from odoo.modules.module import get_manifest, get_module_path
from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import TranslationImporter, TranslationModuleReader, code_translations

REPO = Path(get_module_path("cloud_base")).parent
EXPORT_COMMAND = "python3 tools/export_pot.py"
HOW_TO_EXPORT = (
    f"Export the templates again from the repository root: `{EXPORT_COMMAND}` (add "
    "`--addons a,b` for some addons only). It installs the suite in a throwaway database, "
    "rewrites each i18n/<addon>.pot with Odoo's exporter and adds the new msgids to each "
    "i18n/fr.po with an empty msgstr; then translate those into French."
)
FORMAT = re.compile(r"%\([^)]+\)[sdfr]|%[sdfr]|\{\{.*?\}\}|``[^`]*``", re.S)
TAG = re.compile(r"<[^>]+>")


def suite_addons():
    """Every addon of the repository, as tools/odoo_tests.py finds them."""
    return sorted(p.parent.name for p in REPO.glob("*/__manifest__.py"))


def template_path(addon):
    return REPO / addon / "i18n" / f"{addon}.pot"


def french_path(addon):
    return REPO / addon / "i18n" / "fr.po"


def msgids(path):
    return {e.msgid for e in polib.pofile(str(path)) if not e.obsolete}


def demo_xmlids(addons):
    """External ids of the records the addons' demo files define."""
    xmlids = set()
    for addon in addons:
        for name in get_manifest(addon).get("demo", []):
            if not name.endswith(".xml"):
                continue
            for node in etree.parse(str(REPO / addon / name)).iter("record", "template",
                                                                     "menuitem"):
                if xmlid := node.get("id"):
                    xmlids.add(xmlid if "." in xmlid else f"{addon}.{xmlid}")
    return xmlids


def mismatch(msgid, msgstr):
    """Why a translation would break at run time (or in a view), or ''."""
    problems = []
    if Counter(FORMAT.findall(msgid)) != Counter(FORMAT.findall(msgstr)):
        problems.append("placeholders differ")
    if Counter(TAG.findall(msgid)) != Counter(TAG.findall(msgstr)):
        problems.append("markup differs")
    if msgid[:1].isspace() and not msgstr[:1].isspace() or (
            msgid[-1:].isspace() and not msgstr[-1:].isspace()):
        problems.append("surrounding spaces lost")
    return ", ".join(problems)


@tagged("post_install", "-at_install")
class TestI18n(TransactionCase):

    def installed_suite_addons(self):
        return self.env["ir.module.module"].search([
            ("name", "in", suite_addons()), ("state", "=", "installed"),
        ]).mapped("name")

    def test_every_addon_has_a_template_and_french(self):
        missing = [str(path.relative_to(REPO)) for addon in suite_addons()
                   for path in (template_path(addon), french_path(addon)) if not path.exists()]
        self.assertFalse(missing, f"missing translation files: {', '.join(missing)}. "
                         f"{HOW_TO_EXPORT}")

    def test_templates_hold_every_exported_term(self):
        addons = self.installed_suite_addons()
        self.assertIn("cloud_base", addons)
        demo = demo_xmlids(addons)
        # an extraction error (e.g. an f-string inside _()) drops the rest of a file's terms
        with self.assertNoLogs("odoo.tools.translate", level="ERROR"):
            reader = TranslationModuleReader(self.env.cr, modules=addons)
        exported = defaultdict(set)
        for module, ttype, _name, res_id, source, _value, _comments in reader:
            if ttype in ("model", "model_terms") and res_id in demo:
                continue
            exported[module].add(source)
        report = []
        for addon in addons:
            self.assertTrue(exported[addon], f"Odoo's exporter found no term of {addon}")
            missing = exported[addon] - msgids(template_path(addon))
            if missing:
                report.append(f"{addon}/i18n/{addon}.pot lacks {len(missing)} terms:")
                report.extend(f"    {term!r}" for term in sorted(missing))
        if report:
            self.fail("\n".join(["", *report, HOW_TO_EXPORT]))

    def test_french_is_complete(self):
        report = []
        for addon in suite_addons():
            french = {e.msgid: e for e in polib.pofile(str(french_path(addon)))
                      if not e.obsolete}
            for msgid in sorted(msgids(template_path(addon))):
                entry = french.get(msgid)
                if entry is None or not entry.msgstr.strip():
                    problem = "no French"
                elif entry.fuzzy:
                    problem = "fuzzy"
                else:
                    problem = mismatch(msgid, entry.msgstr)
                if problem:
                    report.append(f"{addon}/i18n/fr.po: {problem}: {msgid!r}")
        if report:
            self.fail("\n".join(
                ["", *report, "Every msgid of a template needs a French msgstr with the same "
                 f"placeholders and markup. New msgids reach fr.po with `{EXPORT_COMMAND}`."]))

    def test_mismatch_finds_broken_translations(self):
        self.assertEqual(mismatch("%(name)s: %s", "%s : %(name)s"), "")
        self.assertEqual(mismatch("%(name)s", "%(nom)s"), "placeholders differ")
        self.assertEqual(mismatch("<b>first</b>", "premier"), "markup differs")
        self.assertEqual(mismatch("{{ object.name }}", "{{ objet.nom }}"), "placeholders differ")
        self.assertEqual(mismatch(" and %s more", "et %s de plus"), "surrounding spaces lost")

    def test_odoo_loads_the_french_translation(self):
        addons = self.installed_suite_addons()
        self.env["res.lang"]._activate_lang("fr_FR")
        importer = TranslationImporter(self.env.cr, verbose=False)
        for addon in addons:
            importer.load_file(str(french_path(addon)), "fr_FR")
        importer.save(overwrite=True)
        fr = self.env(context={"lang": "fr_FR"})
        self.assertEqual(fr.ref("cloud_base.menu_clouds_root").name, "Stockage cloud")
        self.assertEqual(fr["ir.model.fields"]._get("clouds.folder", "parent_id")
                         .field_description, "Dossier parent")
        arch = fr["clouds.folder.rule"].get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn("Appliquer maintenant", arch)
        self.assertIn("<b>première règle par séquence</b>", arch)
        python = code_translations.get_python_translations("cloud_base", "fr_FR")
        self.assertEqual(python.get("Folders prepared"), "Dossiers préparés")
        web = code_translations.get_web_translations("cloud_base", "fr_FR")["messages"]
        self.assertIn({"id": "Open in the cloud", "string": "Ouvrir dans le cloud"},
                      [dict(m) for m in web])
