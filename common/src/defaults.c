#include "flinkop/defaults.h"

#include <errno.h>
#include <string.h>

#include "flinkop/jsonpatch.h"
#include "flinkop/model.h"

/* Adds `value` at parent/key when parent lacks it (or holds null). `parent` may be absent, then
 * the whole {key: value} object is added at parent_ptr. Takes `value`. */
static int fill(json_object *patch, const struct fo_jv *parent, const char *parent_ptr,
                const char *key, json_object *value) {
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
  } else if (fo_jv_get(parent, key)) {
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

/* A pod template of the spec names a service account. */
static bool template_account(const struct fo_jv *spec) {
  const struct fo_jv *t[] = {fo_jv_get_object(spec, "podTemplate"),
                             fo_jv_path(spec, "jobManager", "podTemplate", (const char *)NULL),
                             fo_jv_path(spec, "taskManager", "podTemplate", (const char *)NULL)};
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    const struct fo_jv *ps = fo_jv_get_object(t[i], "spec");
    const char *a = fo_jv_get_string(ps, "serviceAccountName");
    const char *b = fo_jv_get_string(ps, "serviceAccount");
    if ((a && *a) || (b && *b)) return true;
  }
  return false;
}

int fo_defaults_patch(const struct fo_jv *obj, const char *service_account,
                      json_object **ret_patch) {
  *ret_patch = NULL;
  if (!obj || obj->type != FO_JOBJECT) return -EINVAL;
  json_object *patch = json_object_new_array();
  if (!patch) return -ENOMEM;
  int r = 0;
  const struct fo_jv *metadata = fo_jv_get_object(obj, "metadata");
  const struct fo_jv *spec = fo_jv_get_object(obj, "spec");
  if (metadata) {
    r = fill(patch, fo_jv_get_object(metadata, "labels"), "/metadata/labels", FO_MANAGED_BY_LABEL,
             json_object_new_string(FO_MANAGED_BY_VALUE));
  }
  bool session_job =
      fo_flinksessionjob_type(fo_jv_get_string(obj, "apiVersion"), fo_jv_get_string(obj, "kind"));
  const char *target = session_job ? fo_jv_get_string(spec, "deploymentName") : NULL;
  if (r == 0 && metadata && target) {
    /* the reference's target.session label (set, whatever it was), for selecting a session
     * cluster's jobs */
    const struct fo_jv *labels = fo_jv_get_object(metadata, "labels");
    const char *have = fo_jv_get_string(labels, FO_TARGET_SESSION_LABEL);
    /* (the labels exist by now: the managed-by fill made them) */
    if (!have || strcmp(have, target) != 0) {
      struct fo_buf ptr;
      fo_buf_init(&ptr, 4096);
      json_object *v = json_object_new_string(target);
      r = v && fo_buf_puts(&ptr, "/metadata/labels") == 0 &&
                  fo_pointer_append(&ptr, FO_TARGET_SESSION_LABEL) == 0
              ? fo_patch_add(patch, have ? "replace" : "add", ptr.data, v)
              : (json_object_put(v), -ENOMEM);
      fo_buf_free(&ptr);
    }
  }
  if (r == 0 && spec) {
    const struct fo_jv *job = fo_jv_get_object(spec, "job");
    if (job) {
      r = fill(patch, job, "/spec/job", "state", json_object_new_string("running"));
      if (r == 0)
        r = fill(patch, job, "/spec/job", "upgradeMode", json_object_new_string("stateless"));
    }
    if (session_job || fo_flinkstatesnapshot_type(fo_jv_get_string(obj, "apiVersion"),
                                                  fo_jv_get_string(obj, "kind")))
      goto done; /* the rest is a cluster's */
    if (r == 0) r = fill(patch, spec, "/spec", "mode", json_object_new_string("native"));
    if (r == 0 && service_account && *service_account && !template_account(spec))
      r = fill(patch, spec, "/spec", "serviceAccount", json_object_new_string(service_account));
    const struct fo_jv *jm = fo_jv_get(spec, "jobManager");
    if (r == 0 && (!jm || jm->type == FO_JOBJECT))
      r = fill(patch, jm, "/spec/jobManager", "replicas", json_object_new_int(1));
  }
done:
  if (r < 0) {
    json_object_put(patch);
    return r;
  }
  *ret_patch = patch;
  return 0;
}

int fo_defaults_patch_json(json_object *obj, const char *service_account, json_object **ret_patch) {
  *ret_patch = NULL;
  struct fo_arena a;
  fo_arena_init(&a, SIZE_MAX);
  const struct fo_jv *v;
  int r = fo_jv_from_json(&a, obj, &v);
  if (r == 0) r = fo_defaults_patch(v, service_account, ret_patch);
  fo_arena_free(&a);
  return r == -E2BIG ? -EINVAL : r;
}
