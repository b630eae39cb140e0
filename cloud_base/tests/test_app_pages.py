"""Every addon of the suite has an icon and an app page (Apps and Settings show them).

The icons are drawn by ``tools/make_icons.py``.
"""

import re

from lxml import html
from odoo.tests import TransactionCase, tagged
from PIL import Image

from .test_i18n import REPO, suite_addons

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["'](?:[a-z]+:)?//""", re.I)


@tagged("post_install", "-at_install")
class TestAppPages(TransactionCase):
    def test_every_addon_has_an_icon_and_a_page(self):
        for addon in suite_addons():
            with self.subTest(addon=addon):
                description = REPO / addon / "static" / "description"
                with Image.open(description / "icon.png") as icon:
                    self.assertEqual(icon.format, "PNG")
                    self.assertEqual(icon.width, icon.height)
                    self.assertGreaterEqual(icon.width, 128)
                page = (description / "index.html").read_text(encoding="utf-8")
                self.assertFalse(page.startswith("<?xml"), "Odoo 17+ wants no XML declaration")
                self.assertFalse(EXTERNAL.search(page), "the app page loads nothing from outside")
                for img in html.fromstring(page).iter("img"):
                    self.assertTrue((description / img.get("src")).is_file(), img.get("src"))

    def test_odoo_shows_them(self):
        modules = self.env["ir.module.module"].search([("name", "in", suite_addons())])
        self.assertIn("cloud_base", modules.mapped("name"))
        for module in modules:
            with self.subTest(addon=module.name):
                self.assertEqual(module.icon, f"/{module.name}/static/description/icon.png")
                self.assertTrue(module.icon_image)
                self.assertIn(module.shortdesc, module.description_html)
        page = modules.filtered(lambda m: m.name == "cloud_base").description_html
        self.assertIn('src="/cloud_base/static/description/file_manager.png"', page)

    def test_home_menu_tile_uses_the_icon(self):
        menu = self.env.ref("cloud_base.menu_clouds_root")
        self.assertEqual(menu.web_icon, "cloud_base,static/description/icon.png")
        self.assertTrue(menu.web_icon_data)
