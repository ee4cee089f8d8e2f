/* podmerge.c - pod templates merged as the reference operator merges them (rules in podmerge.h).
 *
 * Every function builds new values from borrowed inputs and writes *ret only on success.
 * `depth` is the nesting of the container being built (the template itself is at 0); one at the
 * depth limit is refused, as the JSON reader refuses one, so recursion stays bounded. */
#include "flinkop/podmerge.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "flinkop/limits.h"

struct pm {
  bool by_name;
  unsigned max_depth;
};

static int merge_member(const struct pm *m, json_object *b, json_object *o, unsigned depth,
                        json_object **ret);
static int merge_object(const struct pm *m, json_object *b, json_object *o, unsigned depth,
                        json_object **ret);
static int merge_positions(const struct pm *m, json_object *b, json_object *o, unsigned depth,
                           json_object **ret);

static bool is(json_object *v, json_type t) { return v && json_object_is_type(v, t); }

/* Hands `out` to *ret when r is 0, else frees it. Returns r. */
static int finish(int r, json_object *out, json_object **ret) {
  if (r) json_object_put(out);
  else *ret = out;
  return r;
}

/* Appends v (NULL: a JSON null) to out, taking v. */
static int put_element(json_object *out, json_object *v) {
  if (json_object_array_add(out, v) == 0) return 0;
  json_object_put(v);
  return -ENOMEM;
}

static int new_container(const struct pm *m, json_type t, unsigned depth, json_object **ret) {
  if (depth >= m->max_depth) return -E2BIG;
  json_object *c = t == json_type_object ? json_object_new_object() : json_object_new_array();
  if (!c) return -ENOMEM;
  *ret = c;
  return 0;
}

/* A copy of v without null members (nothing to merge with); NULL stays NULL. An array is copied
 * element by element, not by name: the reference leaves an array it does not merge as it is. */
static int copy_value(const struct pm *m, json_object *v, unsigned depth, json_object **ret) {
  if (is(v, json_type_object)) return merge_object(m, v, NULL, depth, ret);
  if (is(v, json_type_array)) return merge_positions(m, v, NULL, depth, ret);
  json_object *c = NULL;
  if (v && json_object_deep_copy(v, &c, NULL) != 0) return -ENOMEM;
  *ret = c;
  return 0;
}

/* Object `b` with object `o` (NULL: none) merged into it: b's members first, in b's order. */
static int merge_object(const struct pm *m, json_object *b, json_object *o, unsigned depth,
                        json_object **ret) {
  json_object *out = NULL;
  int r = new_container(m, json_type_object, depth, &out);
  if (r) return r;
  json_object_object_foreach(b, bk, bv) {
    json_object *v = NULL;
    if (!bv) continue; /* null: not given */
    r = merge_member(m, bv, fo_json_get(o, bk), depth + 1, &v);
    if (r == 0) r = fo_json_set(out, bk, v, NULL);
    if (r) return finish(r, out, ret);
  }
  if (!o) return finish(0, out, ret);
  json_object_object_foreach(o, ok, ov) {
    json_object *v = NULL;
    if (!ov || fo_json_get(b, ok)) continue; /* null, or merged above */
    r = copy_value(m, ov, depth + 1, &v);
    if (r == 0) r = fo_json_set(out, ok, v, NULL);
    if (r) break;
  }
  return finish(r, out, ret);
}

/* An element of two arrays merged by position: merged when both are objects, else the base's
 * (the reference merges only an object's fields, and only into an object). */
static int merge_element(const struct pm *m, json_object *b, json_object *o, unsigned depth,
                         json_object **ret) {
  if (is(b, json_type_object) && is(o, json_type_object)) return merge_object(m, b, o, depth, ret);
  return copy_value(m, b, depth, ret);
}

/* Arrays `b` and `o` (NULL: none) by position; o's elements past b's end appended, each merged
 * with itself as the reference does (which, by name, collapses repeated names inside it). */
static int merge_positions(const struct pm *m, json_object *b, json_object *o, unsigned depth,
                           json_object **ret) {
  size_t nb = json_object_array_length(b), no = o ? json_object_array_length(o) : 0;
  json_object *out = NULL;
  int r = new_container(m, json_type_array, depth, &out);
  for (size_t i = 0; r == 0 && i < (nb > no ? nb : no); i++) {
    json_object *e = NULL, *oe = i < no ? json_object_array_get_idx(o, i) : NULL;
    if (i < nb) r = merge_element(m, json_object_array_get_idx(b, i), oe, depth + 1, &e);
    else r = merge_element(m, oe, oe, depth + 1, &e);
    if (r == 0) r = put_element(out, e);
  }
  return finish(r, out, ret);
}

/* Every element is an object with a non-null `name` (true for an empty array, as in the
 * reference). */
static bool named(json_object *a) {
  size_t n = json_object_array_length(a);
  for (size_t i = 0; i < n; i++)
    if (!fo_json_get(json_object_array_get_idx(a, i), "name")) return false;
  return true;
}

/* The text a name is compared by, as the reference's JsonNode.asText() gives it: a string's
 * value, a number's or boolean's text, "" for an object or array. Borrowed from `e` or `buf`. */
static const char *name_key(json_object *e, char *buf, size_t size) {
  json_object *n = fo_json_get(e, "name");
  switch (json_object_get_type(n)) {
  case json_type_string: return json_object_get_string(n);
  case json_type_boolean: return json_object_get_boolean(n) ? "true" : "false";
  case json_type_int: snprintf(buf, size, "%" PRId64, json_object_get_int64(n)); return buf;
  case json_type_double: snprintf(buf, size, "%.17g", json_object_get_double(n)); return buf;
  default: return "";
  }
}

/* An index of named array `a`: name -> position of its last element, names in the order they
 * first appear (json-c keeps a replaced member in its place). New object, or -ENOMEM. */
static int index_names(json_object *a, json_object **ret) {
  json_object *idx = json_object_new_object();
  size_t n = json_object_array_length(a);
  char buf[32];
  int r = idx ? 0 : -ENOMEM;
  for (size_t i = 0; r == 0 && i < n; i++) {
    const char *k = name_key(json_object_array_get_idx(a, i), buf, sizeof buf);
    r = fo_json_set(idx, k, json_object_new_int64((int64_t)i), NULL); /* NULL: -ENOMEM */
  }
  return finish(r, idx, ret);
}

static json_object *at(json_object *a, json_object *pos) {
  return json_object_array_get_idx(a, (size_t)json_object_get_int64(pos));
}

/* Named arrays `b` and `o` by name: b's names, each merged with o's element of that name, then
 * o's new names. */
static int merge_names(const struct pm *m, json_object *b, json_object *o, unsigned depth,
                       json_object **ret) {
  json_object *bi = NULL, *oi = NULL, *out = NULL;
  int r = index_names(b, &bi);
  if (r == 0) r = index_names(o, &oi);
  if (r == 0) r = new_container(m, json_type_array, depth, &out);
  if (r == 0) {
    json_object_object_foreach(bi, bk, bpos) {
      json_object *e = NULL, *opos = fo_json_get(oi, bk);
      if (opos) r = merge_object(m, at(b, bpos), at(o, opos), depth + 1, &e);
      else r = copy_value(m, at(b, bpos), depth + 1, &e);
      if (r == 0) r = put_element(out, e);
      if (r) break;
    }
  }
  if (r == 0) {
    json_object_object_foreach(oi, ok, opos) {
      json_object *e = NULL;
      if (fo_json_get(bi, ok)) continue; /* merged above */
      r = copy_value(m, at(o, opos), depth + 1, &e);
      if (r == 0) r = put_element(out, e);
      if (r) break;
    }
  }
  json_object_put(bi);
  json_object_put(oi);
  return finish(r, out, ret);
}

static int merge_array(const struct pm *m, json_object *b, json_object *o, unsigned depth,
                       json_object **ret) {
  if (m->by_name && named(b) && named(o)) return merge_names(m, b, o, depth, ret);
  return merge_positions(m, b, o, depth, ret);
}

/* A member given on both sides or one (NULL: null or absent). */
static int merge_member(const struct pm *m, json_object *b, json_object *o, unsigned depth,
                        json_object **ret) {
  if (!o) return copy_value(m, b, depth, ret);
  if (!b) return copy_value(m, o, depth, ret);
  if (is(b, json_type_array) && is(o, json_type_array)) return merge_array(m, b, o, depth, ret);
  if (is(b, json_type_object))
    return merge_object(m, b, is(o, json_type_object) ? o : NULL, depth, ret);
  return copy_value(m, o, depth, ret);
}

int fo_podmerge(json_object *base, json_object *overlay, bool by_name, json_object **ret) {
  if ((base && !is(base, json_type_object)) || (overlay && !is(overlay, json_type_object)))
    return -EINVAL;
  struct pm m = {by_name, fo_limits_default()->depth};
  json_object *out = NULL;
  int r;
  if (!base && !overlay) r = (out = json_object_new_object()) ? 0 : -ENOMEM;
  else r = merge_member(&m, base, overlay, 0, &out);
  if (r == 0) *ret = out;
  return r;
}
