/* One reconcile pass for a FlinkDeployment: the finalizer, validation, and the controller's own
 * status fields, written through the status subresource with optimistic concurrency.
 * The job lifecycle (clusters, savepoints) plugs in here; this pass is what every object gets. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controller.h"
#include "lifecycle.h"
#include "flinkop/findings.h"
#include "flinkop/log.h"
#include "flinkop/model.h"
#include "flinkop/rules.h"
#include "flinkop/status.h"

#define FINALIZER "flinkdeployments.flink.apache.org/finalizer"

static json_object *cached(const char *key) {
  for (size_t i = 0; i < g_ctl->n_fd; i++) {
    json_object *o = informer_get(g_ctl->fd_informers[i], key);
    if (o) return o;
  }
  return NULL;
}

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
static int set_finalizer(struct fo_kube *k, json_object *obj, const char *key, bool present) {
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
  if (!ctl_write_allowed("update", "finalizer", key)) return -EPERM;
  return fo_kube_update(k, &fo_res_flinkdeployments, fo_json_get_string(m, "namespace"), fo_json_get_string(m, "name"),
                        NULL, obj, NULL);
}

/* The controller-owned status fields of this pass. */
struct own {
  int64_t observed_generation;
  const char *lifecycle;
  char *error; /* owned, may be NULL */
};

static int apply_own(struct fo_status *st, const struct own *o) {
  st->observed_generation.set = true;
  st->observed_generation.v = o->observed_generation;
  int r = fo_status_set_str(&st->lifecycle_state, o->lifecycle);
  if (r == 0) r = fo_status_set_str(&st->error, o->error);
  return r;
}

/* Writes the status when our fields differ: on a conflict re-reads the object and re-applies only
 * our fields, so a concurrent writer's fields are kept. */
static int write_status(struct fo_kube *k, json_object *obj, const char *key, const struct own *o) {
  json_object *m = fo_json_get_object(obj, "metadata");
  const char *ns = fo_json_get_string(m, "namespace"), *name = fo_json_get_string(m, "name");
  json_object *cur = json_object_get(obj);
  int r = 0;
  for (int attempt = 0; attempt < 5; attempt++) {
    struct fo_status st;
    if (fo_status_read(fo_json_get_object(cur, "status"), &st) < 0) {
      r = -ENOMEM;
      break;
    }
    json_object *want = apply_own(&st, o) == 0 ? fo_status_to_json(&st) : NULL;
    fo_status_free(&st);
    if (!want) { /* never write a status that is not whole (a NULL one would erase it) */
      r = -ENOMEM;
      break;
    }
    json_object *have = fo_json_get_object(cur, "status");
    if (want && have && json_object_equal(want, have)) {
      json_object_put(want);
      r = 0;
      break; /* nothing to write */
    }
    if (fo_json_set(cur, "status", want, NULL) < 0) {
      r = -ENOMEM;
      break;
    }
    if (!ctl_write_allowed("update", "status", key)) {
      r = -EPERM;
      break;
    }
    r = fo_kube_update(k, &fo_res_flinkdeployments, ns, name, "status", cur, NULL);
    if (r != -ESTALE) break;
    /* conflict: someone else wrote in between; start again from the server's object */
    json_object_put(cur);
    cur = NULL;
    r = fo_kube_get(k, &fo_res_flinkdeployments, ns, name, &cur);
    if (r < 0) break;
    r = -ESTALE;
  }
  json_object_put(cur);
  return r;
}

double reconcile(struct fo_kube *k, const char *key) {
  json_object *obj = cached(key);
  if (!obj) {
    fo_log("info", "reconcile", "\"object\":\"%s\",\"result\":\"gone\"", key);
    return 0;
  }
  json_object *m = fo_json_get_object(obj, "metadata");
  const char *rv = fo_json_get_string(m, "resourceVersion");
  int64_t gen = 0;
  fo_json_as_int64(fo_json_get(m, "generation"), &gen);
  fo_log("info", "reconcile", "\"object\":\"%s\",\"resourceVersion\":\"%s\",\"generation\":%lld", key, rv ? rv : "",
         (long long)gen);
  double again = 0;
  int r = 0;
  if (fo_json_get(m, "deletionTimestamp")) {
    if (has_finalizer(obj)) {
      int done = lifecycle_cleanup(k, obj, key);
      if (done == 1) {
        json_object *fresh = NULL; /* cleanup wrote the status: remove the finalizer from the latest */
        if (fo_kube_get(k, &fo_res_flinkdeployments, fo_json_get_string(m, "namespace"), fo_json_get_string(m, "name"), &fresh) == 0) {
          r = set_finalizer(k, fresh, key, false);
          json_object_put(fresh);
        }
      } else {
        r = done < 0 ? done : 0;
        again = 1.0;
      }
    }
    goto out;
  }
  if (!has_finalizer(obj)) {
    r = set_finalizer(k, obj, key, true);
    goto out; /* the update comes back through the watch */
  }
  struct fo_findings errs, warns;
  fo_findings_init(&errs);
  fo_findings_init(&warns);
  json_object *conf = NULL;
  /* without memory the verdict is unknown: neither "invalid" nor "valid" may be acted on */
  r = g_ctl->default_conf && json_object_deep_copy(g_ctl->default_conf, &conf, NULL) != 0 ? -ENOMEM : 0;
  if (r == 0) r = fo_rules_validate_json(obj, NULL, conf, &errs, &warns);
  json_object_put(conf);
  if (r < 0) {
    fo_findings_free(&errs);
    fo_findings_free(&warns);
    goto out;
  }
  struct own o = {.observed_generation = gen};
  struct fo_status st;
  fo_status_read(fo_json_get_object(obj, "status"), &st);
  if (errs.n) {
    char *msg = fo_findings_join(&errs, "; ");
    json_object *e = json_object_new_object();
    int oom = msg && e ? 0 : -ENOMEM;
    fo_json_set(e, "type", json_object_new_string("org.apache.flink.kubernetes.operator.exception.ValidationException"), &oom);
    fo_json_set(e, "message", json_object_new_string(msg ? msg : ""), &oom);
    o.error = oom == 0 ? fo_json_dumps(e) : NULL;
    json_object_put(e);
    if (!o.error) { /* the error cannot be written whole: try again later */
      free(msg);
      fo_status_free(&st);
      fo_findings_free(&errs);
      fo_findings_free(&warns);
      r = -ENOMEM;
      goto out;
    }
    const char *prev = fo_json_get_string(fo_json_get_object(obj, "status"), "error");
    if (!prev || strcmp(prev, o.error ? o.error : "") != 0) /* once per new error, not per pass */
      event_record(k, obj, "Warning", "ValidationError", msg ? msg : "");
    free(msg);
    fo_status_set_str(&st.error, o.error);
  } else {
    fo_status_set_str(&st.error, NULL);
  }
  o.lifecycle = fo_status_lifecycle(&st);
  if (errs.n) {
    r = write_status(k, obj, key, &o); /* invalid: nothing is deployed from it */
  } else {
    again = lifecycle_reconcile(k, obj, key);
    if (again < 0) r = -EIO;
  }
  fo_status_free(&st);
  free(o.error);
  fo_findings_free(&errs);
  fo_findings_free(&warns);
out:
  if (r < 0 && r != -ENOENT)
    fo_log("warning", "reconcile failed", "\"object\":\"%s\",\"error\":%d,\"detail\":\"%s\"", key, r,
           fo_log_escape(fo_kube_last_error(k)->message, (char[300]){0}, 300));
  json_object_put(obj);
  return r < 0 && r != -ENOENT ? -1 : again;
}
