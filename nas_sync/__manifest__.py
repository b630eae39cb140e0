{
    "name": "Cloud Storage: NAS / WebDAV Sync",
    "summary": "Sync Cloud Storage folders with a NAS (Synology, QNAP, TrueNAS) or any "
    "WebDAV server",
    "version": "18.0.1.0.0",
    "category": "Productivity/Documents",
    "license": "LGPL-3",
    "author": "Cloud Storage Suite",
    "website": "https://example.invalid/cloud-storage",
    "depends": ["cloud_base"],
    "external_dependencies": {"python": ["webdavclient3"]},
    "data": ["views/clouds_client_views.xml"],
    "installable": True,
}
