/* settings.c - PostgreSQL's client settings per session: the ParameterStatus set sent
 * after login, SET / RESET / SHOW, and re-reporting a setting when it changes. DuckDB's
 * own (global) settings stay locked: SET of one is refused with 42501. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pgexec/internal.h"
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

static pgx_setting *find(pgx *x, const char *name) {
    for (int i = 0; i < x->nsettings; i++)
        if (strcasecmp(x->settings[i].name, name) == 0) return &x->settings[i];
    return NULL;
}

const char *setting_get(pgx *x, const char *name) {
    pgx_setting *st = find(x, name);
    return st ? st->value : NULL;
}

static void report(pgx *x, const pgx_setting *st) { msg_parameter_status(x, st->name, st->value); }

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
static const char *apply(pgx *x, pgx_setting *st, const char *value) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", value);
    if (!strcasecmp(st->name, "client_encoding")) {
        if (strcasecmp(value, "UTF8") && strcasecmp(value, "UTF-8") && strcasecmp(value, "unicode"))
            return "only the UTF8 client encoding is supported";
        snprintf(buf, sizeof buf, "UTF8");
    } else if (!strcasecmp(st->name, "statement_timeout") || !strcasecmp(st->name, "idle_session_timeout")) {
        int64_t ms;
        if (parse_ms(value, &ms) != 0) return "invalid value for a time setting (use e.g. 5000, 5s or 1min)";
        if (!strcasecmp(st->name, "statement_timeout")) x->statement_timeout_ms = ms;
        else x->idle_timeout_ms = ms;
        format_ms(ms, buf, sizeof buf);
    } else if (!strcasecmp(st->name, "TimeZone")) {
        pgt_tz *tz = NULL;
        bool utc = !strcasecmp(value, "UTC") || !strcasecmp(value, "Etc/UTC") || !strcasecmp(value, "GMT");
        if (!utc && !(tz = pgt_tz_load(value))) return "time zone not recognized";
        pgt_tz_free(x->tz);
        x->tz = tz;
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
        if (st->report) report(x, st);
    }
    return NULL;
}

static void set_default(pgx *x, const char *name, const char *value, bool rep) {
    if (x->nsettings == PGX_MAX_SETTINGS) return;
    pgx_setting *st = &x->settings[x->nsettings++];
    snprintf(st->name, sizeof st->name, "%s", name);
    snprintf(st->value, sizeof st->value, "%s", value);
    st->report = rep;
}

static void reset_one(pgx *x, pgx_setting *st);

void settings_init(pgx *x, const char *user, const char *const *keys, const char *const *values, int n) {
    x->nsettings = 0;
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        if (defaults[i].value) set_default(x, defaults[i].name, defaults[i].value, defaults[i].report);
    reset_one(x, find(x, "statement_timeout"));
    reset_one(x, find(x, "idle_session_timeout"));
    reset_one(x, find(x, "search_path"));
    snprintf(find(x, "session_authorization")->value, 256, "%s", user);
    /* Startup parameters that are settings (JDBC sends TimeZone, psql application_name). */
    for (int i = 0; i < n; i++) {
        pgx_setting *st = find(x, keys[i]);
        if (st && strcmp(keys[i], "user") && strcmp(keys[i], "database")) {
            bool rep = st->report;
            st->report = false; /* all are reported once after login */
            apply(x, st, values[i]);
            st->report = rep;
        }
    }
}

void settings_report_all(pgx *x) {
    for (int i = 0; i < x->nsettings; i++)
        if (x->settings[i].report) report(x, &x->settings[i]);
}

static void reset_one(pgx *x, pgx_setting *st) {
    if (!st) return;
    if (!strcasecmp(st->name, "statement_timeout")) {
        x->statement_timeout_ms = x->default_statement_timeout_ms;
        format_ms(x->statement_timeout_ms, st->value, sizeof st->value);
        return;
    }
    if (!strcasecmp(st->name, "idle_session_timeout")) {
        x->idle_timeout_ms = x->default_idle_timeout_ms;
        format_ms(x->idle_timeout_ms, st->value, sizeof st->value);
        return;
    }
    if (!strcasecmp(st->name, "search_path") && x->default_search_path[0]) {
        apply(x, st, x->default_search_path);
        return;
    }
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        if (defaults[i].value && !strcasecmp(defaults[i].name, st->name)) apply(x, st, defaults[i].value);
}

static void show(pgx *x, const char *colname, const char *value, bool describe_only) {
    if (!x->in_execute) {
        msg_text_row_description(x, 1, &colname);
        if (describe_only) return;
    }
    msg_text_row(x, 1, &value);
    msg_complete(x, "SHOW");
}

static void show_all(pgx *x, bool describe_only) {
    /* SHOW ALL: name, setting, description like PostgreSQL. */
    static const char *const cols[] = {"name", "setting", "description"};
    if (!x->in_execute) {
        msg_text_row_description(x, 3, cols);
        if (describe_only) return;
    }
    for (int i = 0; i < x->nsettings; i++) {
        const char *vals[] = {x->settings[i].name, x->settings[i].value, ""};
        msg_text_row(x, 3, vals);
    }
    msg_complete(x, "SHOW");
}

/* A setting that is not a client setting: 42501 when it is one of DuckDB's own (locked
 * in a workspace), else 42704. SET words the first differently. */
static int unknown_setting(pgx *x, const char *name, bool set) {
    char msg[200];
    bool duck = exec_duckdb_has_setting(x, name);
    if (set && duck) snprintf(msg, sizeof msg, "setting \"%s\" cannot be changed in a workspace", name);
    else snprintf(msg, sizeof msg, "unrecognized configuration parameter \"%s\"", name);
    msg_error(x, "ERROR", duck ? "42501" : "42704", msg, 0);
    return -1;
}

static int set(pgx *x, const tcop_set *q) {
    pgx_setting *st = find(x, q->name);
    if (!st) return unknown_setting(x, q->name, true);
    if (q->local && x->tx == PqTrans_Idle) {
        msg_notice(x, "WARNING", "25P01", "SET LOCAL can only be used in transaction blocks");
        msg_complete(x, "SET");
        return 1;
    }
    if (x->tx != PqTrans_Idle) {
        if (!st->has_saved) {
            st->has_saved = true;
            snprintf(st->saved, sizeof st->saved, "%s", st->value);
            st->saved_local = q->local;
        } else if (!q->local) {
            st->saved_local = false; /* a SET SESSION after SET LOCAL survives COMMIT */
        }
    }
    const char *why = !strcasecmp(q->value, "default") ? (reset_one(x, st), NULL) : apply(x, st, q->value);
    if (why) {
        char msg[700];
        snprintf(msg, sizeof msg, "invalid value for parameter \"%s\": \"%s\": %s", st->name, q->value, why);
        msg_error(x, "ERROR", strcmp(why, "cannot be changed") ? "22023" : "55P02", msg, 0);
        return -1;
    }
    msg_complete(x, "SET");
    return 1;
}

int settings_statement(pgx *x, const char *sql, size_t len, bool describe_only) {
    tcop_set q;
    tcop_parse_set(sql, len, &q);
    switch (q.verb) {
    case TSET_SHOW_ALL:
        show_all(x, describe_only);
        return 1;
    case TSET_SHOW: {
        pgx_setting *st = find(x, q.name);
        if (!st) return 0; /* SHOW TABLES and friends are DuckDB's */
        show(x, st->name, st->value, describe_only);
        return 1;
    }
    case TSET_RESET:
    case TSET_RESET_ALL:
        if (describe_only) return 1;
        if (q.verb == TSET_RESET_ALL) {
            for (int i = 0; i < x->nsettings; i++) reset_one(x, &x->settings[i]);
        } else {
            pgx_setting *st = find(x, q.name);
            if (!st) return unknown_setting(x, q.name, false);
            reset_one(x, st);
        }
        msg_complete(x, "RESET");
        return 1;
    case TSET_SET_TRANSACTION:
        if (!describe_only) msg_complete(x, "SET"); /* isolation levels: DuckDB has one, snapshot isolation */
        return 1;
    case TSET_SET_ROLE:
        msg_error(x, "ERROR", "42501", "permission denied to set role", 0);
        return -1;
    case TSET_SET:
        return describe_only ? 1 : set(x, &q);
    default:
        return 0;
    }
}


/* current_setting(name [, missing_ok]) answers PostgreSQL's client settings from this
 * session: a temporary macro (per connection) rebuilt whenever a setting changes. */
void settings_sync_macro(pgx *x) {
    if (!x->macros_ready) return;
    pgt_buf b = {0};
    static const char head[] = "CREATE OR REPLACE TEMP MACRO current_setting(n) AS CASE lower(n)";
    pgt_buf_append(&b, head, sizeof head - 1);
    sb cases;
    sb_init(&cases);
    for (int i = 0; i < x->nsettings; i++) {
        sb_append(&cases, " WHEN ");
        char lower[64];
        size_t k;
        for (k = 0; x->settings[i].name[k] && k < 63; k++)
            lower[k] = (char)tolower((unsigned char)x->settings[i].name[k]);
        lower[k] = '\0';
        sb_literal(&cases, lower);
        sb_append(&cases, " THEN ");
        sb_literal(&cases, x->settings[i].value);
    }
    sb_append(&cases, " ELSE NULL END");
    if (sb_failed(&cases)) {
        sb_free(&cases);
        pgt_buf_free(&b);
        exec_settings_macro(x, NULL);
        return;
    }
    pgt_buf_append(&b, cases.data, cases.len);
    static const char two[] = ", (n, missing_ok) AS CASE lower(n)";
    pgt_buf_append(&b, two, sizeof two - 1);
    pgt_buf_append(&b, cases.data, cases.len);
    pgt_buf_append(&b, "", 1);
    sb_free(&cases);
    /* Not fatal when it cannot be made: current_setting() is refused until it is, and it
     * is made again, up to date, when next used. */
    if (exec_settings_macro(x, b.data) != 0 || !b.data) x->macros_ready = false;
    pgt_buf_free(&b);
}

void settings_end_transaction(pgx *x, bool commit) {
    bool changed = false;
    if (!commit) {
        /* Session macros made inside the transaction went with it (DuckDB's DDL is
         * transactional, measured with 1.4.4: a TEMP MACRO current_setting made after
         * BEGIN is gone after ROLLBACK, and DuckDB's own answers again, with the server's
         * settings). Until they are made again on next use, the gate refuses
         * current_setting(). */
        x->macros_ready = false;
        x->identity_ready = false;
        exec_settings_macro(x, NULL);
    }
    for (int i = 0; i < x->nsettings; i++) {
        pgx_setting *st = &x->settings[i];
        if (!st->has_saved) continue;
        if (!commit || st->saved_local) {
            char v[256];
            snprintf(v, sizeof v, "%s", st->saved);
            apply(x, st, v);
            changed = true;
        }
        st->has_saved = false;
    }
    if (changed) settings_sync_macro(x);
}

int settings_set_config(pgx *x, const char *sql, size_t len) {
    tcop_set_config q;
    if (!tcop_parse_set_config(sql, len, &q)) return 0;
    pgx_setting *st = find(x, q.name);
    if (!st) return unknown_setting(x, q.name, false);
    if (x->tx != PqTrans_Idle && !st->has_saved) {
        st->has_saved = true;
        snprintf(st->saved, sizeof st->saved, "%s", st->value);
        st->saved_local = q.is_local;
    }
    if (!(q.is_local && x->tx == PqTrans_Idle)) {
        const char *why = apply(x, st, q.value);
        if (why) {
            char msg[400];
            snprintf(msg, sizeof msg, "invalid value for parameter \"%s\": \"%s\": %s", st->name, q.value, why);
            msg_error(x, "ERROR", "22023", msg, 0);
            return -1;
        }
        settings_sync_macro(x);
    }
    static const char *const col[] = {"set_config"};
    if (!x->in_execute) msg_text_row_description(x, 1, col);
    const char *v = st->value;
    msg_text_row(x, 1, &v);
    msg_complete(x, "SELECT 1");
    return 1;
}

