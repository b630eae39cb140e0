import { registry } from "@web/core/registry";

/** The dashboard as an administrator uses it: a connection's card, Sync now and its
 * notification, then the last run's operations. */
const card = ".o_clouds_dashboard .o_kanban_record:contains(Tour NAS)";

registry.category("web_tour.tours").add("cloud_base_dashboard", {
    steps: () => [
        { trigger: `${card} .o_clouds_numbers:contains(Synced)` },
        { trigger: `${card} .o_clouds_sync_now`, run: "click" },
        { trigger: ".o_notification:contains(started; you will be notified when it ends)" },
        { trigger: `${card} .o_clouds_last_run`, run: "click" },
        { trigger: ".o_form_view .o_field_widget[name=operation_ids] td:contains(plan.bin)" },
        { trigger: ".o_form_view .o_field_widget[name=operation_ids] td:contains(Projects/Alpha/plan.bin)" },
    ],
});
