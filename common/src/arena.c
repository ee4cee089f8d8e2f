#include "flinkop/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct fo_arena_chunk {
  struct fo_arena_chunk *next;
  size_t size; /* bytes after the header */
  max_align_t data[];
};

enum { ARENA_FIRST = 4096, ARENA_ALIGN = 16 };

void fo_arena_init(struct fo_arena *a, size_t max) { *a = (struct fo_arena){.max = max}; }

static void *arena_grow(struct fo_arena *a, size_t n) {
  size_t size = a->chunks ? 2 * a->chunks->size : ARENA_FIRST;
  if (size < n) size = n;
  if (size > SIZE_MAX / 2 || a->total + size + sizeof(struct fo_arena_chunk) > a->max) {
    /* the doubled size would pass the maximum: try exactly what is asked */
    size = n;
    if (a->total + size + sizeof(struct fo_arena_chunk) > a->max) return NULL;
  }
  struct fo_arena_chunk *c = malloc(sizeof *c + size);
  if (!c) return NULL;
  c->next = a->chunks;
  c->size = size;
  a->chunks = c;
  a->total += sizeof *c + size;
  a->cur = (char *)c->data + n;
  a->end = (char *)c->data + size;
  return c->data;
}

void *fo_arena_alloc(struct fo_arena *a, size_t n) {
  if (n > SIZE_MAX / 2) return NULL;
  n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
  if (n == 0) n = ARENA_ALIGN;
  if ((size_t)(a->end - a->cur) >= n && a->cur) {
    void *p = a->cur;
    a->cur += n;
    return p;
  }
  return arena_grow(a, n);
}

char *fo_arena_strndup(struct fo_arena *a, const char *s, size_t n) {
  char *d = fo_arena_alloc(a, n + 1);
  if (!d) return NULL;
  if (n) memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

void fo_arena_reset(struct fo_arena *a, size_t keep) {
  struct fo_arena_chunk *c = a->chunks, *kept = NULL;
  if (c && c->size <= keep) {
    kept = c;
    c = c->next;
  }
  while (c) {
    struct fo_arena_chunk *n = c->next;
    free(c);
    c = n;
  }
  size_t max = a->max;
  *a = (struct fo_arena){.max = max};
  if (kept) {
    kept->next = NULL;
    a->chunks = kept;
    a->total = sizeof *kept + kept->size;
    a->cur = (char *)kept->data;
    a->end = (char *)kept->data + kept->size;
  }
}

void fo_arena_free(struct fo_arena *a) { fo_arena_reset(a, 0); }
