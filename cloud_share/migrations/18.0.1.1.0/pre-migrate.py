"""Shares got owners whose rights they expose (access hardening): before, ``user_id`` was an
optional "Responsible" and shares were served as superuser. A share with no owner gets its
creator; a share whose owner may not own one (the superuser account, a portal or public
user, none at all) is archived, so its link stops working until an administrator gives it
an employee as owner: failing closed, nothing deleted."""

import logging

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    cr.execute("UPDATE clouds_share SET user_id = create_uid WHERE user_id IS NULL")
    cr.execute("""
        UPDATE clouds_share s SET active = FALSE
         WHERE s.active AND (s.user_id IS NULL OR s.user_id = 1 OR EXISTS (
               SELECT 1 FROM res_users u WHERE u.id = s.user_id AND u.share))
     RETURNING s.id""")
    archived = [row[0] for row in cr.fetchall()]
    if archived:
        _logger.warning("cloud_share: %s shares archived: their owner is not an employee "
                        "(give each an owner, then restore it): ids %s", len(archived), archived)
