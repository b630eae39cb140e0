import { registry } from "@web/core/registry";

/** Connect a Google Drive connection through the emulator's consent page (the test
 * presses "Cancel" on the first one, "Allow" on the second; see ConsentTourCase). */
const form = ".o_form_view";

registry.category("web_tour.tours").add("google_drive_sync_connect", {
    steps: () => [
        { trigger: `${form} button[name=action_connect]`, run: "click", expectUnloadPage: true },
        { trigger: `${form} .alert:contains(Access was denied at Google Drive)` },
        { trigger: `${form} button[name=action_connect]`, run: "click", expectUnloadPage: true },
        { trigger: `${form} .o_statusbar_status button.o_arrow_button_current:contains(Connected)` },
        { trigger: `${form} button[name=action_choose_google_drive]` },
    ],
});
