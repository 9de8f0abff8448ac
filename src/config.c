/* config.c - settings from defaults, config file, environment and flags. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    const char *name;
    cfg_type type;
    const char *def;
    int64_t min, max;
    const char *help;
    size_t offset;
} cfg_setting;

static const cfg_setting settings[] = {
#define CFG_ROW(n, type, def, min, max, help) {#n, type, def, min, max, help, offsetof(ds_config, n)},
    DS_SETTINGS(CFG_ROW)
#undef CFG_ROW
};
#define NSETTINGS (sizeof settings / sizeof settings[0])

int config_parse_size(const char *s, int64_t *out) {
    if (!s || !*s) return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0) return -1;
    while (*end == ' ') end++;
    double mult = 1;
    if (*end) {
        static const struct { const char *u; double m; } units[] = {
            {"B", 1}, {"KB", 1024.0}, {"K", 1024.0}, {"KiB", 1024.0}, {"MB", 1048576.0}, {"M", 1048576.0},
            {"MiB", 1048576.0}, {"GB", 1073741824.0}, {"G", 1073741824.0}, {"GiB", 1073741824.0},
            {"TB", 1099511627776.0}, {"T", 1099511627776.0}, {"TiB", 1099511627776.0}};
        size_t i;
        for (i = 0; i < sizeof units / sizeof units[0]; i++)
            if (strcasecmp(end, units[i].u) == 0) break;
        if (i == sizeof units / sizeof units[0]) return -1;
        mult = units[i].m;
    }
    double r = v * mult;
    if (r >= 9.2e18) return -1;
    *out = (int64_t)r;
    return 0;
}

int config_parse_bool(const char *s, bool *out) {
    static const char *yes[] = {"on", "true", "yes", "1"}, *no[] = {"off", "false", "no", "0"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) return *out = true, 0;
        if (strcasecmp(s, no[i]) == 0) return *out = false, 0;
    }
    return -1;
}

static int set_value(ds_config *cfg, const cfg_setting *st, const char *val, const char *origin, char *err,
                     size_t errsz) {
    void *field = (char *)cfg + st->offset;
    switch (st->type) {
    case CFG_STR: {
        char *d = strdup(val);
        if (!d) return snprintf(err, errsz, "out of memory"), -1;
        free(*(char **)field);
        *(char **)field = d;
        return 0;
    }
    case CFG_INT: {
        errno = 0;
        char *end;
        long long v = strtoll(val, &end, 10);
        if (errno || end == val || *end || v < st->min || v > st->max) {
            snprintf(err, errsz, "invalid value for %s (%s): \"%s\" (want an integer from %lld to %lld)", st->name,
                     origin, val, (long long)st->min, (long long)st->max);
            return -1;
        }
        *(int64_t *)field = v;
        return 0;
    }
    case CFG_SIZE: {
        int64_t v;
        if (config_parse_size(val, &v) != 0 || v < st->min || v > st->max) {
            snprintf(err, errsz, "invalid value for %s (%s): \"%s\" (want a size such as 512MB or 10GB)", st->name,
                     origin, val);
            return -1;
        }
        *(int64_t *)field = v;
        return 0;
    }
    case CFG_BOOL: {
        bool b;
        if (config_parse_bool(val, &b) != 0) {
            snprintf(err, errsz, "invalid value for %s (%s): \"%s\" (want on or off)", st->name, origin, val);
            return -1;
        }
        *(bool *)field = b;
        return 0;
    }
    }
    return -1;
}

static const cfg_setting *find_setting(const char *name, size_t len, char sep) {
    for (size_t i = 0; i < NSETTINGS; i++) {
        const char *n = settings[i].name;
        if (strlen(n) != len) continue;
        size_t k;
        for (k = 0; k < len; k++) {
            char want = n[k] == '_' ? sep : n[k];
            char c = name[k];
            if (sep == '_') c = (char)tolower((unsigned char)c);
            if (c != want) break;
        }
        if (k == len) return &settings[i];
    }
    return NULL;
}

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
    return s;
}

static int load_file(ds_config *cfg, const char *path, char *err, size_t errsz) {
    FILE *f = fopen(path, "r");
    if (!f) return snprintf(err, errsz, "cannot read config file %s: %s", path, strerror(errno)), -1;
    char line[4096];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        char *s = trim(line);
        if (!*s) continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errsz, "%s:%d: expected \"key = value\"", path, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        size_t vl = strlen(val);
        if (vl >= 2 && ((val[0] == '"' && val[vl - 1] == '"') || (val[0] == '\'' && val[vl - 1] == '\''))) {
            val[vl - 1] = '\0';
            val++;
        }
        const cfg_setting *st = find_setting(key, strlen(key), '_');
        if (!st) {
            snprintf(err, errsz, "%s:%d: unknown setting \"%s\"", path, lineno, key);
            rc = -1;
            break;
        }
        char origin[600];
        snprintf(origin, sizeof origin, "%s:%d", path, lineno);
        if (set_value(cfg, st, val, origin, err, errsz) != 0) {
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

int config_load(ds_config *cfg, int argc, char **argv, char **envp, char *err, size_t errsz) {
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < NSETTINGS; i++)
        if (set_value(cfg, &settings[i], settings[i].def, "default", err, errsz) != 0) return -1;

    /* The config file named by flag, else by environment. */
    const char *file = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) file = argv[i + 1];
        else if (strncmp(argv[i], "--config=", 9) == 0) file = argv[i] + 9;
    }
    if (!file && envp)
        for (char **e = envp; *e; e++)
            if (strncmp(*e, "DUCKSPACE_CONFIG=", 17) == 0) file = *e + 17;
    if (file && *file) {
        cfg->config_file = strdup(file);
        if (load_file(cfg, file, err, errsz) != 0) return -1;
    }

    if (envp) {
        for (char **e = envp; *e; e++) {
            if (strncmp(*e, "DUCKSPACE_", 10) != 0) continue;
            const char *k = *e + 10, *eq = strchr(k, '=');
            if (!eq || strncmp(k, "CONFIG=", 7) == 0) continue;
            const cfg_setting *st = find_setting(k, (size_t)(eq - k), '_');
            if (!st) continue; /* other DUCKSPACE_* variables (tests, tools) are not ours to judge */
            char origin[128];
            snprintf(origin, sizeof origin, "environment DUCKSPACE_%.*s", (int)(eq - k), k);
            if (set_value(cfg, st, eq + 1, origin, err, errsz) != 0) return -1;
        }
    }

    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            snprintf(err, errsz, "unexpected argument \"%s\" (see --help)", a);
            return -1;
        }
        a += 2;
        const char *eq = strchr(a, '=');
        size_t klen = eq ? (size_t)(eq - a) : strlen(a);
        const char *val = eq ? eq + 1 : NULL;
        if (klen == 6 && strncmp(a, "config", 6) == 0) {
            if (!val) i++;
            continue;
        }
        const cfg_setting *st = find_setting(a, klen, '-');
        if (!st) {
            snprintf(err, errsz, "unknown option --%.*s (see --help)", (int)klen, a);
            return -1;
        }
        if (!val) {
            if (i + 1 >= argc) {
                snprintf(err, errsz, "option --%s needs a value", st->name);
                return -1;
            }
            val = argv[++i];
        }
        char origin[128];
        snprintf(origin, sizeof origin, "flag --%.*s", (int)klen, a);
        if (set_value(cfg, st, val, origin, err, errsz) != 0) return -1;
    }
    return 0;
}

int config_get(const ds_config *cfg, size_t i, const char **name, char *val, size_t valsz) {
    if (i >= NSETTINGS) return 0;
    const cfg_setting *st = &settings[i];
    const void *field = (const char *)cfg + st->offset;
    *name = st->name;
    switch (st->type) {
    case CFG_STR:
        snprintf(val, valsz, "%s", *(char *const *)field ? *(char *const *)field : "");
        break;
    case CFG_INT:
    case CFG_SIZE:
        snprintf(val, valsz, "%lld", (long long)*(const int64_t *)field);
        break;
    case CFG_BOOL:
        snprintf(val, valsz, "%s", *(const bool *)field ? "on" : "off");
        break;
    }
    return 1;
}

int config_set(ds_config *cfg, const char *name, const char *val, char *err, size_t errsz) {
    const cfg_setting *st = find_setting(name, strlen(name), '_');
    if (!st) return snprintf(err, errsz, "unknown setting \"%.64s\"", name), -1;
    return set_value(cfg, st, val, "worker", err, errsz);
}

void config_free(ds_config *cfg) {
    for (size_t i = 0; i < NSETTINGS; i++)
        if (settings[i].type == CFG_STR) {
            char **p = (char **)((char *)cfg + settings[i].offset);
            free(*p);
            *p = NULL;
        }
    free(cfg->config_file);
    cfg->config_file = NULL;
}

void config_print_help(void *stream) {
    FILE *f = stream;
    fprintf(f, "Settings (flag / environment variable / config-file key; precedence in that order):\n");
    for (size_t i = 0; i < NSETTINGS; i++) {
        char flag[64], env[64];
        size_t k;
        for (k = 0; settings[i].name[k] && k < 60; k++) {
            flag[k] = settings[i].name[k] == '_' ? '-' : settings[i].name[k];
            env[k] = (char)toupper((unsigned char)settings[i].name[k]);
        }
        flag[k] = env[k] = '\0';
        if (strstr(settings[i].help, "(default:"))
            fprintf(f, "  --%-28s DUCKSPACE_%s\n      %s\n", flag, env, settings[i].help);
        else
            fprintf(f, "  --%-28s DUCKSPACE_%s\n      %s (default: %s)\n", flag, env, settings[i].help,
                    *settings[i].def ? settings[i].def : "none");
    }
    fprintf(f, "  --config FILE                  DUCKSPACE_CONFIG\n"
               "      config file of \"key = value\" lines (keys as above, # starts a comment)\n");
}
