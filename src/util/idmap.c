/* idmap.c -- see idmap.h. */
#include "util/idmap.h"

#include <stdlib.h>

#include "util/kb.h"

static size_t slot(int64_t key, size_t cap) {
    uint64_t h = (uint64_t)key * 0x9E3779B97F4A7C15ull; /* Fibonacci hashing: ids are sequential */
    return (size_t)(h >> 20) & (cap - 1);
}

void kb_idmap_init(kb_idmap *m) {
    m->keys = m->vals = NULL;
    m->cap = m->n = 0;
}

void kb_idmap_free(kb_idmap *m) {
    free(m->keys);
    free(m->vals);
    kb_idmap_init(m);
}

static void grow(kb_idmap *m) {
    kb_idmap bigger;
    bigger.cap = m->cap ? m->cap * 2 : 1024;
    bigger.n = 0;
    bigger.keys = kb_calloc(bigger.cap, sizeof *bigger.keys);
    bigger.vals = kb_calloc(bigger.cap, sizeof *bigger.vals);
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i]) kb_idmap_put(&bigger, m->keys[i], m->vals[i]);
    free(m->keys);
    free(m->vals);
    *m = bigger;
}

void kb_idmap_put(kb_idmap *m, int64_t key, int64_t val) {
    if (key <= 0) return;
    if ((m->n + 1) * 2 > m->cap) grow(m);
    size_t i = slot(key, m->cap);
    while (m->keys[i] && m->keys[i] != key) i = (i + 1) & (m->cap - 1);
    if (!m->keys[i]) {
        m->keys[i] = key;
        m->n++;
    }
    m->vals[i] = val;
}

int kb_idmap_get(const kb_idmap *m, int64_t key, int64_t *val) {
    if (!m->cap || key <= 0) return 0;
    size_t i = slot(key, m->cap);
    while (m->keys[i]) {
        if (m->keys[i] == key) {
            *val = m->vals[i];
            return 1;
        }
        i = (i + 1) & (m->cap - 1);
    }
    return 0;
}
