/* settings.c - PostgreSQL's client settings per session: the ParameterStatus set sent
 * after login, SET / RESET / SHOW, and re-reporting a setting when it changes. DuckDB's
 * own (global) settings stay locked: SET of one is refused with 42501. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pgwire/internal.h"
#include "util/sqlscan.h"
#include "util/str.h"

static const struct {
    const char *name;
    const char *value;
    bool report;
} defaults[] = {
    {"server_version", "15.0 (duckspace " DUCKSPACE_VERSION ", DuckDB 1.4.4)", true},
    {"server_version_num", "150000", false},
    {"server_encoding", "UTF8", true},
    {"client_encoding", "UTF8", true},
    {"DateStyle", "ISO, MDY", true},
    {"TimeZone", "UTC", true},
    {"IntervalStyle", "postgres", true},
    {"integer_datetimes", "on", true},
    {"standard_conforming_strings", "on", true},
    {"is_superuser", "off", true},
    {"session_authorization", "", true},
    {"application_name", "", true},
    {"search_path", "\"$user\", public", false},
    {"extra_float_digits", "1", false},
    {"statement_timeout", "", false},
    {"idle_session_timeout", "", false},
    {"lock_timeout", "0", false},
    {"idle_in_transaction_session_timeout", "0", false},
    {"default_transaction_isolation", "read committed", false},
    {"transaction_isolation", "read committed", false},
    {"default_transaction_read_only", "off", false},
    {"transaction_read_only", "off", false},
    {"client_min_messages", "notice", false},
    {"bytea_output", "hex", false},
    {"max_identifier_length", "63", false},
    {"datestyle", NULL, false}, /* aliases are resolved by case-insensitive lookup */
};

static pgw_setting *find(pgw_session *s, const char *name) {
    for (int i = 0; i < s->nsettings; i++)
        if (strcasecmp(s->settings[i].name, name) == 0) return &s->settings[i];
    return NULL;
}

const char *pgw_setting_get(pgw_session *s, const char *name) {
    pgw_setting *st = find(s, name);
    return st ? st->value : NULL;
}

static void report(pgw_session *s, const pgw_setting *st) {
    wire_wb_begin(&s->out, 'S');
    wire_wb_cstr(&s->out, st->name);
    wire_wb_cstr(&s->out, st->value);
    wire_wb_end(&s->out);
}

static void format_ms(int64_t ms, char *out, size_t n) {
    if (ms == 0) snprintf(out, n, "0");
    else if (ms % 60000 == 0) snprintf(out, n, "%lldmin", (long long)(ms / 60000));
    else if (ms % 1000 == 0) snprintf(out, n, "%llds", (long long)(ms / 1000));
    else snprintf(out, n, "%lldms", (long long)ms);
}

/* "300", "5s", "2min", "150ms", "1h" -> milliseconds (plain numbers are ms). */
static int parse_ms(const char *v, int64_t *out) {
    char *end;
    long long n = strtoll(v, &end, 10);
    if (end == v || n < 0) return -1;
    while (*end == ' ') end++;
    long long mult = 1;
    if (!*end || !strcasecmp(end, "ms")) mult = 1;
    else if (!strcasecmp(end, "s")) mult = 1000;
    else if (!strcasecmp(end, "min")) mult = 60000;
    else if (!strcasecmp(end, "h")) mult = 3600000;
    else if (!strcasecmp(end, "d")) mult = 86400000;
    else return -1;
    if (n > INT64_MAX / mult) return -1;
    *out = n * mult;
    return 0;
}

/* Checks and applies a value; returns an error message or NULL. */
static const char *apply(pgw_session *s, pgw_setting *st, const char *value) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", value);
    if (!strcasecmp(st->name, "client_encoding")) {
        if (strcasecmp(value, "UTF8") && strcasecmp(value, "UTF-8") && strcasecmp(value, "unicode"))
            return "only the UTF8 client encoding is supported";
        snprintf(buf, sizeof buf, "UTF8");
    } else if (!strcasecmp(st->name, "statement_timeout") || !strcasecmp(st->name, "idle_session_timeout")) {
        int64_t ms;
        if (parse_ms(value, &ms) != 0) return "invalid value for a time setting (use e.g. 5000, 5s or 1min)";
        if (!strcasecmp(st->name, "statement_timeout")) s->statement_timeout_ms = ms;
        else s->idle_timeout_ms = ms;
        format_ms(ms, buf, sizeof buf);
    } else if (!strcasecmp(st->name, "TimeZone")) {
        pgt_tz *tz = NULL;
        bool utc = !strcasecmp(value, "UTC") || !strcasecmp(value, "Etc/UTC") || !strcasecmp(value, "GMT");
        if (!utc && !(tz = pgt_tz_load(value))) return "time zone not recognized";
        pgt_tz_free(s->tz);
        s->tz = tz;
    } else if (!strcasecmp(st->name, "extra_float_digits")) {
        char *end;
        long v = strtol(value, &end, 10);
        if (end == value || *end || v < -15 || v > 3) return "extra_float_digits must be from -15 to 3";
    } else if (!strcasecmp(st->name, "server_version") || !strcasecmp(st->name, "server_encoding") ||
               !strcasecmp(st->name, "integer_datetimes") || !strcasecmp(st->name, "is_superuser") ||
               !strcasecmp(st->name, "session_authorization") || !strcasecmp(st->name, "server_version_num") ||
               !strcasecmp(st->name, "max_identifier_length")) {
        return "cannot be changed";
    }
    if (strcmp(st->value, buf) != 0) {
        snprintf(st->value, sizeof st->value, "%s", buf);
        if (st->report) report(s, st);
    }
    return NULL;
}

static void set_default(pgw_session *s, const char *name, const char *value, bool rep) {
    if (s->nsettings == PGW_MAX_SETTINGS) return;
    pgw_setting *st = &s->settings[s->nsettings++];
    snprintf(st->name, sizeof st->name, "%s", name);
    snprintf(st->value, sizeof st->value, "%s", value);
    st->report = rep;
}

static void reset_one(pgw_session *s, pgw_setting *st);

void pgw_settings_init(pgw_session *s, const pgw_startup *su) {
    s->nsettings = 0;
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        if (defaults[i].value) set_default(s, defaults[i].name, defaults[i].value, defaults[i].report);
    reset_one(s, find(s, "statement_timeout"));
    reset_one(s, find(s, "idle_session_timeout"));
    snprintf(find(s, "session_authorization")->value, 256, "%s", su->user);
    /* Startup parameters that are settings (JDBC sends TimeZone, psql application_name). */
    for (int i = 0; i < su->nparams; i++) {
        pgw_setting *st = find(s, su->keys[i]);
        if (st && strcmp(su->keys[i], "user") && strcmp(su->keys[i], "database")) {
            bool rep = st->report;
            st->report = false; /* all are reported once after login */
            apply(s, st, su->values[i]);
            st->report = rep;
        }
    }
}

void pgw_settings_report_all(pgw_session *s) {
    for (int i = 0; i < s->nsettings; i++)
        if (s->settings[i].report) report(s, &s->settings[i]);
}

static void reset_one(pgw_session *s, pgw_setting *st) {
    if (!st) return;
    const ds_config *cfg = s->srv->cfg;
    if (!strcasecmp(st->name, "statement_timeout")) {
        s->statement_timeout_ms = cfg->statement_timeout * 1000;
        format_ms(s->statement_timeout_ms, st->value, sizeof st->value);
        return;
    }
    if (!strcasecmp(st->name, "idle_session_timeout")) {
        s->idle_timeout_ms = cfg->idle_session_timeout * 1000;
        format_ms(s->idle_timeout_ms, st->value, sizeof st->value);
        return;
    }
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        if (defaults[i].value && !strcasecmp(defaults[i].name, st->name)) apply(s, st, defaults[i].value);
}

static void complete(pgw_session *s, const char *tag) {
    wire_wb_begin(&s->out, 'C');
    wire_wb_cstr(&s->out, tag);
    wire_wb_end(&s->out);
}

static void show(pgw_session *s, const char *colname, const char *value, bool describe_only) {
    if (!s->in_execute) {
        pgw_text_row_description(s, 1, &colname);
        if (describe_only) return;
    }
    wire_wb_begin(&s->out, 'D');
    wire_wb_i16(&s->out, 1);
    wire_wb_i32(&s->out, (int32_t)strlen(value));
    wire_wb_bytes(&s->out, value, strlen(value));
    wire_wb_end(&s->out);
    complete(s, "SHOW");
}

/* Collects the value part of SET: words, quoted strings and numbers, joined by ", ". */
static void set_value(const char *p, const char *end, char *out, size_t outsz) {
    size_t o = 0;
    out[0] = '\0';
    while (p < end) {
        while (p < end && (isspace((unsigned char)*p) || *p == ',')) {
            if (*p == ',' && o > 0 && o + 2 < outsz) {
                out[o++] = ',';
                out[o++] = ' ';
            }
            p++;
        }
        if (p >= end) break;
        if (*p == '\'' || *p == '"') {
            p = sqlscan_read_quoted(p, end, out, outsz, &o);
        } else {
            while (p < end && !isspace((unsigned char)*p) && *p != ',') {
                if (o + 1 < outsz) out[o++] = *p;
                p++;
            }
        }
        out[o] = '\0';
    }
    out[o] = '\0';
}

static bool duckdb_has_setting(pgw_session *s, const char *name) {
    if (!s->con) return false;
    duckdb_prepared_statement st;
    bool found = false;
    if (pgw_park_portals(s, NULL, false) != 0) return false; /* only picks 42501 over 42704 */
    if (duckdb_prepare(s->con, "SELECT 1 FROM duckdb_settings() WHERE lower(name) = lower($1)", &st) == DuckDBSuccess) {
        duckdb_bind_varchar(st, 1, name);
        duckdb_result r;
        if (duckdb_execute_prepared(st, &r) == DuckDBSuccess) found = duckdb_row_count(&r) > 0;
        duckdb_destroy_result(&r);
    }
    duckdb_destroy_prepare(&st);
    return found;
}

int pgw_settings_statement(pgw_session *s, const char *sql, size_t len, bool describe_only) {
    char w[4][32];
    int nw = sqlscan_keywords(sql, len, w, 4);
    if (nw == 0) return 0;
    char msg[700];
    if (!strcmp(w[0], "show")) {
        if (nw < 2) return 0;
        if (!strcmp(w[1], "all")) {
            /* SHOW ALL: name, setting, description like PostgreSQL. */
            static const char *const cols[] = {"name", "setting", "description"};
            if (!s->in_execute) {
                pgw_text_row_description(s, 3, cols);
                if (describe_only) return 1;
            }
            for (int i = 0; i < s->nsettings; i++) {
                wire_wb_begin(&s->out, 'D');
                wire_wb_i16(&s->out, 3);
                const char *vals[] = {s->settings[i].name, s->settings[i].value, ""};
                for (int k = 0; k < 3; k++) {
                    wire_wb_i32(&s->out, (int32_t)strlen(vals[k]));
                    wire_wb_bytes(&s->out, vals[k], strlen(vals[k]));
                }
                wire_wb_end(&s->out);
            }
            complete(s, "SHOW");
            return 1;
        }
        char name[64];
        if (nw >= 3 && !strcmp(w[1], "time") && !strcmp(w[2], "zone")) snprintf(name, sizeof name, "TimeZone");
        else if (nw >= 4 && !strcmp(w[1], "transaction") && !strcmp(w[2], "isolation"))
            snprintf(name, sizeof name, "transaction_isolation");
        else snprintf(name, sizeof name, "%s", w[1]);
        pgw_setting *st = find(s, name);
        if (!st) return 0; /* SHOW TABLES and friends are DuckDB's */
        show(s, st->name, st->value, describe_only);
        return 1;
    }
    if (!strcmp(w[0], "reset")) {
        if (nw < 2) return 0;
        if (describe_only) return 1;
        if (!strcmp(w[1], "all")) {
            for (int i = 0; i < s->nsettings; i++) reset_one(s, &s->settings[i]);
        } else {
            pgw_setting *st = find(s, w[1]);
            if (!st) {
                snprintf(msg, sizeof msg, "unrecognized configuration parameter \"%s\"", w[1]);
                pgw_error(s, "ERROR", duckdb_has_setting(s, w[1]) ? "42501" : "42704", msg, 0);
                return -1;
            }
            reset_one(s, st);
        }
        complete(s, "RESET");
        return 1;
    }
    if (strcmp(w[0], "set") != 0) return 0;
    int k = 1;
    bool local = k < nw && !strcmp(w[k], "local");
    if (k < nw && (!strcmp(w[k], "session") || !strcmp(w[k], "local"))) k++;
    if (k < nw && (!strcmp(w[k], "transaction") || !strcmp(w[k], "characteristics"))) {
        if (!describe_only) complete(s, "SET"); /* isolation levels: DuckDB has one, snapshot isolation */
        return 1;
    }
    if (k < nw && (!strcmp(w[k], "role") || !strcmp(w[k], "authorization"))) {
        pgw_error(s, "ERROR", "42501", "permission denied to set role", 0);
        return -1;
    }
    if (k >= nw) return 0;
    char name[64];
    /* Find where the name ends in the text to read the value after TO or =. */
    const char *p = sql, *end = sql + len;
    const char *key = w[k];
    bool timezone = k + 1 < nw && !strcmp(w[k], "time") && !strcmp(w[k + 1], "zone");
    snprintf(name, sizeof name, "%s", timezone ? "TimeZone" : key);
    const char *hit = NULL;
    for (const char *q = p; q + strlen(timezone ? "zone" : key) <= end; q++)
        if (!strncasecmp(q, timezone ? "zone" : key, strlen(timezone ? "zone" : key))) {
            hit = q + strlen(timezone ? "zone" : key);
            break;
        }
    if (!hit) return 0;
    while (hit < end && isspace((unsigned char)*hit)) hit++;
    if (!timezone) {
        if (hit < end && *hit == '=') hit++;
        else if (end - hit >= 2 && !strncasecmp(hit, "to", 2)) hit += 2;
        else return 0;
    }
    char value[256];
    set_value(hit, end, value, sizeof value);
    if (describe_only) return 1;
    pgw_setting *st = find(s, name);
    if (!st) {
        if (duckdb_has_setting(s, name)) {
            snprintf(msg, sizeof msg, "setting \"%s\" cannot be changed in a workspace", name);
            pgw_error(s, "ERROR", "42501", msg, 0);
        } else {
            snprintf(msg, sizeof msg, "unrecognized configuration parameter \"%s\"", name);
            pgw_error(s, "ERROR", "42704", msg, 0);
        }
        return -1;
    }
    if (local && s->tx == 'I') {
        pgw_notice(s, "WARNING", "25P01", "SET LOCAL can only be used in transaction blocks");
        complete(s, "SET");
        return 1;
    }
    if (s->tx != 'I') {
        if (!st->has_saved) {
            st->has_saved = true;
            snprintf(st->saved, sizeof st->saved, "%s", st->value);
            st->saved_local = local;
        } else if (!local) {
            st->saved_local = false; /* a SET SESSION after SET LOCAL survives COMMIT */
        }
    }
    const char *why = !strcasecmp(value, "default") ? (reset_one(s, st), NULL) : apply(s, st, value);
    if (why) {
        snprintf(msg, sizeof msg, "invalid value for parameter \"%s\": \"%s\": %s", st->name, value, why);
        pgw_error(s, "ERROR", strcmp(why, "cannot be changed") ? "22023" : "55P02", msg, 0);
        return -1;
    }
    complete(s, "SET");
    return 1;
}

/* current_setting(name [, missing_ok]) answers PostgreSQL's client settings from this
 * session: a temporary macro (per connection) rebuilt whenever a setting changes. */
void pgw_settings_sync_macro(pgw_session *s) {
    if (!s->con || !s->macros_ready) return;
    /* Until the macro is made again, the gate refuses current_setting(): DuckDB's own
     * would answer with the server's settings. */
    ws_conn_set_setting_shim(s->wc, false);
    if (pgw_park_portals(s, NULL, false) != 0) {
        s->macros_ready = false; /* made again, up to date, when next used */
        return;
    }
    pgt_buf b = {0};
    static const char head[] = "CREATE OR REPLACE TEMP MACRO current_setting(n) AS CASE lower(n)";
    pgt_buf_append(&b, head, sizeof head - 1);
    sb cases;
    sb_init(&cases);
    for (int i = 0; i < s->nsettings; i++) {
        sb_append(&cases, " WHEN ");
        char lower[64];
        size_t k;
        for (k = 0; s->settings[i].name[k] && k < 63; k++)
            lower[k] = (char)tolower((unsigned char)s->settings[i].name[k]);
        lower[k] = '\0';
        sb_literal(&cases, lower);
        sb_append(&cases, " THEN ");
        sb_literal(&cases, s->settings[i].value);
    }
    sb_append(&cases, " ELSE NULL END");
    if (sb_failed(&cases)) {
        sb_free(&cases);
        pgt_buf_free(&b);
        return;
    }
    pgt_buf_append(&b, cases.data, cases.len);
    static const char two[] = ", (n, missing_ok) AS CASE lower(n)";
    pgt_buf_append(&b, two, sizeof two - 1);
    pgt_buf_append(&b, cases.data, cases.len);
    pgt_buf_append(&b, "", 1);
    sb_free(&cases);
    duckdb_result r;
    if (b.data && duckdb_query(s->con, b.data, &r) != DuckDBError) ws_conn_set_setting_shim(s->wc, true);
    else s->macros_ready = false; /* not fatal: current_setting() is refused until it is made */
    if (b.data) duckdb_destroy_result(&r);
    pgt_buf_free(&b);
}

void pgw_settings_end_transaction(pgw_session *s, bool commit) {
    bool changed = false;
    for (int i = 0; i < s->nsettings; i++) {
        pgw_setting *st = &s->settings[i];
        if (!st->has_saved) continue;
        if (!commit || st->saved_local) {
            char v[256];
            snprintf(v, sizeof v, "%s", st->saved);
            apply(s, st, v);
            changed = true;
        }
        st->has_saved = false;
    }
    if (changed) pgw_settings_sync_macro(s);
}

/* Reads a '...' literal at p (doubling '' inside); returns the position after it. */
static const char *read_literal(const char *p, const char *end, char *out, size_t outsz) {
    while (p < end && isspace((unsigned char)*p)) p++;
    if (p >= end || *p != '\'') return NULL;
    size_t o = 0;
    for (p++; p < end; p++) {
        if (*p == '\'') {
            if (p + 1 < end && p[1] == '\'') p++;
            else {
                out[o] = '\0';
                return p + 1;
            }
        }
        if (o + 1 < outsz) out[o++] = *p;
    }
    return NULL;
}

static const char *expect_char(const char *p, const char *end, char c) {
    while (p < end && isspace((unsigned char)*p)) p++;
    return p < end && *p == c ? p + 1 : NULL;
}

int pgw_settings_set_config(pgw_session *s, const char *sql, size_t len) {
    /* SELECT [pg_catalog.]set_config('name', 'value', is_local) [AS alias] */
    const char *end = sql + len, *p = strcasestr(sql, "set_config");
    char w[3][32];
    int nw = sqlscan_keywords(sql, len, w, 3);
    if (!p || p >= end || nw < 2 || strcmp(w[0], "select") != 0 ||
        (strcmp(w[1], "set_config") != 0 && strcmp(w[1], "pg_catalog") != 0))
        return 0;
    char name[64], value[256], local[16] = "";
    p += 10;
    if (!(p = expect_char(p, end, '(')) || !(p = read_literal(p, end, name, sizeof name)) ||
        !(p = expect_char(p, end, ',')) || !(p = read_literal(p, end, value, sizeof value)) ||
        !(p = expect_char(p, end, ',')))
        return 0;
    while (p < end && isspace((unsigned char)*p)) p++;
    size_t k = 0;
    while (p < end && isalpha((unsigned char)*p) && k < sizeof local - 1) local[k++] = (char)tolower((unsigned char)*p++);
    local[k] = '\0';
    if (!(p = expect_char(p, end, ')'))) return 0;
    /* Only an optional alias may follow. */
    char rest[2][32];
    int nr = sqlscan_keywords(p, (size_t)(end - p), rest, 2);
    while (p < end && isspace((unsigned char)*p)) p++;
    if (p < end && !(nr >= 1 && (!strcmp(rest[0], "as") || nr == 1))) return 0;
    bool is_local = !strcmp(local, "true") || !strcmp(local, "t");
    pgw_setting *st = find(s, name);
    char msg[400];
    if (!st) {
        snprintf(msg, sizeof msg, "unrecognized configuration parameter \"%s\"", name);
        pgw_error(s, "ERROR", duckdb_has_setting(s, name) ? "42501" : "42704", msg, 0);
        return -1;
    }
    if (s->tx != 'I' && !st->has_saved) {
        st->has_saved = true;
        snprintf(st->saved, sizeof st->saved, "%s", st->value);
        st->saved_local = is_local;
    }
    if (!(is_local && s->tx == 'I')) {
        const char *why = apply(s, st, value);
        if (why) {
            snprintf(msg, sizeof msg, "invalid value for parameter \"%s\": \"%s\": %s", st->name, value, why);
            pgw_error(s, "ERROR", "22023", msg, 0);
            return -1;
        }
        pgw_settings_sync_macro(s);
    }
    static const char *const col[] = {"set_config"};
    if (!s->in_execute) pgw_text_row_description(s, 1, col);
    wire_wb_begin(&s->out, 'D');
    wire_wb_i16(&s->out, 1);
    wire_wb_i32(&s->out, (int32_t)strlen(st->value));
    wire_wb_bytes(&s->out, st->value, strlen(st->value));
    wire_wb_end(&s->out);
    complete(s, "SELECT 1");
    return 1;
}
