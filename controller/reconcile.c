#include "reconcile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "events.h"
#include "flinkop/findings.h"
#include "flinkop/log.h"
#include "flinkop/model.h"
#include "flinkop/rules.h"
#include "lifecycle.h"
#include "pass.h"

#define FINALIZER "flinkdeployments.flink.apache.org/finalizer"
#define VALIDATION_ERROR "org.apache.flink.kubernetes.operator.exception.ValidationException"

static bool has_finalizer(json_object *obj) {
  json_object *f = fo_json_get_array(fo_json_get_object(obj, "metadata"), "finalizers");
  size_t n = f ? json_object_array_length(f) : 0;
  for (size_t i = 0; i < n; i++) {
    const char *s = json_object_get_string(json_object_array_get_idx(f, i));
    if (s && !strcmp(s, FINALIZER)) return true;
  }
  return false;
}

/* Adds or removes our finalizer with a PUT (resourceVersion precondition). */
static int set_finalizer(struct fo_kube *k, json_object *obj, bool present) {
  json_object *m = fo_json_get_object(obj, "metadata");
  json_object *old = fo_json_get_array(m, "finalizers");
  json_object *nf = json_object_new_array();
  int oom = nf ? 0 : -ENOMEM; /* a list missing one would drop someone's finalizer */
  size_t n = old ? json_object_array_length(old) : 0;
  for (size_t i = 0; i < n; i++) {
    const char *s = json_object_get_string(json_object_array_get_idx(old, i));
    if (s && strcmp(s, FINALIZER)) fo_json_push(nf, json_object_new_string(s), &oom);
  }
  if (present) fo_json_push(nf, json_object_new_string(FINALIZER), &oom);
  if (oom < 0) {
    json_object_put(nf);
    return oom;
  }
  if (fo_json_set(m, "finalizers", nf, NULL) < 0) return -ENOMEM;
  return fo_kube_update(k, &fo_res_flinkdeployments, fo_json_get_string(m, "namespace"),
                        fo_json_get_string(m, "name"), NULL, obj, NULL);
}

/* Deleted: clean up, then let the object go. */
static int on_delete(struct pass *p, double *ret_again) {
  if (!has_finalizer(p->obj)) return 0;
  int done = cleanup_step(p, ret_again);
  if (done != 1) return done;
  *ret_again = 0;
  json_object *fresh = NULL; /* cleanup wrote the status: remove the finalizer from the latest */
  int r = fo_kube_get(p->k, &fo_res_flinkdeployments, p->ns, p->name, &fresh);
  if (r == 0) r = set_finalizer(p->k, fresh, false);
  json_object_put(fresh);
  return r;
}

/* Validates the spec with the webhook's rulebook. An invalid one is reported (status.error, a
 * ValidationError Warning once per new message) and nothing is deployed from it: *ret_invalid. */
static int validate(struct pass *p, bool *ret_invalid) {
  struct fo_findings errs, warns;
  fo_findings_init(&errs);
  fo_findings_init(&warns);
  *ret_invalid = false;
  /* without memory the verdict is unknown: neither "invalid" nor "valid" may be acted on */
  int r = fo_rules_validate(p->doc, NULL, p->default_conf, &errs, &warns);
  if (r == 0 && errs.n) {
    *ret_invalid = true;
    char *msg = fo_findings_join(&errs, "; ");
    const char *prev = p->st.error ? strdup(p->st.error) : NULL;
    if (!msg || (p->st.error && !prev)) r = -ENOMEM;
    if (r == 0) pass_set_error(p, VALIDATION_ERROR, msg);
    if (r == 0 && p->oom) r = p->oom; /* the error cannot be written whole: try again later */
    if (r == 0 && (!prev || strcmp(prev, p->st.error))) /* once per new error, not per pass */
      event_record(p->k, p->obj, "Warning", "ValidationError", msg);
    free((char *)prev);
    free(msg);
    if (r == 0) {
      p->st.observed_generation = (struct fo_opt_int){true, p->gen};
      pass_set(p, &p->st.lifecycle_state, fo_status_lifecycle_for(&p->st, p->recorded_state));
      r = pass_write_status(p);
    }
  }
  fo_findings_free(&errs);
  fo_findings_free(&warns);
  return r;
}

int reconcile(const struct pass_env *env, struct fo_kube *k, json_object *obj, const char *key,
              double *ret_again) {
  *ret_again = 0;
  if (!obj) {
    fo_log("info", "reconcile", "\"object\":\"%s\",\"result\":\"gone\"", fo_log_str(key));
    return 0;
  }
  struct pass p;
  int r = pass_load(&p, env, k, obj, key);
  const char *rv = fo_json_get_string(fo_json_get_object(obj, "metadata"), "resourceVersion");
  fo_log("info", "reconcile", "\"object\":\"%s\",\"resourceVersion\":\"%s\",\"generation\":%lld",
         fo_log_str(key), fo_log_str(rv), (long long)p.gen);
  if (r < 0) {
  } else if (fo_json_get(fo_json_get_object(obj, "metadata"), "deletionTimestamp")) {
    r = on_delete(&p, ret_again);
  } else if (!has_finalizer(obj)) {
    r = set_finalizer(k, obj, true); /* the update comes back through the watch */
  } else {
    bool invalid = false;
    r = validate(&p, &invalid);
    if (r == 0 && !invalid) r = lifecycle_reconcile(&p, ret_again);
  }
  if (r < 0 && r != -ENOENT)
    fo_log("warning", "reconcile failed", "\"object\":\"%s\",\"error\":%d,\"detail\":\"%s\"",
           fo_log_str(key), r, fo_log_str(fo_kube_last_error(k)->message));
  pass_unload(&p); /* puts obj */
  return r == -ENOENT ? 0 : r;
}
