/* tz.h - time zones for timestamptz output in the session's TimeZone: the system's
 * tz database (TZif files under /usr/share/zoneinfo) or a fixed offset. Thread-safe
 * once loaded (read-only). */
#ifndef DS_PGX_TZ_H
#define DS_PGX_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pgt_tz pgt_tz;

/* Loads a zone: "UTC", "Europe/Prague", "+02:00" or "-7" (hours east of UTC, as
 * PostgreSQL reads a bare number). NULL when the name is unknown or malformed. */
pgt_tz *pgt_tz_load(const char *name);
void pgt_tz_free(pgt_tz *tz);
/* Seconds east of UTC in force at utc_seconds. */
int32_t pgt_tz_offset(const pgt_tz *tz, int64_t utc_seconds);
/* Parses a TZif buffer (for tests and the fuzz target). NULL when malformed. */
pgt_tz *pgt_tz_parse(const uint8_t *buf, size_t len);

#endif
