/* dberr.c - DuckDB errors mapped to PostgreSQL's SQLSTATE classes, with server paths
 * taken out of their text. */
#include "util/dberr.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- server paths out of client messages ---- */

#define SCRUB_MAX 16

/* Longest path first. Written only by dberr_scrub_init/add at start-up. */
static struct {
    char path[PATH_MAX];
    char label[24];
    bool prefix; /* also inside a longer name: "information_schema_" in "information_schema_x" */
} scrubs[SCRUB_MAX];
static int nscrubs;

void dberr_scrub_add(const char *path, const char *label) {
    size_t n = path ? strlen(path) : 0;
    if (n < 2 || n >= PATH_MAX || !label || nscrubs == SCRUB_MAX) return;
    for (int i = 0; i < nscrubs; i++)
        if (strcmp(scrubs[i].path, path) == 0) return;
    int at = nscrubs;
    while (at > 0 && strlen(scrubs[at - 1].path) < n) {
        scrubs[at] = scrubs[at - 1];
        at--;
    }
    snprintf(scrubs[at].path, sizeof scrubs[at].path, "%s", path);
    snprintf(scrubs[at].label, sizeof scrubs[at].label, "%s", label);
    scrubs[at].prefix = false;
    nscrubs++;
}

void dberr_scrub_prefix_add(const char *prefix, const char *label) {
    dberr_scrub_add(prefix, label);
    for (int i = 0; i < nscrubs; i++)
        if (strcmp(scrubs[i].path, prefix) == 0) scrubs[i].prefix = true;
}

/* An absolute path, without trailing slashes ("/" itself is ignored by add). */
static void add_absolute(const char *path, const char *label) {
    if (!path || path[0] != '/') return;
    char p[PATH_MAX];
    if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p) return;
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/') p[--n] = '\0';
    dberr_scrub_add(p, label);
    char real[PATH_MAX];
    if (realpath(p, real)) dberr_scrub_add(real, label);
}

void dberr_scrub_init(const char *data_dir) {
    if (data_dir && data_dir[0] == '/') {
        add_absolute(data_dir, "<data-dir>");
    } else if (data_dir && data_dir[0]) {
        /* Relative ("data", "./data"): matched only with its slash ("data/..."), so the
         * word "data" in a sentence stays. And resolved, as storage uses it. */
        char rel[PATH_MAX], real[PATH_MAX];
        const char *d = strncmp(data_dir, "./", 2) == 0 ? data_dir + 2 : data_dir;
        size_t n = strlen(d);
        while (n > 0 && d[n - 1] == '/') n--;
        if (n > 0 && snprintf(rel, sizeof rel, "%.*s/", (int)n, d) < (int)sizeof rel) {
            dberr_scrub_add(rel, "<data-dir>/");
            char dotted[PATH_MAX];
            if (snprintf(dotted, sizeof dotted, "./%s", rel) < (int)sizeof dotted)
                dberr_scrub_add(dotted, "<data-dir>/");
        }
        if (realpath(data_dir, real)) add_absolute(real, "<data-dir>");
    }
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd)) add_absolute(cwd, "<server-dir>");
    add_absolute(getenv("HOME"), "<home>");
    const char *tmp = getenv("TMPDIR");
    add_absolute(tmp && tmp[0] == '/' ? tmp : "/tmp", "<tmp>");
}

static bool is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Does a path start here, and not in the middle of a longer one? Before it: not a name
 * character, a '/', or the '>' of a label already put in (so "<data-dir>/tmp" keeps its
 * "/tmp"). After it: not a name character (so "/home/ann" is not found in
 * "/home/anna"), unless the path ends with its '/'. */
static bool path_at(const char *text, const char *p, const char *path, size_t plen, bool prefix) {
    if (strncmp(p, path, plen) != 0) return false;
    if (p > text) {
        char b = p[-1];
        if (is_alnum(b) || b == '_' || b == '-' || b == '.' || b == '~' || b == '/' || b == '>') return false;
    }
    if (prefix) return true;
    char a = p[plen];
    return path[plen - 1] == '/' || !(is_alnum(a) || a == '_' || a == '-');
}

static void scrub_one(char *text, size_t cap, const char *path, const char *label, bool prefix) {
    size_t plen = path ? strlen(path) : 0;
    if (!text || cap == 0 || plen < 2 || !strstr(text, path)) return;
    size_t llen = strlen(label);
    char *out = malloc(cap);
    if (!out) {
        text[0] = '\0'; /* fail closed: no message rather than a path */
        return;
    }
    size_t o = 0;
    const char *p = text;
    while (*p && o + 1 < cap) {
        if (path_at(text, p, path, plen, prefix)) {
            size_t k = llen < cap - 1 - o ? llen : cap - 1 - o;
            memcpy(out + o, label, k);
            o += k;
            p += plen;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    memcpy(text, out, o + 1);
    free(out);
}

void dberr_scrub_path(char *text, size_t cap, const char *path, const char *label) {
    scrub_one(text, cap, path, label, false);
}

void dberr_scrub(char *text, size_t cap) {
    for (int i = 0; i < nscrubs; i++) scrub_one(text, cap, scrubs[i].path, scrubs[i].label, scrubs[i].prefix);
}

/* ---- parsing ---- */

static void copy_member(json_t *j, const char *key, char *out, size_t outsz) {
    const char *v = json_string_value(json_object_get(j, key));
    if (v) snprintf(out, outsz, "%s", v);
}

/* "LINE 2: ...select x from" + "\n" + spaces + "^": the 1-based position in sql. */
static int caret_position(const char *text, const char *sql) {
    const char *l = strstr(text, "LINE ");
    if (!sql || !l) return 0;
    int line = atoi(l + 5);
    const char *colon = strchr(l, ':');
    const char *eol = colon ? strchr(colon, '\n') : NULL;
    if (line < 1 || !colon || !eol || colon > eol) return 0;
    const char *ex = colon + 2, *caret = strchr(eol + 1, '^');
    const char *caret_eol = strchr(eol + 1, '\n');
    if (!caret || (caret_eol && caret > caret_eol) || ex > eol) return 0;
    long col = (long)(caret - (eol + 1)) - (long)(ex - l); /* offset inside the excerpt */
    bool dots = strncmp(ex, "...", 3) == 0;
    if (dots) {
        ex += 3;
        col -= 3;
    }
    if (col < 0) return 0;
    /* The excerpt (up to 24 characters of it) is found in line `line` of sql. */
    size_t exlen = (size_t)(eol - ex);
    if (exlen > 24) exlen = 24;
    if (exlen >= 3 && ex[exlen - 1] == '.' && ex[exlen - 2] == '.' && ex[exlen - 3] == '.') exlen -= 3;
    const char *ls = sql;
    for (int i = 1; i < line && ls; i++) {
        ls = strchr(ls, '\n');
        if (ls) ls++;
    }
    if (!ls) return 0;
    for (const char *p = ls; *p && *p != '\n'; p++)
        if (exlen == 0 || strncmp(p, ex, exlen) == 0) return (int)(p - sql) + (int)col + 1;
    return 0;
}

/* "Table with name X does not exist" -> entry type and name. */
static void missing_entry(db_error *out) {
    static const struct { const char *mark, *type; } marks[] = {
        {"Table with name ", "Table"}, {"Table or view with name ", "Table"}, {"Schema with name ", "Schema"},
        {"Catalog with name ", "Catalog"}, {"Scalar Function with name ", "Function"}};
    for (size_t k = 0; k < sizeof marks / sizeof marks[0]; k++) {
        const char *p = strstr(out->message, marks[k].mark);
        if (!p) continue;
        p += strlen(marks[k].mark);
        const char *e = strstr(p, " does not exist");
        if (!e || (size_t)(e - p) >= sizeof out->name) return;
        snprintf(out->name, sizeof out->name, "%.*s", (int)(e - p), p);
        snprintf(out->entry_type, sizeof out->entry_type, "%s", marks[k].type);
        snprintf(out->subtype, sizeof out->subtype, "MISSING_ENTRY");
        return;
    }
}

void dberr_parse(const char *text, const char *sql, db_error *out) {
    memset(out, 0, sizeof *out);
    if (!text) {
        snprintf(out->message, sizeof out->message, "unknown error");
        return;
    }
    const char *brace = strchr(text, '{');
    json_error_t je;
    json_t *j = brace ? json_loads(brace, JSON_DISABLE_EOF_CHECK, &je) : NULL;
    if (j && json_is_object(j) && json_object_get(j, "exception_message")) {
        copy_member(j, "exception_type", out->type, sizeof out->type);
        copy_member(j, "exception_message", out->message, sizeof out->message);
        copy_member(j, "error_subtype", out->subtype, sizeof out->subtype);
        copy_member(j, "type", out->entry_type, sizeof out->entry_type);
        copy_member(j, "name", out->name, sizeof out->name);
        const char *pos = json_string_value(json_object_get(j, "position"));
        if (pos) out->position = atoi(pos) + 1; /* DuckDB counts from 0 */
    } else {
        /* "Catalog Error: Table with name x does not exist!" */
        const char *sep = strstr(text, " Error: ");
        if (sep && sep - text < (long)sizeof out->type) {
            snprintf(out->type, sizeof out->type, "%.*s", (int)(sep - text), text);
            text = sep + 8;
        }
        snprintf(out->message, sizeof out->message, "%s", text);
        out->position = caret_position(text, sql);
        missing_entry(out);
    }
    json_decref(j);
    /* Writing to a project table (a view over a read-only attachment): say so. */
    char *nat = strstr(out->message, " is not an table");
    if (nat) {
        char name[200];
        snprintf(name, sizeof name, "%.*s", (int)(nat - out->message), out->message);
        snprintf(out->message, sizeof out->message,
                 "cannot modify \"%s\": project tables are read-only in a workspace (copy it into the workspace first)",
                 name);
    }
    /* Scrubbed first too: a registered catalog name (the workspace's compat catalog is
     * shown as "pg_catalog") decides which message fits. */
    dberr_scrub(out->message, sizeof out->message);
    char *ro = strstr(out->message, "which is attached in read-only mode");
    char *ty = strstr(out->message, "statement of type \"");
    if (ro && ty) {
        char kind[32];
        snprintf(kind, sizeof kind, "%.*s", (int)strcspn(ty + 19, "\""), ty + 19);
        if (strstr(out->message, "on database \"pg_catalog\""))
            snprintf(out->message, sizeof out->message,
                     "permission denied: cannot execute %s on a system catalog (pg_catalog is read-only)", kind);
        else
            snprintf(out->message, sizeof out->message,
                     "cannot execute %s on a project table: project tables are read-only in a workspace (copy the "
                     "data into a workspace table first)",
                     kind);
    }
    /* Drop DuckDB's trailing "LINE 1: ..." excerpt; the position says where. */
    char *line = strstr(out->message, "\n\nLINE ");
    if (line) *line = '\0';
    dberr_scrub(out->message, sizeof out->message);
}

static bool has(const db_error *e, const char *s) { return strstr(e->message, s) != NULL; }

const char *dberr_sqlstate(duckdb_error_type et, const db_error *e) {
    if (has(e, "Current transaction is aborted")) return "25P02";
    if (has(e, "permission denied: cannot execute")) return "42501"; /* a system catalog */
    if (has(e, "attached in read-only mode") || has(e, "is not an table") || has(e, "read-only")) return "25006";
    switch (et) {
    case DUCKDB_ERROR_PARSER:
    case DUCKDB_ERROR_SYNTAX: return "42601";
    case DUCKDB_ERROR_CATALOG:
        if (!strcmp(e->entry_type, "Schema") || has(e, "Schema with name")) return "3F000";
        if (!strcmp(e->entry_type, "Table") || has(e, "Table with name") || has(e, "Table or view")) return "42P01";
        if (has(e, "unction")) return "42883";
        if (has(e, "already exists")) return "42P07";
        if (has(e, "Catalog with name")) return "3D000";
        return "42704";
    case DUCKDB_ERROR_BINDER:
        if (!strcmp(e->subtype, "COLUMN_NOT_FOUND") || has(e, "Referenced column")) return "42703";
        if (has(e, "No function matches") || has(e, "unction")) return "42883";
        if (has(e, "ambiguous")) return "42702";
        return "42P18";
    case DUCKDB_ERROR_CONSTRAINT:
        if (has(e, "NOT NULL")) return "23502";
        if (has(e, "oreign key")) return "23503";
        if (has(e, "CHECK")) return "23514";
        if (has(e, "uplicate key") || has(e, "unique") || has(e, "primary key")) return "23505";
        return "23000";
    case DUCKDB_ERROR_CONVERSION:
    case DUCKDB_ERROR_INVALID_TYPE: return has(e, "out of range") ? "22003" : "22P02";
    case DUCKDB_ERROR_OUT_OF_RANGE:
    case DUCKDB_ERROR_DECIMAL: return "22003";
    case DUCKDB_ERROR_DIVIDE_BY_ZERO: return "22012";
    case DUCKDB_ERROR_MISMATCH_TYPE: return "42804";
    case DUCKDB_ERROR_TRANSACTION: return has(e, "onflict") ? "40001" : "25000";
    case DUCKDB_ERROR_NOT_IMPLEMENTED: return "0A000";
    case DUCKDB_ERROR_INTERRUPT: return "57014";
    case DUCKDB_ERROR_OUT_OF_MEMORY: return "53200";
    case DUCKDB_ERROR_PERMISSION:
    case DUCKDB_ERROR_MISSING_EXTENSION:
    case DUCKDB_ERROR_AUTOLOAD: return "42501";
    case DUCKDB_ERROR_IO: return "58030";
    case DUCKDB_ERROR_DEPENDENCY: return "2BP01";
    case DUCKDB_ERROR_SEQUENCE: return "2200H";
    case DUCKDB_ERROR_PARAMETER_NOT_RESOLVED:
    case DUCKDB_ERROR_PARAMETER_NOT_ALLOWED: return "42P18";
    case DUCKDB_ERROR_INVALID_INPUT: return "22023";
    case DUCKDB_ERROR_SETTINGS: return "42501";
    default: return "XX000";
    }
}

int dberr_fail(ds_err *err, ds_code code, duckdb_error_type et, const char *text) {
    return dberr_fail_sql(err, code, et, text, NULL);
}

int dberr_fail_sql(ds_err *err, ds_code code, duckdb_error_type et, const char *text, const char *sql) {
    db_error d;
    dberr_parse(text, sql, &d);
    int rc = ds_fail(err, code, "%s", d.message);
    if (err) {
        snprintf(err->sqlstate, sizeof err->sqlstate, "%s", dberr_sqlstate(et, &d));
        err->position = d.position;
    }
    return rc;
}
