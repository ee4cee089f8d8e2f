/* jv.h - read-only JSON values in an arena: what the admission path and the rulebook read.
 *
 * The reader (fo_jv_parse in json.h) builds a whole document with a handful of allocations: every
 * value, member array and string is carved from one arena and released with it, so judging an
 * AdmissionReview costs no malloc/free per node. json-c trees (the controller's and the Kubernetes
 * client's currency) convert both ways.
 *
 * Ownership: a `const struct fo_jv *` borrows from the arena (arena.h) that built it and lives
 * until that arena is reset or freed; nothing is freed alone. Strings are NUL-terminated (the
 * reader refuses NUL inside them), so they can be used as C strings; `n` is their length. JSON null
 * is a value of type FO_JNULL inside arrays and objects; the getters treat a member holding null as
 * absent, as json-c does. Thread-safety: a document belongs to one thread at a time, as its arena
 * does.
 */
#ifndef FLINKOP_JV_H
#define FLINKOP_JV_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flinkop/arena.h"

enum fo_jt { FO_JNULL, FO_JBOOL, FO_JINT, FO_JDOUBLE, FO_JSTRING, FO_JARRAY, FO_JOBJECT };

struct fo_jm;

struct fo_jv {
  enum fo_jt type;
  uint32_t n; /* string bytes, array items or object members */
  union {
    bool b;
    int64_t i;
    struct {
      double d;
      const char *text; /* as written in the input (json-c keeps it for output) */
    } num;
    const char *s;
    const struct fo_jv *items;
    const struct fo_jm *members; /* in document order */
  } u;
};

struct fo_jm {
  const char *key;
  struct fo_jv v;
};

/* Borrowing accessors: NULL when `o` is NULL or not an object, the key is absent, the member
 * holds null, or the type differs. */
const struct fo_jv *fo_jv_get(const struct fo_jv *o, const char *key);
const struct fo_jv *fo_jv_get_object(const struct fo_jv *o, const char *key);
const struct fo_jv *fo_jv_get_array(const struct fo_jv *o, const char *key);
const char *fo_jv_get_string(const struct fo_jv *o, const char *key);
/* Follows a NULL-terminated list of keys through nested objects. */
const struct fo_jv *fo_jv_path(const struct fo_jv *o, ...) __attribute__((sentinel));

static inline bool fo_jv_is(const struct fo_jv *v, enum fo_jt t) { return v && v->type == t; }
/* The string, or NULL when `v` is not a string. */
static inline const char *fo_jv_string(const struct fo_jv *v) {
  return v && v->type == FO_JSTRING ? v->u.s : NULL;
}
/* True for an integer, or a double with an integral value in range (as fo_json_as_int64). */
bool fo_jv_as_int64(const struct fo_jv *v, int64_t *ret);
/* Numeric value of an integer or double (0 otherwise). */
double fo_jv_number(const struct fo_jv *v);
/* Deep equality as json_object_equal: objects compare regardless of member order, numbers by
 * type and value. NULL equals a JSON null. */
bool fo_jv_equal(const struct fo_jv *a, const struct fo_jv *b);

/* A new json-c tree equal to `v` (*ret NULL for a JSON null or a NULL `v`). 0 or -ENOMEM. */
int fo_jv_to_json(const struct fo_jv *v, json_object **ret);
/* A copy of json-c tree `o` (NULL reads as JSON null) in arena `a`. 0, -ENOMEM, or -E2BIG when
 * deeper than 10,000 levels or a string or array is longer than 2^32 - 1. */
int fo_jv_from_json(struct fo_arena *a, json_object *o, const struct fo_jv **ret);

#endif
