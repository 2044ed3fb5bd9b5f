/* storage.c -- freezers, racks, boxes and positions.  See storage.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "biobank/storage.h"

static int audit(kb_data *d, const kb_actor *a, const char *action, const char *pseud, const char *detail,
                 kb_err *e) {
    return kb_audit_append(d, a->name, a->role, action, pseud, "biobank", "ok", detail, e);
}

int kb_position_parse(const char *s, int *row, int *col) {
    if (!s || !isalpha((unsigned char)s[0]) || !isdigit((unsigned char)s[1])) return C_ERR;
    char *end;
    long c = strtol(s + 1, &end, 10);
    if (*end || c < 1 || c > 99) return C_ERR;
    *row = toupper((unsigned char)s[0]) - 'A' + 1;
    *col = (int)c;
    return C_OK;
}

void kb_position_format(int row, int col, char out[8]) {
    snprintf(out, 8, "%c%d", row >= 1 && row <= 26 ? 'A' + row - 1 : '?', col);
}

static int name_ok(const char *s, const char *field, kb_err *e) {
    if (!s || !*s || strlen(s) > 63) return kb_errf(e, "field %s: missing or longer than 63 characters", field);
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("-_.", *p))
            return kb_errf(e, "field %s: '%s' (rule: letters, digits, '-', '_', '.')", field, s);
    return C_OK;
}

/* A storage name already in use.  Checked before the INSERT so the caller
 * gets this message, not the store's UNIQUE error with its SQL; the UNIQUE
 * constraint still decides a race between two adds. */
static int taken(kb_err *e, const char *field, const char *name) {
    return kb_errf(e, "field %s: %s already exists (rule: %s names are unique)", field, name, field);
}

static int lookup_id(kb_data *d, const char *sql, const char *a, const char *b, int64_t *id, kb_err *e) {
    kb_stmt *st;
    if (kb_db_cached(d->research, sql, &st, e)) return C_ERR;
    kb_bind_text(st, 1, a);
    if (b) kb_bind_text(st, 2, b);
    int r = kb_stmt_step(st, e);
    if (r == 1) {
        *id = kb_col_int(st, 0);
        kb_stmt_reset(st);
    }
    return r;
}

static int exec1(kb_data *d, const char *sql, const char *t1, const char *t2, double n1, int use_n, kb_err *e) {
    kb_stmt *st;
    if (kb_db_cached(d->research, sql, &st, e)) return C_ERR;
    kb_bind_text(st, 1, t1);
    if (use_n) kb_bind_double(st, 2, n1);
    else if (t2) kb_bind_text(st, 2, t2);
    return kb_stmt_step(st, e) < 0 ? C_ERR : C_OK;
}

int kb_freezer_add(kb_data *d, const kb_actor *a, const char *name, double temperature_c, kb_err *e) {
    if (name_ok(name, "freezer", e)) return C_ERR;
    if (temperature_c < -273 || temperature_c > 40)
        return kb_errf(e, "field temperature: %g (rule: -273..40 degrees C)", temperature_c);
    int64_t id;
    int r = lookup_id(d, "SELECT id FROM bb_freezers WHERE name = ?", name, NULL, &id, e);
    if (r) return r < 0 ? C_ERR : taken(e, "freezer", name);
    if (exec1(d, "INSERT INTO bb_freezers (name, temperature_c) VALUES (?, ?)", name, NULL, temperature_c, 1, e))
        return kb_err_prefix(e, "freezer %s: ", name);
    char det[128];
    snprintf(det, sizeof det, "freezer=%s temperature=%g", name, temperature_c);
    return audit(d, a, "storage.freezer", "", det, e);
}

int kb_rack_add(kb_data *d, const kb_actor *a, const char *freezer, const char *rack, kb_err *e) {
    int64_t fid;
    if (name_ok(freezer, "freezer", e) || name_ok(rack, "rack", e)) return C_ERR;
    int r = lookup_id(d, "SELECT id FROM bb_freezers WHERE name = ?", freezer, NULL, &fid, e);
    if (r <= 0) return r < 0 ? C_ERR : kb_errf(e, "field freezer: no freezer %s", freezer);
    int64_t id;
    r = lookup_id(d, "SELECT r.id FROM bb_racks r JOIN bb_freezers f ON f.id = r.freezer_id WHERE f.name = ? AND r.name = ?",
                  freezer, rack, &id, e);
    if (r) return r < 0 ? C_ERR : taken(e, "rack", rack);
    kb_stmt *st;
    if (kb_db_cached(d->research, "INSERT INTO bb_racks (freezer_id, name) VALUES (?, ?)", &st, e)) return C_ERR;
    kb_bind_int(st, 1, fid);
    kb_bind_text(st, 2, rack);
    if (kb_stmt_step(st, e) < 0) return kb_err_prefix(e, "rack %s/%s: ", freezer, rack);
    char det[160];
    snprintf(det, sizeof det, "rack=%s/%s", freezer, rack);
    return audit(d, a, "storage.rack", "", det, e);
}

int kb_box_add(kb_data *d, const kb_actor *a, const char *freezer, const char *rack, const char *box, int rows,
               int cols, kb_err *e) {
    int64_t rid;
    if (name_ok(freezer, "freezer", e) || name_ok(rack, "rack", e) || name_ok(box, "box", e)) return C_ERR;
    if (rows < 1 || rows > 26 || cols < 1 || cols > 99)
        return kb_errf(e, "field dimensions: %dx%d (rule: rows 1..26, columns 1..99)", rows, cols);
    int r = lookup_id(d,
                      "SELECT r.id FROM bb_racks r JOIN bb_freezers f ON f.id = r.freezer_id "
                      "WHERE f.name = ? AND r.name = ?", freezer, rack, &rid, e);
    if (r <= 0) return r < 0 ? C_ERR : kb_errf(e, "field rack: no rack %s in freezer %s", rack, freezer);
    int64_t id;
    r = lookup_id(d, "SELECT id FROM bb_boxes WHERE name = ?", box, NULL, &id, e);
    if (r) return r < 0 ? C_ERR : taken(e, "box", box);
    kb_stmt *st;
    if (kb_db_cached(d->research, "INSERT INTO bb_boxes (rack_id, name, n_rows, n_cols) VALUES (?, ?, ?, ?)", &st,
                     e))
        return C_ERR;
    kb_bind_int(st, 1, rid);
    kb_bind_text(st, 2, box);
    kb_bind_int(st, 3, rows);
    kb_bind_int(st, 4, cols);
    if (kb_stmt_step(st, e) < 0) return kb_err_prefix(e, "box %s: ", box);
    char det[200];
    snprintf(det, sizeof det, "box=%s/%s/%s %dx%d", freezer, rack, box, rows, cols);
    return audit(d, a, "storage.box", "", det, e);
}

typedef struct box_info {
    int64_t id;
    int rows, cols;
    double temp;
    char path[200];
} box_info;

static int box_get(kb_data *d, const char *box, box_info *b, kb_err *e) {
    kb_stmt *st;
    if (kb_db_cached(d->research,
                     "SELECT b.id, b.n_rows, b.n_cols, f.temperature_c, f.name, r.name FROM bb_boxes b "
                     "JOIN bb_racks r ON r.id = b.rack_id JOIN bb_freezers f ON f.id = r.freezer_id WHERE b.name = ?",
                     &st, e))
        return C_ERR;
    kb_bind_text(st, 1, box);
    int r = kb_stmt_step(st, e);
    if (r < 0) return C_ERR;
    if (r == 0) return kb_errf(e, "field box: no box %s", box);
    b->id = kb_col_int(st, 0);
    b->rows = (int)kb_col_int(st, 1);
    b->cols = (int)kb_col_int(st, 2);
    b->temp = kb_col_double(st, 3);
    snprintf(b->path, sizeof b->path, "%s/%s/%s", kb_col_text(st, 4), kb_col_text(st, 5), box);
    kb_stmt_reset(st);
    return C_OK;
}

typedef struct place_arg {
    const kb_actor *a;
    const char *barcode, *box;
    int row, col;
} place_arg;

static int do_place(kb_data *d, void *arg, kb_err *e) {
    place_arg *pa = arg;
    box_info b;
    kb_specimen s;
    char pos[8], from_box[64] = "";
    int fr = 0, fc = 0;
    kb_position_format(pa->row, pa->col, pos);
    if (box_get(d, pa->box, &b, e)) return C_ERR;
    if (pa->row < 1 || pa->row > b.rows || pa->col < 1 || pa->col > b.cols)
        return kb_errf(e, "field position: %s is outside box %s (%d rows x %d columns)", pos, pa->box, b.rows, b.cols);
    int r = kb_specimen_get(d, pa->barcode, &s, e);
    if (r <= 0) return r < 0 ? C_ERR : kb_errf(e, "field specimen: no specimen %s", pa->barcode);
    if (strcmp(s.status, "available") && strcmp(s.status, "reserved"))
        return kb_errf(e, "specimen %s is %s (rule: only specimens in the bank are stored)", s.barcode, s.status);
    r = kb_storage_locate(d, pa->barcode, from_box, &fr, &fc, e);
    if (r < 0) return C_ERR;
    kb_stmt *st;
    /* Friendly check first; the primary key is what actually guarantees it. */
    if (kb_db_cached(d->research,
                     "SELECT s.barcode FROM bb_positions p JOIN bb_specimens s ON s.id = p.specimen_id "
                     "WHERE p.box_id = ? AND p.row_no = ? AND p.col_no = ?", &st, e))
        return C_ERR;
    kb_bind_int(st, 1, b.id);
    kb_bind_int(st, 2, pa->row);
    kb_bind_int(st, 3, pa->col);
    int occ = kb_stmt_step(st, e);
    if (occ < 0) return C_ERR;
    if (occ == 1) {
        char who[64];
        kb_strlcpy(who, kb_col_text(st, 0), sizeof who);
        kb_stmt_reset(st);
        if (strcmp(who, pa->barcode) == 0) return C_OK; /* already there */
        return kb_errf(e, "position %s %s is occupied by %s (rule: one specimen per position)", pa->box, pos, who);
    }
    if (kb_db_cached(d->research, "DELETE FROM bb_positions WHERE specimen_id = ?", &st, e)) return C_ERR;
    kb_bind_int(st, 1, s.id);
    if (kb_stmt_step(st, e) < 0) return C_ERR;
    char now[32];
    kb_audit_now(now);
    if (kb_db_cached(d->research,
                     "INSERT INTO bb_positions (box_id, row_no, col_no, specimen_id, placed_at) VALUES (?, ?, ?, ?, ?)",
                     &st, e))
        return C_ERR;
    kb_bind_int(st, 1, b.id);
    kb_bind_int(st, 2, pa->row);
    kb_bind_int(st, 3, pa->col);
    kb_bind_int(st, 4, s.id);
    kb_bind_text(st, 5, now);
    if (kb_stmt_step(st, e) < 0)
        return kb_err_prefix(e, "position %s %s for %s (rule: one specimen per position): ", pa->box, pos, s.barcode);
    char det[300];
    if (r == 1) {
        char fpos[8];
        kb_position_format(fr, fc, fpos);
        snprintf(det, sizeof det, "specimen=%s from=%s:%s to=%s:%s (%s, %g C)", s.barcode, from_box, fpos, pa->box,
                 pos, b.path, b.temp);
    } else {
        snprintf(det, sizeof det, "specimen=%s to=%s:%s (%s, %g C)", s.barcode, pa->box, pos, b.path, b.temp);
    }
    return audit(d, pa->a, r == 1 ? "specimen.move" : "specimen.place", s.pseudonym, det, e);
}

int kb_storage_place(kb_data *d, const kb_actor *a, const char *barcode, const char *box, int row, int col,
                     kb_err *e) {
    place_arg pa = {a, barcode, box, row, col};
    return kb_research_tx(d, do_place, &pa, e);
}

int kb_storage_unplace(kb_data *d, const kb_actor *a, int64_t specimen_id, const char *barcode,
                       const char *pseudonym, kb_err *e) {
    char box[64];
    int row, col;
    int r = kb_storage_locate(d, barcode, box, &row, &col, e);
    if (r <= 0) return r;
    kb_stmt *st;
    if (kb_db_cached(d->research, "DELETE FROM bb_positions WHERE specimen_id = ?", &st, e)) return C_ERR;
    kb_bind_int(st, 1, specimen_id);
    if (kb_stmt_step(st, e) < 0) return C_ERR;
    char pos[8], det[200];
    kb_position_format(row, col, pos);
    snprintf(det, sizeof det, "specimen=%s from=%s:%s", barcode, box, pos);
    return audit(d, a, "specimen.unplace", pseudonym, det, e);
}

int kb_storage_locate(kb_data *d, const char *barcode, char box[64], int *row, int *col, kb_err *e) {
    kb_stmt *st;
    if (kb_db_cached(d->research,
                     "SELECT b.name, p.row_no, p.col_no FROM bb_positions p JOIN bb_specimens s ON s.id = p.specimen_id "
                     "JOIN bb_boxes b ON b.id = p.box_id WHERE s.barcode = ?", &st, e))
        return C_ERR;
    kb_bind_text(st, 1, barcode);
    int r = kb_stmt_step(st, e);
    if (r == 1) {
        kb_strlcpy(box, kb_col_text(st, 0), 64);
        *row = (int)kb_col_int(st, 1);
        *col = (int)kb_col_int(st, 2);
        kb_stmt_reset(st);
    }
    return r;
}

/* Occupancy of one box as a rows x cols grid of specimen ids (0 free). */
static int occupancy(kb_data *d, const box_info *b, int64_t *grid, kb_buf *names, kb_err *e) {
    kb_stmt *st;
    if (kb_db_cached(d->research,
                     "SELECT p.row_no, p.col_no, s.id, s.barcode FROM bb_positions p "
                     "JOIN bb_specimens s ON s.id = p.specimen_id WHERE p.box_id = ? ORDER BY p.row_no, p.col_no",
                     &st, e))
        return C_ERR;
    kb_bind_int(st, 1, b->id);
    int r;
    while ((r = kb_stmt_step(st, e)) == 1) {
        int row = (int)kb_col_int(st, 0), col = (int)kb_col_int(st, 1);
        if (row >= 1 && row <= b->rows && col >= 1 && col <= b->cols)
            grid[(row - 1) * b->cols + (col - 1)] = kb_col_int(st, 2);
        if (names) {
            char pos[8];
            kb_position_format(row, col, pos);
            kb_buf_printf(names, "  %-4s %s\n", pos, kb_col_text(st, 3));
        }
    }
    return r < 0 ? C_ERR : C_OK;
}

int kb_storage_free(kb_data *d, const char *box, int limit, kb_buf *out, int *n, kb_err *e) {
    *n = 0;
    char **names = NULL;
    int nboxes = 0;
    if (box) {
        names = kb_malloc(sizeof *names);
        names[nboxes++] = kb_strdup(box);
    } else {
        kb_stmt *st;
        if (kb_db_cached(d->research, "SELECT name FROM bb_boxes ORDER BY name", &st, e)) return C_ERR;
        int r;
        while ((r = kb_stmt_step(st, e)) == 1) {
            names = kb_realloc(names, (size_t)(nboxes + 1) * sizeof *names);
            names[nboxes++] = kb_strdup(kb_col_text(st, 0));
        }
        if (r < 0) {
            for (int i = 0; i < nboxes; i++) free(names[i]);
            free(names);
            return C_ERR;
        }
    }
    int rc = C_OK;
    for (int i = 0; i < nboxes && !rc && (limit <= 0 || *n < limit); i++) {
        box_info b;
        if ((rc = box_get(d, names[i], &b, e))) break;
        int64_t *grid = kb_calloc((size_t)(b.rows * b.cols), sizeof *grid);
        if (!(rc = occupancy(d, &b, grid, NULL, e))) {
            for (int k = 0; k < b.rows * b.cols && (limit <= 0 || *n < limit); k++) {
                if (grid[k]) continue;
                char pos[8];
                kb_position_format(k / b.cols + 1, k % b.cols + 1, pos);
                if (*n) kb_buf_putc(out, ' ');
                if (!box) kb_buf_printf(out, "%s:", names[i]);
                kb_buf_puts(out, pos);
                (*n)++;
            }
        }
        free(grid);
    }
    for (int i = 0; i < nboxes; i++) free(names[i]);
    free(names);
    return rc;
}

int kb_storage_map(kb_data *d, const char *box, kb_buf *out, kb_err *e) {
    box_info b;
    if (box_get(d, box, &b, e)) return C_ERR;
    int64_t *grid = kb_calloc((size_t)(b.rows * b.cols), sizeof *grid);
    kb_buf names;
    kb_buf_init(&names);
    int rc = occupancy(d, &b, grid, &names, e);
    if (!rc) {
        int used = 0;
        kb_buf_printf(out, "box %s (%s, %g C), %d x %d\n   ", box, b.path, b.temp, b.rows, b.cols);
        for (int c = 1; c <= b.cols; c++) kb_buf_printf(out, "%3d", c);
        kb_buf_putc(out, '\n');
        for (int r = 0; r < b.rows; r++) {
            kb_buf_printf(out, "%c  ", 'A' + r);
            for (int c = 0; c < b.cols; c++) {
                int64_t id = grid[r * b.cols + c];
                kb_buf_puts(out, id ? "  #" : "  .");
                used += id != 0;
            }
            kb_buf_putc(out, '\n');
        }
        kb_buf_printf(out, "%d of %d positions used\n%s", used, b.rows * b.cols, names.s ? names.s : "");
    }
    kb_buf_free(&names);
    free(grid);
    return rc;
}

int kb_storage_each(kb_data *d, int (*fn)(void *arg, const kb_storage_row *row), void *arg, kb_err *e) {
    kb_stmt *st;
    /* LEFT JOINs: a new freezer or rack with nothing in it yet is listed */
    if (kb_stmt_prepare(d->research,
                        "SELECT f.name, f.temperature_c, COALESCE(r.name, ''), COALESCE(b.name, ''), "
                        "COALESCE(b.n_rows, 0), COALESCE(b.n_cols, 0), "
                        "(SELECT COUNT(*) FROM bb_positions p WHERE p.box_id = b.id) "
                        "FROM bb_freezers f LEFT JOIN bb_racks r ON r.freezer_id = f.id "
                        "LEFT JOIN bb_boxes b ON b.rack_id = r.id ORDER BY f.name, r.name, b.name",
                        &st, e))
        return C_ERR;
    int rc;
    while ((rc = kb_stmt_step(st, e)) == 1) {
        kb_storage_row row = {kb_col_text(st, 0),     kb_col_double(st, 1),   kb_col_text(st, 2),
                              kb_col_text(st, 3),     (int)kb_col_int(st, 4), (int)kb_col_int(st, 5),
                              (int)kb_col_int(st, 6)};
        if (fn(arg, &row)) break;
    }
    kb_stmt_finalize(st);
    return rc < 0 ? C_ERR : C_OK;
}
