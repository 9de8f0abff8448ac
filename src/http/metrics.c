/* metrics.c - request counts and latency histograms by route, method and status, in
 * Prometheus text format. A small fixed table: routes x methods x statuses is bounded
 * because routes are patterns, never raw paths. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "http/internal.h"
#include "util/str.h"

#define MAX_SERIES 512
static const double bounds[] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120};
#define NB (sizeof bounds / sizeof bounds[0])

typedef struct {
    const char *route; /* static strings: route patterns */
    char method[8];
    int status;
    unsigned long count;
    double sum;
    unsigned long buckets[NB];
} series;

static series table[MAX_SERIES];
static int nseries;
static unsigned long dropped;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

void metrics_record(const char *route, const char *method, int status, double seconds) {
    pthread_mutex_lock(&mu);
    series *s = NULL;
    for (int i = 0; i < nseries; i++)
        if (table[i].status == status && strcmp(table[i].route, route) == 0 && strcmp(table[i].method, method) == 0) {
            s = &table[i];
            break;
        }
    if (!s && nseries < MAX_SERIES) {
        s = &table[nseries++];
        s->route = route;
        snprintf(s->method, sizeof s->method, "%s", strlen(method) < sizeof s->method ? method : "OTHER");
        s->status = status;
    }
    if (s) {
        s->count++;
        s->sum += seconds;
        for (size_t b = 0; b < NB; b++)
            if (seconds <= bounds[b]) s->buckets[b]++;
    } else {
        dropped++;
    }
    pthread_mutex_unlock(&mu);
}

char *metrics_render(void) {
    sb b;
    sb_init(&b);
    pthread_mutex_lock(&mu);
    sb_append(&b, "# HELP duckspace_http_requests_total HTTP requests by route, method and status.\n"
                  "# TYPE duckspace_http_requests_total counter\n");
    for (int i = 0; i < nseries; i++)
        sb_printf(&b, "duckspace_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %lu\n",
                  table[i].route, table[i].method, table[i].status, table[i].count);
    sb_append(&b, "# HELP duckspace_http_request_duration_seconds HTTP request latency.\n"
                  "# TYPE duckspace_http_request_duration_seconds histogram\n");
    for (int i = 0; i < nseries; i++) {
        series *s = &table[i];
        char labels[256];
        snprintf(labels, sizeof labels, "route=\"%s\",method=\"%s\",status=\"%d\"", s->route, s->method, s->status);
        for (size_t k = 0; k < NB; k++)
            sb_printf(&b, "duckspace_http_request_duration_seconds_bucket{%s,le=\"%g\"} %lu\n", labels, bounds[k],
                      s->buckets[k]);
        sb_printf(&b, "duckspace_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %lu\n", labels, s->count);
        sb_printf(&b, "duckspace_http_request_duration_seconds_sum{%s} %.6f\n", labels, s->sum);
        sb_printf(&b, "duckspace_http_request_duration_seconds_count{%s} %lu\n", labels, s->count);
    }
    sb_printf(&b, "# HELP duckspace_http_metrics_dropped_total Requests not recorded (series table full).\n"
                  "# TYPE duckspace_http_metrics_dropped_total counter\nduckspace_http_metrics_dropped_total %lu\n",
              dropped);
    pthread_mutex_unlock(&mu);
    return sb_take(&b);
}
