#include "flinkop/jsonpatch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int fo_pointer_append(struct fo_buf *ptr, const char *token) {
  int r = fo_buf_putc(ptr, '/');
  for (const char *p = token; r == 0 && *p; p++) {
    if (*p == '~') r = fo_buf_append(ptr, "~0", 2);
    else if (*p == '/') r = fo_buf_append(ptr, "~1", 2);
    else r = fo_buf_putc(ptr, *p);
  }
  return r;
}

int fo_patch_add(json_object *patch, const char *op, const char *path, json_object *value) {
  json_object *o = json_object_new_object();
  json_object *jop = json_object_new_string(op);
  json_object *jpath = json_object_new_string(path);
  if (!o || !jop || !jpath) goto oom;
  if (json_object_object_add(o, "op", jop) != 0) goto oom;
  jop = NULL;
  if (json_object_object_add(o, "path", jpath) != 0) goto oom;
  jpath = NULL;
  if (strcmp(op, "remove") != 0) {
    if (json_object_object_add(o, "value", value) != 0) goto oom;
    value = NULL;
  }
  if (json_object_array_add(patch, o) != 0) goto oom;
  json_object_put(value);
  return 0;
oom:
  json_object_put(o);
  json_object_put(jop);
  json_object_put(jpath);
  json_object_put(value);
  return -ENOMEM;
}

/* Decodes the next reference token of `*p` into a malloc'd string; NULL on ENOMEM or a bad
 * escape (*bad set). Advances *p past it. */
static char *next_token(const char **p, bool *bad) {
  const char *s = *p + 1; /* skip '/' */
  const char *end = strchr(s, '/');
  size_t n = end ? (size_t)(end - s) : strlen(s);
  char *t = malloc(n + 1);
  if (!t) return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '~') {
      if (i + 1 < n && s[i + 1] == '0') t[k++] = '~';
      else if (i + 1 < n && s[i + 1] == '1') t[k++] = '/';
      else {
        free(t);
        *bad = true;
        return NULL;
      }
      i++;
    } else {
      t[k++] = s[i];
    }
  }
  t[k] = '\0';
  *p = s + n;
  return t;
}

/* Parses an array index token; -1 for "-", -2 when invalid. */
static long array_index(const char *t) {
  if (strcmp(t, "-") == 0) return -1;
  if (!*t || (t[0] == '0' && t[1])) return -2;
  long v = 0;
  for (const char *c = t; *c; c++) {
    if (*c < '0' || *c > '9' || v > 100000000) return -2;
    v = v * 10 + (*c - '0');
  }
  return v;
}

/* Resolves the parent of the last token of `path` in `root`. On success *ret_parent is
 * borrowed and *ret_last owned. */
static int resolve_parent(json_object *root, const char *path, json_object **ret_parent,
                          char **ret_last, const char **why) {
  if (path[0] != '/') {
    *why = "JSON pointer must start with '/'";
    return -EINVAL;
  }
  json_object *cur = root;
  const char *p = path;
  for (;;) {
    bool bad = false;
    char *tok = next_token(&p, &bad);
    if (!tok) {
      *why = bad ? "invalid '~' escape in JSON pointer" : NULL;
      return bad ? -EINVAL : -ENOMEM;
    }
    if (*p == '\0') {
      *ret_parent = cur;
      *ret_last = tok;
      return 0;
    }
    json_object *next = NULL;
    if (cur && json_object_is_type(cur, json_type_object)) {
      if (!json_object_object_get_ex(cur, tok, &next)) next = NULL;
    } else if (cur && json_object_is_type(cur, json_type_array)) {
      long i = array_index(tok);
      if (i >= 0 && (size_t)i < json_object_array_length(cur))
        next = json_object_array_get_idx(cur, (size_t)i);
    }
    free(tok);
    if (!next) {
      *why = "path does not exist";
      return -EINVAL;
    }
    cur = next;
  }
}

static json_object *get_at(json_object *parent, const char *last, bool *found) {
  json_object *v = NULL;
  *found = false;
  if (json_object_is_type(parent, json_type_object)) {
    *found = json_object_object_get_ex(parent, last, &v);
  } else if (json_object_is_type(parent, json_type_array)) {
    long i = array_index(last);
    if (i >= 0 && (size_t)i < json_object_array_length(parent)) {
      *found = true;
      v = json_object_array_get_idx(parent, (size_t)i);
    }
  }
  return v;
}

/* json-c 0.16 has no insert: detach the tail, append, re-append. Takes `value`. */
static int array_insert(json_object *arr, size_t at, json_object *value) {
  size_t n = json_object_array_length(arr), tail = n - at;
  json_object **saved =
      tail ? calloc(tail, sizeof *saved) : NULL; /* NOLINT(bugprone-sizeof-expression) */
  if (tail && !saved) {
    json_object_put(value);
    return -ENOMEM;
  }
  for (size_t k = 0; k < tail; k++)
    saved[k] = json_object_get(json_object_array_get_idx(arr, at + k));
  if (tail) json_object_array_del_idx(arr, at, tail);
  int r = json_object_array_add(arr, value) == 0 ? 0 : (json_object_put(value), -ENOMEM);
  for (size_t k = 0; k < tail; k++)
    if (json_object_array_add(arr, saved[k]) != 0) {
      json_object_put(saved[k]);
      r = -ENOMEM;
    }
  free(saved);
  return r;
}

/* Takes `value`. */
static int do_add(json_object **root, const char *path, json_object *value, const char **why) {
  if (path[0] == '\0') {
    json_object_put(*root);
    *root = value;
    return 0;
  }
  json_object *parent;
  char *last;
  int r = resolve_parent(*root, path, &parent, &last, why);
  if (r < 0) {
    json_object_put(value);
    return r;
  }
  if (parent && json_object_is_type(parent, json_type_object)) {
    r = json_object_object_add(parent, last, value) == 0 ? 0 : -ENOMEM;
    if (r < 0) json_object_put(value);
  } else if (parent && json_object_is_type(parent, json_type_array)) {
    long i = array_index(last);
    size_t n = json_object_array_length(parent);
    if (i == -1) i = (long)n;
    if (i < 0 || (size_t)i > n) {
      *why = "array index out of range";
      json_object_put(value);
      r = -EINVAL;
    } else {
      r = array_insert(parent, (size_t)i, value);
    }
  } else {
    *why = "parent is not an object or array";
    json_object_put(value);
    r = -EINVAL;
  }
  free(last);
  return r;
}

/* Removes and returns (owned) the value at path via *ret_old (may be NULL to drop it). */
static int do_remove(json_object *root, const char *path, json_object **ret_old, const char **why) {
  json_object *parent;
  char *last;
  if (path[0] == '\0') {
    *why = "cannot remove the whole document";
    return -EINVAL;
  }
  int r = resolve_parent(root, path, &parent, &last, why);
  if (r < 0) return r;
  bool found;
  json_object *v = parent ? get_at(parent, last, &found) : (found = false, NULL);
  if (!found) {
    free(last);
    *why = "path does not exist";
    return -EINVAL;
  }
  if (ret_old) *ret_old = json_object_get(v);
  if (json_object_is_type(parent, json_type_object)) json_object_object_del(parent, last);
  else json_object_array_del_idx(parent, (size_t)array_index(last), 1);
  free(last);
  return 0;
}

static int get_value(json_object *root, const char *path, json_object **ret, const char **why) {
  if (path[0] == '\0') {
    *ret = root;
    return 0;
  }
  json_object *parent;
  char *last;
  int r = resolve_parent(root, path, &parent, &last, why);
  if (r < 0) return r;
  bool found;
  *ret = parent ? get_at(parent, last, &found) : (found = false, NULL);
  free(last);
  if (!found) {
    *why = "path does not exist";
    return -EINVAL;
  }
  return 0;
}

int fo_patch_apply(json_object *doc, json_object *patch, size_t max_ops, json_object **ret,
                   const char **ret_why) {
  *ret = NULL;
  *ret_why = NULL;
  if (!patch || !json_object_is_type(patch, json_type_array)) {
    *ret_why = "patch is not a JSON array";
    return -EINVAL;
  }
  size_t n = json_object_array_length(patch);
  if (n > max_ops) {
    *ret_why = "too many patch operations";
    return -E2BIG;
  }
  json_object *root = NULL;
  if (doc && json_object_deep_copy(doc, &root, NULL) != 0) return -ENOMEM;
  int r = 0;
  for (size_t i = 0; r == 0 && i < n; i++) {
    json_object *op = json_object_array_get_idx(patch, i);
    const char *name = fo_json_get_string(op, "op");
    const char *path = fo_json_get_string(op, "path");
    json_object *value = NULL;
    bool has_value = op && json_object_object_get_ex(op, "value", &value);
    if (!name || !path) {
      *ret_why = "operation without op or path";
      r = -EINVAL;
      break;
    }
    json_object *copy = NULL;
    if (has_value && value && json_object_deep_copy(value, &copy, NULL) != 0) {
      r = -ENOMEM;
      break;
    }
    if (strcmp(name, "add") == 0 || strcmp(name, "replace") == 0) {
      if (!has_value) {
        *ret_why = "operation without value";
        r = -EINVAL;
      } else if (strcmp(name, "replace") == 0 && path[0] &&
                 (r = do_remove(root, path, NULL, ret_why)) < 0) {
        json_object_put(copy);
        break;
      }
      if (r == 0) {
        r = do_add(&root, path, copy, ret_why);
        copy = NULL;
      }
    } else if (strcmp(name, "remove") == 0) {
      r = do_remove(root, path, NULL, ret_why);
    } else if (strcmp(name, "move") == 0 || strcmp(name, "copy") == 0) {
      const char *from = fo_json_get_string(op, "from");
      json_object *v = NULL;
      if (!from) {
        *ret_why = "operation without from";
        r = -EINVAL;
      } else if (strcmp(name, "move") == 0) {
        size_t fl = strlen(from);
        if (strncmp(path, from, fl) == 0 && path[fl] == '/') {
          *ret_why = "cannot move a value into itself";
          r = -EINVAL;
        } else if ((r = do_remove(root, from, &v, ret_why)) == 0) {
          r = do_add(&root, path, v, ret_why);
        }
      } else if ((r = get_value(root, from, &v, ret_why)) == 0) {
        json_object *c = NULL;
        if (v && json_object_deep_copy(v, &c, NULL) != 0) r = -ENOMEM;
        else r = do_add(&root, path, c, ret_why);
      }
    } else if (strcmp(name, "test") == 0) {
      json_object *v = NULL;
      if ((r = get_value(root, path, &v, ret_why)) == 0 && !json_object_equal(v, value)) {
        *ret_why = "test operation failed";
        r = -EINVAL;
      }
    } else {
      *ret_why = "unknown patch operation";
      r = -EINVAL;
    }
    json_object_put(copy);
  }
  if (r < 0) {
    json_object_put(root);
    return r;
  }
  *ret = root;
  return 0;
}

static json_object *merge(json_object *target, json_object *patch) {
  /* takes `target`, borrows `patch` */
  if (!patch || !json_object_is_type(patch, json_type_object)) {
    json_object_put(target);
    json_object *c = NULL;
    if (patch && json_object_deep_copy(patch, &c, NULL) != 0) return NULL;
    return c;
  }
  if (!target || !json_object_is_type(target, json_type_object)) {
    json_object_put(target);
    target = json_object_new_object();
    if (!target) return NULL;
  }
  json_object_object_foreach(patch, k, v) {
    if (!v) {
      json_object_object_del(target, k);
      continue;
    }
    json_object *cur = json_object_get(fo_json_get(target, k));
    json_object *m = merge(cur, v);
    if (!m || json_object_object_add(target, k, m) != 0) {
      json_object_put(m);
      json_object_put(target);
      return NULL;
    }
  }
  return target;
}

json_object *fo_merge_patch_new(json_object *doc, json_object *patch) {
  json_object *c = NULL;
  if (doc && json_object_deep_copy(doc, &c, NULL) != 0) return NULL;
  return merge(c, patch);
}

/* Adds to `out` what turns object `from` into object `to`. 0 or -ENOMEM. */
static int diff_into(json_object *out, json_object *from, json_object *to) {
  json_object_object_foreach(to, k, tv) {
    json_object *fv = NULL;
    bool had = json_object_object_get_ex(from, k, &fv);
    if (had && json_object_equal(fv, tv)) continue;
    json_object *v = NULL;
    if (had && json_object_is_type(fv, json_type_object) &&
        json_object_is_type(tv, json_type_object)) {
      if (!(v = json_object_new_object()) || diff_into(v, fv, tv) < 0) {
        json_object_put(v);
        return -ENOMEM;
      }
    } else if (tv && json_object_deep_copy(tv, &v, NULL) != 0) {
      return -ENOMEM;
    }
    if (json_object_object_add(out, k, v) != 0) {
      json_object_put(v);
      return -ENOMEM;
    }
  }
  json_object_object_foreach(from, fk, fv2) {
    (void)fv2;
    if (!json_object_object_get_ex(to, fk, NULL) && json_object_object_add(out, fk, NULL) != 0)
      return -ENOMEM;
  }
  return 0;
}

json_object *fo_merge_patch_diff(json_object *from, json_object *to) {
  json_object *out = json_object_new_object();
  if (!out) return NULL;
  json_object *empty = NULL;
  if (!json_object_is_type(from, json_type_object)) from = empty = json_object_new_object();
  int r = from && json_object_is_type(to, json_type_object) ? diff_into(out, from, to) : -ENOMEM;
  json_object_put(empty);
  if (r < 0) {
    json_object_put(out);
    return NULL;
  }
  return out;
}
