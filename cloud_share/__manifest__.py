{
    "name": "Cloud Storage: Shares",
    "summary": "Share files, folders and tags with partners and by public link on the portal",
    "version": "18.0.1.1.0",
    "category": "Productivity/Documents",
    "license": "LGPL-3",
    "author": "Cloud Storage Suite",
    "website": "https://example.invalid/cloud-storage",
    "depends": ["cloud_base", "portal", "mail"],
    "external_dependencies": {"python": ["zipstream-ng"]},
    "data": [
        "security/ir.model.access.csv",
        "security/cloud_share_rules.xml",
        "data/ir_config_parameter.xml",
        "data/mail_template.xml",
        "views/clouds_share_views.xml",
        "wizards/clouds_share_wizard_views.xml",
        "wizards/clouds_share_invite_views.xml",
        "data/server_actions.xml",
        "views/share_buttons_views.xml",
        "views/res_config_settings_views.xml",
        "views/portal_templates.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "cloud_share/static/src/folder_menu/*.js",
        ],
        "web.assets_frontend": [
            "cloud_share/static/src/js/share_page.js",
        ],
        "web.assets_tests": [
            "cloud_share/static/tests/tours/*.js",
        ],
    },
    "installable": True,
}
