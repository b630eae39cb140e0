/** Upload by button or drag and drop into the folder open on a share page. */
import publicWidget from "@web/legacy/js/public/public_widget";

publicWidget.registry.CloudsShareUpload = publicWidget.Widget.extend({
    selector: ".o_clouds_dropzone",

    start() {
        this.el.addEventListener("dragover", (ev) => {
            ev.preventDefault();
            this.el.classList.add("bg-light");
        });
        this.el.addEventListener("dragleave", () => this.el.classList.remove("bg-light"));
        this.el.addEventListener("drop", (ev) => {
            ev.preventDefault();
            this.el.classList.remove("bg-light");
            this._upload(ev.dataTransfer.files);
        });
        this.el.querySelector(".o_clouds_upload_input").addEventListener("change", (ev) => {
            this._upload(ev.target.files);
        });
        return this._super(...arguments);
    },

    async _upload(files) {
        if (!files || !files.length) {
            return;
        }
        const data = new FormData();
        data.append("csrf_token", this.el.dataset.csrf);
        for (const file of files) {
            data.append("files", file);
        }
        const error = this.el.querySelector(".o_clouds_upload_error");
        error.textContent = "";
        this.el.classList.add("o_clouds_uploading");
        const response = await fetch(this.el.dataset.url, { method: "POST", body: data });
        this.el.classList.remove("o_clouds_uploading");
        if (response.ok) {
            window.location.reload();
        } else {
            error.textContent = response.status === 413
                ? "This file is too large."
                : `The upload failed (${response.status}).`;
        }
    },
});
