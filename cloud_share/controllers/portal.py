"""Portal routes of shares: list, share page, downloads, zip, upload, new folders and tags.

Every route goes through ``_clouds_share`` (the share is usable and the visitor holds its
current token or is one of its partners) and checks each folder, tag and file id against
the share's scope: anything else answers 404, as if it did not exist.
"""

import io
import json
import mimetypes

from odoo import _, http
from odoo.addons.cloud_base.zip_archive import zip_response
from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager
from odoo.addons.portal.utils import validate_thread_with_hash_pid
from odoo.http import content_disposition, request
from odoo.osv import expression
from odoo.tools.misc import human_size
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import BadRequest, Forbidden, NotFound, RequestEntityTooLarge
from werkzeug.urls import url_encode

from ..models.clouds_share import entry_name

PAGE_SIZE = 50
MAX_SEARCH = 200
# Every file answer: never sniffed, never run, never leaking the link (it holds the token).
DOWNLOAD_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Security-Policy", "default-src 'none'"),
    ("Referrer-Policy", "no-referrer"),
]
# Previews are shown by the browser's own viewer (image page, PDF viewer, text): it needs
# its inline styles and the file itself, nothing else.
PREVIEW_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Security-Policy", "default-src 'none'; img-src 'self'; object-src 'self'; "
                                "style-src 'unsafe-inline'; frame-ancestors 'self'"),
    ("Referrer-Policy", "no-referrer"),
]
TEXT = "text/plain; charset=utf-8"
# The types a file may be previewed as, and the type it is then served as. Anything able
# to run script in the browser (HTML, SVG, XML, JS...) is not here: it downloads.
PREVIEW_TYPES = {
    "image/png": "image/png", "image/jpeg": "image/jpeg", "image/gif": "image/gif",
    "image/webp": "image/webp", "application/pdf": "application/pdf",
    "text/plain": TEXT, "text/csv": TEXT, "text/markdown": TEXT,
}


def _int(value):
    """An id from the query string; anything else is refused as not found."""
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise NotFound() from None
    if number <= 0:
        raise NotFound()
    return number


def _view_int(value):
    """A positive id or page number of a posted view state, else None (dropped)."""
    try:
        return _int(value)
    except NotFound:
        return None


def preview_type(attachment):
    """The content type ``attachment`` is previewed as, or None when it only downloads.

    The stored type may be the uploader's choice: the type its name suggests must be
    harmless too (an "x.html" stored as text/plain downloads)."""
    guessed = mimetypes.guess_type(attachment.name or "")[0]
    if guessed and guessed not in PREVIEW_TYPES:
        return None
    return PREVIEW_TYPES.get(attachment.mimetype or guessed)


class CloudSharePortal(CustomerPortal):

    # ---------------------------------------------------------------- access

    def _clouds_share(self, share_id, access_token=None):
        """The share (sudo) if usable and the visitor holds its token or is its partner."""
        share = request.env["clouds.share"].sudo().browse(share_id).exists()
        if not share or not share._clouds_usable():
            raise NotFound()
        if access_token and share._clouds_check_token(access_token):
            return share
        user = request.env.user
        if not user._is_public() and share._clouds_shared_with(user.partner_id):
            return share
        raise NotFound()

    def _clouds_folder(self, share, folder_id, folder_ids):
        """A folder of the share that the visitor may open, or None."""
        folder_id = _int(folder_id)
        if folder_id is None:
            return None
        if not share.allow_folders or folder_id not in folder_ids:
            raise NotFound()
        return request.env["clouds.folder"].sudo().browse(folder_id)

    def _clouds_target(self, share, folder_id):
        """The folder an upload or a new folder goes into: ``folder_id`` when it is in a
        shared folder's subtree or is the upload folder, else the upload folder. Never the
        folder of a file shared on its own: the visitor may see it, not fill it."""
        asked = _int(folder_id)
        if asked and not share.allow_folders:  # folders are not browsed: none is named
            raise NotFound()
        targets = share._clouds_upload_targets()
        wanted = asked or share.upload_folder_id.id
        if not wanted:
            raise BadRequest(_("Open a shared folder to add files or folders to it."))
        if wanted not in targets:
            if wanted not in share._clouds_folder_ids():
                raise NotFound()
            raise Forbidden(_("Files and folders can only be added to the shared folders "
                              "and the share's upload folder."))
        return request.env["clouds.folder"].sudo().browse(wanted)

    def _clouds_page_target(self, share, folder):
        """Where the page's upload box and "Add folder" put things: the open folder, or
        the upload folder outside shared folders; None when neither may be filled."""
        if not (share.allow_upload or share.allow_create):
            return None
        targets = share._clouds_upload_targets()
        wanted = folder.id if folder else share.upload_folder_id.id
        return request.env["clouds.folder"].sudo().browse(wanted) if wanted in targets else None

    def _clouds_tag(self, share, tag_id):
        tag_id = _int(tag_id)
        if tag_id is None:
            return None
        if not share.allow_tags or tag_id not in share._clouds_tag_ids():
            raise NotFound()
        return request.env["clouds.tag"].sudo().browse(tag_id)

    def _clouds_file(self, share, attachment_id):
        attachment_id = _int(attachment_id)
        if attachment_id is None or not share._clouds_has_file(attachment_id):
            raise NotFound()
        return request.env["ir.attachment"].sudo().browse(attachment_id)

    def _clouds_signature(self, share, params):
        """{pid, hash} of an invitation link when valid: it keeps naming its partner in the
        chat and on uploads while the visitor browses the share."""
        try:
            pid = _int(params.get("pid"))
        except NotFound:
            return {}
        if pid and validate_thread_with_hash_pid(share, params.get("hash"), pid):
            return {"pid": pid, "hash": params["hash"]}
        return {}

    def _clouds_view(self, share, params):
        """The page a form was posted from (its ``view_*`` fields): folder, tag, search and
        page, each checked against the share; anything else is dropped."""
        view = {}
        folder_id = _view_int(params.get("view_folder_id"))
        if folder_id and share.allow_folders and folder_id in share._clouds_folder_ids():
            view["folder_id"] = folder_id
        tag_id = _view_int(params.get("view_tag_id"))
        if tag_id and share.allow_tags and tag_id in share._clouds_tag_ids():
            view["tag_id"] = tag_id
        search = params.get("view_search")
        if isinstance(search, str) and search.strip():
            view["search"] = search.strip()[:MAX_SEARCH]
        page = _view_int(params.get("view_page"))
        if page and page > 1:
            view["page"] = page
        return view

    def _clouds_back(self, share, access_token, params):
        """After a form post: back to the page the visitor was on (always this share's page,
        built from checked values only, never a URL the visitor sent)."""
        return request.redirect(self._clouds_url(
            share, access_token, **self._clouds_view(share, params),
            **self._clouds_signature(share, params)))

    def _clouds_visitor(self, share, params):
        """The partner acting: the user's, an invitation's, or none for a bare link."""
        user = request.env.user
        if not user._is_public():
            return user.partner_id
        signature = self._clouds_signature(share, params)
        return request.env["res.partner"].sudo().browse(signature.get("pid"))

    @staticmethod
    def _clouds_url(share, token, path="", **params):
        """A URL of the share page keeping the visitor's token."""
        params = {k: v for k, v in params.items() if v not in (None, "", False)}
        if token:
            params["access_token"] = token
        query = f"?{url_encode(params)}" if params else ""
        return f"/my/shares/{share.id}{path}{query}"

    # ---------------------------------------------------------------- home and list

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "clouds_share_count" in counters:
            Share = request.env["clouds.share"].sudo()
            values["clouds_share_count"] = Share.search_count(
                Share._clouds_portal_domain(request.env.user.partner_id)
            )
        return values

    @http.route(["/my/shares", "/my/shares/page/<int:page>"], type="http", auth="user",
                website=True)
    def portal_my_shares(self, page=1, **kw):
        Share = request.env["clouds.share"].sudo()
        domain = Share._clouds_portal_domain(request.env.user.partner_id)
        total = Share.search_count(domain)
        pager = portal_pager(url="/my/shares", total=total, page=page, step=self._items_per_page)
        shares = Share.search(domain, limit=self._items_per_page, offset=pager["offset"])
        values = self._prepare_portal_layout_values()
        values.update(shares=shares, pager=pager, page_name="clouds_shares")
        return request.render("cloud_share.portal_my_shares", values)

    # ---------------------------------------------------------------- share page

    @http.route(["/my/shares/<int:share_id>", "/my/shares/<int:share_id>/page/<int:page>"],
                type="http", auth="public", website=True)
    def portal_share_page(self, share_id, access_token=None, folder_id=None, tag_id=None,
                          search=None, page=1, **kw):
        try:
            share = self._clouds_share(share_id, access_token)
        except NotFound:
            if request.env.user._is_public() and not access_token:
                return request.redirect(f"/web/login?redirect=/my/shares/{share_id}")
            raise
        page = _int(page) or 1
        folder_ids = share._clouds_folder_ids()
        folder = self._clouds_folder(share, folder_id, folder_ids)
        tag = self._clouds_tag(share, tag_id)
        search = (search or "").strip()[:MAX_SEARCH]

        domain = []
        if folder and (tag or search):
            domain.append(("clouds_folder_id", "child_of", folder.id))
        elif folder:
            domain.append(("clouds_folder_id", "=", folder.id))
        if tag:
            domain.append(("clouds_tag_ids", "child_of", tag.id))
        if search:
            domain = expression.AND([domain, [
                "|", "|", ("name", "ilike", search),
                ("clouds_folder_id.name", "ilike", search),
                ("clouds_tag_ids.name", "ilike", search),
            ]])
        elif not folder and not tag and share.allow_folders:
            domain.append(("clouds_folder_id", "not in", list(folder_ids)))

        Folder = request.env["clouds.folder"].sudo()
        if not share.allow_folders or tag or search:
            subfolders = Folder
        elif folder:
            subfolders = Folder.search(
                [("parent_id", "=", folder.id), ("id", "in", list(folder_ids))], order="name, id"
            )
        else:
            subfolders = share._clouds_top_folders(folder_ids)
        tags = (request.env["clouds.tag"].sudo().browse(sorted(share._clouds_tag_ids()))
                if share.allow_tags else request.env["clouds.tag"])

        total = share._clouds_file_count(domain)
        url_args = {"folder_id": folder and folder.id, "tag_id": tag and tag.id,
                    "search": search, "access_token": access_token, "pid": kw.get("pid"),
                    "hash": kw.get("hash")}
        pager = portal_pager(
            url=f"/my/shares/{share.id}", total=total, page=page, step=PAGE_SIZE,
            url_args={k: v for k, v in url_args.items() if v},
        )
        files = share._clouds_files(domain, limit=PAGE_SIZE, offset=pager["offset"],
                                    order="name, id")
        breadcrumb = Folder
        if folder:
            chain = [int(i) for i in folder.parent_path.split("/") if i]
            breadcrumb = Folder.browse([i for i in chain if i in folder_ids])

        view_state = {
            "view_folder_id": folder and folder.id, "view_tag_id": tag and tag.id,
            "view_search": search,
            "view_page": pager["page"]["num"] if pager["page"]["num"] > 1 else None,
        }
        token = access_token if share._clouds_check_token(access_token) else None
        signature = self._clouds_signature(share, kw) if token else {}
        values = self._prepare_portal_layout_values()
        values.update({
            "page_name": "clouds_share",
            "share": share,
            "token": token,
            "folder": folder,
            "tag": tag,
            "search": search,
            "subfolders": subfolders,
            "tags": tags,
            "files": files,
            "total": total,
            "pager": pager,
            "folder_breadcrumb": breadcrumb,
            "share_url": lambda share, token, path="", **params: self._clouds_url(
                share, token, path, **signature, **params),
            # Hidden fields of the page's forms: where their post comes back to.
            "view_state": {k: v for k, v in view_state.items() if v},
            "preview_type": preview_type,
            "human_size": lambda size: human_size(size) or "0 bytes",
            "upload_target": self._clouds_page_target(share, folder),
            "upload_limit": request.env["res.config.settings"]._clouds_share_upload_limit(),
            "object": share,
        })
        values.update(signature)
        return request.render("cloud_share.portal_share_page", values)

    # ---------------------------------------------------------------- downloads

    @http.route(["/my/shares/<int:share_id>/files/<int:attachment_id>"], type="http",
                auth="public")
    def portal_share_download(self, share_id, attachment_id, access_token=None, **kw):
        share = self._clouds_share(share_id, access_token)
        attachment = self._clouds_file(share, attachment_id)
        self._clouds_audit(share, "download", attachments=attachment)
        return self._clouds_file_response(attachment)

    @http.route(["/my/shares/<int:share_id>/files/<int:attachment_id>/preview"], type="http",
                auth="public")
    def portal_share_preview(self, share_id, attachment_id, access_token=None, **kw):
        """The file shown by the browser (images, PDF, text); any other type downloads."""
        share = self._clouds_share(share_id, access_token)
        attachment = self._clouds_file(share, attachment_id)
        self._clouds_audit(share, "preview", attachments=attachment)
        return self._clouds_file_response(attachment, preview_type(attachment))

    def _clouds_audit(self, share, kind, **items):
        """The access in the share's audit trail (who, from which address)."""
        request.env["clouds.share.access"].sudo()._clouds_log(
            share, kind, request.httprequest.remote_addr, **items)

    def _clouds_file_response(self, attachment, inline_type=None):
        """The file streamed (local or cloud), as a download or inline as ``inline_type``."""
        name = entry_name(attachment.name)
        if inline_type:
            headers = [("Content-Type", inline_type),
                       ("Content-Disposition", content_disposition(name, "inline")),
                       *PREVIEW_HEADERS]
        else:
            headers = [("Content-Type", attachment.mimetype or "application/octet-stream"),
                       ("Content-Disposition", content_disposition(name)),
                       *DOWNLOAD_HEADERS]
        size = attachment._clouds_http_size()
        response = request.make_response(attachment._clouds_stream(), headers=headers)
        if size is not None:
            response.content_length = size
        response.direct_passthrough = True
        return response

    @http.route(["/my/shares/<int:share_id>/zip"], type="http", auth="public")
    def portal_share_zip(self, share_id, access_token=None, folder_id=None, tag_id=None, **kw):
        share = self._clouds_share(share_id, access_token)
        folder_ids = share._clouds_folder_ids()
        folder = self._clouds_folder(share, folder_id, folder_ids)
        tag = self._clouds_tag(share, tag_id)
        domain, name = [], share.name
        if folder:
            domain.append(("clouds_folder_id", "child_of", folder.id))
            name = folder.name
        if tag:
            domain.append(("clouds_tag_ids", "child_of", tag.id))
            name = tag.name
        files = share._clouds_files(domain, order="id")
        layout = share._clouds_zip_layout(files, folder_ids, base=folder)
        self._clouds_audit(share, "zip", folder=folder, name=_(
            "%(name)s (%(count)s files)", name=name, count=len(files)))
        return zip_response(layout.entries, name, headers=DOWNLOAD_HEADERS)

    # ---------------------------------------------------------------- changes

    @http.route(["/my/shares/<int:share_id>/upload"], type="http", auth="public",
                methods=["POST"], csrf=True)
    def portal_share_upload(self, share_id, access_token=None, folder_id=None, **kw):
        """Files posted as ``files``; answers JSON ``{"files": [{"id", "name"}]}``."""
        share = self._clouds_share(share_id, access_token)
        if not share.allow_upload:
            raise Forbidden(_("Uploading is not allowed on this share."))
        target = self._clouds_target(share, folder_id)
        limit = request.env["res.config.settings"]._clouds_share_upload_limit()
        uploads = request.httprequest.files.getlist("files")
        if not uploads:
            raise BadRequest(_("No file was sent."))
        checked = []
        for upload in uploads:
            data = upload.stream.read(limit + 1)
            if len(data) > limit:
                raise RequestEntityTooLarge(
                    _("“%(name)s” is larger than %(mb)s MB.", name=upload.filename,
                      mb=limit // (1024 * 1024)))
            # The browser's name may carry a path: keep its last component only.
            name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
            checked.append(FileStorage(io.BytesIO(data), filename=entry_name(name),
                                       content_type=upload.content_type))
        # cloud_base's upload (the file lands on the folder's record); sudo keeps the
        # visitor as creator.
        attachments = request.env["ir.attachment"].sudo()._clouds_upload(target, checked)
        attachments.write({"clouds_share_id": share.id})
        self._clouds_audit(share, "upload", attachments=attachments, folder=target)
        if target.id not in share._clouds_shared_subtree():
            share._clouds_add_items(attachments=attachments)
        share.message_post(
            body=_("Uploaded to %(folder)s: %(files)s", folder=target.name,
                   files=", ".join(attachments.mapped("name"))),
            author_id=self._clouds_visitor(share, kw).id or None,
            subtype_xmlid="mail.mt_note",
        )
        return request.make_response(
            json.dumps({"files": [{"id": a.id, "name": a.name} for a in attachments]}),
            headers=[("Content-Type", "application/json")],
        )

    @http.route(["/my/shares/<int:share_id>/folders"], type="http", auth="public",
                methods=["POST"], csrf=True)
    def portal_share_new_folder(self, share_id, access_token=None, parent_id=None, name=None,
                                **kw):
        share = self._clouds_share(share_id, access_token)
        if not share.allow_create or not share.allow_folders:
            raise Forbidden(_("Adding folders is not allowed on this share."))
        if not (name or "").strip():
            raise BadRequest(_("A folder needs a name."))
        parent = self._clouds_target(share, parent_id)
        folder = request.env["clouds.folder"].sudo().create(
            {"name": name.strip(), "parent_id": parent.id}
        )
        if parent.id not in share._clouds_shared_subtree():
            share._clouds_add_items(folders=folder)
        return self._clouds_back(share, access_token, kw)

    @http.route(["/my/shares/<int:share_id>/files/<int:attachment_id>/tags"], type="http",
                auth="public", methods=["POST"], csrf=True)
    def portal_share_tag_file(self, share_id, attachment_id, access_token=None, tag_id=None,
                              name=None, **kw):
        """Tag a file of the share with one of its tags or a new tag (named ``name``)."""
        share = self._clouds_share(share_id, access_token)
        if not share.allow_create or not share.allow_tags:
            raise Forbidden(_("Adding tags is not allowed on this share."))
        attachment = self._clouds_file(share, attachment_id)
        tag = self._clouds_tag(share, tag_id)
        if not tag:
            if not (name or "").strip():
                raise BadRequest(_("A tag needs a name."))
            tag = request.env["clouds.tag"].sudo().create({"name": name.strip()})
        attachment.write({"clouds_tag_ids": [(4, tag.id)]})
        return self._clouds_back(share, access_token, kw)
