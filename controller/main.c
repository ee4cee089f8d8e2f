/* flink-controller: watches FlinkDeployments and keeps each in the state its spec asks for. */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "canary.h"
#include "controller.h"
#include "flinkop/buf.h"
#include "flinkop/clock.h"
#include "flinkop/flinkconf.h"
#include "flinkop/log.h"
#include "flinkop/model.h"
#include "flinkop/opts.h"
#include "gate.h"
#include "pass.h"
#include "reconcile.h"
#include "sessionjob.h"
#include "snapshot.h"

#define OFF(f) offsetof(struct ctl_config, f)
static const struct fo_opt opts[] = {
    {"kubeconfig", "KUBECONFIG", FO_OPT_STR, OFF(kubeconfig), NULL, 0, 0,
     "kubeconfig file (default: in-cluster)"},
    {"namespace", "FO_CONTROLLER_NAMESPACES", FO_OPT_LIST, OFF(namespaces), NULL, 0, 0,
     "namespace to watch (default: all)"},
    {"workers", "FO_CONTROLLER_WORKERS", FO_OPT_LONG, OFF(workers), "4", 1, 64,
     "reconcile threads"},
    {"metrics-listen", "FO_CONTROLLER_METRICS_LISTEN", FO_OPT_STR, OFF(metrics_listen),
     "0.0.0.0:8085", 0, 0, "ADDR:PORT for /healthz, /readyz, /metrics"},
    {"leader-elect", "FO_CONTROLLER_LEADER_ELECT", FO_OPT_BOOL, OFF(leader_elect), "true", 0, 0,
     "take a Lease before acting"},
    {"lease-name", "FO_CONTROLLER_LEASE_NAME", FO_OPT_STR, OFF(lease_name),
     "flink-operator-controller", 0, 0, "name of the Lease"},
    {"lease-namespace", "FO_CONTROLLER_LEASE_NAMESPACE", FO_OPT_STR, OFF(lease_namespace), NULL, 0,
     0, "namespace of the Lease (default: the kubeconfig's)"},
    {"lease-duration", "FO_CONTROLLER_LEASE_DURATION", FO_OPT_LONG, OFF(lease_duration), "15", 2,
     3600, "seconds a lease is valid without renewal"},
    {"renew-deadline", "FO_CONTROLLER_RENEW_DEADLINE", FO_OPT_LONG, OFF(renew_deadline), "10", 1,
     3600, "seconds the leader keeps acting without a successful renewal"},
    {"retry-period", "FO_CONTROLLER_RETRY_PERIOD", FO_OPT_LONG, OFF(retry_period), "2", 1, 600,
     "seconds between lease attempts"},
    {"resync-period", "FO_CONTROLLER_RESYNC_PERIOD", FO_OPT_LONG, OFF(resync_period), "300", 0,
     86400, "seconds between full resyncs (0 = never)"},
    {"identity", "FO_CONTROLLER_IDENTITY", FO_OPT_STR, OFF(identity), NULL, 0, 0,
     "leader-election identity (default: hostname_pid)"},
    {"config", "FO_CONTROLLER_CONFIG", FO_OPT_STR, OFF(config), NULL, 0, 0,
     "operator default Flink configuration (YAML)"},
    {"flink-url-template", "FO_CONTROLLER_FLINK_URL", FO_OPT_STR, OFF(flink_url_template),
     "http://{name}-rest.{namespace}:{port}", 0, 0, "REST address of a deployment's JobManager"},
    {"savepoint-on-deletion", "FO_CONTROLLER_SAVEPOINT_ON_DELETION", FO_OPT_BOOL,
     OFF(savepoint_on_deletion), "false", 0, 0,
     "stop running jobs with a savepoint when their FlinkDeployment is deleted"},
    {"artifacts-dir", "FO_CONTROLLER_ARTIFACTS_DIR", FO_OPT_STR, OFF(artifacts_dir), "/tmp", 0, 0,
     "where session jobs' jars are fetched to before their upload"},
    {"log-level", "FO_CONTROLLER_LOG_LEVEL", FO_OPT_STR, OFF(log_level), "info", 0, 0,
     "info or debug"},
};
#define NOPTS (sizeof opts / sizeof opts[0])

static int sig_pipe[2];
static void on_signal(int s) {
  char c = (char)s;
  ssize_t w = write(sig_pipe[1], &c, 1);
  (void)w;
}

/* What of a FlinkDeployment a retry waits for (malloc'd, NULL when none or no memory): its
 * generation (the spec), whether it is being deleted, its finalizers, labels and annotations. Not
 * its status, which the controller itself writes. */
static char *change_stamp(json_object *obj) {
  json_object *m = fo_json_get_object(obj, "metadata");
  if (!m) return NULL;
  struct fo_buf b;
  fo_buf_init(&b, 1 << 20);
  const char *keys[] = {"generation", "deletionTimestamp", "finalizers", "labels", "annotations"};
  int r = 0;
  for (size_t i = 0; r == 0 && i < sizeof keys / sizeof *keys; i++) {
    json_object *v = fo_json_get(m, keys[i]);
    r = fo_buf_printf(&b, "%s|",
                      v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN) : "");
  }
  char *s = r == 0 && b.data ? strdup(b.data) : NULL;
  fo_buf_free(&b);
  return s;
}

/* Wakes the FlinkSessionJobs of `key`'s namespace: their session cluster may be the one that
 * changed (it became ready, or is being deleted). */
static void wake_session_jobs(struct ctl *c, const char *key) {
  const char *slash = strchr(key, '/');
  if (!slash || c->n_sj == 0) return;
  json_object *keys = json_object_new_array();
  if (!keys) return;
  for (size_t i = 0; i < c->n_sj; i++) informer_keys(c->sj_informers[i], keys);
  size_t n = json_object_array_length(keys);
  struct fo_buf q;
  fo_buf_init(&q, 1024);
  for (size_t i = 0; i < n; i++) {
    const char *k = json_object_get_string(json_object_array_get_idx(keys, i));
    if (!k || strncmp(k, key, (size_t)(slash - key) + 1) != 0) continue;
    fo_buf_reset(&q);
    if (fo_buf_printf(&q, SJ_KEY_PREFIX "%s", k) == 0) queue_add(c->queue, q.data);
  }
  fo_buf_free(&q);
  json_object_put(keys);
}

static void on_sj_change(void *ud, const char *key, json_object *obj, bool deleted) {
  struct ctl *c = ud;
  char *stamp = deleted ? NULL : change_stamp(obj);
  struct fo_buf q;
  fo_buf_init(&q, 1024);
  if (fo_buf_printf(&q, SJ_KEY_PREFIX "%s", key) == 0) queue_add_change(c->queue, q.data, stamp);
  fo_buf_free(&q);
  free(stamp);
}

static void on_snap_change(void *ud, const char *key, json_object *obj, bool deleted) {
  struct ctl *c = ud;
  char *stamp = deleted ? NULL : change_stamp(obj);
  struct fo_buf q;
  fo_buf_init(&q, 1024);
  if (fo_buf_printf(&q, SNAP_KEY_PREFIX "%s", key) == 0) queue_add_change(c->queue, q.data, stamp);
  fo_buf_free(&q);
  free(stamp);
}

static void on_fd_change(void *ud, const char *key, json_object *obj, bool deleted) {
  struct ctl *c = ud;
  wake_session_jobs(c, key);
  int64_t gen = 0;
  if (deleted) canary_forget(key);
  else if (fo_is_canary(obj) &&
           fo_json_as_int64(fo_json_path(obj, "metadata", "generation", (const char *)NULL), &gen))
    canary_seen(key, gen, fo_clock_mono());
  char *stamp = deleted ? NULL : change_stamp(obj);
  queue_add_change(c->queue, key, stamp);
  free(stamp);
}

/* A change to a JobManager Deployment we own wakes its FlinkDeployment (readiness, deletion). */
static void on_owned_change(void *ud, const char *key, json_object *obj, bool deleted) {
  (void)deleted;
  struct ctl *c = ud;
  const char *app =
      fo_json_get_string(fo_json_get_object(fo_json_get_object(obj, "metadata"), "labels"), "app");
  const char *slash = strchr(key, '/');
  if (!app || !slash) return;
  struct fo_buf owner;
  fo_buf_init(&owner, 1024);
  if (fo_buf_printf(&owner, "%.*s/%s", (int)(slash - key), key, app) == 0)
    queue_add(c->queue, owner.data);
  fo_buf_free(&owner);
}

/* Every key of `inf` (n informers), behind `prefix`, to the queue's background lane. */
static void enqueue_keys(struct ctl *c, struct informer *const *inf, size_t n_inf,
                         const char *prefix) {
  json_object *keys = json_object_new_array();
  if (!keys) return; /* no memory: the next resync tries again */
  for (size_t i = 0; i < n_inf; i++) informer_keys(inf[i], keys);
  size_t n = json_object_array_length(keys);
  struct fo_buf q;
  fo_buf_init(&q, 1024);
  for (size_t i = 0; i < n; i++) {
    fo_buf_reset(&q);
    if (fo_buf_printf(&q, "%s%s", prefix,
                      json_object_get_string(json_object_array_get_idx(keys, i))) == 0)
      queue_add_background(c->queue, q.data);
  }
  fo_buf_free(&q);
  json_object_put(keys);
}

static void enqueue_all(struct ctl *c) {
  enqueue_keys(c, c->fd_informers, c->n_fd, "");
  enqueue_keys(c, c->sj_informers, c->n_sj, SJ_KEY_PREFIX);
  enqueue_keys(c, c->snap_informers, c->n_snap, SNAP_KEY_PREFIX);
}

/* The FlinkDeployment from the cache (a private copy), or NULL. */
static json_object *cached(struct ctl *c, const char *key) {
  for (size_t i = 0; i < c->n_fd; i++) {
    json_object *o = informer_get(c->fd_informers[i], key);
    if (o) return o;
  }
  return NULL;
}

/* pass_env.cached_flinkdeployment */
static json_object *cached_flinkdeployment(void *ud, const char *key) { return cached(ud, key); }

static json_object *cached_snapshot(void *ud, const char *key);
static json_object *cached_snap(struct ctl *c, const char *key) { return cached_snapshot(c, key); }

/* A FlinkSessionJob from the cache (a private copy), or NULL. */
static json_object *cached_sj(struct ctl *c, const char *key) {
  for (size_t i = 0; i < c->n_sj; i++) {
    json_object *o = informer_get(c->sj_informers[i], key);
    if (o) return o;
  }
  return NULL;
}

/* A FlinkStateSnapshot from the cache (a private copy), or NULL. */
static json_object *cached_snapshot(void *ud, const char *key) {
  struct ctl *c = ud;
  for (size_t i = 0; i < c->n_snap; i++) {
    json_object *o = informer_get(c->snap_informers[i], key);
    if (o) return o;
  }
  return NULL;
}

/* One pass over a FlinkSessionJob or a FlinkStateSnapshot (`qkey` with the queue's prefix),
 * requeued as it asks. */
static void work_other(struct ctl *c, const struct pass_env *env, struct fo_kube *k,
                       const char *qkey) {
  bool sj = !strncmp(qkey, SJ_KEY_PREFIX, strlen(SJ_KEY_PREFIX));
  const char *key = qkey + (sj ? strlen(SJ_KEY_PREFIX) : strlen(SNAP_KEY_PREFIX));
  double t0 = fo_clock_mono(), again = 0;
  json_object *(*get)(struct ctl *, const char *) = sj ? cached_sj : cached_snap;
  int r = sj ? sessionjob_reconcile(env, k, get(c, key), key, &again)
             : snapshot_reconcile(env, k, get(c, key), key, &again);
  double took = fo_clock_mono() - t0;
  queue_done(c->queue, qkey);
  if (r < 0) {
    ctl_metrics_reconcile("error", took);
    ctl_metrics_failure(reconcile_failure_class(r, fo_kube_last_error(k)));
    if (r == -ESTALE) queue_add_after(c->queue, qkey, 0.2);
    else {
      json_object *o = get(c, key);
      char *stamp = change_stamp(o);
      json_object_put(o);
      int attempt = 0;
      queue_add_rate_limited(c->queue, qkey, stamp, &attempt);
      free(stamp);
    }
    return;
  }
  ctl_metrics_reconcile(again > 0 ? "requeue" : "ok", took);
  queue_forget(c->queue, qkey);
  if (again > 0) queue_add_after(c->queue, qkey, again);
}

/* pass_env.cached_deployment: a JobManager Deployment from the owned-objects cache. */
static json_object *cached_deployment(void *ud, const char *key) {
  struct ctl *c = ud;
  for (size_t i = 0; i < c->n_owned; i++) {
    json_object *d = informer_get(c->owned_informers[i], key);
    if (d) return d;
  }
  return NULL;
}

static void *worker(void *arg) {
  struct ctl *c = arg;
  struct gate gate = {.identity = c->cfg.identity, .may_act = leader_valid};
  const struct pass_env env = {.flink_url_template = c->cfg.flink_url_template,
                               .savepoint_on_deletion = c->cfg.savepoint_on_deletion,
                               .default_conf = c->default_conf,
                               .cached_deployment = cached_deployment,
                               .cached_flinkdeployment = cached_flinkdeployment,
                               .cached_snapshot = cached_snapshot,
                               .cache_ud = c,
                               .artifacts_dir = c->cfg.artifacts_dir,
                               .retry = &c->backoff};
  struct fo_kube *k = fo_kube_new(&c->kube);
  if (k) fo_kube_set_write_hook(k, gate_check, &gate);
  char *key;
  while (k && (key = queue_get(c->queue))) {
    if (!leader_valid()) { /* not ours to act on: look again once we lead */
      queue_done(c->queue, key);
      free(key);
      continue;
    }
    if (!strncmp(key, SJ_KEY_PREFIX, strlen(SJ_KEY_PREFIX)) ||
        !strncmp(key, SNAP_KEY_PREFIX, strlen(SNAP_KEY_PREFIX))) {
      gate.key = key;
      work_other(c, &env, k, key);
      gate.key = NULL;
      free(key);
      continue;
    }
    json_object *obj = cached(c, key);
    int64_t gen = 0;
    if (fo_is_canary(obj)) { /* the health probe's: taken, never deployed */
      if (fo_json_as_int64(fo_json_path(obj, "metadata", "generation", (const char *)NULL), &gen))
        canary_reconciled(key, gen);
      json_object_put(obj);
      queue_forget(c->queue, key);
      queue_done(c->queue, key);
      free(key);
      continue;
    }
    gate.key = key;
    double t0 = fo_clock_mono(), again = 0;
    int r = reconcile(&env, k, obj, key, &again);
    double took = fo_clock_mono() - t0;
    gate.key = NULL;
    if (r < 0) {
      struct fo_kube_error why = *fo_kube_last_error(k); /* the failed request, before any other */
      ctl_metrics_reconcile("error", took);
      ctl_metrics_failure(reconcile_failure_class(r, &why));
      queue_done(c->queue, key);
      /* a conflict means a newer object exists: read it again soon, without counting a failure */
      struct reconcile_retry retry = {.in_s = 0.2};
      if (r == -ESTALE) queue_add_after(c->queue, key, retry.in_s);
      else {
        json_object *o = cached(c, key);
        char *stamp = change_stamp(o);
        json_object_put(o);
        retry.in_s = queue_add_rate_limited(c->queue, key, stamp, &retry.attempt);
        free(stamp);
        retry.exhausted = retry.attempt > c->backoff.max_attempts;
      }
      if (leader_valid()) reconcile_report(&env, k, cached(c, key), key, r, &why, &retry);
    } else {
      ctl_metrics_reconcile(again > 0 ? "requeue" : "ok", took);
      queue_forget(c->queue, key);
      queue_done(c->queue, key);
      if (again > 0) queue_add_after(c->queue, key, again);
    }
    free(key);
  }
  fo_kube_free(k);
  return NULL;
}

static void *resyncer(void *arg) {
  struct ctl *c = arg;
  double last = fo_clock_mono();
  while (!atomic_load(&c->stopping)) {
    usleep(200 * 1000);
    if (c->cfg.resync_period > 0 && fo_clock_mono() - last >= (double)c->cfg.resync_period) {
      last = fo_clock_mono();
      if (leader_valid()) enqueue_all(c);
    }
  }
  return NULL;
}

bool ctl_caches_synced(struct ctl *c, const char **ret_kind) {
  struct {
    struct informer **inf;
    size_t n;
    const char *kind;
  } groups[] = {{c->fd_informers, c->n_fd, "FlinkDeployment"},
                {c->owned_informers, c->n_owned, "Deployment"},
                {c->sj_informers, c->n_sj, "FlinkSessionJob"},
                {c->snap_informers, c->n_snap, "FlinkStateSnapshot"}};
  for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++)
    for (size_t i = 0; i < groups[g].n; i++)
      if (!informer_synced(groups[g].inf[i])) {
        if (ret_kind) *ret_kind = groups[g].kind;
        return false;
      }
  return true;
}

int main(int argc, char **argv) {
  static struct ctl c;
  /* Few arenas: worker threads otherwise each keep their own, and their freed pages, for good. */
  mallopt(M_ARENA_MAX, 2);
  int r = fo_opts_parse(opts, NOPTS, &c.cfg, argc, argv, "flink-controller");
  if (r == 1) return 0;
  if (r < 0) return 2;
  fo_log_debug_enabled = !strcmp(c.cfg.log_level, "debug");
  if (c.cfg.renew_deadline >= c.cfg.lease_duration) {
    fprintf(stderr, "flink-controller: --renew-deadline must be shorter than --lease-duration\n");
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  char *why = NULL;
  if (fo_kube_config_load(c.cfg.kubeconfig, &c.kube, &why) < 0) {
    fprintf(stderr, "flink-controller: %s\n",
            why ? why : "cannot load the Kubernetes configuration");
    free(why);
    return 2;
  }
  if (!c.cfg.lease_namespace) c.cfg.lease_namespace = strdup(c.kube.namespace_);
  if (!c.cfg.identity) {
    char host[256] = "controller";
    gethostname(host, sizeof host - 1);
    char id[sizeof host + 16];
    snprintf(id, sizeof id, "%s_%d", host, (int)getpid());
    c.cfg.identity = strdup(id);
  }
  if (c.cfg.config) {
    struct fo_parse_error pe = {0};
    if (fo_conf_load_file(c.cfg.config, &c.default_conf, &pe) < 0) {
      fprintf(stderr, "flink-controller: %s: %s\n", c.cfg.config,
              pe.message ? pe.message : "cannot read");
      return 2;
    }
  }
  fo_kube_set_observer(ctl_metrics_api);
  const char *bad_key = NULL;
  if (retry_from_conf(c.default_conf, &c.backoff, &bad_key) < 0) {
    fprintf(stderr, "flink-controller: %s: %s: \"%s\" is not a usable value\n",
            c.cfg.config ? c.cfg.config : "configuration", bad_key,
            fo_log_str(fo_conf_get(c.default_conf, bad_key)));
    return 2;
  }
  const char *ct = c.default_conf ? fo_conf_get(c.default_conf, CANARY_TIMEOUT_KEY) : NULL;
  int64_t ct_ms = 60000;
  if (ct && (fo_duration_parse(ct, &ct_ms) < 0 || ct_ms <= 0)) {
    fprintf(stderr, "flink-controller: %s: %s: \"%s\" is not a usable value\n",
            c.cfg.config ? c.cfg.config : "configuration", CANARY_TIMEOUT_KEY, fo_log_str(ct));
    return 2;
  }
  c.canary_timeout_s = (double)ct_ms / 1000.0;
  c.queue = queue_new(&c.backoff);
  const char *all[] = {NULL};
  const char *const *nss = c.cfg.namespaces ? (const char *const *)c.cfg.namespaces : all;
  size_t nns = 0;
  if (c.cfg.namespaces)
    while (c.cfg.namespaces[nns]) nns++;
  else nns = 1;
  for (size_t i = 0; i < nns && c.n_fd < CTL_MAX_INFORMERS; i++) {
    c.fd_informers[c.n_fd++] =
        informer_new(&c.kube, &fo_res_flinkdeployments, nss[i], NULL, on_fd_change, &c);
    c.owned_informers[c.n_owned++] = informer_new(
        &c.kube, &fo_res_deployments, nss[i],
        FO_MANAGED_BY_LABEL "=" FO_MANAGED_BY_VALUE ",component=jobmanager", on_owned_change, &c);
    c.sj_informers[c.n_sj++] =
        informer_new(&c.kube, &fo_res_flinksessionjobs, nss[i], NULL, on_sj_change, &c);
    c.snap_informers[c.n_snap++] =
        informer_new(&c.kube, &fo_res_flinkstatesnapshots, nss[i], NULL, on_snap_change, &c);
  }
  if (pipe(sig_pipe) < 0) return 1;
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {.sa_handler = on_signal};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  if (httpd_start(&c, c.cfg.metrics_listen) < 0) {
    fo_log("error", "cannot listen", "\"listen\":\"%s\"", c.cfg.metrics_listen);
    return 1;
  }
  for (size_t i = 0; i < c.n_fd; i++) informer_start(c.fd_informers[i]);
  for (size_t i = 0; i < c.n_owned; i++) informer_start(c.owned_informers[i]);
  for (size_t i = 0; i < c.n_sj; i++) informer_start(c.sj_informers[i]);
  for (size_t i = 0; i < c.n_snap; i++) informer_start(c.snap_informers[i]);
  /* wait for the caches before acting (a pass reads the others' objects from them: a snapshot
   * record it would otherwise create twice, a session job's cluster), a minute at most */
  const char *unsynced = NULL;
  for (int i = 0; i < 600 && !ctl_caches_synced(&c, &unsynced); i++) usleep(100 * 1000);
  if (!ctl_caches_synced(&c, &unsynced))
    fo_log("warning", "starting before a cache holds its first list", "\"cache\":\"%s\"", unsynced);
  fo_log(
      "info", "started",
      "\"identity\":\"%s\",\"server\":\"%s\",\"namespaces\":%zu,\"workers\":%ld,\"leaderElect\":%s",
      c.cfg.identity, c.kube.server, c.cfg.namespaces ? nns : 0, c.cfg.workers,
      c.cfg.leader_elect ? "true" : "false");
  leader_on_elected(enqueue_all);
  if (leader_start(&c) < 0) return 1;
  pthread_t workers[64], rs;
  long started = 0;
  for (long i = 0; i < c.cfg.workers && i < 64; i++) {
    if (pthread_create(&workers[started], NULL, worker, &c) != 0) {
      fo_log("error", "cannot start a worker thread", "\"error\":\"%s\"", strerror(errno));
      break;
    }
    started++;
  }
  bool rs_started = pthread_create(&rs, NULL, resyncer, &c) == 0;
  if (started == 0 || !rs_started) {
    fo_log("error", "cannot start the threads", NULL);
    return 1;
  }
  char sig = 0;
  while (read(sig_pipe[0], &sig, 1) < 0 && errno == EINTR) {}
  fo_log("info", "shutting down", "\"signal\":%d", sig);
  atomic_store(&c.stopping, true);
  queue_shutdown(c.queue);
  for (long i = 0; i < started; i++) pthread_join(workers[i], NULL);
  pthread_join(rs, NULL);
  leader_stop();
  for (size_t i = 0; i < c.n_fd; i++) informer_free(c.fd_informers[i]);
  for (size_t i = 0; i < c.n_owned; i++) informer_free(c.owned_informers[i]);
  for (size_t i = 0; i < c.n_sj; i++) informer_free(c.sj_informers[i]);
  for (size_t i = 0; i < c.n_snap; i++) informer_free(c.snap_informers[i]);
  httpd_stop();
  queue_free(c.queue);
  json_object_put(c.default_conf);
  fo_kube_config_free(&c.kube);
  fo_opts_free(opts, NOPTS, &c.cfg);
  curl_global_cleanup();
  fo_log("info", "stopped", NULL);
  return 0;
}
