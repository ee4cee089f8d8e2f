#include "lifecycle.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cluster.h"
#include "events.h"
#include "health.h"
#include "flinkop/buf.h"
#include "flinkop/clock.h"
#include "flinkop/flinkconf.h"
#include "flinkop/flinkrest.h"
#include "flinkop/log.h"
#include "savepoint.h"

/* ---- the upgrade modes ----
 *
 * What each upgradeMode does, as the seed's table says it (suspend, then restore):
 *
 *   mode        suspend                                     restore
 *   stateless   cancel the job, delete the cluster and HA   empty state, a new job id
 *   savepoint   stop with a savepoint (the job must run),   from that savepoint, a new job id
 *               delete the cluster and HA
 *   last-state  delete the cluster, keep the HA ConfigMaps  Flink recovers from the latest
 *                                                           checkpoint, the same job id; no HA
 *                                                           checkpoint: refuse (never start empty)
 *
 * The crash-resume rule: before each destructive step the status already says it (so a pass that
 * dies at any point is finished by the next one, from the status alone):
 *
 *   step (phase)                        written before it
 *   any transition (from RUNNING,       reconciliationStatus.state UPGRADING, lastReconciledSpec =
 *     SUSPENDED or NEW)                 the target (job.state suspended, the mode in use)
 *   stop with a savepoint               savepointInfo.triggerId: our id, sent with the request, so
 *     (STOP_SAVEPOINT)                  a retry asks for the same savepoint
 *   delete the old cluster              savepoint mode: upgradeSavepointPath (the savepoint taken)
 *     (STOP_CLUSTER)
 *   apply the new cluster (START)       nothing more (a creation: the transition): the restore
 *                                       point follows from the status and the mode; the
 *                                       JobManager Deployment, applied last, carries the
 *                                       transition's mark (reconciliationTimestamp), the job id
 *                                       and the spec's generation
 *   record it deployed (STARTED)        (the Deployment is made by this transition: STARTED
 *                                       records its job id, in one write with the first look)
 */
enum lc_restore { FROM_NOTHING, FROM_SAVEPOINT, FROM_HA };

static const struct lc_mode {
  const char *name;
  bool cancel;             /* suspend: cancel the job first (best effort) */
  bool savepoint;          /* suspend: stop with a savepoint (needs a running job) */
  bool keep_ha;            /* suspend: the HA ConfigMaps stay */
  const char *stopped;     /* jobStatus.state after the suspend */
  enum lc_restore restore; /* what a start restores from */
  bool keep_job_id;        /* a start keeps the job id */
} lc_modes[] = {
    {"stateless", true, false, false, "CANCELED", FROM_NOTHING, false},
    {"savepoint", false, true, false, "FINISHED", FROM_SAVEPOINT, false},
    {"last-state", false, false, true, "FINISHED", FROM_HA, true},
};

/* A session cluster (a FlinkDeployment without job): nothing to stop or restore; a spec change
 * deletes the cluster, HA data included, and deploys the new one (the reference's
 * SessionReconciler); it always runs. */
static const struct lc_mode lc_session_mode = {"session", false,        false, false,
                                               NULL,      FROM_NOTHING, false};

static bool is_session(const struct pass *p) { return !p->spec.job.present; }

static const struct lc_mode *mode_named(const char *name) {
  if (!name) return &lc_modes[0];
  for (size_t i = 0; i < sizeof lc_modes / sizeof lc_modes[0]; i++)
    if (lc_modes[i].name && !strcmp(lc_modes[i].name, name)) return &lc_modes[i];
  return &lc_modes[0];
}

/* The mode a transition in flight uses: recorded in lastReconciledSpec when it began. */
static const struct lc_mode *recorded_mode(const struct pass *p) {
  return is_session(p) ? &lc_session_mode : mode_named(fo_job_upgrade_mode(&p->last.job));
}
static const struct lc_mode *spec_mode(const struct pass *p) {
  return is_session(p) ? &lc_session_mode : mode_named(fo_job_upgrade_mode(&p->spec.job));
}

/* ---- phases ---- */

static const char *const phase_names[LC_PHASE_COUNT] = {
    [LC_NEW] = "NEW",
    [LC_SUSPENDED] = "SUSPENDED",
    [LC_RUNNING] = "RUNNING",
    [LC_SAVEPOINT] = "SAVEPOINT",
    [LC_STOP_SAVEPOINT] = "STOP_SAVEPOINT",
    [LC_STOP_CLUSTER] = "STOP_CLUSTER",
    [LC_STOPPED] = "STOPPED",
    [LC_START] = "START",
    [LC_STARTED] = "STARTED",
};

const char *lc_phase_name(enum lc_phase ph) { return ph < LC_PHASE_COUNT ? phase_names[ph] : "?"; }

int lc_first_line(const char *s, int max) {
  size_t n = strcspn(s, "\r\n");
  return n < (size_t)max ? (int)n : max;
}

bool lc_is(const char *a, const char *b) { return a && b && !strcmp(a, b); }
static bool want_running(const struct pass *p) {
  return is_session(p) || lc_is(fo_job_state(&p->spec.job), "running");
}

/* A rollback in flight (ROLLING_BACK): a transition like an upgrade, to the last stable spec. */
static bool rolling_back(const struct pass *p) {
  return lc_is(p->st.reconciliation_status.state, "ROLLING_BACK");
}
/* Rolled back: the cluster runs the last stable spec, not the one recorded as reconciled. */
static bool rolled_back(const struct pass *p) {
  return lc_is(p->st.reconciliation_status.state, "ROLLED_BACK");
}
/* A transition in flight: an upgrade, a suspend, a start (UPGRADING) or a rollback. */
static bool in_transition(const struct pass *p) {
  return lc_is(p->st.reconciliation_status.state, "UPGRADING") || rolling_back(p);
}

/* Whether the JobManager Deployment was made by the transition in flight: it carries the
 * transition's mark (the time it began). One made before the mark was written (by an older
 * version of the controller) is this transition's when the status says the job is being started,
 * as that version wrote before it made the cluster. An older cluster of the same generation (the
 * one a restart replaces) carries an older mark. */
static bool made_by_this_transition(const struct pass *p, const struct lc_cluster *cl) {
  const struct fo_opt_int *t = &p->st.reconciliation_status.reconciliation_timestamp;
  if (cl->jm_transition > 0) return t->set && t->v == cl->jm_transition;
  return is_session(p) || lc_is(p->st.job_status.state, "RECONCILING");
}

enum lc_phase lc_phase_of(const struct pass *p, const struct lc_cluster *cl) {
  const struct fo_status *st = &p->st;
  if (!p->last_json) return LC_NEW;
  if (in_transition(p)) {
    if (cl->jm_deployment) {
      /* Deployed already, for the spec in hand: the transition is done. A Deployment of an older
       * generation (the spec changed again while it was being deployed) is the old cluster of a
       * new transition: recording the newer spec as reconciled would leave it never applied. And
       * one being deleted is going, whatever it runs: it is waited for, then started again. */
      if (!cl->jm_deleting && cl->jm_generation_set && cl->jm_rollback == rolling_back(p) &&
          cl->jm_generation == st->observed_generation.v && made_by_this_transition(p, cl) &&
          st->observed_generation.v == p->gen)
        return LC_STARTED;
      if (recorded_mode(p)->savepoint && !st->job_status.upgrade_savepoint_path && !cl->jm_deleting)
        return LC_STOP_SAVEPOINT;
      return LC_STOP_CLUSTER;
    }
    /* the old cluster is not gone until all of it is (see walk_cluster()) */
    if (cl->left) return LC_STOP_CLUSTER;
    return want_running(p) ? LC_START : LC_STOPPED;
  }
  if (st->job_status.savepoint_info.trigger_id)
    return LC_SAVEPOINT; /* no upgrade or suspend starts meanwhile */
  if (is_session(p)) return LC_RUNNING;
  return lc_is(fo_job_state(&p->last.job), "running") ? LC_RUNNING : LC_SUSPENDED;
}

void lc_go(const struct pass *p, struct lc_step *s, enum lc_phase to, const char *reason) {
  const char *mode = s->mode ? s->mode : recorded_mode(p)->name;
  if (to != s->phase)
    fo_log("info", "phase",
           "\"object\":\"%s\",\"from\":\"%s\",\"to\":\"%s\",\"reason\":\"%s\",\"mode\":\"%s\"",
           fo_log_str(p->key), lc_phase_name(s->phase), lc_phase_name(to), reason, mode);
  s->phase = to;
}

/* ---- the cluster ---- */

/* status.reconciliationStatus.lastStableSpec decoded into *ret (a new object the caller puts).
 * 0, -ENOMEM, or -EBADMSG when there is none or it cannot be read. */
static int stable_json(const struct pass *p, json_object **ret) {
  *ret = NULL;
  const char *text = p->st.reconciliation_status.last_stable_spec;
  if (!text) return -EBADMSG;
  struct fo_parse_error pe = {0};
  bool first;
  int r = fo_reconciled_spec_decode(text, ret, &first, &pe);
  fo_parse_error_clear(&pe);
  return r < 0 ? (r == -ENOMEM ? r : -EBADMSG) : 0;
}

/* The effective Flink configuration of the cluster that runs: the last stable spec's while rolled
 * back (the spec in hand is the one rolled back from), else the spec's. A new reference (the
 * caller puts it); the spec's when the stable one cannot be read. */
static json_object *running_conf(const struct pass *p) {
  json_object *stable = NULL, *conf = NULL;
  if (rolled_back(p) && stable_json(p, &stable) == 0)
    conf = fo_conf_effective_new(p->default_conf, fo_json_get_object(stable, "flinkConfiguration"));
  json_object_put(stable);
  return conf ? conf : json_object_get(p->conf);
}

struct fo_flink *lc_flink(const struct pass *p) {
  struct fo_buf u;
  fo_buf_init(&u, 4096);
  json_object *conf = running_conf(p);
  int port = (int)fo_conf_whole(conf, "rest.port", 1, 65535, CLUSTER_REST_PORT);
  json_object_put(conf);
  struct fo_flink *f = fo_flink_url(&u, p->env->flink_url_template, p->name, p->ns, port) == 0
                           ? fo_flink_new(u.data, 5000)
                           : NULL;
  fo_buf_free(&u);
  if (f && p->env->flink_transport)
    fo_flink_set_transport(f, p->env->flink_transport, p->env->flink_transport_ud);
  return f;
}

/* True when every field of `want` is in `have` with the same value (objects recursively, arrays
 * element by element): what the server added (defaults, status) does not count as a change. */
static bool covers(json_object *have, json_object *want) {
  if (json_object_is_type(want, json_type_object)) {
    if (!json_object_is_type(have, json_type_object)) return false;
    json_object_object_foreach(want, k, v) {
      if (!covers(fo_json_get(have, k), v)) return false;
    }
    return true;
  }
  if (json_object_is_type(want, json_type_array)) {
    size_t n = json_object_array_length(want);
    if (!json_object_is_type(have, json_type_array) || json_object_array_length(have) != n)
      return false;
    for (size_t i = 0; i < n; i++)
      if (!covers(json_object_array_get_idx(have, i), json_object_array_get_idx(want, i)))
        return false;
    return true;
  }
  return json_object_equal(have, want);
}

/* True when the object's ownerReferences name the FlinkDeployment (its uid). */
static bool owned_by(json_object *o, const char *uid) {
  json_object *refs = fo_json_get(fo_json_get_object(o, "metadata"), "ownerReferences");
  size_t n = json_object_is_type(refs, json_type_array) ? json_object_array_length(refs) : 0;
  for (size_t i = 0; uid && i < n; i++)
    if (lc_is(fo_json_get_string(json_object_array_get_idx(refs, i), "uid"), uid)) return true;
  return false;
}

/* Deletes the named object when the FlinkDeployment owns it (another's is left alone). */
static int delete_if_owned(struct pass *p, const struct fo_kube_resource *res, const char *name) {
  json_object *o = NULL;
  int r = name ? fo_kube_get(p->k, res, p->ns, name, &o) : -ENOMEM;
  if (r == 0 && owned_by(o, p->uid)) r = fo_kube_delete(p->k, res, p->ns, name, NULL);
  json_object_put(o);
  return r == -ENOENT ? 0 : r;
}

/* Creates, or replaces when it exists and differs (keeping its resourceVersion). */
static int apply(struct pass *p, const struct fo_kube_resource *res, json_object *obj) {
  const char *name = fo_json_get_string(fo_json_get_object(obj, "metadata"), "name");
  json_object *cur = NULL;
  int r;
  /* A first deployment creates; a redeploy finds its ConfigMap and Services (they outlive the
   * cluster) and reads first, so an unchanged one costs no write and a changed one no refused
   * create */
  if (p->first_deployment || res == &fo_res_deployments) {
    r = fo_kube_create(p->k, res, p->ns, obj, NULL);
    if (r != -EEXIST) return r;
    r = fo_kube_get(p->k, res, p->ns, name, &cur);
  } else {
    r = fo_kube_get(p->k, res, p->ns, name, &cur);
    if (r == -ENOENT) return fo_kube_create(p->k, res, p->ns, obj, NULL);
  }
  if (r < 0) return r;
  if (covers(cur, obj)) { /* already as wanted (a redeploy keeps its ConfigMap and Services) */
    json_object_put(cur);
    return 0;
  }
  const char *rv = fo_json_get_string(fo_json_get_object(cur, "metadata"), "resourceVersion");
  r = fo_json_set(fo_json_get_object(obj, "metadata"), "resourceVersion",
                  json_object_new_string(rv ? rv : ""), NULL);
  if (r == 0 && res == &fo_res_services) { /* clusterIP is immutable */
    json_object *ip = fo_json_get(fo_json_get_object(cur, "spec"), "clusterIP");
    bool was_headless = lc_is(json_object_get_string(ip), "None");
    bool headless = lc_is(fo_json_get_string(fo_json_get_object(obj, "spec"), "clusterIP"), "None");
    if (was_headless != headless) { /* (kubernetes.rest-service.exposed.type changed) made anew */
      json_object_put(cur);
      r = fo_kube_delete(p->k, res, p->ns, name, NULL);
      return r < 0 && r != -ENOENT ? r : fo_kube_create(p->k, res, p->ns, obj, NULL);
    }
    if (ip)
      r = fo_json_set(fo_json_get_object(obj, "spec"), "clusterIP", json_object_get(ip), NULL);
  }
  json_object_put(cur);
  return r < 0 ? r : fo_kube_update(p->k, res, p->ns, name, NULL, obj, NULL);
}

/* The last stable spec (status.reconciliationStatus.lastStableSpec), read for a rollback: its JSON
 * (*ret_json, owned by the caller), the spec over it (carved from `arena`) and, with `ret_conf`,
 * its effective Flink configuration (owned by the caller). 0, -ENOMEM, or -EBADMSG when there is
 * none or it cannot be read. */
static int stable_spec(struct pass *p, struct fo_arena *arena, json_object **ret_json,
                       struct fo_spec *ret_spec, json_object **ret_conf) {
  if (ret_conf) *ret_conf = NULL;
  int r = stable_json(p, ret_json);
  if (r < 0) return r;
  const struct fo_jv *jv = NULL;
  if (fo_jv_from_json(arena, *ret_json, &jv) < 0) return -ENOMEM;
  if (fo_spec_read(jv, ret_spec, NULL, "") < 0) return -EBADMSG;
  if (ret_conf) {
    *ret_conf = fo_conf_effective_new(
        p->default_conf,
        ret_spec->flink_configuration ? fo_json_get_object(*ret_json, "flinkConfiguration") : NULL);
    if (!*ret_conf) return -ENOMEM;
  }
  return 0;
}

static int deploy(struct pass *p, const char *job_id, const char *restore_path) {
  const struct fo_opt_int *t = &p->st.reconciliation_status.reconciliation_timestamp;
  struct cluster_input in = {.transition = t->set ? t->v : 0,
                             .name = p->name,
                             .ns = p->ns,
                             .uid = p->uid,
                             .generation = p->gen,
                             .spec_json = p->spec_json,
                             .spec = &p->spec,
                             .conf = p->conf,
                             .job_id = job_id,
                             .restore_path = restore_path};
  /* a rollback deploys the last stable spec, under the generation it was rolled back from */
  struct fo_arena arena;
  fo_arena_init(&arena, SIZE_MAX);
  struct fo_spec stable;
  json_object *stable_json = NULL, *stable_conf = NULL;
  int r = 0;
  if (rolling_back(p)) {
    r = stable_spec(p, &arena, &stable_json, &stable, &stable_conf);
    in.spec_json = stable_json;
    in.spec = &stable;
    in.conf = stable_conf;
    in.rollback = true;
  }
  struct cluster_objects objs = {0};
  if (r == 0) r = cluster_build(&in, &objs);
  /* the JobManager Deployment goes last: once it exists, all of the cluster does (the phase
   * takes it for the whole cluster, made by this transition) */
  size_t jm = objs.n;
  for (size_t i = 0; i < objs.n && jm == objs.n; i++)
    if (objs.res[i] == &fo_res_deployments &&
        lc_is(fo_json_get_string(fo_json_get_object(objs.obj[i], "metadata"), "name"), p->name))
      jm = i;
  for (size_t i = 0; r == 0 && i < objs.n; i++)
    if (i != jm) r = apply(p, objs.res[i], objs.obj[i]);
  if (r == 0 && jm < objs.n) r = apply(p, objs.res[jm], objs.obj[jm]);
  cluster_objects_free(&objs);
  /* spec.ingress removed: its Ingress goes (a change of spec.ingress is an upgrade, so a deploy
   * always follows one; a first one has none to remove); not managed: said, as the reference does
   */
  bool managed = r == 0 && cluster_ingress_managed(in.conf);
  if (r == 0 && !in.spec->ingress && managed && !p->first_deployment) {
    r = delete_if_owned(p, &fo_res_ingresses, p->name);
  } else if (r == 0 && in.spec->ingress && !managed) {
    event_record(p->k, p->obj, "Warning", "IngressManagement",
                 "Ingress management is turned off but ingress set in spec");
  }
  fo_log(
      "info", "deployed",
      "\"object\":\"%s\",\"jobId\":\"%s\",\"restoreFrom\":\"%s\",\"generation\":%lld,\"result\":%d",
      fo_log_str(p->key), fo_log_str(job_id), fo_log_str(restore_path), (long long)p->gen, r);
  json_object_put(stable_json);
  json_object_put(stable_conf);
  fo_arena_free(&arena);
  return r;
}

/* Whether the cluster is (or was, as last recorded) a standalone one, with a TaskManager
 * Deployment: a native one has none (the mode cannot change: the rulebook refuses it). */
static bool was_standalone(const struct pass *p) {
  return lc_is(fo_spec_mode(&p->spec), "standalone") ||
         (p->last_json && lc_is(fo_spec_mode(&p->last), "standalone"));
}

json_object *lc_labelled(struct pass *p, const struct fo_kube_resource *res, const char *label) {
  struct fo_buf sel;
  fo_buf_init(&sel, 4096);
  json_object *items = NULL;
  char *rv = NULL;
  if (fo_buf_printf(&sel, "app=%s,%s", p->name, label) < 0 ||
      fo_kube_list(p->k, res, p->ns, sel.data, 100, &items, &rv) < 0)
    items = NULL;
  free(rv);
  fo_buf_free(&sel);
  return items;
}

/* Flink's Kubernetes HA ConfigMaps of this cluster: labelled app=<name>,
 * type=flink-native-kubernetes (Flink 1 adds configmap-type=high-availability, Flink 2 does not),
 * as the reference operator selects them, less the operator's own flink-config-<name> and the
 * autoscaler's. A new array (owned by the caller), NULL when none could be listed. */
static json_object *ha_config_maps(struct pass *p) {
  json_object *all = lc_labelled(p, &fo_res_configmaps, "type=flink-native-kubernetes");
  json_object *ha = all ? json_object_new_array() : NULL;
  char *ours = cluster_object_name("flink-config-", p->name);
  size_t n = all ? json_object_array_length(all) : 0;
  for (size_t i = 0; ha && ours && i < n; i++) {
    json_object *cm = json_object_array_get_idx(all, i);
    json_object *m = fo_json_get_object(cm, "metadata");
    const char *name = fo_json_get_string(m, "name");
    const char *comp = fo_json_get_string(fo_json_get_object(m, "labels"), "component");
    if (!name || !strcmp(name, ours) || lc_is(comp, "autoscaler")) continue;
    fo_json_push(ha, json_object_get(cm), &p->oom);
  }
  if (!ours && ha) {
    json_object_put(ha);
    ha = NULL;
    pass_nomem(p);
  }
  free(ours);
  json_object_put(all);
  return ha;
}

/* HA metadata a last-state restore can use: a job's ConfigMap holding a checkpoint pointer
 * (<name>-<job id>-config-map from Flink 1.15 on, <name>-<job id>-jobmanager-leader before: the
 * keys say it, whatever the name). */
static bool ha_has_checkpoint(struct pass *p) {
  json_object *items = ha_config_maps(p);
  bool found = false;
  size_t n = items ? json_object_array_length(items) : 0;
  for (size_t i = 0; i < n && !found; i++) {
    json_object *cm = json_object_array_get_idx(items, i);
    /* (before its first checkpoint Flink's ConfigMap has leader annotations and no data) */
    json_object *data = fo_json_get_object(cm, "data");
    if (!data) continue;
    json_object_object_foreach(data, dk, dv) {
      (void)dv;
      if (!strncmp(dk, "checkpointID-", 13)) found = true;
    }
  }
  json_object_put(items);
  return found;
}

/* Flink's JobGraph store lives in the cluster's HA ConfigMap (<name>-cluster-config-map from
 * Flink 1.15 on, <name>-dispatcher-leader before; keys jobGraph-<job id>, Flink 2 calls them
 * executionPlan-<job id>). A JobManager that finds one recovers that graph, not the one the new
 * spec makes (a changed parallelism would be lost), while the checkpoint it restores from is in
 * the job's own ConfigMap. So before a start that keeps the HA data, the job graphs go, from
 * whichever HA ConfigMap holds them, as the reference operator does; the checkpoint pointers stay.
 * Idempotent. */
static int delete_job_graphs(struct pass *p) {
  json_object *items = ha_config_maps(p);
  if (!items) return p->oom ? p->oom : -EIO; /* not known: nothing may start on them */
  int r = 0;
  size_t n = json_object_array_length(items);
  for (size_t i = 0; r == 0 && i < n; i++) {
    json_object *cm = json_object_array_get_idx(items, i);
    const char *name = fo_json_get_string(fo_json_get_object(cm, "metadata"), "name");
    json_object *data = fo_json_get_object(cm, "data");
    bool changed = false;
    for (bool again = name && data; again;) {
      again = false;
      json_object_object_foreach(data, k, v) {
        (void)v;
        if (!strncmp(k, "jobGraph-", 9) || !strncmp(k, "executionPlan-", 14)) {
          json_object_object_del(data, k);
          changed = again = true;
          break;
        }
      }
    }
    if (changed) r = fo_kube_update(p->k, &fo_res_configmaps, p->ns, name, NULL, cm, NULL);
    if (r == -ENOENT) r = 0;
  }
  json_object_put(items);
  return r;
}

int lc_delete_ha(struct pass *p) {
  json_object *items = ha_config_maps(p);
  size_t n = items ? json_object_array_length(items) : 0;
  int r = 0;
  for (size_t i = 0; i < n; i++) {
    const char *name = fo_json_get_string(
        fo_json_get_object(json_object_array_get_idx(items, i), "metadata"), "name");
    if (!name) continue;
    int d = fo_kube_delete(p->k, &fo_res_configmaps, p->ns, name, NULL);
    if (d < 0 && d != -ENOENT) r = d;
  }
  json_object_put(items);
  return r;
}

int lc_delete_owned(struct pass *p) {
  char *conf = cluster_object_name("flink-config-", p->name);
  char *rest = cluster_object_name(p->name, "-rest");
  int r = delete_if_owned(p, &fo_res_configmaps, conf);
  int r2 = delete_if_owned(p, &fo_res_services, rest);
  if (r == 0) r = r2;
  r2 = delete_if_owned(p, &fo_res_services, p->name);
  if (r == 0) r = r2;
  r2 = delete_if_owned(p, &fo_res_ingresses, p->name);
  if (r == 0) r = r2;
  free(conf);
  free(rest);
  /* TaskManager pods Flink made (owned by the JobManager Deployment, deleted with it) */
  json_object *pods = lc_labelled(p, &fo_res_pods, "component=taskmanager");
  size_t n = pods ? json_object_array_length(pods) : 0;
  for (size_t i = 0; i < n; i++) {
    json_object *m = fo_json_get_object(json_object_array_get_idx(pods, i), "metadata");
    const char *name = fo_json_get_string(m, "name");
    if (!name || fo_json_get(m, "deletionTimestamp")) continue;
    r2 = fo_kube_delete(p->k, &fo_res_pods, p->ns, name, NULL);
    if (r2 < 0 && r2 != -ENOENT) /* not holding the delete: its Deployment's owner goes too */
      fo_log("warning", "could not delete a TaskManager pod",
             "\"object\":\"%s\",\"pod\":\"%s\",\"error\":%d", fo_log_str(p->key), fo_log_str(name),
             r2);
  }
  json_object_put(pods);
  return r;
}

/* ---- the record of what is reconciled ---- */

/* lastReconciledSpec for the spec in hand with job.state and upgradeMode as given; the nonce is
 * recorded only once its savepoint was handled. malloc'd, NULL on ENOMEM (recorded). */
static char *spec_for_record(struct pass *p, const char *job_state, const char *mode) {
  json_object *copy = NULL;
  if (p->spec_json && json_object_deep_copy(p->spec_json, &copy, NULL) != 0) {
    pass_nomem(p);
    return NULL;
  }
  json_object *job = fo_json_get_object(copy, "job");
  if (job) {
    fo_json_set(job, "state", json_object_new_string(job_state), &p->oom);
    fo_json_set(job, "upgradeMode", json_object_new_string(mode), &p->oom);
    json_object *ln = fo_json_get(fo_json_get_object(p->last_json, "job"), "savepointTriggerNonce");
    json_object_object_del(job, "savepointTriggerNonce");
    if (ln) fo_json_set(job, "savepointTriggerNonce", json_object_get(ln), &p->oom);
  }
  char *s = fo_reconciled_spec_encode(copy, p->first_deployment);
  json_object_put(copy);
  if (!s) pass_nomem(p);
  return s;
}

static void record(struct pass *p, char **field, const char *job_state, const char *mode) {
  char *rec = spec_for_record(p, job_state, mode);
  if (rec) pass_set(p, field, rec);
  free(rec);
  if (field == &p->st.reconciliation_status.last_reconciled_spec) p->recorded_state = job_state;
}

/* A Flink configuration key whose change is no upgrade, as the reference classifies them: the
 * operator's own (kubernetes.operator.*, read afresh on every pass), the autoscaler's and
 * parallelism.default. */
static bool ignored_key(const char *k) {
  return !strncmp(k, "kubernetes.operator.", 20) || !strncmp(k, "job.autoscaler.", 15) ||
         !strcmp(k, "parallelism.default");
}

/* Fields whose change is an upgrade (everything but the nonces, the desired state, the mode and
 * the configuration keys above; flinkConfiguration compared flattened, so nested and flat
 * spellings of one configuration are one). NULL on ENOMEM (spec given). */
static json_object *comparable(json_object *spec) {
  json_object *c = NULL;
  if (!spec || json_object_deep_copy(spec, &c, NULL) != 0 ||
      !json_object_is_type(c, json_type_object))
    return c;
  json_object *job = fo_json_get_object(c, "job");
  static const char *const drop[] = {"state",
                                     "upgradeMode",
                                     "savepointTriggerNonce",
                                     "checkpointTriggerNonce",
                                     "savepointRedeployNonce",
                                     "autoscalerResetNonce",
                                     "initialSavepointPath",
                                     "allowNonRestoredState"};
  for (size_t i = 0; job && i < sizeof drop / sizeof drop[0]; i++)
    json_object_object_del(job, drop[i]);
  json_object_object_del(c, "restartNonce");
  json_object *fc = fo_json_get_object(c, "flinkConfiguration");
  if (fc) {
    json_object *flat = json_object_new_object();
    if (!flat || fo_conf_flatten_into(flat, fc) < 0) {
      json_object_put(flat);
      json_object_put(c);
      return NULL;
    }
    json_object *keep = json_object_new_object();
    json_object_object_foreach(flat, k, v) {
      if (keep && !ignored_key(k) && json_object_object_add(keep, k, json_object_get(v)) != 0) {
        json_object_put(v);
        json_object_put(keep);
        keep = NULL;
      }
    }
    json_object_put(flat);
    if (!keep || json_object_object_add(c, "flinkConfiguration", keep) != 0) {
      json_object_put(keep);
      json_object_put(c);
      return NULL;
    }
  }
  return c;
}

static bool spec_changed(struct pass *p) {
  json_object *a = comparable(p->spec_json), *b = comparable(p->last_json);
  if ((p->spec_json && !a) || (p->last_json && !b)) { /* no memory to compare: no change seen */
    json_object_put(a);
    json_object_put(b);
    pass_nomem(p);
    return false;
  }
  bool changed = !json_object_equal(a, b);
  json_object_put(a);
  json_object_put(b);
  const struct fo_opt_int *n = &p->spec.restart_nonce, *ln = &p->last.restart_nonce;
  return changed || (n->set && (!ln->set || ln->v != n->v));
}

#define OVERRIDES_KEY "pipeline.jobvertex-parallelism-overrides"

static bool terminal(const char *js) {
  return lc_is(js, "FAILED") || lc_is(js, "FINISHED") || lc_is(js, "CANCELED");
}

/* The change is one of pipeline.jobvertex-parallelism-overrides alone (the reference's SCALE
 * difference). */
static bool scale_only(struct pass *p) {
  json_object *a = comparable(p->spec_json), *b = comparable(p->last_json);
  bool only = false;
  if (a && b) {
    json_object *fa = fo_json_get_object(a, "flinkConfiguration"),
                *fb = fo_json_get_object(b, "flinkConfiguration");
    only = !json_object_equal(fo_json_get(fa, OVERRIDES_KEY), fo_json_get(fb, OVERRIDES_KEY));
    if (fa) json_object_object_del(fa, OVERRIDES_KEY);
    if (fb) json_object_object_del(fb, OVERRIDES_KEY);
    if (fa && !json_object_object_length(fa)) json_object_object_del(a, "flinkConfiguration");
    if (fb && !json_object_object_length(fb)) json_object_object_del(b, "flinkConfiguration");
    only = only && json_object_equal(a, b);
  }
  json_object_put(a);
  json_object_put(b);
  const struct fo_opt_int *n = &p->spec.restart_nonce, *ln = &p->last.restart_nonce;
  return only && !(n->set && (!ln->set || ln->v != n->v));
}

/* In-place rescaling (kubernetes.operator.job.upgrade.inplace-scaling.enabled, true by default),
 * as the reference's NativeFlinkService.scale: a change of pipeline.jobvertex-parallelism-overrides
 * alone, in native mode, on Flink 1.18+ with the adaptive scheduler, the job neither ended nor
 * reconciling, goes to Flink's resource requirements: an overridden vertex's upper bound becomes
 * its override (its lower bound only comes down to it, so a scale-up never waits for slots it may
 * not get). A vertex whose override was removed, or anything Flink refuses, is left to a regular
 * upgrade. 1 when scaled (the spec recorded as deployed, a Scaling event), 0 when an upgrade must
 * do it, or a negative errno. */
static int scale_in_place(struct pass *p, struct fo_flink *f, struct lc_step *s) {
  const char *sched = fo_conf_get(p->conf, "jobmanager.scheduler");
  if (is_session(p) || rolled_back(p) || lc_is(fo_spec_mode(&p->spec), "standalone") ||
      !fo_conf_bool(p->conf, "kubernetes.operator.job.upgrade.inplace-scaling.enabled", true) ||
      fo_flink1_minor(p->spec.flink_version) < 18 || !sched || strcasecmp(sched, "adaptive") ||
      terminal(p->st.job_status.state) || lc_is(p->st.job_status.state, "RECONCILING") ||
      !p->st.job_status.job_id || !scale_only(p))
    return 0;
  json_object *last = comparable(p->last_json), *now = NULL, *before = NULL;
  const char *why;
  const char *was =
      fo_json_get_string(fo_json_get_object(last, "flinkConfiguration"), OVERRIDES_KEY);
  int r = fo_conf_map_parse(fo_conf_get(p->conf, OVERRIDES_KEY), false, &now, &why);
  if (r == 0) r = fo_conf_map_parse(was, false, &before, &why);
  json_object_put(last);
  struct fo_flink_requirements rq = {0};
  bool changed = false, fallback = r < 0;
  if (!fallback && !json_object_object_length(now) && !json_object_object_length(before))
    fallback = true; /* no overrides before nor after */
  if (!fallback && fo_flink_resource_requirements(f, p->st.job_status.job_id, &rq) < 0)
    fallback = true;
  for (size_t i = 0; !fallback && i < rq.n; i++) {
    const char *o = fo_json_get_string(now, rq.v[i].id);
    char *end = NULL;
    long upper = o ? strtol(o, &end, 10) : 0;
    /* (an override removed: the vertex goes back to the job's parallelism, an upgrade) */
    bool bad = o ? end == o || *end || upper < 1 || upper > FO_FLINK_MAX_PARALLELISM
                 : fo_json_get(before, rq.v[i].id) != NULL;
    if (bad) {
      fallback = true;
    } else if (o) {
      int lower = rq.v[i].lower < upper ? rq.v[i].lower : (int)upper;
      changed = changed || lower != rq.v[i].lower || upper != rq.v[i].upper;
      rq.v[i].lower = lower;
      rq.v[i].upper = (int)upper;
    }
  }
  if (!fallback && changed &&
      fo_flink_set_resource_requirements(f, p->st.job_status.job_id, &rq) < 0)
    fallback = true;
  fo_flink_requirements_free(&rq);
  json_object_put(now);
  json_object_put(before);
  if (fallback) {
    fo_log("info", "no in-place scaling: upgrading", "\"object\":\"%s\",\"why\":\"%s\"",
           fo_log_str(p->key), fo_log_str(r < 0 ? why : fo_flink_last_error(f)));
    return 0;
  }
  if (changed) event_record(p->k, p->obj, "Normal", "Scaling", "In-place scaling triggered");
  struct fo_reconciliation_status *rs = &p->st.reconciliation_status;
  record(p, &rs->last_reconciled_spec, "running", recorded_mode(p)->name);
  rs->reconciliation_timestamp = (struct fo_opt_int){true, fo_clock_ms()};
  p->st.observed_generation = (struct fo_opt_int){true, p->gen};
  pass_finish(p);
  s->again = LC_POLL;
  r = pass_write_status(p);
  return r < 0 ? r : 1;
}

/* The spec recorded as reconciled became stable (its job was seen running since it was deployed):
 * lastStableSpec is the same spec, the nonces, the desired state and the mode aside (recording a
 * handled nonce changes only lastReconciledSpec's text). */
static bool stable_is_reconciled(const struct pass *p) {
  json_object *stable = NULL;
  if (!p->last_json || stable_json(p, &stable) < 0) return false;
  json_object *a = comparable(stable), *b = comparable(p->last_json);
  bool same = a && b && json_object_equal(a, b);
  json_object *na = fo_json_get(stable, "restartNonce"),
              *nb = fo_json_get(p->last_json, "restartNonce");
  same = same && json_object_equal(na, nb);
  json_object_put(a);
  json_object_put(b);
  json_object_put(stable);
  return same;
}

/* Starts a transition to the spec in hand with `mode`: the record says what is about to happen,
 * written before anything is stopped. */
static void begin_mark(struct pass *p, const struct lc_mode *mode, bool job_running,
                       bool keep_restore, bool back) {
  struct fo_reconciliation_status *rs = &p->st.reconciliation_status;
  if (p->last_json) p->first_deployment = false; /* only the very first record says so */
  p->st.has_reconciliation_status = true;
  record(p, &rs->last_reconciled_spec, "suspended", mode->name);
  /* `back`: to the last stable spec (a rollback; a rolled back job deployed again, recovered or
   * restarted, goes back to the stable spec it runs, not to the one it was rolled back from) */
  pass_set(p, &rs->state, back ? "ROLLING_BACK" : "UPGRADING");
  rs->reconciliation_timestamp = (struct fo_opt_int){true, fo_clock_ms()};
  p->st.observed_generation = (struct fo_opt_int){true, p->gen};
  if (job_running && !keep_restore) /* a fresh one will be taken */
    pass_set(p, &p->st.job_status.upgrade_savepoint_path, NULL);
  pass_set_error(p, LC_UPGRADE_ERROR, NULL);
  event_record(p->k, p->obj, "Normal", job_running ? "Suspended" : "Submit",
               job_running ? "Suspending existing deployment." : "Starting deployment");
  pass_finish(p);
}

/* Begins a transition: the spec recorded as the target, UPGRADING (ROLLING_BACK with `back`),
 * written. */
static int begin(struct pass *p, const struct lc_mode *mode, bool job_running, bool keep_restore,
                 bool back) {
  begin_mark(p, mode, job_running, keep_restore, back);
  return pass_write_status(p);
}

static int cluster_left(struct pass *p, bool *ret);
static int on_start(struct pass *p, struct lc_step *s);

/* Says why the phase cannot go on (status.error with the attempt and the next one's time, and a
 * Warning event), and waits: longer each time the same failure repeats, as a failed pass does
 * (the reference's retry settings). */
static int fail_wait(struct pass *p, struct lc_step *s, const char *reason, const char *msg) {
  s->again = pass_set_error_retry(p, LC_UPGRADE_ERROR, msg, p->env->retry);
  event_record(p->k, p->obj, "Warning", reason, msg);
  pass_finish(p);
  return pass_write_status(p);
}

/* ---- the phases' steps ---- */

static int on_new(struct pass *p, struct lc_step *s) {
  p->first_deployment = true;
  const char *initial = p->spec.job.initial_savepoint_path;
  struct fo_reconciliation_status *rs = &p->st.reconciliation_status;
  if (!want_running(p)) { /* created suspended: recorded, nothing started */
    p->st.has_reconciliation_status = true;
    record(p, &rs->last_reconciled_spec, "suspended", spec_mode(p)->name);
    pass_set(p, &rs->last_stable_spec, rs->last_reconciled_spec);
    pass_set(p, &rs->state, "DEPLOYED");
    rs->reconciliation_timestamp = (struct fo_opt_int){true, fo_clock_ms()};
    p->st.observed_generation = (struct fo_opt_int){true, p->gen};
    pass_set(p, &p->st.jm_deployment_status, "MISSING");
    pass_finish(p);
    int r = pass_write_status(p);
    if (r == 0) lc_go(p, s, LC_SUSPENDED, "created suspended");
    return r;
  }
  if (initial) pass_set(p, &p->st.job_status.upgrade_savepoint_path, initial);
  if (!is_session(p)) p->st.has_job_status = true;
  const struct lc_mode *m = is_session(p) ? &lc_session_mode
                            : initial     ? mode_named("savepoint")
                                          : mode_named("stateless");
  begin_mark(p, m, false, false, false);
  s->again = 0.05;
  s->mode = m->name;
  const char *why = initial ? "created, from initialSavepointPath" : "created";
  /* Nothing of a cluster of this name is left (one of an earlier FlinkDeployment would be stopped
   * first): START follows in this pass, and its write (before anything is applied) is the
   * transition's first */
  bool left = true;
  int r = cluster_left(p, &left);
  if (r < 0) return r;
  lc_go(p, s, LC_START, why);
  if (!left) return on_start(p, s);
  return pass_write_status(p);
}

/* job.savepointRedeployNonce changed to a new value (a change to none is no request, as in the
 * reference): the job is deployed again from job.initialSavepointPath, whatever its upgradeMode and
 * whatever state it holds now. The nonce is recorded with the transition, so it is acted on once.
 */
static bool redeploy_requested(const struct pass *p) {
  const struct fo_opt_int *n = &p->spec.job.savepoint_redeploy_nonce,
                          *ln = &p->last.job.savepoint_redeploy_nonce;
  return !is_session(p) && n->set && (!ln->set || ln->v != n->v) &&
         p->spec.job.initial_savepoint_path && *p->spec.job.initial_savepoint_path;
}

/* Begins the redeploy: savepoint mode with the restore point set before anything stops (the
 * running job's state is left behind on purpose, no savepoint is taken; its HA data goes). A job
 * asked to stay suspended keeps the path for its resume. */
static int begin_redeploy(struct pass *p, struct lc_step *s, bool job_running) {
  const struct lc_mode *m = mode_named("savepoint");
  char msg[600];
  snprintf(msg, sizeof msg, "Redeploying from savepoint %.512s (savepointRedeployNonce %lld)",
           p->spec.job.initial_savepoint_path, (long long)p->spec.job.savepoint_redeploy_nonce.v);
  event_record(p->k, p->obj, "Normal", "SpecChanged", msg);
  pass_set(p, &p->st.job_status.upgrade_savepoint_path, p->spec.job.initial_savepoint_path);
  int r = begin(p, m, job_running, true, false);
  s->again = 0.05;
  s->mode = m->name;
  if (r == 0)
    lc_go(p, s, job_running ? LC_STOP_CLUSTER : LC_START, "savepointRedeployNonce changed");
  return r;
}

static int on_suspended(struct pass *p, struct lc_step *s) {
  if (want_running(p)) {
    if (redeploy_requested(p)) return begin_redeploy(p, s, false);
    /* restore with the mechanism the job was suspended with (stateless always starts empty) */
    const struct lc_mode *m =
        spec_mode(p)->restore == FROM_NOTHING ? spec_mode(p) : recorded_mode(p);
    int r = begin(p, m, false, false, false);
    s->again = 0.05;
    s->mode = m->name;
    if (r == 0) lc_go(p, s, LC_START, "job.state running");
    return r;
  }
  p->st.observed_generation = (struct fo_opt_int){true, p->gen}; /* suspended: recorded for later */
  pass_finish(p);
  return pass_write_status(p);
}

/* The deployed job never ran: Flink does not say it runs (`js`), the status says RECONCILING, its
 * JobManager is not ready (READY is recorded when Flink answered for the job), and either the
 * spec never became stable (its job never seen running) or its Deployment never became available.
 * A JobManager that ran a job seen running and then stopped answering (hung, crash-looping) may
 * hold state nothing else knows of. */
static bool job_never_ran(struct pass *p, const char *js, bool planning) {
  /* (a JobManager that crash-loops from its first start is Ready for a moment each time: its
   * Deployment was available once, but the status never saw its job run, so the spec it runs
   * never became stable; that is known while planning, when lastReconciledSpec is the spec that
   * runs, not once a transition recorded its target there) */
  return !lc_is(js, "RUNNING") && lc_is(p->st.job_status.state, "RECONCILING") &&
         !lc_is(p->st.jm_deployment_status, "READY") &&
         ((planning && !stable_is_reconciled(p)) || !lc_jm_was_available(p));
}

/* kubernetes.operator.job.upgrade.last-state.max.allowed.checkpoint.age, as the reference's
 * getUpgradeModeBasedOnStateAge: a running job that started within the age, or whose latest
 * completed checkpoint is within it, is upgraded by last-state (AGE_FRESH); one whose newest
 * checkpoint is still in progress and was triggered within the age is waited for (AGE_PENDING:
 * nothing stops; the age bounds the wait); otherwise a savepoint is taken (AGE_STALE; the rulebook
 * asks for a savepoint directory then). Flink not answering counts as fresh: the HA data decides.
 */
enum ckpt_age { AGE_FRESH, AGE_PENDING, AGE_STALE };
static enum ckpt_age checkpoint_age(struct pass *p, struct fo_flink *f) {
  const char *v =
      fo_conf_get(p->conf, "kubernetes.operator.job.upgrade.last-state.max.allowed.checkpoint.age");
  int64_t max_age = 0, now = fo_clock_ms();
  if (!v || fo_duration_parse(v, &max_age) < 0 || !p->st.job_status.job_id) return AGE_FRESH;
  const char *st = p->st.job_status.start_time;
  if (st && now - strtoll(st, NULL, 10) < max_age) return AGE_FRESH; /* it started recently */
  struct fo_flink_checkpoints ck = {0};
  if (fo_flink_checkpoints(f, p->st.job_status.job_id, &ck) < 0) return AGE_FRESH;
  enum ckpt_age a = ck.completed.present && now - ck.completed.timestamp < max_age ? AGE_FRESH
                    : ck.pending.present && now - ck.pending.timestamp < max_age   ? AGE_PENDING
                                                                                   : AGE_STALE;
  fo_flink_checkpoints_free(&ck);
  if (a != AGE_FRESH)
    fo_log("info",
           a == AGE_PENDING ? "last-state upgrade waits for the checkpoint in progress"
                            : "last-state upgrade by savepoint: the latest checkpoint is too old",
           "\"object\":\"%s\",\"maxAge\":\"%s\"", fo_log_str(p->key), fo_log_str(v));
  return a;
}

/* How a suspend or an upgrade in a stateful mode stops the cluster, decided before anything
 * stops: whatever it stops from, the start must be able to bring the job back.
 *   savepoint, the job running          stop with a savepoint; the start restores it
 *   last-state, running, a max checkpoint  by checkpoint_age: as below, or wait for the checkpoint
 *   age set                              in progress, or a savepoint
 *   the job's HA data holds a checkpoint keep it (last-state); Flink restores the checkpoint
 *   a checkpoint or savepoint is known  (Flink's latest, else the status's) the start restores it;
 *                                       a finished job's checkpoints are gone (Flink discards
 *                                       them): only a savepoint counts
 *   the job never ran, or Flink says it  it restores again what it was started from, or
 *   never kept a checkpoint (or finished nothing (a start from nothing loses nothing more)
 *   without a savepoint)
 *   savepoint, the job not yet running  wait for it to run (nothing stops meanwhile)
 *   none of these                       refuse: the job is left as it is (status.error, Warning)
 * Sets st to the job's state (empty when Flink did not answer), *ret_mode and *ret_direct (stop the
 * cluster without a savepoint; upgradeSavepointPath is then what the start restores, NULL for
 * nothing). Returns 0, 1 when refused, 2 while a last-state upgrade waits for a checkpoint in
 * progress (checkpoint_age), or for Flink's statistics of a job that ended to be newer than its
 * end (nothing is decided nor stopped yet), or negative errno. */
/* Whether Flink's checkpoint statistics of the job, seen in its present state since
 * jobStatus.updateTime, are read after that: its REST API serves them from a cache
 * (fo_conf_stats_wait_ms). */
static bool stats_settled(const struct pass *p) {
  const char *u = p->st.job_status.update_time;
  char *end = NULL;
  long long seen = u ? strtoll(u, &end, 10) : 0;
  if (!u || end == u || *end) return true; /* no time to wait from */
  return fo_conf_stats_wait_ms(p->conf, (int64_t)seen, fo_clock_ms()) == 0;
}

/* Records what the pass saw (the job's state, and since when) and looks again in LC_POLL. */
static int look_again(struct pass *p, struct lc_step *s) {
  s->again = LC_POLL;
  pass_finish(p);
  return pass_write_status(p);
}

static int plan_stop(struct pass *p, struct fo_flink *f, const struct lc_mode **ret_mode,
                     bool *ret_direct, char st[16]) {
  const struct lc_mode *m = spec_mode(p);
  *ret_mode = m;
  *ret_direct = false;
  st[0] = '\0';
  if (m->restore == FROM_NOTHING) return 0;
  const char *js = lc_observe_job(p, f, st, 16, NULL);
  if (js) {
    /* Flink answered for the job: its JobManager ran, whatever the status (written before the
     * change's pass observed it) says. Recorded with the transition, so a JobManager that does not
     * answer for a moment later is never taken for one that never ran (which would stop the cluster
     * without the savepoint planned here). */
    pass_set(p, &p->st.jm_deployment_status, "READY");
    if (!lc_is(p->st.job_status.state, js)) pass_set_job_state(p, js);
  }
  if (m->savepoint && lc_is(js, "RUNNING")) return 0;
  if (m->restore == FROM_HA && lc_is(js, "RUNNING")) {
    enum ckpt_age a = checkpoint_age(p, f);
    if (a == AGE_PENDING) return 2;
    if (a == AGE_STALE) {
      *ret_mode = mode_named("savepoint"); /* a fresh savepoint rather than an old checkpoint */
      return 0;
    }
  }
  if (ha_has_checkpoint(p)) {
    *ret_mode = mode_named("last-state");
    *ret_direct = true;
    return 0;
  }
  /* a job that ended is judged by statistics read after its end: Flink caches them (3 s by
   * default), and an older view may name a checkpoint since subsumed, and deleted */
  if (js && terminal(js) && !stats_settled(p)) return 2;
  struct fo_flink_checkpoints ck = {0};
  const struct fo_flink_checkpoint *latest = NULL;
  bool ck_ok =
      js && p->st.job_status.job_id && fo_flink_checkpoints(f, p->st.job_status.job_id, &ck) == 0;
  /* Flink discards a finished job's checkpoints (whatever their retention; savepoints stay): its
   * state is final, and what can restore it is a savepoint */
  bool finished = lc_is(js, "FINISHED");
  if (ck_ok && !finished) latest = fo_flink_checkpoints_latest(&ck);
  if (ck_ok && finished && ck.savepoint.present && ck.savepoint.external_path)
    latest = &ck.savepoint;
  const struct fo_savepoint_info *si = &p->st.job_status.savepoint_info;
  const char *path = latest && latest->external_path ? latest->external_path
                     : p->st.job_status.upgrade_savepoint_path
                         ? p->st.job_status.upgrade_savepoint_path
                     : si->has_last ? si->last.location
                                    : NULL;
  bool never_ran = job_never_ran(p, js, true);
  /* Flink says the job never completed a checkpoint or savepoint, nor restored one, and none is
   * known: it kept nothing, and a start from nothing loses no more than a checkpoint would */
  bool kept_nothing =
      js && !path && latest == NULL && ck_ok &&
      (finished || (!ck.completed.present && !ck.savepoint.present && !ck.restored.present));
  int r = 0;
  if (path || never_ran || kept_nothing) {
    fo_log("info", "restore point chosen before the stop",
           "\"object\":\"%s\",\"job\":\"%s\",\"restoreFrom\":\"%s\"", fo_log_str(p->key),
           fo_log_str(js), fo_log_str(path));
    /* a start from nothing is what stateless does (the mode recorded is the one used) */
    pass_set(p, &p->st.job_status.upgrade_savepoint_path, path);
    *ret_mode = mode_named(path ? "savepoint" : "stateless");
    *ret_direct = true;
  } else if (m->savepoint && !terminal(js)) {
    /* not running yet (or Flink cannot be asked): STOP_SAVEPOINT waits for it to run */
  } else {
    r = 1;
  }
  fo_flink_checkpoints_free(&ck);
  return r;
}

/* A running job's JobManager Deployment gone (deleted by hand, by another tool): with
 * kubernetes.operator.jm-deployment-recovery.enabled (true by default) it is deployed again, as
 * the reference does: through its HA data (last-state: the latest checkpoint, the same job id; none
 * there is refused, never an empty start) when HA is on, else empty when the mode is stateless.
 * Otherwise it stays MISSING, said in status.error. */
static int recover_missing(struct pass *p, struct lc_step *s) {
  if (!lc_is(p->st.jm_deployment_status, "MISSING")) return 0;
  const char *js = p->st.job_status.state;
  if (lc_is(js, "FINISHED") || lc_is(js, "FAILED") || lc_is(js, "CANCELED")) return 0;
  const char *on = fo_conf_get(p->conf, "kubernetes.operator.jm-deployment-recovery.enabled");
  json_object *rc = running_conf(p); /* (the stable spec's, rolled back) */
  bool ha = fo_conf_ha_enabled(rc);
  json_object_put(rc);
  const struct lc_mode *m = is_session(p)                           ? &lc_session_mode
                            : ha                                    ? mode_named("last-state")
                            : spec_mode(p)->restore == FROM_NOTHING ? spec_mode(p)
                                                                    : NULL;
  if (!m || (on && !strcasecmp(on, "false"))) {
    pass_set_error(p, LC_UPGRADE_ERROR, "Missing JobManager deployment");
    pass_finish(p);
    return pass_write_status(p);
  }
  event_record(p->k, p->obj, "Warning", "RecoverDeployment", "Recovering lost deployment");
  int r = begin(p, m, false, false, rolled_back(p));
  s->again = 0.05;
  s->mode = m->name;
  if (r == 0) lc_go(p, s, LC_START, "JobManager Deployment missing");
  return r;
}

int lc_restart_unhealthy(struct pass *p, struct lc_step *s, const char *why) {
  json_object *rc = running_conf(p); /* (the stable spec's, rolled back) */
  bool ha = fo_conf_ha_enabled(rc);
  json_object_put(rc);
  const struct lc_mode *m = spec_mode(p)->restore == FROM_NOTHING ? spec_mode(p)
                            : ha && ha_has_checkpoint(p)          ? mode_named("last-state")
                                                                  : NULL;
  if (!m) {
    fo_log("warning", "unhealthy job not restarted: no HA metadata to restore it from",
           "\"object\":\"%s\",\"health\":\"%s\"", fo_log_str(p->key), fo_log_str(why));
    return 1;
  }
  if (p->st.cluster_info) json_object_object_del(p->st.cluster_info, "ClusterHealthInfo");
  event_record(p->k, p->obj, "Warning", "RestartUnhealthyJob",
               why && *why ? why : "Restarting unhealthy job");
  int r = begin(p, m, false, false, rolled_back(p));
  s->again = 0.05;
  s->mode = m->name;
  if (r == 0) lc_go(p, s, LC_STOP_CLUSTER, "unhealthy");
  return r;
}

/* kubernetes.operator.deployment.rollback.enabled: a change deployed but not stable (the job not
 * seen RUNNING since) within kubernetes.operator.deployment.readiness.timeout of it goes back to
 * the last stable spec, as the reference's shouldRollBack says: never to a suspended one, nor
 * across a change of Flink version. */
static bool rollback_due(struct pass *p) {
  const struct fo_reconciliation_status *rs = &p->st.reconciliation_status;
  if (is_session(p) ||
      !fo_conf_bool(p->conf, "kubernetes.operator.deployment.rollback.enabled", false) ||
      !lc_is(rs->state, "DEPLOYED") || !rs->last_stable_spec || !rs->last_reconciled_spec ||
      lc_is(p->st.job_status.state, "RUNNING") || lc_is(p->st.job_status.state, "FINISHED") ||
      !rs->reconciliation_timestamp.set || stable_is_reconciled(p))
    return false;
  int64_t timeout =
      fo_conf_duration(p->conf, "kubernetes.operator.deployment.readiness.timeout", 5 * 60 * 1000);
  if (fo_clock_ms() - rs->reconciliation_timestamp.v < timeout) return false;
  struct fo_arena arena;
  fo_arena_init(&arena, SIZE_MAX);
  struct fo_spec stable;
  json_object *json = NULL;
  bool due = stable_spec(p, &arena, &json, &stable, NULL) == 0 && stable.job.present &&
             lc_is(fo_job_state(&stable.job), "running") &&
             lc_is(stable.flink_version, p->last.flink_version);
  json_object_put(json);
  fo_arena_free(&arena);
  return due;
}

/* The rollback: a transition to the last stable spec (ROLLING_BACK), stopped as an upgrade would
 * stop the job (plan_stop: never what nothing could bring back), the cluster then built from the
 * stable spec; the spec it was rolled back from stays recorded as reconciled, so only a new change
 * deploys again. */
static int begin_rollback(struct pass *p, struct fo_flink *f, struct lc_step *s) {
  const struct lc_mode *m;
  bool direct;
  char st[16];
  int r = plan_stop(p, f, &m, &direct, st);
  if (r < 0) return r;
  /* it runs after all (a checkpoint in progress, r == 2, too): the next observation finds it
   * stable */
  if (lc_is(st, "RUNNING")) {
    pass_finish(p);
    return pass_write_status(p);
  }
  if (r == 2) { /* Flink's statistics of the ended job: asked again at the next poll */
    return look_again(p, s);
  }
  if (r == 1 || (m->savepoint && !direct))
    return fail_wait(p, s, "RollbackFailed",
                     "The deployment is not stable and cannot be rolled back: nothing could "
                     "restore the job (no checkpoint, savepoint or HA metadata is known). Manual "
                     "restore required.");
  event_record(p->k, p->obj, "Normal", "Rollback", "Rolling back failed deployment.");
  bool save_now = m->savepoint && !direct;
  if (save_now) sp_mark(p, "UPGRADE");
  r = begin(p, m, true, direct, true);
  if (r == 0 && save_now) sp_send(p, f, true);
  s->again = save_now ? LC_POLL / 2 : 0.05;
  s->mode = m->name;
  if (r == 0) lc_go(p, s, save_now ? LC_STOP_SAVEPOINT : LC_STOP_CLUSTER, "not stable: rollback");
  return r;
}

/* kubernetes.operator.job.restart.failed: a job that failed for good (Flink's restart strategy gave
 * up) is deployed again, as the reference's reconcileOtherChanges does, from what plan_stop finds
 * it can restore (the latest checkpoint Flink retained on the failure, HA data, a savepoint; in
 * stateless mode, nothing); nothing is stopped when nothing could bring it back. */
static int restart_failed(struct pass *p, struct fo_flink *f, struct lc_step *s) {
  const struct lc_mode *m;
  bool direct;
  char st[16];
  int r = plan_stop(p, f, &m, &direct, st);
  if (r < 0) return r;
  if (r == 2) { /* Flink's statistics of the failed job are not yet newer than its end */
    return look_again(p, s);
  }
  if (r == 1 || (m->savepoint && !direct))
    return fail_wait(p, s, "RestartFailed",
                     "The job failed and cannot be restarted: no checkpoint, savepoint or HA "
                     "metadata is known. Manual restore required.");
  event_record(p->k, p->obj, "Warning", "RestartFailedJob", "Restarting failed job");
  r = begin(p, m, true, direct, rolled_back(p));
  s->again = 0.05;
  s->mode = m->name;
  if (r == 0) lc_go(p, s, LC_STOP_CLUSTER, "job failed: restart");
  return r;
}

static int on_running(struct pass *p, struct fo_flink *f, struct lc_step *s) {
  if (redeploy_requested(p)) return begin_redeploy(p, s, true);
  bool stop = !want_running(p);
  if (stop || spec_changed(p)) {
    int scaled = stop ? 0 : scale_in_place(p, f, s);
    if (scaled) return scaled < 0 ? scaled : 0;
    const struct lc_mode *m;
    bool direct;
    char st[16]; /* the job's state as plan_stop found it ("" when Flink did not answer) */
    int r = plan_stop(p, f, &m, &direct, st);
    if (r < 0) return r;
    if (r == 2) { /* a checkpoint in progress, or statistics older than the job's end: asked
                   * again at the next poll (the state seen, and since when, recorded) */
      return look_again(p, s);
    }
    if (r == 1) {
      char msg[512];
      const char *js = *st ? st : NULL;
      snprintf(msg, sizeof msg,
               "Job is %s and nothing could restore it after a %s: no savepoint can be taken, no "
               "checkpoint, savepoint or HA metadata is known. The job is left as it is; set "
               "job.initialSavepointPath, or upgradeMode stateless to start it empty. Manual "
               "restore required.",
               js ? js : "unreachable", stop ? "suspend" : "upgrade");
      return fail_wait(p, s, "UpgradeFailed", msg);
    }
    /* A savepoint stop of a job Flink says runs is asked for at once: its trigger id goes in the
     * transition's own write (STOP_SAVEPOINT then polls it; one the request never reached is
     * sent again with the same id) */
    bool save_now = m->savepoint && !direct && lc_is(st, "RUNNING");
    if (save_now) sp_mark(p, "UPGRADE");
    r = begin(p, m, true, direct, false);
    if (r == 0 && save_now) sp_send(p, f, true);
    s->again = save_now ? LC_POLL / 2 : 0.05;
    s->mode = m->name;
    if (r == 0)
      lc_go(p, s, m->savepoint && !direct ? LC_STOP_SAVEPOINT : LC_STOP_CLUSTER,
            stop ? "job.state suspended" : "spec changed");
    return r;
  }
  int r = lc_observe(p, f, s);
  if (r == 0 && rollback_due(p)) return begin_rollback(p, f, s);
  if (r == 0 && lc_is(p->st.job_status.state, "FAILED") &&
      fo_conf_bool(p->conf, "kubernetes.operator.job.restart.failed", false))
    return restart_failed(p, f, s);
  bool wrote = false, restarted = false;
  if (r == 0) r = health_step(p, f, s, &wrote, &restarted);
  if (r < 0 || restarted) return r;
  return recover_missing(p, s);
}

static int on_stop_cluster(struct pass *p, struct fo_flink *f, struct lc_step *s);

static int on_stop_savepoint(struct pass *p, struct fo_flink *f, struct lc_step *s) {
  struct fo_savepoint_info *si = sp_info(p);
  s->again = LC_POLL;
  if (si->trigger_id) {
    char *loc = NULL, *fail = NULL;
    int r = sp_poll(p, f, true, &loc, &fail);
    if (r <= 0) return 0; /* pending, or Flink cannot be asked now: look again */
    if (fail) {
      char msg[640]; /* Flink's own words, as far as they fit */
      snprintf(msg, sizeof msg, "Savepoint for the upgrade failed; retrying: %.*s",
               lc_first_line(fail, 500), fail);
      sp_clear(p);
      free(fail);
      return fail_wait(p, s, "SavepointError", msg);
    }
    pass_set(p, &p->st.job_status.upgrade_savepoint_path, loc);
    sp_record(p, loc, "UPGRADE", (struct fo_opt_int){false, 0});
    sp_clear(p);
    pass_set_job_state(p, "FINISHED");
    free(loc);
    pass_finish(p);
    s->again = 0.05;
    r = pass_write_status(p);
    if (r == 0) lc_go(p, s, LC_STOP_CLUSTER, "savepoint taken");
    return r;
  }
  char st[16];
  const char *js = lc_observe_job(p, f, st, sizeof st, NULL);
  /* A job that never ran (still RECONCILING, its JobManager never ready: a crash loop the new spec
   * fixes, say) made no state newer than what it was started from, which the restore uses again:
   * there is no savepoint to wait for, and none could be taken. */
  if (job_never_ran(p, js, false)) {
    const struct fo_savepoint_info *i = &p->st.job_status.savepoint_info;
    fo_log("info", "upgrade without a savepoint: the job never ran",
           "\"object\":\"%s\",\"restoreFrom\":\"%s\"", fo_log_str(p->key),
           fo_log_str(i->has_last ? i->last.location : NULL));
    lc_go(p, s, LC_STOP_CLUSTER, "the job never ran: nothing to save");
    return on_stop_cluster(p, f, s);
  }
  if (!lc_is(js, "RUNNING") && p->st.observed_generation.v != p->gen) {
    /* A newer spec while the upgrade waits for a job that does not run: planned again from it, so
     * the user has a way out other than deleting (upgradeMode stateless starts it empty; a
     * checkpoint or savepoint found by now restores). Still a savepoint to wait for: the newer
     * spec is the target from now on. */
    const struct lc_mode *m;
    bool direct;
    char st2[16];
    int r = plan_stop(p, f, &m, &direct, st2);
    if (r < 0) return r;
    if (r == 2) { /* planned again once Flink's statistics of the ended job are newer */
      return look_again(p, s);
    }
    if (r == 0 && (direct || !m->savepoint)) {
      r = begin(p, m, true, direct, false);
      s->again = 0.05;
      s->mode = m->name;
      if (r == 0) lc_go(p, s, LC_STOP_CLUSTER, "newer spec while waiting: planned again");
      return r;
    }
    record(p, &p->st.reconciliation_status.last_reconciled_spec, "suspended",
           recorded_mode(p)->name);
    p->st.observed_generation = (struct fo_opt_int){true, p->gen};
  }
  if (!lc_is(js, "RUNNING")) {
    pass_set_error(p, LC_UPGRADE_ERROR,
                   "Job is not running: the savepoint upgrade waits for it (upgradeMode savepoint "
                   "needs a running job; a change to upgradeMode stateless starts it empty)");
    pass_finish(p);
    s->again = LC_POLL * 2;
    return pass_write_status(p);
  }
  s->again = LC_POLL / 2;
  return sp_begin(p, f, "UPGRADE", true);
}

/* GETs the Deployment `name`: 1 when it exists, 0 when not, a negative errno. With `del`, one
 * not already being deleted is deleted in the foreground: it stays (with a deletionTimestamp)
 * until its pods are gone, so the phase says STOP_CLUSTER until no JobManager or TaskManager of
 * the old cluster runs, and a new cluster never starts beside the old one (two JobManagers on one
 * set of HA data). One already going is not asked again: a pass per poll would each be a write. */
static int look_deployment(struct pass *p, const char *name, bool del) {
  json_object *o = NULL;
  int r = name ? fo_kube_get(p->k, &fo_res_deployments, p->ns, name, &o) : -ENOMEM;
  bool going = o && fo_json_get(fo_json_get_object(o, "metadata"), "deletionTimestamp");
  json_object_put(o);
  if (r == -ENOENT) return 0;
  if (r < 0) return r;
  if (del && !going) {
    r = fo_kube_delete(p->k, &fo_res_deployments, p->ns, name, "Foreground");
    if (r < 0 && r != -ENOENT) return r;
  }
  return 1;
}

/* Whether anything of the cluster is left: its JobManager Deployment, deleted or not; without it,
 * a standalone cluster's TaskManager Deployment (its TaskManagers outlive the JobManager, for
 * their grace period, and a new TaskManager Deployment cannot be made while the old one is being
 * deleted), or any pod of it: a pod still stopping is a Flink process still running, beside which
 * a new one would share the cluster's HA data and checkpoint directories (as the reference
 * operator, the old cluster is gone when its pods are). With `del`, what is left is deleted. */
static int walk_cluster(struct pass *p, bool del, bool with_jm, bool *ret, bool *ret_jm) {
  *ret = false;
  if (ret_jm) *ret_jm = false;
  char *tm = cluster_object_name(p->name, "-taskmanager");
  struct fo_buf sel;
  fo_buf_init(&sel, 4096);
  int r = tm && fo_buf_printf(&sel, "app=%s,component", p->name) == 0 ? 0 : -ENOMEM;
  bool standalone = was_standalone(p); /* (a native cluster has no TaskManager Deployment) */
  if (r == 0 && with_jm) r = look_deployment(p, p->name, del);
  if (r == 1 && ret_jm) *ret_jm = true;
  if (r == 1 && del && standalone) { /* deleted with the JobManager's */
    int d = fo_kube_delete(p->k, &fo_res_deployments, p->ns, tm, "Foreground");
    if (d < 0 && d != -ENOENT) r = d;
  }
  if (r == 0 && standalone) r = look_deployment(p, tm, del);
  if (r == 0) {
    json_object *pods = NULL;
    char *rv = NULL;
    r = fo_kube_list(p->k, &fo_res_pods, p->ns, sel.data, 100, &pods, &rv);
    if (r == 0 && json_object_array_length(pods) > 0) r = 1;
    json_object_put(pods);
    free(rv);
  }
  free(tm);
  fo_buf_free(&sel);
  *ret = r == 1;
  return r < 0 ? r : 0;
}

static int cluster_left(struct pass *p, bool *ret) {
  return walk_cluster(p, false, true, ret, NULL);
}

int lc_delete_cluster(struct pass *p, bool *ret_left) {
  return walk_cluster(p, true, true, ret_left, NULL);
}

static int on_stop_cluster(struct pass *p, struct fo_flink *f, struct lc_step *s) {
  const struct lc_mode *m = recorded_mode(p);
  if (m->cancel && p->st.job_status.job_id && !lc_is(p->st.job_status.state, m->stopped))
    fo_flink_cancel(f, p->st.job_status.job_id); /* best effort */
  bool left = false, jm = false;
  int r = walk_cluster(p, true, true, &left, &jm);
  if (r < 0) return r;
  /* While the JobManager Deployment is being deleted, its watch wakes the pass when it goes (the
   * garbage collector removes it once its pods are gone): a look every second would cost four
   * requests each for nothing. The backstop covers a missed event; what is left after it (a
   * TaskManager Deployment or a pod, unwatched) is looked at every LC_POLL. */
  s->again = jm ? LC_GOING_BACKSTOP : LC_POLL;
  if (left) {
    /* its pods are stopping (up to their grace period): look again. A newer spec that came
     * meanwhile is the target now, and recorded as seen, so observedGeneration does not lag
     * the old pods' going (the transition's mode stays) */
    if (p->st.observed_generation.v == p->gen) return 0;
    record(p, &p->st.reconciliation_status.last_reconciled_spec, "suspended", m->name);
    if (rolling_back(p)) /* (the newer spec wins over a rollback under way) */
      pass_set(p, &p->st.reconciliation_status.state, "UPGRADING");
    p->st.observed_generation = (struct fo_opt_int){true, p->gen};
    pass_finish(p);
    return pass_write_status(p);
  }
  if (!m->keep_ha) lc_delete_ha(p); /* stateless and savepoint restart without HA state */
  if (m->stopped) pass_set_job_state(p, m->stopped);
  pass_set(p, &p->st.jm_deployment_status, "MISSING");
  pass_finish(p);
  s->again = LC_POLL / 2;
  if (want_running(p)) {
    /* START follows in this pass, its write carrying these changes: nothing is lost without it
     * (the phase of a transition with no cluster left is START, whatever the status says) */
    lc_go(p, s, LC_START, "cluster deleted");
    return on_start(p, s);
  }
  r = pass_write_status(p);
  if (r == 0) lc_go(p, s, LC_STOPPED, "cluster deleted");
  return r;
}

static int on_stopped(struct pass *p, struct lc_step *s) {
  struct fo_reconciliation_status *rs = &p->st.reconciliation_status;
  pass_set(p, &rs->state, "DEPLOYED");
  record(p, &rs->last_reconciled_spec, "suspended", recorded_mode(p)->name);
  pass_set(p, &rs->last_stable_spec,
           rs->last_reconciled_spec); /* a requested suspend is stable at once */
  pass_set(p, &p->st.jm_deployment_status, "MISSING");
  if (!lc_is(p->st.job_status.state, "CANCELED")) pass_set_job_state(p, "FINISHED");
  pass_finish(p);
  int r = pass_write_status(p);
  if (r == 0) lc_go(p, s, LC_SUSPENDED, "suspended");
  return r;
}

/* Whether the status as the API server holds it records the transition in flight (its mark,
 * reconciliationStatus.reconciliationTimestamp, and a state saying one is in flight). */
static bool transition_on_record(const struct pass *p) {
  json_object *rs =
      fo_json_get_object(fo_json_get_object(p->obj, "status"), "reconciliationStatus");
  const char *state = fo_json_get_string(rs, "state");
  int64_t at = 0;
  const struct fo_opt_int *t = &p->st.reconciliation_status.reconciliation_timestamp;
  return (lc_is(state, "UPGRADING") || lc_is(state, "ROLLING_BACK")) &&
         fo_json_as_int64(fo_json_get(rs, "reconciliationTimestamp"), &at) && t->set && at == t->v;
}

static int on_start(struct pass *p, struct lc_step *s) {
  const struct lc_mode *m = recorded_mode(p);
  const char *restore = NULL;
  if (m->restore == FROM_SAVEPOINT) {
    restore = p->st.job_status.upgrade_savepoint_path;
    if (!restore && p->st.job_status.savepoint_info.has_last)
      restore = p->st.job_status.savepoint_info.last.location;
  } else if (m->restore == FROM_HA && !p->first_deployment && !ha_has_checkpoint(p)) {
    return fail_wait(
        p, s, "RestoreFailed",
        "HA metadata is not available to restore from last state.It is possible that the job has "
        "finished or "
        "terminally failed, or the configmaps have been deleted. Manual restore required.");
  }
  /* HA data the mode does not keep goes before anything starts (STOP_CLUSTER deleted it right
   * after the cluster, but a pass that died in between left it); the mode that keeps it loses only
   * the stored job graphs, so the new spec's graph runs from the latest checkpoint */
  int r = m->keep_ha ? delete_job_graphs(p) : lc_delete_ha(p);
  if (r == 0 && p->st.observed_generation.v != p->gen) {
    /* the spec changed while the old cluster went away: start the newest one, and say so */
    record(p, &p->st.reconciliation_status.last_reconciled_spec, "suspended", m->name);
    if (rolling_back(p)) /* (the newer spec wins over a rollback under way) */
      pass_set(p, &p->st.reconciliation_status.state, "UPGRADING");
    p->st.observed_generation = (struct fo_opt_int){true, p->gen};
    pass_finish(p);
    r = pass_write_status(p);
  }
  /* Once the transition is on record, nothing more is written before the cluster is made: the
   * JobManager Deployment carries the transition's mark and the job id, which STARTED records (a
   * pass that dies before it is made makes it again, with a new id: nothing ran under the first)
   */
  if (r == 0 && !is_session(p) && (!m->keep_job_id || !p->st.job_status.job_id)) {
    char id[33];
    sp_new_id(id);
    pass_set(p, &p->st.job_status.job_id, id);
  }
  if (!is_session(p)) pass_set_job_state(p, "RECONCILING");
  pass_set(p, &p->st.jm_deployment_status, "DEPLOYING");
  if (r == 0 && !transition_on_record(p)) {
    pass_finish(p); /* (a creation: its first write) */
    r = pass_write_status(p);
  }
  if (r == 0) r = deploy(p, p->st.job_status.job_id, restore);
  s->again = 0.2;
  if (r == 0) lc_go(p, s, LC_STARTED, restore ? "cluster applied, restoring" : "cluster applied");
  return r;
}

/* The transition ends: the spec recorded as deployed, in the write of the first observation of
 * the new cluster (one write, whatever that observation finds: a JobManager not ready yet, or a
 * job already running). */
static int on_started(struct pass *p, struct fo_flink *f, const struct lc_cluster *cl,
                      struct lc_step *s) {
  struct fo_reconciliation_status *rs = &p->st.reconciliation_status;
  if (!is_session(p)) {
    if (*cl->jm_job_id) pass_set(p, &p->st.job_status.job_id, cl->jm_job_id);
    pass_set_job_state(p, "RECONCILING");
  }
  record(p, &rs->last_reconciled_spec, "running", recorded_mode(p)->name);
  pass_set(p, &rs->state, rolling_back(p) ? "ROLLED_BACK" : "DEPLOYED");
  /* (the readiness timeout counts from the deploy, as the reference's: a long savepoint before it
   * is no time the new job had to start) */
  rs->reconciliation_timestamp = (struct fo_opt_int){true, fo_clock_ms()};
  pass_set(p, &p->st.jm_deployment_status, "DEPLOYING");
  lc_go(p, s, LC_RUNNING, "deployed"); /* (before a savepoint the observation may begin) */
  return lc_observe(p, f, s);
}

void lc_cluster_of(json_object *dep, struct lc_cluster *cl) {
  memset(cl, 0, sizeof *cl);
  json_object *meta = fo_json_get_object(dep, "metadata");
  json_object *ann = fo_json_get_object(meta, "annotations");
  const char *g = fo_json_get_string(ann, CLUSTER_GEN_ANNOTATION);
  char *end = NULL;
  long long v = g ? strtoll(g, &end, 10) : 0;
  cl->jm_deployment = true;
  cl->jm_deleting = fo_json_get(meta, "deletionTimestamp") != NULL;
  cl->jm_generation_set = g && *g && end && !*end;
  cl->jm_generation = v;
  cl->jm_rollback = lc_is(fo_json_get_string(ann, CLUSTER_ROLLBACK_ANNOTATION), "true");
  const char *t = fo_json_get_string(ann, CLUSTER_TRANSITION_ANNOTATION);
  end = NULL;
  long long tv = t ? strtoll(t, &end, 10) : 0;
  cl->jm_transition = t && *t && end && !*end && tv > 0 ? tv : 0;
  const char *id = fo_json_get_string(ann, CLUSTER_JOB_ID_ANNOTATION);
  if (id && strlen(id) == 32 && strspn(id, "0123456789abcdef") == 32) /* Flink's job id form */
    memcpy(cl->jm_job_id, id, 33);
}

/* The cluster as the phase needs it: only a transition looks, with a GET (the cache may lag),
 * unless the cache holds the JobManager Deployment as being deleted (*ret_going): a deletion is
 * not undone, so that copy says at least that a cluster is going (possibly one that is gone
 * already, beside a new one the cache has not seen yet: nothing is done on it, see
 * lifecycle_reconcile()). */
static int look(struct pass *p, struct lc_cluster *cl, bool *ret_going) {
  memset(cl, 0, sizeof *cl);
  *ret_going = false;
  if (!in_transition(p)) return 0;
  json_object *dep = lc_cached_jm(p);
  if (dep && fo_json_get(fo_json_get_object(dep, "metadata"), "deletionTimestamp")) {
    lc_cluster_of(dep, cl);
    json_object_put(dep);
    *ret_going = true;
    return 0;
  }
  json_object_put(dep);
  dep = NULL;
  int r = fo_kube_get(p->k, &fo_res_deployments, p->ns, p->name, &dep);
  if (r < 0 && r != -ENOENT) return r;
  if (dep) {
    lc_cluster_of(dep, cl);
    json_object_put(dep);
    return 0;
  }
  return walk_cluster(p, false, false, &cl->left, NULL); /* what outlives the JobManager */
}

int lifecycle_reconcile(struct pass *p, double *ret_again) {
  *ret_again = 0;
  struct lc_cluster cl;
  bool going = false;
  int r = look(p, &cl, &going);
  if (r < 0) return r;
  struct lc_step s = {.phase = lc_phase_of(p, &cl), .again = 0};
  if (going && s.phase == LC_STOP_CLUSTER && p->st.observed_generation.v == p->gen) {
    /* The old cluster is going (asked already: the cache shows the deletion) and nothing newer
     * is asked: its going is a watch event that wakes the pass, and until then there is nothing
     * to do or ask (STOP_CLUSTER's look and delete would only cost requests; and on a cache that
     * lags they could meet a new cluster already made) */
    *ret_again = LC_GOING_BACKSTOP;
    return 0;
  }
  struct fo_flink *f = lc_flink(p);
  if (!f) return -ENOMEM;
  switch (s.phase) {
  case LC_NEW: r = on_new(p, &s); break;
  case LC_SUSPENDED: r = on_suspended(p, &s); break;
  case LC_RUNNING: r = on_running(p, f, &s); break;
  case LC_SAVEPOINT: r = lc_observe(p, f, &s); break;
  case LC_STOP_SAVEPOINT: r = on_stop_savepoint(p, f, &s); break;
  case LC_STOP_CLUSTER: r = on_stop_cluster(p, f, &s); break;
  case LC_STOPPED: r = on_stopped(p, &s); break;
  case LC_START: r = on_start(p, &s); break;
  case LC_STARTED: r = on_started(p, f, &cl, &s); break;
  case LC_PHASE_COUNT: r = -EINVAL; break;
  }
  fo_flink_free(f);
  *ret_again = s.again;
  return r;
}
