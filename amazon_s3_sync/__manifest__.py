{
    "name": "Cloud Storage: Amazon S3 / MinIO Sync",
    "summary": "Sync Cloud Storage folders with an Amazon S3 or MinIO bucket",
    "version": "18.0.1.0.0",
    "category": "Productivity/Documents",
    "license": "LGPL-3",
    "author": "Cloud Storage Suite",
    "website": "https://example.invalid/cloud-storage",
    "depends": ["cloud_base"],
    "external_dependencies": {"python": ["boto3"]},
    "data": ["views/clouds_client_views.xml"],
    "installable": True,
}
