{
    "name": "Cloud Storage: Documents Bridge",
    "summary": "Sync Odoo Documents (Enterprise) folders with the Cloud Storage suite's "
    "folders and clouds, in both directions",
    "version": "18.0.1.0.0",
    "category": "Productivity/Documents",
    "license": "LGPL-3",
    "author": "Cloud Storage Suite",
    "website": "https://example.invalid/cloud-storage",
    "depends": ["cloud_base", "documents"],
    "data": [
        "views/clouds_folder_rule_views.xml",
    ],
    "installable": True,
    "auto_install": True,
}
