"""Rules made before rules had an author: their creator becomes their author, so that
they keep running with that user's rights (never as superuser unless it made them)."""


def migrate(cr, version):
    cr.execute(
        "UPDATE clouds_folder_rule SET author_id = create_uid"
        " WHERE author_id IS NULL AND create_uid IS NOT NULL"
    )
