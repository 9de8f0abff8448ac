/* csv.c - the header line of an uploaded CSV body, read with a bounded parser. */
#include <string.h>

#include "storage/storage.h"

#define CSV_NAME_MAX 255

int stor_csv_header(const char *buf, size_t len, void (*cb)(void *ud, const char *name, size_t n), void *ud) {
    size_t i = 0;
    if (len >= 3 && (unsigned char)buf[0] == 0xEF && (unsigned char)buf[1] == 0xBB && (unsigned char)buf[2] == 0xBF)
        i = 3;
    char name[CSV_NAME_MAX + 1];
    int fields = 0;
    for (;;) {
        size_t n = 0;
        if (i < len && buf[i] == '"') {
            i++;
            for (;;) {
                if (i >= len) return -1; /* unterminated quote */
                if (buf[i] == '"') {
                    if (i + 1 < len && buf[i + 1] == '"') {
                        if (n >= CSV_NAME_MAX) return -1;
                        name[n++] = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                if (n >= CSV_NAME_MAX) return -1;
                name[n++] = buf[i++];
            }
        } else {
            while (i < len && buf[i] != ',' && buf[i] != '\n' && buf[i] != '\r') {
                if (buf[i] == '"') return -1; /* a quote inside an unquoted field */
                if (n >= CSV_NAME_MAX) return -1;
                name[n++] = buf[i++];
            }
        }
        if (n == 0) return -1;
        name[n] = '\0';
        if (memchr(name, '\0', n)) return -1;
        cb(ud, name, n);
        fields++;
        if (i >= len) return -1; /* the header line must end with a newline */
        if (buf[i] == ',') {
            i++;
            continue;
        }
        if (buf[i] == '\n' || buf[i] == '\r') return fields;
        return -1; /* text after a closing quote */
    }
}
