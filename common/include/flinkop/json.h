/* json.h - the project's JSON boundary: a strict, bounded reader (into an arena document, jv.h,
 * or into json-c trees, converted from it), a writer, and borrowing accessors.
 *
 * Ownership rule (the whole project follows it): a `json_object *` returned by a function named
 * *_parse, *_new or *_dup is owned by the caller, who releases it with json_object_put();
 * anything returned by *_get / *_peek is borrowed from its parent and lives as long as the parent.
 * json-c trees are never shared between threads.
 *
 * Why our own reader: json-c's tokener silently keeps the last of duplicate keys, knows no
 * string/list/node limits and reports byte offsets; manifests need duplicate detection and
 * line:column errors, and every input from outside needs bounds.
 */
#ifndef FLINKOP_JSON_H
#define FLINKOP_JSON_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flinkop/jv.h"
#include "flinkop/limits.h"

/* Where and why a parse failed. `message` and `path` are owned; fo_parse_error_clear() frees. */
struct fo_parse_error {
  unsigned line;   /* 1-based, 0 when unknown */
  unsigned column; /* 1-based, 0 when unknown */
  char *message;
};

void fo_parse_error_clear(struct fo_parse_error *e);
/* Sets the error (formats the message); keeps the first error if one is already set. */
void fo_parse_error_set(struct fo_parse_error *e, unsigned line, unsigned column, const char *fmt,
                        ...) __attribute__((format(printf, 4, 5)));

/* Parses exactly one JSON value (RFC 8259; surrounding whitespace allowed) of `len` bytes.
 * Rejects duplicate object keys, invalid UTF-8, NUL characters in strings, non-finite numbers and
 * anything over `lim` (NULL = defaults). Returns 0 and *ret (owned), or -EINVAL (syntax; `err`
 * says where), -E2BIG (a limit; `err` says which), -ENOMEM. Thread-safe. */
int fo_json_parse(const char *text, size_t len, const struct fo_limits *lim, json_object **ret,
                  struct fo_parse_error *err);

/* Which members of an object a filtered parse keeps. A list ends with an entry whose key is NULL;
 * key "*" matches every key not listed; a key that matches nothing is skipped. A kept member
 * whose entry has `inner` is itself filtered by `inner` when it is an object (kept whole when it is
 * anything else); without `inner` it is kept whole. Filters are static data, never freed. */
struct fo_json_filter {
  const char *key;
  const struct fo_json_filter *inner;
  bool skip;
};

/* As fo_json_parse, but members the filter skips are not built: they are checked exactly as a
 * kept value would be (syntax, UTF-8, duplicates, every limit), so a document is accepted or
 * rejected, with the same error, whatever the filter. `filter` applies to the top-level object's
 * members; NULL keeps everything. */
int fo_json_parse_filtered(const char *text, size_t len, const struct fo_limits *lim,
                           const struct fo_json_filter *filter, json_object **ret,
                           struct fo_parse_error *err);

/* As fo_json_parse_filtered, but the document is built in arena `a` (see jv.h): no allocation per
 * value. *ret (borrowed from `a`) is the root; what the filter skips is absent from it. On error
 * the arena may hold part of a document (reset or free it). Same errors as fo_json_parse. */
int fo_jv_parse(const char *text, size_t len, const struct fo_limits *lim,
                const struct fo_json_filter *filter, struct fo_arena *a, const struct fo_jv **ret,
                struct fo_parse_error *err);

/* Serialises compactly (no spaces, '/' not escaped). Returns a malloc'd string or NULL (ENOMEM:
 * never a shortened text). */
char *fo_json_dumps(json_object *o);
struct fo_buf;
/* The same, appended to `b`: 0, -ENOMEM or -E2BIG (b's limit); on error b holds a partial text. */
int fo_json_write(struct fo_buf *b, json_object *o);

/* Borrowing accessors: NULL when `o` is not an object, the key is absent, or the type differs. */
json_object *fo_json_get(json_object *o, const char *key);
json_object *fo_json_get_object(json_object *o, const char *key);
json_object *fo_json_get_array(json_object *o, const char *key);
const char *fo_json_get_string(json_object *o, const char *key);
/* Follows a NULL-terminated list of keys through nested objects. */
json_object *fo_json_path(json_object *o, ...) __attribute__((sentinel));

/* Returns the object at `key`, creating an empty one (replacing a non-object) if needed; NULL
 * on ENOMEM. Borrowed. */
json_object *fo_json_ensure_object(json_object *o, const char *key);

/* Checked building. Sets o[key] = v, taking v in every case; v NULL means its allocation failed
 * (add a JSON null with json_object_object_add). Returns 0, or -ENOMEM when o or v is NULL or the
 * member cannot be added. The first failure is also kept in *err (when err is given and holds 0),
 * so a builder makes all its calls and checks once. fo_json_push appends to an array likewise. */
int fo_json_set(json_object *o, const char *key, json_object *v, int *err);
int fo_json_push(json_object *arr, json_object *v, int *err);

/* True when the value is a JSON integer (or a double with an integral value in range). */
bool fo_json_as_int64(json_object *o, int64_t *ret);

#endif
