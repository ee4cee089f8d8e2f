#include "flinkop/defaults.h"

#include <errno.h>

#include "flinkop/jsonpatch.h"
#include "flinkop/model.h"

/* Adds `value` at parent/key when parent lacks it (or holds null). `parent` may be absent, then
 * the whole {key: value} object is added at parent_ptr. Takes `value`. */
static int fill(json_object *patch, json_object *parent, const char *parent_ptr, const char *key,
                json_object *value) {
  if (!value) return -ENOMEM;
  struct fo_buf p;
  fo_buf_init(&p, 4096);
  int r;
  if (!parent) {
    json_object *o = json_object_new_object();
    if (!o || json_object_object_add(o, key, value) != 0) {
      json_object_put(o);
      json_object_put(value);
      return -ENOMEM;
    }
    r = fo_buf_puts(&p, parent_ptr) < 0 ? (json_object_put(o), -ENOMEM)
                                        : fo_patch_add(patch, "add", p.data, o);
  } else if (fo_json_get(parent, key)) {
    json_object_put(value);
    r = 0;
  } else {
    r = (fo_buf_puts(&p, parent_ptr) < 0 || fo_pointer_append(&p, key) < 0)
            ? (json_object_put(value), -ENOMEM)
            : fo_patch_add(patch, "add", p.data, value);
  }
  fo_buf_free(&p);
  return r;
}

int fo_defaults_patch(json_object *obj, json_object **ret_patch) {
  *ret_patch = NULL;
  if (!obj || !json_object_is_type(obj, json_type_object)) return -EINVAL;
  json_object *patch = json_object_new_array();
  if (!patch) return -ENOMEM;
  int r = 0;
  json_object *metadata = fo_json_get_object(obj, "metadata");
  json_object *spec = fo_json_get_object(obj, "spec");
  if (metadata) {
    r = fill(patch, fo_json_get_object(metadata, "labels"), "/metadata/labels", FO_MANAGED_BY_LABEL,
             json_object_new_string(FO_MANAGED_BY_VALUE));
  }
  if (r == 0 && spec) {
    json_object *job = fo_json_get_object(spec, "job");
    if (job) {
      r = fill(patch, job, "/spec/job", "state", json_object_new_string("running"));
      if (r == 0) r = fill(patch, job, "/spec/job", "upgradeMode", json_object_new_string("stateless"));
    }
    if (r == 0) r = fill(patch, spec, "/spec", "mode", json_object_new_string("native"));
    json_object *jm = fo_json_get(spec, "jobManager");
    if (r == 0 && (!jm || json_object_is_type(jm, json_type_object)))
      r = fill(patch, jm, "/spec/jobManager", "replicas", json_object_new_int(1));
  }
  if (r < 0) {
    json_object_put(patch);
    return r;
  }
  *ret_patch = patch;
  return 0;
}
