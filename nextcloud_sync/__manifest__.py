{
    "name": "Cloud Storage: Nextcloud / ownCloud Sync",
    "summary": "Sync Cloud Storage folders with Nextcloud or ownCloud",
    "version": "18.0.1.0.0",
    "category": "Productivity/Documents",
    "license": "LGPL-3",
    "author": "Cloud Storage Suite",
    "website": "https://example.invalid/cloud-storage",
    "depends": ["cloud_base"],
    "external_dependencies": {"python": ["pyocclient"]},
    "data": ["views/clouds_client_views.xml"],
    "installable": True,
}
