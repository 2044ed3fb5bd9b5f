/* routes_roster.c -- an insurer sends its eligibility roster over HTTP: the
 * same import as `kenbank roster import` (ingest/roster.c), with the
 * account's organisation as the roster's source. */
#include <stdio.h>
#include <string.h>

#include "ingest/roster.h"
#include "server/server.h"

/* Body: the roster CSV, streamed to a private file (KB_R_STREAM_BODY). */
void kb_h_roster_import(kb_req *r) {
    const char *source = r->who.org;
    if (r->who.role == KB_ROLE_ADMIN) source = kb_req_arg(r, "source");
    if (!source || !*source) {
        kb_reply_error(r, 400, "bad_request", "query source: required for an account without an organisation");
        return;
    }
    if (r->body_len == 0 || !r->body_file) {
        kb_reply_error(r, 400, "bad_request", "request body: the roster CSV is empty");
        return;
    }
    char actor[160], label[96];
    snprintf(actor, sizeof actor, "%s@%s", r->who.username, r->who.org);
    snprintf(label, sizeof label, "api:%s", source);
    kb_roster_stats st;
    kb_err e = {{0}};
    int rc = kb_roster_import(r->d, source, r->body_file, label, actor, kb_role_name(r->who.role), &st, &e);
    if (rc == KB_ROSTER_BUSY) {
        kb_reply_error(r, 503, "busy", "%s", e.msg);
        return;
    }
    if (rc) {
        /* A file that cannot be read as a roster (a missing column) is the
         * sender's to fix; the message names what is wrong. */
        kb_reply_error(r, 422, "unreadable", "%s", e.msg);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", st.quarantined ? "partial" : "ok");
    kb_json_add_int(o, "rows", st.rows);
    kb_json_add_int(o, "added", st.added);
    kb_json_add_int(o, "changed", st.changed);
    kb_json_add_int(o, "unchanged", st.unchanged);
    kb_json_add_int(o, "quarantined", st.quarantined);
    kb_reply_json(r, 201, o);
}
