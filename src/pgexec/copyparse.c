/* copyparse.c - COPY FROM STDIN's text, csv and binary formats, parsed incrementally
 * (PostgreSQL 15's copyfromparse.c is the reference for what is an error). */
#include "pgexec/copyparse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CP_SLICE (64u << 10) /* bytes taken from the input at a time */
#define CP_MAX_HEADER_FIELDS 1700

static const uint8_t pgcopy_sig[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0377, '\r', '\n', 0};

struct cp_parser {
    cp_opts o;
    cp_row_fn fn;
    void *ud;
    /* buf[start..len) is unconsumed input; scanning for the end of the current row has
     * reached buf[scan] (with the scan state below), so no byte is scanned twice. */
    char *buf;
    size_t cap, start, len, scan;
    bool esc;      /* text: after a backslash; csv: after the escape char in quotes */
    bool in_quote; /* csv */
    int eol;       /* 0 not known yet, 1 "\n", 2 "\r\n" (from the first line, as PostgreSQL) */
    char *dec;     /* decoded field bytes of one row */
    size_t dec_cap;
    cp_field *f;
    int fcap;
    uint64_t line, rows;
    bool done;        /* end-of-data marker or trailer seen */
    bool bin_header;  /* binary: header read */
    size_t bin_need;  /* binary: bytes known to be needed before the next try */
};

cp_parser *cp_new(const cp_opts *opts, cp_row_fn fn, void *ud) {
    cp_parser *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->o = *opts;
    if (p->o.ncols < 1) p->o.ncols = 1;
    if (p->o.max_row < 16) p->o.max_row = 16;
    p->fn = fn;
    p->ud = ud;
    p->fcap = p->o.ncols + 1;
    p->f = calloc((size_t)p->fcap, sizeof *p->f);
    if (!p->f) {
        free(p);
        return NULL;
    }
    return p;
}

void cp_free(cp_parser *p) {
    if (!p) return;
    free(p->buf);
    free(p->dec);
    free(p->f);
    free(p);
}

uint64_t cp_rows(const cp_parser *p) { return p->rows; }
uint64_t cp_line(const cp_parser *p) { return p->line; }

/* Fills *err; returns -1. */
static int fail(cp_err *err, const char *state, uint64_t line, int col, const char *msg) {
    memset(err, 0, sizeof *err);
    snprintf(err->sqlstate, sizeof err->sqlstate, "%s", state);
    snprintf(err->msg, sizeof err->msg, "%s", msg);
    err->line = line;
    err->col = col;
    return -1;
}

static void err_value(cp_err *err, const char *v, size_t n) {
    size_t k = n < sizeof err->value - 1 ? n : sizeof err->value - 1;
    memcpy(err->value, v, k);
    err->value[k] = '\0';
    err->has_value = true;
}

static int grow_fields(cp_parser *p, int want) {
    if (want <= p->fcap) return 0;
    int n = p->fcap * 2 > want ? p->fcap * 2 : want;
    cp_field *g = realloc(p->f, (size_t)n * sizeof *g);
    if (!g) return -1;
    p->f = g;
    p->fcap = n;
    return 0;
}

static int reserve_dec(cp_parser *p, size_t n) {
    if (n <= p->dec_cap) return 0;
    size_t c = p->dec_cap ? p->dec_cap : 4096;
    while (c < n) c *= 2;
    char *d = realloc(p->dec, c);
    if (!d) return -1;
    p->dec = d;
    p->dec_cap = c;
    return 0;
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Checks the row's field count, then hands it on. */
static int emit(cp_parser *p, int nf, bool header, const char *rec, size_t rlen, cp_err *err) {
    if (header) {
        if (!p->o.header_match) return 0;
        cp_row row = {p->f, nf, p->line, true, rec, rlen};
        return p->fn(p->ud, &row);
    }
    if (nf > p->o.ncols) {
        fail(err, "22P04", p->line, -1, "extra data after last expected column");
        err_value(err, rec, rlen);
        return -1;
    }
    if (nf < p->o.ncols) {
        fail(err, "22P04", p->line, nf, "missing data for column");
        err_value(err, rec, rlen);
        return -1;
    }
    p->rows++;
    cp_row row = {p->f, nf, p->line, false, rec, rlen};
    return p->fn(p->ud, &row);
}

/* One line of the text format, without its end of line. */
static int text_row(cp_parser *p, const char *rec, size_t rlen, bool header, cp_err *err) {
    if (reserve_dec(p, rlen + 1)) return fail(err, "53200", p->line, -1, "out of memory");
    if (memchr(rec, 0, rlen)) { /* a NUL byte is never valid text */
        fail(err, "22021", p->line, -1, "invalid byte sequence for encoding \"UTF8\": 0x00");
        err_value(err, rec, strnlen(rec, rlen));
        return -1;
    }
    char *d = p->dec;
    size_t i = 0;
    int nf = 0;
    int maxf = header ? CP_MAX_HEADER_FIELDS : p->o.ncols + 1;
    for (;;) {
        if (nf >= maxf) break; /* extra data: reported by emit */
        if (grow_fields(p, nf + 1)) return fail(err, "53200", p->line, -1, "out of memory");
        size_t fs = i;
        char *out = d;
        bool any_esc = false;
        {
            /* the common case: no backslash before the delimiter, the bytes are the value */
            const char *end = memchr(rec + i, p->o.delim, rlen - i);
            size_t fl = end ? (size_t)(end - (rec + i)) : rlen - i;
            if (!memchr(rec + i, '\\', fl)) {
                cp_field *f = &p->f[nf];
                f->p = rec + i;
                f->n = fl;
                f->null = !header && fl == p->o.null_len && memcmp(rec + i, p->o.null_str, fl) == 0;
                nf++;
                i += fl;
                if (i >= rlen) break;
                i++;
                continue;
            }
        }
        while (i < rlen && rec[i] != p->o.delim) {
            if (rec[i] != '\\') {
                *d++ = rec[i++];
                continue;
            }
            any_esc = true;
            if (++i >= rlen) break; /* a backslash at the very end stands for nothing */
            char c = rec[i++];
            switch (c) {
            case 'b': *d++ = '\b'; break;
            case 'f': *d++ = '\f'; break;
            case 'n': *d++ = '\n'; break;
            case 'r': *d++ = '\r'; break;
            case 't': *d++ = '\t'; break;
            case 'v': *d++ = '\v'; break;
            case 'x': {
                int h = i < rlen ? hexval((unsigned char)rec[i]) : -1;
                if (h < 0) {
                    *d++ = 'x';
                    break;
                }
                i++;
                int h2 = i < rlen ? hexval((unsigned char)rec[i]) : -1;
                if (h2 >= 0) {
                    h = h * 16 + h2;
                    i++;
                }
                *d++ = (char)h;
                break;
            }
            default:
                if (c >= '0' && c <= '7') {
                    int v = c - '0';
                    for (int k = 0; k < 2 && i < rlen && rec[i] >= '0' && rec[i] <= '7'; k++) v = v * 8 + (rec[i++] - '0');
                    *d++ = (char)(v & 0xff);
                } else {
                    *d++ = c;
                }
            }
        }
        size_t raw = i - fs;
        cp_field *f = &p->f[nf];
        /* The null string is matched before de-escaping (\N is not a field holding N). */
        f->null = !header && raw == p->o.null_len && memcmp(rec + fs, p->o.null_str, raw) == 0;
        f->p = out;
        f->n = (size_t)(d - out);
        if (!f->null && any_esc && memchr(out, 0, f->n)) {
            fail(err, "22021", p->line, nf, "invalid byte sequence for encoding \"UTF8\": 0x00");
            err_value(err, rec + fs, raw);
            return -1;
        }
        nf++;
        if (i >= rlen) break;
        i++; /* the delimiter */
    }
    return emit(p, nf, header, rec, rlen, err);
}

/* One record of the csv format (quotes balanced), without its end of line. */
static int csv_row(cp_parser *p, const char *rec, size_t rlen, bool header, cp_err *err) {
    if (reserve_dec(p, rlen + 1)) return fail(err, "53200", p->line, -1, "out of memory");
    if (memchr(rec, 0, rlen)) { /* once per record: a NUL byte is never valid text */
        fail(err, "22021", p->line, -1, "invalid byte sequence for encoding \"UTF8\": 0x00");
        err_value(err, rec, strnlen(rec, rlen));
        return -1;
    }
    const char q = p->o.quote, e = p->o.escape, dl = p->o.delim;
    char *d = p->dec;
    size_t i = 0;
    int nf = 0;
    int maxf = header ? CP_MAX_HEADER_FIELDS : p->o.ncols + 1;
    for (;;) {
        if (nf >= maxf) break;
        if (grow_fields(p, nf + 1)) return fail(err, "53200", p->line, -1, "out of memory");
        size_t fs = i;
        char *out = d;
        bool quoted = false, inq = false;
        if (i < rlen && rec[i] != q) {
            /* the common case: an unquoted field is the bytes up to the delimiter */
            const char *end = memchr(rec + i, dl, rlen - i);
            size_t fl = end ? (size_t)(end - (rec + i)) : rlen - i;
            if (!memchr(rec + i, q, fl)) {
                cp_field *f = &p->f[nf];
                f->p = rec + i;
                f->n = fl;
                bool fnn = p->o.force_not_null && nf < p->o.ncols && p->o.force_not_null[nf];
                f->null = !header && !fnn && fl == p->o.null_len && memcmp(rec + i, p->o.null_str, fl) == 0;
                nf++;
                i += fl;
                if (i >= rlen) break;
                i++;
                continue;
            }
        }
        while (i < rlen) {
            char c = rec[i];
            if (inq) {
                if (c == e && i + 1 < rlen && (rec[i + 1] == q || rec[i + 1] == e) && !(e == q && rec[i + 1] != q)) {
                    *d++ = rec[i + 1];
                    i += 2;
                    continue;
                }
                if (c == q) {
                    inq = false;
                    i++;
                    continue;
                }
                *d++ = c;
                i++;
                continue;
            }
            if (c == dl) break;
            if (c == q) {
                inq = quoted = true;
                i++;
                continue;
            }
            *d++ = c;
            i++;
        }
        if (inq) {
            fail(err, "22P04", p->line, -1, "unterminated CSV quoted field");
            err_value(err, rec, rlen);
            return -1;
        }
        size_t raw = i - fs;
        cp_field *f = &p->f[nf];
        f->p = out;
        f->n = (size_t)(d - out);
        bool matches = header ? false
                       : quoted ? f->n == p->o.null_len && memcmp(out, p->o.null_str, f->n) == 0
                                : raw == p->o.null_len && memcmp(rec + fs, p->o.null_str, raw) == 0;
        bool fnn = p->o.force_not_null && nf < p->o.ncols && p->o.force_not_null[nf];
        bool fn = p->o.force_null && nf < p->o.ncols && p->o.force_null[nf];
        f->null = matches && (quoted ? fn : !fnn);
        nf++;
        if (i >= rlen) break;
        i++;
    }
    return emit(p, nf, header, rec, rlen, err);
}

/* A complete line or record buf[start..end) (end at its '\n', or the input's end). */
static int line_done(cp_parser *p, size_t end, bool has_nl, cp_err *err) {
    const char *rec = p->buf + p->start;
    size_t rlen = end - p->start;
    p->start = has_nl ? end + 1 : end;
    p->line++;
    if (has_nl) {
        bool cr = rlen > 0 && rec[rlen - 1] == '\r';
        if (p->eol == 0) p->eol = cr ? 2 : 1;
        if (p->eol == 2) {
            if (!cr) return fail(err, "22P04", p->line, -1, "literal newline found in data");
            rlen--;
        } else if (cr) {
            return fail(err, "22P04", p->line, -1,
                        p->o.format == CP_CSV ? "unquoted carriage return found in data"
                                              : "literal carriage return found in data");
        }
    } else if (p->eol == 2 && rlen > 0 && rec[rlen - 1] == '\r') {
        rlen--;
    }
    if (rlen == 2 && rec[0] == '\\' && rec[1] == '.') { /* end-of-data marker */
        p->done = true;
        return 0;
    }
    bool header = p->o.header && p->line == 1;
    return p->o.format == CP_CSV ? csv_row(p, rec, rlen, header, err) : text_row(p, rec, rlen, header, err);
}

/* Finds and handles the complete lines (records) in the buffer. */
static int scan_lines(cp_parser *p, cp_err *err) {
    const bool csv = p->o.format == CP_CSV;
    const char q = p->o.quote, e = p->o.escape;
    size_t i = p->scan < p->start ? p->start : p->scan;
    while (!p->done && i < p->len) {
        const char *b = p->buf;
        if (!csv) {
            /* text: a line ends at a newline that no backslash escapes */
            for (; i < p->len; i++) {
                char c = b[i];
                if (p->esc) {
                    p->esc = false;
                } else if (c == '\\') {
                    p->esc = true;
                } else if (c == '\n') {
                    break;
                }
            }
        } else {
            for (; i < p->len; i++) {
                char c = b[i];
                if (p->in_quote) {
                    if (p->esc) {
                        p->esc = false;
                    } else if (c == e && e != q) {
                        p->esc = true;
                    } else if (c == q) {
                        p->in_quote = false;
                    }
                } else if (c == q) {
                    p->in_quote = true;
                } else if (c == '\n') {
                    break;
                }
            }
        }
        if (i >= p->len) break;
        int rc = line_done(p, i, true, err);
        if (rc) return rc;
        i = p->start;
    }
    p->scan = i;
    return 0;
}

static int32_t be32(const uint8_t *b) {
    return (int32_t)(((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3]);
}

/* Binary: the header, then whole tuples. Stops at an incomplete one (bin_need set). */
static int scan_binary(cp_parser *p, cp_err *err) {
    while (!p->done) {
        const uint8_t *b = (const uint8_t *)p->buf + p->start;
        size_t left = p->len - p->start;
        if (left < p->bin_need) return 0;
        if (!p->bin_header) {
            if (left < 19) {
                if (left >= 11 || memcmp(b, pgcopy_sig, left) == 0) {
                    p->bin_need = 19;
                    return 0;
                }
                return fail(err, "22P04", 0, -1, "COPY file signature not recognized");
            }
            if (memcmp(b, pgcopy_sig, 11) != 0) return fail(err, "22P04", 0, -1, "COPY file signature not recognized");
            int32_t flags = be32(b + 11), ext = be32(b + 15);
            if (flags & (1 << 16)) return fail(err, "22P04", 0, -1, "invalid COPY file header (WITH OIDS)");
            if (flags & 0xffff0000 & ~(1 << 16))
                return fail(err, "22P04", 0, -1, "unrecognized critical flags in COPY file header");
            if (ext < 0) return fail(err, "22P04", 0, -1, "invalid COPY file header (missing length)");
            if ((size_t)ext > p->o.max_row) return fail(err, "22P04", 0, -1, "invalid COPY file header (wrong length)");
            if (left < 19 + (size_t)ext) {
                p->bin_need = 19 + (size_t)ext;
                return 0;
            }
            p->start += 19 + (size_t)ext;
            p->bin_header = true;
            p->bin_need = 0;
            continue;
        }
        if (left < 2) {
            p->bin_need = 2;
            return 0;
        }
        int16_t nf = (int16_t)(((unsigned)b[0] << 8) | b[1]);
        if (nf == -1) {
            p->done = true;
            p->start += 2;
            return 0;
        }
        uint64_t tuple = p->line + 1;
        if (nf != p->o.ncols) {
            char m[96];
            snprintf(m, sizeof m, "row field count is %d, expected %d", nf, p->o.ncols);
            return fail(err, "22P04", tuple, -1, m);
        }
        size_t pos = 2;
        for (int k = 0; k < nf; k++) {
            if (left - pos < 4) {
                p->bin_need = pos + 4;
                return 0;
            }
            int32_t fl = be32(b + pos);
            pos += 4;
            if (fl < -1) return fail(err, "22P04", tuple, k, "invalid field size");
            if (fl == -1) {
                p->f[k] = (cp_field){NULL, 0, true};
                continue;
            }
            if ((size_t)fl > p->o.max_row) return fail(err, "54000", tuple, k, "COPY row is too long");
            if (left - pos < (size_t)fl) {
                p->bin_need = pos + (size_t)fl;
                return 0;
            }
            p->f[k] = (cp_field){(const char *)b + pos, (size_t)fl, false};
            pos += (size_t)fl;
        }
        p->bin_need = 0;
        p->start += pos;
        p->line = tuple;
        p->rows++;
        cp_row row = {p->f, nf, tuple, false, NULL, 0};
        int rc = p->fn(p->ud, &row);
        if (rc) return rc;
    }
    return 0;
}

/* Room for n more bytes at buf[len]: moves the unconsumed part to the front, or grows
 * the buffer up to max_row plus a slice. */
static int make_room(cp_parser *p, size_t n, cp_err *err) {
    if (p->cap - p->len >= n) return 0;
    if (p->start > 0) {
        memmove(p->buf, p->buf + p->start, p->len - p->start);
        p->len -= p->start;
        p->scan -= p->scan >= p->start ? p->start : p->scan;
        p->start = 0;
        if (p->cap - p->len >= n) return 0;
    }
    size_t limit = p->o.max_row + CP_SLICE + 16;
    size_t want = p->len + n;
    if (want > limit) return fail(err, "54000", p->line + 1, -1, "COPY row is too long");
    size_t c = p->cap ? p->cap : CP_SLICE * 2;
    while (c < want) c *= 2;
    if (c > limit) c = limit;
    char *g = realloc(p->buf, c);
    if (!g) return fail(err, "53200", p->line + 1, -1, "out of memory");
    p->buf = g;
    p->cap = c;
    return 0;
}

int cp_feed(cp_parser *p, const uint8_t *data, size_t len, cp_err *err) {
    while (len > 0 && !p->done) {
        size_t take = len < CP_SLICE ? len : CP_SLICE;
        int rc = make_room(p, take, err);
        if (rc) return rc;
        memcpy(p->buf + p->len, data, take);
        p->len += take;
        data += take;
        len -= take;
        rc = p->o.format == CP_BINARY ? scan_binary(p, err) : scan_lines(p, err);
        if (rc) return rc;
        if (!p->done && p->len - p->start > p->o.max_row)
            return fail(err, "54000", p->line + 1, -1, "COPY row is too long");
    }
    return 0;
}

int cp_finish(cp_parser *p, cp_err *err) {
    if (p->done) return 0;
    if (p->o.format == CP_BINARY) {
        if (!p->bin_header) return fail(err, "22P04", 0, -1, "COPY file signature not recognized");
        if (p->len > p->start) return fail(err, "22P04", p->line + 1, -1, "unexpected EOF in COPY data");
        return 0;
    }
    if (p->len == p->start) return 0;
    if (p->o.format == CP_CSV && p->in_quote) {
        fail(err, "22P04", p->line + 1, -1, "unterminated CSV quoted field");
        err_value(err, p->buf + p->start, p->len - p->start);
        return -1;
    }
    return line_done(p, p->len, false, err);
}
