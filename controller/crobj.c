#include "crobj.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool cro_has_finalizer(json_object *obj, const char *name) {
  json_object *f = fo_json_get_array(fo_json_get_object(obj, "metadata"), "finalizers");
  size_t n = f ? json_object_array_length(f) : 0;
  for (size_t i = 0; i < n; i++) {
    const char *s = json_object_get_string(json_object_array_get_idx(f, i));
    if (s && !strcmp(s, name)) return true;
  }
  return false;
}

int cro_set_finalizer(struct fo_kube *k, const struct fo_kube_resource *res, json_object *obj,
                      const char *name, bool present) {
  json_object *m = fo_json_get_object(obj, "metadata");
  json_object *old = fo_json_get_array(m, "finalizers");
  json_object *nf = json_object_new_array();
  int oom = nf ? 0 : -ENOMEM; /* a list missing one would drop someone's finalizer */
  size_t n = old ? json_object_array_length(old) : 0;
  for (size_t i = 0; i < n; i++) {
    const char *s = json_object_get_string(json_object_array_get_idx(old, i));
    if (s && strcmp(s, name)) fo_json_push(nf, json_object_new_string(s), &oom);
  }
  if (present) fo_json_push(nf, json_object_new_string(name), &oom);
  if (oom < 0) {
    json_object_put(nf);
    return oom;
  }
  if (fo_json_set(m, "finalizers", nf, NULL) < 0) return -ENOMEM;
  /* a merge patch of the list alone, with the resourceVersion as its precondition: the rest of
   * the object is not sent back (the copy in hand may lack what the cache leaves out) */
  json_object *patch = json_object_new_object(), *pm = json_object_new_object(), *copy = NULL;
  int r = patch && pm && json_object_deep_copy(nf, &copy, NULL) == 0 ? 0 : -ENOMEM;
  const char *rv = fo_json_get_string(m, "resourceVersion");
  if (r == 0 && rv) fo_json_set(pm, "resourceVersion", json_object_new_string(rv), &r);
  if (r == 0) {
    r = fo_json_set(pm, "finalizers", copy, NULL);
    copy = NULL;
  }
  if (r == 0) {
    r = fo_json_set(patch, "metadata", pm, NULL);
    pm = NULL;
  }
  if (r == 0)
    r = fo_kube_patch(k, res, fo_json_get_string(m, "namespace"), fo_json_get_string(m, "name"),
                      NULL, FO_PATCH_MERGE, patch, NULL);
  json_object_put(copy);
  json_object_put(pm);
  json_object_put(patch);
  return r;
}

char *cro_error_text(const char *type, const char *msg) {
  json_object *e = json_object_new_object();
  int oom = e ? 0 : -ENOMEM;
  fo_json_set(e, "type", json_object_new_string(type), &oom);
  fo_json_set(e, "message", json_object_new_string(msg), &oom);
  fo_json_set(e, "additionalMetadata", json_object_new_object(), &oom);
  fo_json_set(e, "throwableList", json_object_new_array(), &oom);
  char *text = oom ? NULL : fo_json_dumps(e);
  json_object_put(e);
  return text;
}

int cro_write_status(struct fo_kube *k, const struct fo_kube_resource *res, json_object *obj,
                     json_object *st, char **st_read) {
  char *now = fo_json_dumps(st);
  if (!now) return -ENOMEM;
  if (*st_read && !strcmp(now, *st_read)) {
    free(now);
    return 0;
  }
  json_object *m = fo_json_get_object(obj, "metadata"), *copy = NULL, *ret = NULL;
  int r = json_object_deep_copy(st, &copy, NULL) == 0 ? 0 : -ENOMEM;
  if (r == 0) r = fo_json_set(obj, "status", copy, NULL);
  if (r == 0)
    r = fo_kube_update(k, res, fo_json_get_string(m, "namespace"), fo_json_get_string(m, "name"),
                       "status", obj, &ret);
  const char *rv = fo_json_get_string(fo_json_get_object(ret, "metadata"), "resourceVersion");
  if (r == 0 && rv && m) r = fo_json_set(m, "resourceVersion", json_object_new_string(rv), NULL);
  json_object_put(ret);
  if (r == 0) {
    free(*st_read);
    *st_read = now;
  } else free(now);
  return r;
}
