import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { CloudsAttachmentBox } from "../attachment_box/attachment_box";
import {
    FileManagerKanbanController,
    FileManagerListController,
} from "../file_manager/file_manager_views";
import { useCloudPicker } from "./cloud_picker";

/** "Add from cloud" in the attachment box: into the selected folder (and its record). */
patch(CloudsAttachmentBox.prototype, {
    setup() {
        super.setup(...arguments);
        this.cloudPicker = useCloudPicker();
    },
    addFromCloud() {
        this.cloudPicker.open({ folderId: this.state.selected.id }, () => this.reloadAll());
    },
});

/** "Add from cloud" in the file manager: into the folder selected in the panel. */
const controllerPatch = () => ({
    setup() {
        super.setup(...arguments);
        this.cloudPicker = useCloudPicker();
    },
    onCloudsAddFromCloud() {
        const folderId = this.env.searchModel.clouds.folderId;
        if (!folderId) {
            this.cloudsNotification.add(_t("Select a folder to add files into."), {
                type: "warning",
            });
            return;
        }
        this.cloudPicker.open({ folderId }, () => this.model.load());
    },
});
patch(FileManagerKanbanController.prototype, controllerPatch());
patch(FileManagerListController.prototype, controllerPatch());
