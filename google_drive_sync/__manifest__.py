{
    "name": "Cloud Storage: Google Drive Sync",
    "summary": "Sync Cloud Storage folders with Google Drive (My Drive or a shared drive)",
    "version": "18.0.1.0.0",
    "category": "Productivity/Documents",
    "license": "LGPL-3",
    "author": "Cloud Storage Suite",
    "website": "https://example.invalid/cloud-storage",
    "depends": ["cloud_base"],
    "external_dependencies": {"python": ["google-api-python-client", "google-auth"]},
    "data": [
        "security/ir.model.access.csv",
        "views/clouds_client_views.xml",
        "wizards/drive_picker_views.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "google_drive_sync/static/tests/tours/**/*",
        ],
    },
    "installable": True,
}
