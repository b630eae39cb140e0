/** A portal user (from the portal home) and an anonymous visitor (from the token link) use
 * a share: folders, tags, search, preview, drag-and-drop upload, zip download and chat. */
import { registry } from "@web/core/registry";

function dropFile(name) {
    return {
        content: `drop ${name} on the upload zone`,
        trigger: ".o_clouds_dropzone",
        run() {
            const transfer = new DataTransfer();
            transfer.items.add(new File([`content of ${name}`], name, { type: "text/plain" }));
            this.anchor.dispatchEvent(
                new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true })
            );
        },
    };
}

const downloadZip = {
    content: "download the zip of the open folder",
    trigger: "a.o_clouds_zip",
    async run() {
        const response = await fetch(this.anchor.getAttribute("href"));
        const bytes = new Uint8Array(await response.arrayBuffer());
        const type = response.headers.get("Content-Type");
        if (!response.ok || type !== "application/zip" || bytes[0] !== 0x50 || bytes[1] !== 0x4b) {
            throw new Error(`zip download failed: ${response.status} ${type}`);
        }
        document.body.classList.add("o_clouds_zip_ok");
    },
};

const previewReadme = {
    content: "preview readme.txt",
    trigger: "tr.o_clouds_file_row:has(a.o_clouds_file:contains(readme.txt)) a.o_clouds_preview",
    async run() {
        const link = this.anchor;
        if (link.target !== "_blank") {
            throw new Error("a preview opens in a new tab");
        }
        // The tour stays on this page: the click's new tab is replaced by fetching the
        // address it opens, as that tab would.
        link.addEventListener("click", (ev) => ev.preventDefault(), { once: true });
        link.click();
        const response = await fetch(link.href);
        const type = response.headers.get("Content-Type");
        const disposition = response.headers.get("Content-Disposition") || "";
        const text = await response.text();
        if (!response.ok || !type.startsWith("text/plain") || !disposition.startsWith("inline")
            || text !== "read me") {
            throw new Error(`preview failed: ${response.status} ${type} ${disposition}`);
        }
        document.body.classList.add("o_clouds_preview_ok");
    },
};

function shareSteps(uploadName, message) {
    return [
        { trigger: "a.o_clouds_folder:contains(Client Docs)", run: "click" },
        { trigger: "a.o_clouds_file:contains(readme.txt)" },
        previewReadme,
        { trigger: "body.o_clouds_preview_ok" },
        { trigger: "a.o_clouds_folder:contains(Plans)", run: "click" },
        { trigger: "a.o_clouds_file:contains(plan.txt)" },
        { trigger: "a.o_clouds_tag:contains(Urgent)", run: "click" },
        { trigger: "a.o_clouds_file:contains(readme.txt)" },
        { trigger: "a.o_clouds_file:contains(plan.txt)" },
        { trigger: "a.o_clouds_root", run: "click" },
        { trigger: "a.o_clouds_folder:contains(Private)" },
        { trigger: ".o_clouds_search input[name=search]", run: "edit loose" },
        { trigger: ".o_clouds_search_button", run: "click" },
        { trigger: "a.o_clouds_file:contains(loose.txt)" },
        {
            trigger: "body:not(:has(a.o_clouds_file:contains(readme.txt)))",
        },
        { trigger: "a.o_clouds_root", run: "click" },
        { trigger: "a.o_clouds_folder:contains(Private)" },
        { trigger: "a.o_clouds_folder:contains(Client Docs)", run: "click" },
        { trigger: "a.o_clouds_file:contains(readme.txt)" },
        { trigger: "a.o_clouds_folder:contains(Plans)", run: "click" },
        { trigger: "a.o_clouds_file:contains(plan.txt)" },
        dropFile(uploadName),
        { trigger: `a.o_clouds_file:contains(${uploadName})` },
        downloadZip,
        { trigger: "body.o_clouds_zip_ok" },
        { trigger: "#chatterRoot:shadow .o-mail-Composer-input", run: `edit ${message}` },
        { trigger: "#chatterRoot:shadow .o-mail-Composer-send:enabled", run: "click" },
        { trigger: `#chatterRoot:shadow .o-mail-Message:contains(${message})` },
    ];
}

registry.category("web_tour.tours").add("cloud_share_portal", {
    steps: () => [
        { trigger: "a[href='/my/shares']:visible", run: "click" },
        { trigger: "tr.o_clouds_share_row a:contains(ACME files)", run: "click" },
        ...shareSteps("tour-portal.txt", "Hello from the portal"),
    ],
});

registry.category("web_tour.tours").add("cloud_share_anonymous", {
    steps: () => shareSteps("tour-anonymous.txt", "Hello from the link"),
});
