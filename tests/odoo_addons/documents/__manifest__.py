{
    "name": "Documents (test stand-in)",
    "summary": "TEST STAND-IN, never install it in a real database: declares only the "
    "public schema of Odoo 18 Enterprise Documents so that cloud_documents can be tested "
    "without Enterprise",
    "version": "18.0.0.0.1",
    "category": "Hidden/Tests",
    "license": "LGPL-3",
    "author": "Cloud Storage Suite",
    "depends": ["base"],
    "data": [
        "security/ir.model.access.csv",
        "security/documents_rules.xml",
    ],
    "installable": True,
    "application": False,
}
