import { Domain } from "@web/core/domain";
import { router } from "@web/core/browser/router";
import { SearchModel } from "@web/search/search_model";

/**
 * The search model of the file manager: the standard one plus the folder and the tag
 * chosen in the side panel, so filters, group-by, pager and favorites keep working.
 * The folder is kept in the breadcrumb state and in the URL (``folder_id``).
 */
export class FileManagerSearchModel extends SearchModel {
    setup(services) {
        super.setup(services);
        this.clouds = { folderId: false, tagId: false, includeSubfolders: false };
    }

    async load(config) {
        await super.load(config);
        const fromUrl = Number(router.current.folder_id);
        if (!config.state && fromUrl) {
            this.clouds.folderId = fromUrl;
        }
    }

    exportState() {
        return { ...super.exportState(), clouds: { ...this.clouds } };
    }

    _importState(state) {
        super._importState(state);
        if (state.clouds) {
            this.clouds = { ...state.clouds };
        }
    }

    _getDomain(params = {}) {
        const domain = Domain.and([
            super._getDomain({ ...params, raw: true }),
            this._cloudsDomain(),
        ]);
        return params.raw ? domain : domain.toList(this.domainEvalContext);
    }

    _cloudsDomain() {
        const { folderId, tagId, includeSubfolders } = this.clouds;
        const parts = [];
        if (folderId) {
            const op = includeSubfolders ? "child_of" : "=";
            parts.push(new Domain([["clouds_folder_id", op, folderId]]));
        }
        if (tagId) {
            parts.push(new Domain([["clouds_tag_ids", "child_of", tagId]]));
        }
        return Domain.and(parts);
    }

    setCloudsFilter(changes) {
        Object.assign(this.clouds, changes);
        router.pushState({ folder_id: this.clouds.folderId || undefined });
        this._notify();
    }
}
