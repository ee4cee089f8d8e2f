#include "flinkop/jv.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The member's value, JSON null included; NULL when absent. `o` is an object. */
static const struct fo_jv *member(const struct fo_jv *o, const char *key) {
  for (uint32_t i = 0; i < o->n; i++) {
    const struct fo_jm *m = &o->u.members[i];
    if (m->key[0] == key[0] && strcmp(m->key, key) == 0) return &m->v;
  }
  return NULL;
}

const struct fo_jv *fo_jv_get(const struct fo_jv *o, const char *key) {
  if (!o || o->type != FO_JOBJECT) return NULL;
  const struct fo_jv *v = member(o, key);
  return v && v->type != FO_JNULL ? v : NULL;
}

const struct fo_jv *fo_jv_get_object(const struct fo_jv *o, const char *key) {
  const struct fo_jv *v = fo_jv_get(o, key);
  return v && v->type == FO_JOBJECT ? v : NULL;
}

const struct fo_jv *fo_jv_get_array(const struct fo_jv *o, const char *key) {
  const struct fo_jv *v = fo_jv_get(o, key);
  return v && v->type == FO_JARRAY ? v : NULL;
}

const char *fo_jv_get_string(const struct fo_jv *o, const char *key) {
  return fo_jv_string(fo_jv_get(o, key));
}

const struct fo_jv *fo_jv_path(const struct fo_jv *o, ...) {
  va_list ap;
  va_start(ap, o);
  const char *k;
  while (o && (k = va_arg(ap, const char *))) o = fo_jv_get(o, k);
  va_end(ap);
  return o;
}

bool fo_jv_as_int64(const struct fo_jv *v, int64_t *ret) {
  if (!v) return false;
  if (v->type == FO_JINT) {
    *ret = v->u.i;
    return true;
  }
  if (v->type == FO_JDOUBLE) {
    double d = v->u.num.d;
    if (d != floor(d) || d < -9.2e18 || d > 9.2e18) return false;
    *ret = (int64_t)d;
    return true;
  }
  return false;
}

double fo_jv_number(const struct fo_jv *v) {
  if (!v) return 0;
  if (v->type == FO_JINT) return (double)v->u.i;
  if (v->type == FO_JDOUBLE) return v->u.num.d;
  return 0;
}

static bool jv_equal(const struct fo_jv *a, const struct fo_jv *b, unsigned depth) {
  bool an = !a || a->type == FO_JNULL, bn = !b || b->type == FO_JNULL;
  if (an || bn) return an && bn;
  if (a->type != b->type || depth > 10000) return false;
  switch (a->type) {
  case FO_JNULL: return true;
  case FO_JBOOL: return a->u.b == b->u.b;
  case FO_JINT: return a->u.i == b->u.i;
  case FO_JDOUBLE: return a->u.num.d == b->u.num.d;
  case FO_JSTRING: return a->n == b->n && memcmp(a->u.s, b->u.s, a->n) == 0;
  case FO_JARRAY:
    if (a->n != b->n) return false;
    for (uint32_t i = 0; i < a->n; i++)
      if (!jv_equal(&a->u.items[i], &b->u.items[i], depth + 1)) return false;
    return true;
  case FO_JOBJECT:
    if (a->n != b->n) return false;
    for (uint32_t i = 0; i < a->n; i++) {
      const struct fo_jm *m = &a->u.members[i];
      /* same position first: equal objects usually list members in the same order */
      const struct fo_jv *o =
          strcmp(b->u.members[i].key, m->key) == 0 ? &b->u.members[i].v : member(b, m->key);
      if (!o || !jv_equal(&m->v, o, depth + 1)) return false;
    }
    return true;
  }
  return false;
}

bool fo_jv_equal(const struct fo_jv *a, const struct fo_jv *b) { return jv_equal(a, b, 0); }

static int to_json(const struct fo_jv *v, json_object **ret, unsigned depth) {
  *ret = NULL;
  if (!v || v->type == FO_JNULL) return 0;
  if (depth > 10000) return -E2BIG;
  json_object *o = NULL;
  switch (v->type) {
  case FO_JNULL: return 0;
  case FO_JBOOL: o = json_object_new_boolean(v->u.b); break;
  case FO_JINT: o = json_object_new_int64(v->u.i); break;
  case FO_JDOUBLE:
    o = v->u.num.text ? json_object_new_double_s(v->u.num.d, v->u.num.text)
                      : json_object_new_double(v->u.num.d);
    break;
  case FO_JSTRING: o = json_object_new_string_len(v->u.s, (int)v->n); break;
  case FO_JARRAY:
  case FO_JOBJECT: {
    bool is_obj = v->type == FO_JOBJECT;
    if (!(o = is_obj ? json_object_new_object()
                     : json_object_new_array_ext((int)(v->n ? v->n : 1))))
      return -ENOMEM;
    for (uint32_t i = 0; i < v->n; i++) {
      json_object *e;
      int r = to_json(is_obj ? &v->u.members[i].v : &v->u.items[i], &e, depth + 1);
      if (r == 0 && (is_obj ? json_object_object_add(o, v->u.members[i].key, e)
                            : json_object_array_add(o, e)) != 0) {
        json_object_put(e);
        r = -ENOMEM;
      }
      if (r < 0) {
        json_object_put(o);
        return r;
      }
    }
    break;
  }
  }
  if (!o) return -ENOMEM;
  *ret = o;
  return 0;
}

int fo_jv_to_json(const struct fo_jv *v, json_object **ret) { return to_json(v, ret, 0); }

static int from_json(struct fo_arena *a, json_object *o, struct fo_jv *out, unsigned depth) {
  memset(out, 0, sizeof *out);
  if (depth > 10000) return -E2BIG;
  switch (json_object_get_type(o)) {
  case json_type_null: out->type = FO_JNULL; return 0;
  case json_type_boolean:
    out->type = FO_JBOOL;
    out->u.b = json_object_get_boolean(o);
    return 0;
  case json_type_int:
    out->type = FO_JINT;
    out->u.i = json_object_get_int64(o);
    return 0;
  case json_type_double: {
    out->type = FO_JDOUBLE;
    out->u.num.d = json_object_get_double(o);
    return 0;
  }
  case json_type_string: {
    size_t n = (size_t)json_object_get_string_len(o);
    if (n > UINT32_MAX) return -E2BIG;
    char *s = fo_arena_strndup(a, json_object_get_string(o), n);
    if (!s) return -ENOMEM;
    out->type = FO_JSTRING;
    out->n = (uint32_t)n;
    out->u.s = s;
    return 0;
  }
  case json_type_array: {
    size_t n = json_object_array_length(o);
    if (n > UINT32_MAX) return -E2BIG;
    struct fo_jv *items = fo_arena_alloc(a, n * sizeof *items);
    if (!items) return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
      int r = from_json(a, json_object_array_get_idx(o, i), &items[i], depth + 1);
      if (r < 0) return r;
    }
    out->type = FO_JARRAY;
    out->n = (uint32_t)n;
    out->u.items = items;
    return 0;
  }
  case json_type_object: {
    size_t n = (size_t)json_object_object_length(o), i = 0;
    struct fo_jm *ms = fo_arena_alloc(a, n * sizeof *ms);
    if (!ms) return -ENOMEM;
    json_object_object_foreach(o, k, v) {
      if (i == n) break;
      ms[i].key = fo_arena_strndup(a, k, strlen(k));
      if (!ms[i].key) return -ENOMEM;
      int r = from_json(a, v, &ms[i].v, depth + 1);
      if (r < 0) return r;
      i++;
    }
    out->type = FO_JOBJECT;
    out->n = (uint32_t)i;
    out->u.members = ms;
    return 0;
  }
  }
  return -EINVAL;
}

int fo_jv_from_json(struct fo_arena *a, json_object *o, const struct fo_jv **ret) {
  *ret = NULL;
  struct fo_jv *v = fo_arena_alloc(a, sizeof *v);
  if (!v) return -ENOMEM;
  int r = from_json(a, o, v, 0);
  if (r == 0) *ret = v;
  return r;
}
