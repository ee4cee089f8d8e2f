/* arena.h - a bump allocator: many small allocations released all at once.
 *
 * Ownership: an fo_arena owns every byte handed out from it; fo_arena_reset() and fo_arena_free()
 * release them all at once, and nothing is freed alone. The struct is caller-allocated. Memory is
 * taken in chunks that double in size, up to `max` bytes in all.
 * Thread-safety: an arena belongs to one thread at a time.
 */
#ifndef FLINKOP_ARENA_H
#define FLINKOP_ARENA_H

#include <stddef.h>

struct fo_arena_chunk;

struct fo_arena {
  struct fo_arena_chunk *chunks; /* newest (largest) first */
  char *cur, *end;
  size_t total; /* bytes of all chunks */
  size_t max;   /* allocations that would pass it fail */
};

/* An empty arena that may grow to `max` bytes (chunks included). Allocates nothing. */
void fo_arena_init(struct fo_arena *a, size_t max);
/* `n` bytes aligned for any value; NULL when out of memory or over `max`. */
void *fo_arena_alloc(struct fo_arena *a, size_t n);
/* A NUL-terminated copy of s[0..n); NULL as fo_arena_alloc. */
char *fo_arena_strndup(struct fo_arena *a, const char *s, size_t n);
/* Forgets every allocation; keeps the newest chunk for reuse when it is at most `keep` bytes. */
void fo_arena_reset(struct fo_arena *a, size_t keep);
void fo_arena_free(struct fo_arena *a);

#endif
