/* jsonpatch.h - RFC 6902 JSON Patch: building one (with RFC 6901 pointer escaping) and applying
 * one (add, remove, replace, move, copy, test); RFC 7386 merge patches: applying and computing.
 *
 * Ownership: a patch is a json-c array owned by the caller (json_object_put). fo_patch_add()
 * takes ownership of `value` in every case. fo_patch_apply() never modifies its input: it returns
 * a new document. Thread-safe: no shared state.
 */
#ifndef FLINKOP_JSONPATCH_H
#define FLINKOP_JSONPATCH_H

#include "flinkop/buf.h"
#include "flinkop/json.h"

/* Appends "/" + escaped `token` ('~' -> "~0", '/' -> "~1") to a pointer being built. */
int fo_pointer_append(struct fo_buf *ptr, const char *token);

/* Appends {"op": op, "path": path[, "value": value]} to `patch`. Takes `value`.
 * Returns 0 or -ENOMEM. */
int fo_patch_add(json_object *patch, const char *op, const char *path, json_object *value);

/* Applies `patch` to a copy of `doc`. Returns 0 with *ret (owned; NULL when the result is JSON
 * null), -EINVAL with *ret_why (static or NULL) when an operation cannot apply or the patch is
 * malformed, -E2BIG over `max_ops`, -ENOMEM. */
int fo_patch_apply(json_object *doc, json_object *patch, size_t max_ops, json_object **ret,
                   const char **ret_why);

/* RFC 7386 JSON Merge Patch: returns a new document = `doc` merged with `patch` (members set to
 * null are removed). NULL on ENOMEM. Neither input is modified. */
json_object *fo_merge_patch_new(json_object *doc, json_object *patch);
/* The merge patch that turns object `from` (NULL or not an object: {}) into object `to`: changed
 * members with their new value (objects compared member by member), removed members as null, so
 * that fo_merge_patch_new(from, diff) equals `to` (a null inside `to` cannot be told from a
 * removal, and reads as one). A new object ({} when they are equal), NULL on ENOMEM or when
 * `to` is not an object. */
json_object *fo_merge_patch_diff(json_object *from, json_object *to);

#endif
