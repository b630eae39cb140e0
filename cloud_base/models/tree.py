"""What folders and tags share: a tree whose archived branches hide everything below."""

from odoo.tools import SQL


def archived_branches(model):
    """A query of the records of ``model`` (folders or tags) that are archived or below an
    archived record, whoever may read them.

    The archive action archives a whole branch, but a bare write of ``active`` does not:
    a record below an archived one is hidden all the same.
    """
    model = model.sudo().with_context(active_test=False)
    model.flush_model(["parent_path", "active"])
    query = model._search([])
    query.add_where(SQL(
        "string_to_array(rtrim(%(t)s.parent_path, '/'), '/')::int[]"
        " && ARRAY(SELECT a.id FROM %(t)s a WHERE NOT a.active)",
        t=SQL.identifier(query.table),
    ))
    return query


def live_subtree(records):
    """Ids of ``records`` and everything below them that the environment's user may read,
    active and under no archived record."""
    if not records:
        return set()
    found = records.search([
        ("id", "child_of", records.ids), ("id", "not in", archived_branches(records)),
    ])
    return set(found.ids)
