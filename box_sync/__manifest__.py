{
    "name": "Cloud Storage: Box Sync",
    "summary": "Sync Cloud Storage folders with Box (OAuth 2 or client credentials)",
    "version": "18.0.1.0.0",
    "category": "Productivity/Documents",
    "license": "LGPL-3",
    "author": "Cloud Storage Suite",
    "website": "https://example.invalid/cloud-storage",
    "depends": ["cloud_base"],
    "external_dependencies": {"python": ["boxsdk"]},
    "data": ["views/clouds_client_views.xml"],
    "installable": True,
}
