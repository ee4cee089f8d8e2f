/* limits.h - every bound the project puts on input from outside, in one table.
 *
 * Parsers and servers take a `const struct fo_limits *` so that a caller (a test, the webhook's
 * configuration) can tighten them; `fo_limits_default()` returns the values below. The struct is
 * plain data: copying it is fine, and it is never modified after start-up (thread-safe to read).
 */
#ifndef FLINKOP_LIMITS_H
#define FLINKOP_LIMITS_H

#include <stddef.h>

struct fo_limits {
  size_t doc_bytes;    /* one input document (file, HTTP body) */
  unsigned depth;      /* nesting of objects and arrays */
  size_t string_bytes; /* one string or scalar */
  size_t list_items;   /* elements of one array, members of one object */
  size_t nodes;        /* values in one document */
  size_t documents;    /* documents in one YAML stream */
  size_t patch_ops;    /* operations in one JSON Patch */
};

/* X-macro table: name, default, short description. The single source of the defaults. */
#define FO_LIMITS_TABLE(X)                                                  \
  X(doc_bytes, 3u * 1024u * 1024u, "bytes in one document or request body") \
  X(depth, 64u, "nesting depth of objects and arrays")                      \
  X(string_bytes, 1024u * 1024u, "bytes in one string")                     \
  X(list_items, 10000u, "items in one array or members in one object")      \
  X(nodes, 200000u, "values in one document")                               \
  X(documents, 1000u, "documents in one YAML stream")                       \
  X(patch_ops, 1000u, "operations in one JSON Patch")

/* Returns a pointer to the process-wide defaults (static storage, never freed). */
const struct fo_limits *fo_limits_default(void);

#endif
