"""The suite's one zip builder, used by the file manager and by shares.

The caller decides which files go in (access is checked before, see
``ir.attachment._clouds_servable``); this module names the entries and streams the archive.
"""

from collections import defaultdict

from odoo import SUPERUSER_ID, api
from odoo.http import content_disposition, request
from odoo.modules.registry import Registry
from zipstream import ZipStream

from cloud_sync.naming import PORTABLE_RULES, sanitize, unique_name

# Files read per short-lived cursor while the archive is sent.
BATCH = 100


def portable(name):
    """``name`` as one portable path part (see ``PORTABLE_RULES``): never empty, never a
    separator or ``..``, so it cannot escape the archive or a folder."""
    return sanitize(name or "", PORTABLE_RULES)


class ZipLayout:
    """The entries of one archive: ``entries`` is ``[(path, attachment id or None for a
    directory)]``.

    Every part is portable and unique in its directory regardless of case, so extracting
    on Windows or macOS (case-insensitive file systems) never overwrites an entry.
    """

    def __init__(self):
        self.entries = []
        self._taken = defaultdict(set)

    def _path(self, directory, name):
        part = portable(name)
        taken = self._taken[directory]
        if PORTABLE_RULES.key(part) in taken:
            part = unique_name(part, taken, PORTABLE_RULES)
        taken.add(PORTABLE_RULES.key(part))
        return directory + part

    def add_directory(self, parent, name):
        """A directory named ``name`` in ``parent`` ("" or a path ending in "/"); returns
        its path (ending in "/")."""
        path = self._path(parent, name) + "/"
        self.entries.append((path, None))
        return path

    def add_file(self, directory, name, attachment_id):
        self.entries.append((self._path(directory, name), attachment_id))


def zip_chunks(dbname, entries, batch=BATCH):
    """The bytes of the zip of ``entries``, made while they are sent.

    The request's cursor is closed by the time a streamed response is read, so each batch
    of files is read in a short cursor of its own, as superuser (the caller decided
    access). Memory holds one batch's records and one chunk of data, whatever the size of
    the archive. A file deleted meanwhile is left out.
    """
    archive = ZipStream(sized=False)
    for start in range(0, len(entries), batch):
        part = entries[start:start + batch]
        with Registry(dbname).cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            ids = [id_ for _path, id_ in part if id_]
            existing = set(env["ir.attachment"].browse(ids).exists().ids)
            for path, id_ in part:
                if id_ is None:
                    archive.mkdir(path)
                elif id_ in existing:
                    archive.add(env["ir.attachment"].browse(id_)._clouds_stream(), path)
            yield from archive.all_files()
    yield from archive.footer()


def zip_response(entries, name, headers=(("X-Content-Type-Options", "nosniff"),)):
    """A streamed HTTP response with the zip of ``entries``, downloaded as ``name``.zip."""
    filename = portable(name).removesuffix(".zip") + ".zip"
    response = request.make_response(
        zip_chunks(request.env.cr.dbname, entries),
        headers=[
            ("Content-Type", "application/zip"),
            ("Content-Disposition", content_disposition(filename)),
            *headers,
        ],
    )
    response.direct_passthrough = True
    return response
