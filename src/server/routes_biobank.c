/* routes_biobank.c -- /api/biobank handlers.  Roles are decided by the route
 * table in router.c; here only what the table cannot express: a researcher
 * sees and moves only their own applications (others answer 404, so ids
 * cannot be probed), and the application state machine's own role rules
 * (biobank/application.c).  Every change is audited by the biobank module
 * in the same transaction as the change itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "biobank/application.h"
#include "biobank/bulk.h"
#include "biobank/distribution.h"
#include "biobank/label.h"
#include "biobank/storage.h"
#include "consent/consent.h"
#include "server/server.h"

static int jnum(cJSON *o, const char *k, double *out) {
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(v)) return 0;
    *out = v->valuedouble;
    return 1;
}

/* The caller as a biobank actor: "user@org" like every other audit entry. */
typedef struct who {
    char name[160];
    kb_actor a;
} who;

static void actor_of(kb_req *r, who *w) {
    if (r->who.org[0]) snprintf(w->name, sizeof w->name, "%s@%s", r->who.username, r->who.org);
    else kb_strlcpy(w->name, r->who.username, sizeof w->name);
    w->a.name = w->name;
    w->a.role = kb_role_name(r->who.role);
}

/* Refusals by the biobank module: 403 for a role rule, 400 for bad input
 * (the message names a field), 409 already_exists for a storage name in
 * use, 409 for a state conflict (occupied position, illegal transition).
 * The module's message names field and rule, so it is passed on unchanged. */
static void refuse(kb_req *r, const kb_err *e) {
    if (strstr(e->msg, "separation of duties")) kb_reply_error(r, 403, "separation_of_duties", "%s", e->msg);
    else if (strstr(e->msg, "may not")) kb_reply_error(r, 403, "forbidden", "%s", e->msg);
    else if (strstr(e->msg, "already exists")) kb_reply_error(r, 409, "already_exists", "%s", e->msg);
    else if (strstr(e->msg, "never cut")) kb_reply_error(r, 400, "field_too_long", "%s", e->msg);
    else if (strstr(e->msg, "field ")) kb_reply_error(r, 400, "bad_request", "%s", e->msg);
    else if (strstr(e->msg, "no such barcode") || strstr(e->msg, "not found")) kb_reply_error(r, 404, "not_found", "%s", e->msg);
    else kb_reply_error(r, 409, "conflict", "%s", e->msg);
}

static cJSON *specimen_json(kb_data *d, const kb_specimen *s) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "barcode", s->barcode);
    cJSON_AddStringToObject(o, "donor", s->pseudonym);
    cJSON_AddStringToObject(o, "type", s->type);
    cJSON_AddStringToObject(o, "collected_on", s->collected_on);
    cJSON_AddStringToObject(o, "event", s->event);
    cJSON_AddStringToObject(o, "site", s->site);
    cJSON_AddStringToObject(o, "sprec", s->sprec);
    cJSON_AddNumberToObject(o, "quantity", s->quantity);
    cJSON_AddStringToObject(o, "unit", s->unit);
    cJSON_AddStringToObject(o, "lineage", s->lineage);
    cJSON_AddStringToObject(o, "parent", s->parent_barcode);
    cJSON_AddStringToObject(o, "status", s->status);
    cJSON_AddNumberToObject(o, "freeze_thaw", s->freeze_thaw);
    char box[64];
    int row, col;
    kb_err e = {{0}};
    if (kb_storage_locate(d, s->barcode, box, &row, &col, &e) == 1) {
        char pos[8];
        kb_position_format(row, col, pos);
        cJSON *p = cJSON_AddObjectToObject(o, "position");
        cJSON_AddStringToObject(p, "box", box);
        cJSON_AddStringToObject(p, "position", pos);
    }
    return o;
}

static void reply_specimen(kb_req *r, int status, const char *barcode) {
    kb_specimen s;
    kb_err e = {{0}};
    int rc = kb_specimen_get(r->d, barcode, &s, &e);
    if (rc < 0) return kb_reply_internal(r, &e);
    if (rc == 0) return kb_reply_error(r, 404, "not_found", "specimen %s not found", barcode);
    kb_reply_json(r, status, specimen_json(r->d, &s));
}

/* ---- specimens ---- */

void kb_h_bb_specimen_new(kb_req *r) {
    cJSON *j = kb_req_json(r);
    if (!j) return;
    who w;
    actor_of(r, &w);
    kb_specimen s;
    memset(&s, 0, sizeof s);
    if (kb_req_str(r, j, "donor", s.pseudonym, sizeof s.pseudonym, NULL) ||
        kb_req_str(r, j, "type", s.type, sizeof s.type, NULL) ||
        kb_req_str(r, j, "collected_on", s.collected_on, sizeof s.collected_on, NULL) ||
        kb_req_str(r, j, "unit", s.unit, sizeof s.unit, NULL) || kb_req_str(r, j, "event", s.event, sizeof s.event, NULL) ||
        kb_req_str(r, j, "site", s.site, sizeof s.site, NULL) || kb_req_str(r, j, "sprec", s.sprec, sizeof s.sprec, NULL) ||
        kb_req_str(r, j, "barcode", s.barcode, sizeof s.barcode, NULL)) {
        cJSON_Delete(j);
        return;
    }
    if (!jnum(j, "quantity", &s.quantity)) s.quantity = 0;
    kb_err e = {{0}};
    int rc = kb_specimen_register(r->d, &w.a, &s, kb_json_str(j, "donor_source"), kb_json_str(j, "donor_record"), &e);
    const char *box = kb_json_str(j, "box"), *pos = kb_json_str(j, "position");
    int row, col;
    if (!rc && box && pos) {
        if (kb_position_parse(pos, &row, &col)) rc = kb_errf(&e, "field position: '%s' (rule: like A3)", pos);
        else rc = kb_storage_place(r->d, &w.a, s.barcode, box, row, col, &e);
    }
    cJSON_Delete(j);
    if (rc) return refuse(r, &e);
    reply_specimen(r, 201, s.barcode);
}

static int add_specimen(void *arg, const kb_specimen *s) {
    cJSON *x = cJSON_CreateObject();
    cJSON_AddStringToObject(x, "barcode", s->barcode);
    cJSON_AddStringToObject(x, "type", s->type);
    cJSON_AddStringToObject(x, "status", s->status);
    cJSON_AddNumberToObject(x, "quantity", s->quantity);
    cJSON_AddStringToObject(x, "unit", s->unit);
    cJSON_AddStringToObject(x, "lineage", s->lineage);
    cJSON_AddStringToObject(x, "parent", s->parent_barcode);
    cJSON_AddNumberToObject(x, "freeze_thaw", s->freeze_thaw);
    cJSON_AddItemToArray(arg, x);
    return 0;
}

void kb_h_bb_specimens(kb_req *r) {
    cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "specimens");
    kb_err e = {{0}};
    if (kb_specimen_each(r->d, kb_req_arg(r, "status"), kb_req_arg(r, "type"), 1000, add_specimen, a, &e)) {
        cJSON_Delete(o);
        return kb_reply_internal(r, &e);
    }
    kb_reply_json(r, 200, o);
}

void kb_h_bb_specimen(kb_req *r) {
    reply_specimen(r, 200, r->params[0]);
}

void kb_h_bb_specimen_derive(kb_req *r) {
    cJSON *j = kb_req_json(r);
    if (!j) return;
    who w;
    actor_of(r, &w);
    double q = 0;
    jnum(j, "quantity", &q);
    kb_specimen s;
    kb_err e = {{0}};
    const char *lin = kb_json_str(j, "lineage");
    char type[sizeof s.type], unit[sizeof s.unit];
    if (kb_req_str(r, j, "type", type, sizeof type, NULL) || kb_req_str(r, j, "unit", unit, sizeof unit, NULL)) {
        cJSON_Delete(j);
        return;
    }
    int rc = kb_specimen_derive(r->d, &w.a, r->params[0], lin ? lin : "aliquot", kb_json_str(j, "type") ? type : NULL, q,
                                kb_json_str(j, "unit") ? unit : NULL, &s, &e);
    cJSON_Delete(j);
    if (rc) return refuse(r, &e);
    reply_specimen(r, 201, s.barcode);
}

void kb_h_bb_specimen_action(kb_req *r) {
    /* POST /api/biobank/specimens/{}/{status|thaw|place} */
    const char *what = r->params[1];
    cJSON *j = kb_req_json(r);
    if (!j) return;
    who w;
    actor_of(r, &w);
    kb_err e = {{0}};
    int rc;
    if (!strcmp(what, "status")) {
        const char *to = kb_json_str(j, "to");
        rc = to ? kb_specimen_set_status(r->d, &w.a, r->params[0], to, kb_json_str(j, "comment"), &e)
                : kb_errf(&e, "field to: missing");
    } else if (!strcmp(what, "thaw")) {
        rc = kb_specimen_thaw(r->d, &w.a, r->params[0], NULL, &e);
    } else if (!strcmp(what, "place")) {
        const char *box = kb_json_str(j, "box"), *pos = kb_json_str(j, "position");
        int row, col;
        if (!box || !pos || kb_position_parse(pos, &row, &col))
            rc = kb_errf(&e, "fields box and position (like A3) are required");
        else
            rc = kb_storage_place(r->d, &w.a, r->params[0], box, row, col, &e);
    } else {
        cJSON_Delete(j);
        return kb_reply_error(r, 404, "not_found", "no action %s on specimens", what);
    }
    cJSON_Delete(j);
    if (rc) return refuse(r, &e);
    reply_specimen(r, 200, r->params[0]);
}

void kb_h_bb_label(kb_req *r) {
    kb_specimen s;
    kb_err e = {{0}};
    int rc = kb_specimen_get(r->d, r->params[0], &s, &e);
    if (rc < 0) return kb_reply_internal(r, &e);
    if (rc == 0) return kb_reply_error(r, 404, "not_found", "specimen %s not found", r->params[0]);
    const char *sy = kb_req_arg(r, "symbols");
    int sym = !sy || !strcmp(sy, "both") ? KB_LABEL_CODE128 | KB_LABEL_DATAMATRIX
              : !strcmp(sy, "code128")   ? KB_LABEL_CODE128
              : !strcmp(sy, "datamatrix") ? KB_LABEL_DATAMATRIX
                                          : 0;
    kb_buf b;
    kb_buf_init(&b);
    if (kb_label_svg(&s, sym, &b, &e)) {
        kb_buf_free(&b);
        return kb_reply_error(r, 400, "bad_request", "%s", e.msg);
    }
    free(r->out);
    r->status = 200;
    r->out_len = b.len;
    r->out = kb_buf_detach(&b);
    r->ctype = "image/svg+xml";
}

void kb_h_bb_pool(kb_req *r) {
    cJSON *j = kb_req_json(r);
    if (!j) return;
    cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "members");
    const char *ids[64];
    int n = 0;
    cJSON *it;
    cJSON_ArrayForEach(it, m) if (cJSON_IsString(it) && n < 64) ids[n++] = it->valuestring;
    who w;
    actor_of(r, &w);
    kb_specimen s;
    kb_err e = {{0}};
    int rc = kb_specimen_pool(r->d, &w.a, ids, n, &s, &e);
    cJSON_Delete(j);
    if (rc) return refuse(r, &e);
    reply_specimen(r, 201, s.barcode);
}

void kb_h_bb_import(kb_req *r) {
    /* The body is the CSV itself; it goes through a private temp file so
     * the importer reads it exactly as it would read a file on disk. */
    char path[] = "/tmp/kb_bb_import_XXXXXX";
    int fd = mkstemp(path);
    kb_err e = {{0}};
    if (fd < 0 || write(fd, r->body, r->body_len) != (ssize_t)r->body_len) {
        if (fd >= 0) {
            close(fd);
            unlink(path);
        }
        kb_errf(&e, "cannot stage the uploaded CSV");
        return kb_reply_internal(r, &e);
    }
    close(fd);
    who w;
    actor_of(r, &w);
    kb_bb_import_stats st;
    int rc = kb_bb_import(r->d, &w.a, path, &st, &e);
    unlink(path);
    if (rc) return kb_reply_error(r, 400, "bad_request", "%s", e.msg);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "rows", (double)st.rows);
    cJSON_AddNumberToObject(o, "accepted", (double)st.accepted);
    cJSON_AddNumberToObject(o, "quarantined", (double)st.quarantined);
    cJSON_AddNumberToObject(o, "placed", (double)st.placed);
    kb_reply_json(r, st.quarantined ? 207 : 201, o);
}

void kb_h_bb_consent(kb_req *r) {
    cJSON *j = kb_req_json(r);
    if (!j) return;
    cJSON *g = cJSON_GetObjectItemCaseSensitive(j, "granted");
    const char *donor = kb_json_str(j, "donor"), *purpose = kb_json_str(j, "purpose");
    kb_err e = {{0}};
    if (!cJSON_IsBool(g) || !donor || !purpose) {
        cJSON_Delete(j);
        return kb_reply_error(r, 400, "bad_request", "fields donor, purpose and granted (boolean) are required");
    }
    who w;
    actor_of(r, &w);
    kb_consent_event ev = {donor, purpose, NULL, cJSON_IsTrue(g), 0, NULL, NULL, "paper", w.name};
    int rc = kb_pseudonym_valid(donor) ? kb_consent_record(r->d, &ev, &e)
                                            : kb_errf(&e, "field donor: '%s' is not a research pseudonym", donor);
    if (!rc) rc = kb_req_audit(r, "consent.record", donor, purpose, "ok", cJSON_IsTrue(g) ? "granted, paper" : "withdrawn, paper");
    else {
        cJSON_Delete(j);
        return kb_reply_error(r, 400, "bad_request", "%s", e.msg);
    }
    cJSON_Delete(j);
    if (rc) return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", 1);
    kb_reply_json(r, 201, o);
}

/* ---- storage ---- */

void kb_h_bb_storage_new(kb_req *r) {
    /* POST /api/biobank/storage/{freezers|racks|boxes} */
    const char *kind = r->params[0];
    cJSON *j = kb_req_json(r);
    if (!j) return;
    who w;
    actor_of(r, &w);
    kb_err e = {{0}};
    double t = 0, rows = 0, cols = 0;
    int rc;
    if (!strcmp(kind, "freezers")) {
        rc = jnum(j, "temperature", &t) ? kb_freezer_add(r->d, &w.a, kb_json_str(j, "name"), t, &e)
                                        : kb_errf(&e, "field temperature: missing number");
    } else if (!strcmp(kind, "racks")) {
        rc = kb_rack_add(r->d, &w.a, kb_json_str(j, "freezer"), kb_json_str(j, "name"), &e);
    } else if (!strcmp(kind, "boxes")) {
        jnum(j, "rows", &rows);
        jnum(j, "cols", &cols);
        rc = kb_box_add(r->d, &w.a, kb_json_str(j, "freezer"), kb_json_str(j, "rack"), kb_json_str(j, "name"), (int)rows, (int)cols, &e);
    } else {
        cJSON_Delete(j);
        return kb_reply_error(r, 404, "not_found", "no storage kind %s (freezers, racks, boxes)", kind);
    }
    cJSON_Delete(j);
    if (rc) return refuse(r, &e);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", 1);
    kb_reply_json(r, 201, o);
}

/* Nests the flat rows into freezers -> racks -> boxes; rows come sorted,
 * so a change of name starts a new node. */
static int storage_json(void *arg, const kb_storage_row *row) {
    cJSON *freezers = arg, *f = cJSON_GetArrayItem(freezers, cJSON_GetArraySize(freezers) - 1);
    if (!f || strcmp(cJSON_GetObjectItem(f, "name")->valuestring, row->freezer) != 0) {
        f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "name", row->freezer);
        cJSON_AddNumberToObject(f, "temperature_c", row->temperature_c);
        cJSON_AddArrayToObject(f, "racks");
        cJSON_AddItemToArray(freezers, f);
    }
    if (!row->rack[0]) return 0;
    cJSON *racks = cJSON_GetObjectItem(f, "racks"), *k = cJSON_GetArrayItem(racks, cJSON_GetArraySize(racks) - 1);
    if (!k || strcmp(cJSON_GetObjectItem(k, "name")->valuestring, row->rack) != 0) {
        k = cJSON_CreateObject();
        cJSON_AddStringToObject(k, "name", row->rack);
        cJSON_AddArrayToObject(k, "boxes");
        cJSON_AddItemToArray(racks, k);
    }
    if (!row->box[0]) return 0;
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "name", row->box);
    cJSON_AddNumberToObject(b, "rows", row->rows);
    cJSON_AddNumberToObject(b, "cols", row->cols);
    cJSON_AddNumberToObject(b, "used", row->used);
    cJSON_AddItemToArray(cJSON_GetObjectItem(k, "boxes"), b);
    return 0;
}

void kb_h_bb_storage(kb_req *r) {
    /* GET /api/biobank/storage: freezers, racks and boxes with occupancy */
    kb_err e = {{0}};
    cJSON *o = cJSON_CreateObject();
    if (kb_storage_each(r->d, storage_json, cJSON_AddArrayToObject(o, "freezers"), &e)) {
        cJSON_Delete(o);
        return kb_reply_error(r, 500, "internal", "%s", e.msg);
    }
    kb_reply_json(r, 200, o);
}

void kb_h_bb_box(kb_req *r) {
    /* GET /api/biobank/boxes/{}/{map|free} */
    kb_buf b;
    kb_buf_init(&b);
    kb_err e = {{0}};
    int n = 0, rc;
    int is_map = !strcmp(r->params[1], "map");
    if (!is_map && strcmp(r->params[1], "free")) return kb_reply_error(r, 404, "not_found", "use map or free");
    rc = is_map ? kb_storage_map(r->d, r->params[0], &b, &e) : kb_storage_free(r->d, r->params[0], 0, &b, &n, &e);
    if (rc) {
        kb_buf_free(&b);
        return kb_reply_error(r, strstr(e.msg, "no box") ? 404 : 500, "error", "%s", e.msg);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "box", r->params[0]);
    if (is_map) cJSON_AddStringToObject(o, "map", b.s ? b.s : "");
    else {
        cJSON *a = cJSON_AddArrayToObject(o, "free");
        char *save = NULL;
        for (char *t = b.s ? strtok_r(b.s, " ", &save) : NULL; t; t = strtok_r(NULL, " ", &save))
            cJSON_AddItemToArray(a, cJSON_CreateString(t));
    }
    kb_buf_free(&b);
    kb_reply_json(r, 200, o);
}

/* ---- applications ---- */

static cJSON *app_json(const kb_application *a) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)a->id);
    cJSON_AddStringToObject(o, "title", a->title);
    cJSON_AddStringToObject(o, "pi", a->pi);
    cJSON_AddStringToObject(o, "organisation", a->organisation);
    cJSON_AddStringToObject(o, "protocol", a->protocol);
    cJSON_AddStringToObject(o, "data_items", a->data_items);
    cJSON_AddStringToObject(o, "purpose", a->purpose);
    cJSON_AddStringToObject(o, "owner", a->owner);
    cJSON_AddStringToObject(o, "state", a->state);
    cJSON_AddStringToObject(o, "created_at", a->created_at);
    cJSON *q = cJSON_AddArrayToObject(o, "specimens");
    for (int i = 0; i < a->n_req; i++) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "type", a->req[i].type);
        cJSON_AddNumberToObject(x, "count", a->req[i].count);
        cJSON_AddItemToArray(q, x);
    }
    return o;
}

/* Loads application params[0]; a researcher's view of someone else's is
 * a 404.  Returns 1 when the handler may go on. */
static int load_app(kb_req *r, kb_application *a) {
    char *end;
    long long id = strtoll(r->params[0], &end, 10);
    kb_err e = {{0}};
    int rc = (*end || id <= 0) ? 0 : kb_app_get(r->d, id, a, &e);
    if (rc < 0) {
        kb_reply_internal(r, &e);
        return 0;
    }
    if (rc == 0 || (r->who.role == KB_ROLE_RESEARCHER && strcmp(a->owner, r->who.username))) {
        kb_reply_error(r, 404, "not_found", "application %s not found", r->params[0]);
        return 0;
    }
    return 1;
}

/* "next": the states the caller may move the application to now (the
 * transition table and separation of duties), so a client offers only
 * those.  One small query; only single-application answers carry it. */
static int add_next(kb_req *r, cJSON *o, const kb_application *a, kb_err *e) {
    who w;
    actor_of(r, &w);
    char next[512];
    if (kb_app_next_states(r->d, a, &w.a, r->who.role, next, sizeof next, e)) return C_ERR;
    cJSON *arr = cJSON_AddArrayToObject(o, "next");
    char *save = NULL;
    for (char *t = next[0] ? strtok_r(next, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save))
        cJSON_AddItemToArray(arr, cJSON_CreateString(t));
    return C_OK;
}

static int add_app(void *arg, const kb_application *a) {
    cJSON_AddItemToArray(arg, app_json(a));
    return 0;
}

/* The purposes an application may name, from the rule itself (no personal
 * data: not audited). */
void kb_h_bb_purposes(kb_req *r) {
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "purposes");
    for (int i = 0; kb_consent_purposes[i]; i++)
        if (kb_app_purpose_valid(kb_consent_purposes[i])) cJSON_AddItemToArray(arr, cJSON_CreateString(kb_consent_purposes[i]));
    kb_reply_json(r, 200, o);
}

void kb_h_bb_apps(kb_req *r) {
    cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "applications");
    kb_err e = {{0}};
    if (kb_app_each(r->d, r->who.role == KB_ROLE_RESEARCHER ? r->who.username : NULL, add_app, arr, &e)) {
        cJSON_Delete(o);
        return kb_reply_internal(r, &e);
    }
    kb_reply_json(r, 200, o);
}

void kb_h_bb_app_new(kb_req *r) {
    cJSON *j = kb_req_json(r);
    if (!j) return;
    kb_application a;
    memset(&a, 0, sizeof a);
    if (kb_req_str(r, j, "title", a.title, sizeof a.title, NULL) || kb_req_str(r, j, "pi", a.pi, sizeof a.pi, NULL) ||
        kb_req_str(r, j, "organisation", a.organisation, sizeof a.organisation, r->who.org) ||
        kb_req_str(r, j, "protocol", a.protocol, sizeof a.protocol, NULL) ||
        kb_req_str(r, j, "data_items", a.data_items, sizeof a.data_items, NULL) ||
        kb_req_str(r, j, "purpose", a.purpose, sizeof a.purpose, NULL)) {
        cJSON_Delete(j);
        return;
    }
    kb_strlcpy(a.owner, r->who.username, sizeof a.owner); /* always the caller */
    kb_err e = {{0}};
    const char *spec = kb_json_str(j, "specimens");
    int rc = kb_app_parse_requests(spec ? spec : "", &a, &e);
    who w;
    actor_of(r, &w);
    if (!rc) rc = kb_app_submit(r->d, &w.a, &a, &e);
    cJSON_Delete(j);
    if (rc && strstr(e.msg, "never cut")) return refuse(r, &e);
    if (rc) return kb_reply_error(r, 400, "bad_request", "%s", e.msg);
    kb_reply_json(r, 201, app_json(&a));
}

static int add_dist(void *arg, const char *barcode, const char *type, const char *state) {
    cJSON *x = cJSON_CreateObject();
    cJSON_AddStringToObject(x, "barcode", barcode);
    cJSON_AddStringToObject(x, "type", type);
    cJSON_AddStringToObject(x, "state", state);
    cJSON_AddItemToArray(arg, x);
    return 0;
}

void kb_h_bb_app(kb_req *r) {
    kb_application a;
    if (!load_app(r, &a)) return;
    cJSON *o = app_json(&a);
    kb_buf h;
    kb_buf_init(&h);
    kb_err e = {{0}};
    cJSON *ds = cJSON_AddArrayToObject(o, "distribution");
    if (kb_app_history(r->d, a.id, &h, &e) || kb_dist_each(r->d, a.id, add_dist, ds, &e) || add_next(r, o, &a, &e)) {
        kb_buf_free(&h);
        cJSON_Delete(o);
        return kb_reply_internal(r, &e);
    }
    cJSON_AddStringToObject(o, "history", h.s ? h.s : "");
    kb_buf_free(&h);
    kb_reply_json(r, 200, o);
}

static void reply_app(kb_req *r, int64_t id, kb_dist_result *dr) {
    kb_application a;
    kb_err e = {{0}};
    if (kb_app_get(r->d, id, &a, &e) != 1) return kb_reply_internal(r, &e);
    cJSON *o = app_json(&a);
    if (add_next(r, o, &a, &e)) {
        cJSON_Delete(o);
        return kb_reply_internal(r, &e);
    }
    if (dr) {
        cJSON_AddNumberToObject(o, "reserved", dr->reserved);
        cJSON_AddNumberToObject(o, "skipped_no_consent", dr->skipped_consent);
        cJSON_AddNumberToObject(o, "shortfall", dr->shortfall);
        cJSON_AddNumberToObject(o, "shipped", dr->shipped);
        cJSON_AddNumberToObject(o, "released_no_consent", dr->released);
    }
    kb_reply_json(r, 200, o);
}

void kb_h_bb_app_action(kb_req *r) {
    /* POST /api/biobank/applications/{}/{transition|reviews|reserve|ship|results} */
    kb_application a;
    if (!load_app(r, &a)) return;
    const char *what = r->params[1];
    cJSON *j = r->body_len ? kb_req_json(r) : cJSON_CreateObject();
    if (!j) return;
    who w;
    actor_of(r, &w);
    kb_err e = {{0}};
    kb_dist_result dr;
    int rc, with_dist = 0;
    kb_role role = r->who.role;
    if (!strcmp(what, "transition")) {
        const char *to = kb_json_str(j, "to");
        rc = to ? kb_app_transition(r->d, &w.a, role, a.id, to, kb_json_str(j, "comment"), &e)
                : kb_errf(&e, "field to: missing");
    } else if (!strcmp(what, "reviews")) {
        rc = kb_app_review(r->d, &w.a, role, a.id, kb_json_str(j, "decision"), kb_json_str(j, "comment"), &e);
    } else if (!strcmp(what, "reserve") || !strcmp(what, "ship")) {
        if (role != KB_ROLE_BIOBANK && role != KB_ROLE_ADMIN) {
            cJSON_Delete(j);
            return kb_reply_error(r, 403, "forbidden", "role %s may not %s specimens", kb_role_name(role), what);
        }
        rc = !strcmp(what, "reserve") ? kb_dist_reserve(r->d, &w.a, role, a.id, &dr, &e)
                                      : kb_dist_ship(r->d, &w.a, role, a.id, &dr, &e);
        with_dist = 1;
    } else if (!strcmp(what, "results")) {
        cJSON *res = cJSON_GetObjectItemCaseSensitive(j, "results"), *it;
        rc = cJSON_IsArray(res) && cJSON_GetArraySize(res) > 0 ? C_OK : kb_errf(&e, "field results: a non-empty array");
        /* One transaction for the batch: all results attach or none. */
        if (!rc) rc = kb_db_begin(r->d->research, &e);
        int i = 0;
        cJSON_ArrayForEach(it, res) {
            if (rc) break;
            double v, *pv = jnum(it, "value", &v) ? &v : NULL;
            rc = kb_dist_result_add(r->d, &w.a, role, a.id, kb_json_str(it, "barcode") ? kb_json_str(it, "barcode") : "",
                                    kb_json_str(it, "code"), pv, pv ? NULL : kb_json_str(it, "value"), kb_json_str(it, "unit"), &e);
            if (rc) kb_err_prefix(&e, "results[%d]: ", i);
            i++;
        }
        if (kb_db_in_tx(r->d->research)) {
            if (!rc) rc = kb_db_commit(r->d->research, &e);
            if (rc) kb_db_rollback(r->d->research);
        }
    } else {
        cJSON_Delete(j);
        return kb_reply_error(r, 404, "not_found", "no action %s on applications", what);
    }
    cJSON_Delete(j);
    if (rc) return refuse(r, &e);
    reply_app(r, a.id, with_dist ? &dr : NULL);
}

void kb_h_bb_stats(kb_req *r) {
    char *json = NULL;
    kb_err e = {{0}};
    if (kb_bb_stats_json(r->d, &json, &e)) return kb_reply_internal(r, &e);
    free(r->out);
    r->status = 200;
    r->out = json;
    r->out_len = strlen(json);
    r->ctype = "application/json; charset=utf-8";
}
