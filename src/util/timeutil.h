/* timeutil.h - wall-clock seconds and RFC 3339 UTC formatting. */
#ifndef DS_TIMEUTIL_H
#define DS_TIMEUTIL_H

#include <stdint.h>
#include <time.h>

#define DS_RFC3339_LEN 21 /* "2026-11-26T10:00:00Z" + NUL */

int64_t ds_now(void); /* seconds since the epoch (plus the configured clock offset) */
/* Shifts ds_now(): the "clock_offset" setting, for testing expiry without waiting. */
void ds_set_clock_offset(int64_t seconds);
double ds_monotonic(void);                                  /* seconds, monotonic clock */
void ds_rfc3339(int64_t epoch, char out[DS_RFC3339_LEN]); /* UTC, second precision */
/* The time ms milliseconds from now on clock (CLOCK_REALTIME or CLOCK_MONOTONIC, as
 * the condition variable waited on uses): a deadline for pthread_cond_timedwait. */
struct timespec ds_deadline(int clock, long ms);

#endif
