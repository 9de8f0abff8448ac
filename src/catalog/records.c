/* records.c - the memory of catalog.h's records, apart from any backend: code that only
 * passes records around (the worker's channel, its fuzz target) links this alone. */
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"

void cat_table_clear(cat_table *t) {
    if (!t) return;
    free(t->columns_json);
    free(t->primary_key_json);
    memset(t, 0, sizeof *t);
}

void cat_tables_free(cat_tables *l) {
    if (!l) return;
    for (int i = 0; i < l->count; i++) cat_table_clear(&l->items[i]);
    free(l->items);
    l->items = NULL;
    l->count = 0;
}
