{
    "name": "Cloud Storage: Folders, Rules and Sync Core",
    "summary": "Organise attachments into rule-generated folder trees; the core of the "
    "Cloud Storage suite",
    "version": "18.0.1.1.0",
    "category": "Productivity/Documents",
    "license": "LGPL-3",
    "author": "Cloud Storage Suite",
    "website": "https://example.invalid/cloud-storage",
    "depends": ["base", "mail", "base_setup"],
    "external_dependencies": {"python": ["cloud-sync"]},
    "data": [
        "security/cloud_base_security.xml",
        "security/ir.model.access.csv",
        "security/cloud_base_rules.xml",
        "data/ir_cron.xml",
        "data/ir_config_parameter.xml",
        "views/clouds_folder_views.xml",
        "views/clouds_tag_views.xml",
        "views/ir_attachment_views.xml",
        "views/file_manager_views.xml",
        "views/clouds_folder_rule_views.xml",
        "wizards/clouds_rule_preview_views.xml",
        "views/res_config_settings_views.xml",
        "views/menus.xml",
        "data/ir_cron_sync.xml",
        "views/clouds_client_views.xml",
        "views/clouds_client_oauth_views.xml",
        "views/clouds_queue_views.xml",
        "views/clouds_log_views.xml",
        "views/clouds_dashboard_views.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "cloud_base/static/src/**/*",
        ],
        "web.assets_unit_tests": [
            "cloud_base/static/tests/**/*.test.js",
        ],
        "web.assets_tests": [
            "cloud_base/static/tests/tours/**/*",
        ],
    },
    "demo": [
        "demo/clouds_demo.xml",
    ],
    "installable": True,
    "application": True,
}
