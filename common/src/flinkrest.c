#include "flinkop/flinkrest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flinkop/http.h"
#include "flinkop/json.h"

#define MAX_ANSWER (8u << 20)

struct fo_flink {
  char *base;
  struct fo_http *http;
  long timeout_ms;
  long http_code;
  char error[1024];
};

struct fo_flink *fo_flink_new(const char *base_url, long timeout_ms) {
  struct fo_flink *f = calloc(1, sizeof *f);
  if (!f) return NULL;
  f->base = strdup(base_url);
  f->http = fo_http_new();
  f->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
  if (!f->base || !f->http) return fo_flink_free(f);
  size_t n = strlen(f->base);
  while (n && f->base[n - 1] == '/') f->base[--n] = '\0';
  return f;
}

struct fo_flink *fo_flink_free(struct fo_flink *f) {
  if (!f) return NULL;
  fo_http_free(f->http);
  free(f->base);
  free(f);
  return NULL;
}

void fo_flink_set_transport(struct fo_flink *f, fo_flink_transport_fn fn, void *ud) {
  fo_http_set_transport(f->http, fn, ud);
}

const char *fo_flink_last_error(const struct fo_flink *f) { return f->error; }
long fo_flink_last_http_code(const struct fo_flink *f) { return f->http_code; }

int fo_flink_url(struct fo_buf *out, const char *tmpl, const char *name, const char *ns, int port) {
  for (const char *p = tmpl; *p;) {
    int r;
    if (!strncmp(p, "{port}", 6)) {
      r = fo_buf_printf(out, "%d", port);
      p += 6;
    } else if (!strncmp(p, "{name}", 6)) {
      r = fo_buf_puts(out, name);
      p += 6;
    } else if (!strncmp(p, "{namespace}", 11)) {
      r = fo_buf_puts(out, ns);
      p += 11;
    } else {
      r = fo_buf_putc(out, *p++);
    }
    if (r < 0) return -ENOMEM;
  }
  return fo_buf_append(out, "", 0);
}

static int answer(struct fo_flink *f, struct fo_buf *ans, json_object **ret);

/* Performs `rq`; *ret gets the parsed JSON answer (may be NULL for an empty 2xx body). */
static int perform(struct fo_flink *f, const struct fo_http_request *rq, json_object **ret) {
  if (ret) *ret = NULL;
  f->error[0] = '\0';
  f->http_code = 0;
  struct fo_http_answer ans;
  int r = fo_http_perform(f->http, rq, &ans);
  f->http_code = ans.code;
  if (r < 0) {
    snprintf(f->error, sizeof f->error, "%s", ans.error);
    fo_http_answer_free(&ans);
    /* nothing answering, for whatever reason, is a JobManager that is down; an answer over the
     * limit is not the documented JSON */
    return r == -EHOSTUNREACH || r == -ECONNRESET ? -ECONNREFUSED : r == -E2BIG ? -EBADMSG : r;
  }
  return answer(f, &ans.body, ret);
}

static const char *const accept_json[] = {"Accept: application/json", NULL};

/* Performs a call with a JSON body (may be NULL). */
static int call(struct fo_flink *f, const char *method, const char *path, json_object *body,
                json_object **ret) {
  if (ret) *ret = NULL;
  char *payload = body ? fo_json_dumps(body) : NULL;
  if (body && !payload) return -ENOMEM;
  struct fo_http_request rq = {.method = method,
                               .base = f->base,
                               .path = path,
                               .body = payload,
                               .content_type = "application/json",
                               .headers = accept_json,
                               .timeout_ms = f->timeout_ms,
                               .connect_timeout_ms = f->timeout_ms < 5000 ? f->timeout_ms : 5000L,
                               .max_answer = MAX_ANSWER};
  int r = perform(f, &rq, ret);
  free(payload);
  return r;
}

/* Reads an answer's body (consumed) by its HTTP code. */
static int answer(struct fo_flink *f, struct fo_buf *ansp, json_object **ret) {
  struct fo_buf ans = *ansp;
  int r = 0;
  json_object *o = NULL;
  if (ans.len) {
    struct fo_parse_error pe = {0};
    if (fo_json_parse(ans.data, ans.len, NULL, &o, &pe) < 0) {
      snprintf(f->error, sizeof f->error, "answer is not JSON (HTTP %ld): %s", f->http_code,
               pe.message ? pe.message : "");
      fo_parse_error_clear(&pe);
      fo_buf_free(&ans);
      return f->http_code >= 500 ? -EIO : -EBADMSG;
    }
  }
  fo_buf_free(&ans);
  if (f->http_code < 200 || f->http_code > 299) {
    json_object *errs = fo_json_get_array(o, "errors");
    const char *msg = errs && json_object_array_length(errs)
                          ? json_object_get_string(json_object_array_get_idx(errs, 0))
                          : NULL;
    snprintf(f->error, sizeof f->error, "HTTP %ld: %s", f->http_code, msg ? msg : "(no message)");
    json_object_put(o);
    long code = f->http_code;
    return code == 404 ? -ENOENT : code == 409 ? -EALREADY : code >= 500 ? -EIO : -EINVAL;
  }
  if (ret) *ret = o;
  else json_object_put(o);
  return r;
}

static int bad(struct fo_flink *f, json_object *o, const char *what) {
  snprintf(f->error, sizeof f->error, "answer without %s", what);
  json_object_put(o);
  return -EBADMSG;
}

/* *ret = a copy of the string at `key`, NULL when there is none. 0 or -ENOMEM (an absent value
 * and a failed copy must not look alike). */
static int dup_str(json_object *o, const char *key, char **ret) {
  const char *s = fo_json_get_string(o, key);
  *ret = s ? strdup(s) : NULL;
  return s && !*ret ? -ENOMEM : 0;
}

int fo_flink_config(struct fo_flink *f, struct fo_flink_version *ret) {
  memset(ret, 0, sizeof *ret);
  json_object *o;
  int r = call(f, "GET", "/config", NULL, &o);
  if (r < 0) return r;
  if (!fo_json_get_string(o, "flink-version")) return bad(f, o, "flink-version");
  r = dup_str(o, "flink-version", &ret->version);
  if (r == 0) r = dup_str(o, "flink-revision", &ret->revision);
  json_object_put(o);
  if (r < 0) fo_flink_version_free(ret);
  return r;
}

void fo_flink_version_free(struct fo_flink_version *v) {
  free(v->version);
  free(v->revision);
  memset(v, 0, sizeof *v);
}

static bool valid_id(const char *s) {
  if (!s || strlen(s) != 32) return false;
  for (const char *p = s; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return false;
  return true;
}

static int task_count(json_object *tasks, const char *key) {
  int64_t v = 0;
  fo_json_as_int64(fo_json_get(tasks, key), &v);
  return v < 0 || v > 1000000 ? 0 : (int)v;
}

int fo_flink_jobs_overview(struct fo_flink *f, struct fo_flink_jobs *ret) {
  memset(ret, 0, sizeof *ret);
  json_object *o;
  int r = call(f, "GET", "/jobs/overview", NULL, &o);
  if (r < 0) return r;
  json_object *jobs = fo_json_get_array(o, "jobs");
  if (!jobs) return bad(f, o, "jobs");
  size_t n = json_object_array_length(jobs);
  if (n > 10000) return bad(f, o, "a sane number of jobs");
  ret->jobs = n ? calloc(n, sizeof *ret->jobs) : NULL;
  if (n && !ret->jobs) {
    json_object_put(o);
    return -ENOMEM;
  }
  for (size_t i = 0; i < n; i++) {
    json_object *j = json_object_array_get_idx(jobs, i);
    const char *jid = fo_json_get_string(j, "jid"), *state = fo_json_get_string(j, "state");
    if (!valid_id(jid) || !state || strlen(state) >= sizeof ret->jobs[0].state) {
      fo_flink_jobs_free(ret);
      return bad(f, o, "a valid jid and state in every job");
    }
    struct fo_flink_job *dst = &ret->jobs[ret->n++];
    memcpy(dst->jid, jid, 33);
    snprintf(dst->state, sizeof dst->state, "%s", state);
    if (dup_str(j, "name", &dst->name) < 0) {
      fo_flink_jobs_free(ret);
      json_object_put(o);
      return -ENOMEM;
    }
    fo_json_as_int64(fo_json_get(j, "start-time"), &dst->start_time);
    json_object *t = fo_json_get_object(j, "tasks");
    dst->tasks_total = task_count(t, "total");
    dst->tasks_running = task_count(t, "running");
    dst->tasks_finished = task_count(t, "finished");
  }
  json_object_put(o);
  return 0;
}

void fo_flink_jobs_free(struct fo_flink_jobs *j) {
  for (size_t i = 0; i < j->n; i++) free(j->jobs[i].name);
  free(j->jobs);
  memset(j, 0, sizeof *j);
}

const char *fo_flink_job_effective_state(const struct fo_flink_job *j) {
  if (!strcmp(j->state, "RUNNING") && j->tasks_total > 0 &&
      j->tasks_running + j->tasks_finished < j->tasks_total)
    return "CREATED";
  return j->state;
}

static int job_path(struct fo_buf *p, const char *jobid, const char *suffix) {
  if (!valid_id(jobid)) return -EINVAL;
  return fo_buf_printf(p, "/jobs/%s%s", jobid, suffix) < 0 ? -ENOMEM : 0;
}

int fo_flink_cancel(struct fo_flink *f, const char *jobid) {
  struct fo_buf p;
  fo_buf_init(&p, 256);
  int r = job_path(&p, jobid, "?mode=cancel");
  if (r == 0) r = call(f, "PATCH", p.data, NULL, NULL);
  fo_buf_free(&p);
  return r;
}

static int trigger(struct fo_flink *f, const char *path, json_object *body, char **ret_trigger) {
  json_object *o;
  *ret_trigger = NULL;
  int r = call(f, "POST", path, body, &o);
  json_object_put(body);
  if (r < 0) return r;
  const char *id = fo_json_get_string(o, "request-id");
  if (!id || !*id) return bad(f, o, "request-id");
  *ret_trigger = strdup(id);
  json_object_put(o);
  return *ret_trigger ? 0 : -ENOMEM;
}

int fo_flink_stop_with_savepoint(struct fo_flink *f, const char *jobid, const char *target_dir,
                                 bool drain, const char *trigger_id, char **ret_trigger) {
  struct fo_buf p;
  fo_buf_init(&p, 256);
  int r = job_path(&p, jobid, "/stop");
  json_object *b = json_object_new_object();
  int oom = b ? 0 : -ENOMEM;
  if (target_dir) fo_json_set(b, "targetDirectory", json_object_new_string(target_dir), &oom);
  fo_json_set(b, "drain", json_object_new_boolean(drain), &oom);
  if (trigger_id) fo_json_set(b, "triggerId", json_object_new_string(trigger_id), &oom);
  if (r == 0) r = oom;
  if (r == 0) r = trigger(f, p.data, b, ret_trigger);
  else json_object_put(b);
  fo_buf_free(&p);
  return r;
}

int fo_flink_trigger_savepoint(struct fo_flink *f, const char *jobid, const char *target_dir,
                               bool cancel_job, const char *trigger_id, char **ret_trigger) {
  return fo_flink_trigger_savepoint_as(f, jobid, target_dir, cancel_job, NULL, trigger_id,
                                       ret_trigger);
}

int fo_flink_trigger_savepoint_as(struct fo_flink *f, const char *jobid, const char *target_dir,
                                  bool cancel_job, const char *format_type, const char *trigger_id,
                                  char **ret_trigger) {
  struct fo_buf p;
  fo_buf_init(&p, 256);
  int r = job_path(&p, jobid, "/savepoints");
  json_object *b = json_object_new_object();
  int oom = b ? 0 : -ENOMEM;
  if (target_dir) fo_json_set(b, "target-directory", json_object_new_string(target_dir), &oom);
  fo_json_set(b, "cancel-job", json_object_new_boolean(cancel_job), &oom);
  if (format_type) fo_json_set(b, "formatType", json_object_new_string(format_type), &oom);
  if (trigger_id) fo_json_set(b, "triggerId", json_object_new_string(trigger_id), &oom);
  if (r == 0) r = oom;
  if (r == 0) r = trigger(f, p.data, b, ret_trigger);
  else json_object_put(b);
  fo_buf_free(&p);
  return r;
}

/* A failure cause as Flink serialises a throwable: its stack trace, else its class, else the
 * whole object as text. NULL on ENOMEM. */
static char *cause_text(json_object *cause) {
  const char *st = fo_json_get_string(cause, "stack-trace");
  const char *cls = fo_json_get_string(cause, "class");
  return st || cls ? strdup(st ? st : cls) : fo_json_dumps(cause);
}

/* GET /jobs/:jobid/<kind>/:triggerid, an asynchronous operation's state: 0 with *ret_done and the
 * answer in *ret_o (owned by the caller), or a negative errno (the answer freed). */
static int op_get(struct fo_flink *f, const char *jobid, const char *kind, const char *trig,
                  json_object **ret_o, bool *ret_done) {
  *ret_o = NULL;
  if (!valid_id(trig)) return -EINVAL;
  struct fo_buf p;
  fo_buf_init(&p, 256);
  char suffix[64];
  snprintf(suffix, sizeof suffix, "/%s/%s", kind, trig);
  int r = job_path(&p, jobid, suffix);
  json_object *o = NULL;
  if (r == 0) r = call(f, "GET", p.data, NULL, &o);
  fo_buf_free(&p);
  if (r < 0) return r;
  const char *id = fo_json_get_string(fo_json_get_object(o, "status"), "id");
  if (!id) return bad(f, o, "status.id");
  if (strcmp(id, "IN_PROGRESS") && strcmp(id, "COMPLETED")) return bad(f, o, "a known status.id");
  *ret_done = !strcmp(id, "COMPLETED");
  *ret_o = o;
  return 0;
}

int fo_flink_savepoint_status(struct fo_flink *f, const char *jobid, const char *trig,
                              struct fo_flink_savepoint_status *ret) {
  memset(ret, 0, sizeof *ret);
  json_object *o;
  bool done;
  int r = op_get(f, jobid, "savepoints", trig, &o, &done);
  if (r < 0) return r;
  if (!done) {
    ret->state = FO_FLINK_OP_IN_PROGRESS;
  } else {
    json_object *op = fo_json_get_object(o, "operation");
    const char *loc = fo_json_get_string(op, "location");
    json_object *cause = fo_json_get(op, "failure-cause");
    if (loc) {
      ret->state = FO_FLINK_OP_COMPLETED;
      ret->location = strdup(loc);
    } else if (cause) {
      ret->state = FO_FLINK_OP_FAILED;
      ret->failure_cause = cause_text(cause);
    } else {
      ret->state =
          FO_FLINK_OP_IN_PROGRESS; /* no location yet: still pending, as the reference reads it */
    }
  }
  json_object_put(o);
  /* a completed savepoint without its location would be a lost savepoint */
  if ((ret->state == FO_FLINK_OP_COMPLETED && !ret->location) ||
      (ret->state == FO_FLINK_OP_FAILED && !ret->failure_cause)) {
    fo_flink_savepoint_status_free(ret);
    return -ENOMEM;
  }
  return 0;
}

void fo_flink_savepoint_status_free(struct fo_flink_savepoint_status *s) {
  free(s->location);
  free(s->failure_cause);
  memset(s, 0, sizeof *s);
}

int fo_flink_trigger_checkpoint(struct fo_flink *f, const char *jobid, const char *type,
                                const char *trigger_id, char **ret_trigger) {
  struct fo_buf p;
  fo_buf_init(&p, 256);
  int r = job_path(&p, jobid, "/checkpoints");
  json_object *b = json_object_new_object();
  int oom = b ? 0 : -ENOMEM;
  if (type) fo_json_set(b, "checkpointType", json_object_new_string(type), &oom);
  if (trigger_id) fo_json_set(b, "triggerId", json_object_new_string(trigger_id), &oom);
  if (r == 0) r = oom;
  if (r == 0) r = trigger(f, p.data, b, ret_trigger);
  else json_object_put(b);
  fo_buf_free(&p);
  return r;
}

int fo_flink_checkpoint_status(struct fo_flink *f, const char *jobid, const char *trig,
                               struct fo_flink_checkpoint_status *ret) {
  memset(ret, 0, sizeof *ret);
  json_object *o;
  bool done;
  int r = op_get(f, jobid, "checkpoints", trig, &o, &done);
  if (r < 0) return r;
  if (!done) {
    ret->state = FO_FLINK_OP_IN_PROGRESS;
  } else {
    json_object *op = fo_json_get_object(o, "operation");
    json_object *cause = fo_json_get(op, "failureCause");
    if (fo_json_as_int64(fo_json_get(op, "checkpointId"), &ret->checkpoint_id)) {
      ret->state = FO_FLINK_OP_COMPLETED;
    } else if (cause) {
      ret->state = FO_FLINK_OP_FAILED;
      if (!(ret->failure_cause = cause_text(cause))) r = -ENOMEM;
    } else {
      return bad(f, o, "operation.checkpointId or operation.failureCause");
    }
  }
  json_object_put(o);
  return r;
}

void fo_flink_checkpoint_status_free(struct fo_flink_checkpoint_status *s) {
  free(s->failure_cause);
  memset(s, 0, sizeof *s);
}

static int read_cp(json_object *o, struct fo_flink_checkpoint *c, const char *ts_key) {
  if (!o || !json_object_is_type(o, json_type_object)) return 0;
  c->present = fo_json_as_int64(fo_json_get(o, "id"), &c->id);
  fo_json_as_int64(fo_json_get(o, ts_key), &c->timestamp);
  return dup_str(o, "external_path", &c->external_path);
}

/* GET /jobs/:id/checkpoints: *ret the answer (the caller's), which has counts and latest. */
static int get_checkpoints(struct fo_flink *f, const char *jobid, json_object **ret) {
  *ret = NULL;
  struct fo_buf p;
  fo_buf_init(&p, 256);
  int r = job_path(&p, jobid, "/checkpoints");
  json_object *o = NULL;
  if (r == 0) r = call(f, "GET", p.data, NULL, &o);
  fo_buf_free(&p);
  if (r < 0) return r;
  if (!fo_json_get_object(o, "latest") || !fo_json_get(o, "counts"))
    return bad(f, o, "counts and latest");
  *ret = o;
  return 0;
}

int fo_flink_checkpoints(struct fo_flink *f, const char *jobid, struct fo_flink_checkpoints *ret) {
  memset(ret, 0, sizeof *ret);
  json_object *o = NULL;
  int r = get_checkpoints(f, jobid, &o);
  if ((r == -ENOENT || r == -EINVAL || r == -EIO) &&
      strstr(f->error, "Checkpointing has not been enabled"))
    return 0;
  if (r < 0) return r;
  json_object *latest = fo_json_get_object(o, "latest");
  ret->enabled = true;
  r = read_cp(fo_json_get(latest, "completed"), &ret->completed, "trigger_timestamp");
  if (r == 0) r = read_cp(fo_json_get(latest, "savepoint"), &ret->savepoint, "trigger_timestamp");
  if (r == 0) r = read_cp(fo_json_get(latest, "restored"), &ret->restored, "restore_timestamp");
  json_object *hist = fo_json_get(o, "history");
  json_object *newest =
      hist && json_object_is_type(hist, json_type_array) && json_object_array_length(hist) > 0
          ? json_object_array_get_idx(hist, 0)
          : NULL;
  const char *hs = fo_json_get_string(newest, "status");
  if (r == 0 && hs && strcmp(hs, "IN_PROGRESS") == 0) {
    r = read_cp(newest, &ret->pending, "trigger_timestamp");
    free(ret->pending.external_path);
    ret->pending.external_path = NULL;
  }
  json_object_put(o);
  if (r < 0) fo_flink_checkpoints_free(ret);
  return r;
}

int fo_flink_checkpoint_of(struct fo_flink *f, const char *jobid, int64_t id,
                           struct fo_flink_checkpoint *ret, int64_t *ret_latest) {
  memset(ret, 0, sizeof *ret);
  *ret_latest = -1;
  json_object *o = NULL;
  int r = get_checkpoints(f, jobid, &o);
  if (r < 0) return r;
  json_object *latest = fo_json_get_object(o, "latest");
  struct fo_flink_checkpoint l = {0};
  r = read_cp(fo_json_get(latest, "completed"), &l, "trigger_timestamp");
  if (r == 0 && l.present) *ret_latest = l.id;
  free(l.external_path);
  json_object *hist = fo_json_get_array(o, "history");
  size_t n = hist ? json_object_array_length(hist) : 0;
  for (size_t i = 0; r == 0 && i < n && !ret->present; i++) {
    json_object *h = json_object_array_get_idx(hist, i);
    int64_t hid = -1;
    const char *hs = fo_json_get_string(h, "status");
    if (fo_json_as_int64(fo_json_get(h, "id"), &hid) && hid == id && hs && !strcmp(hs, "COMPLETED"))
      r = read_cp(h, ret, "trigger_timestamp");
  }
  json_object_put(o);
  if (r < 0) {
    free(ret->external_path);
    memset(ret, 0, sizeof *ret);
  }
  return r;
}

void fo_flink_checkpoints_free(struct fo_flink_checkpoints *c) {
  free(c->completed.external_path);
  free(c->savepoint.external_path);
  free(c->restored.external_path);
  memset(c, 0, sizeof *c);
}

const struct fo_flink_checkpoint *fo_flink_checkpoints_latest(
    const struct fo_flink_checkpoints *c) {
  const struct fo_flink_checkpoint *best = NULL,
                                   *all[] = {&c->completed, &c->savepoint, &c->restored};
  for (size_t i = 0; i < 3; i++)
    if (all[i]->present && all[i]->external_path && (!best || all[i]->id > best->id)) best = all[i];
  return best;
}

int fo_flink_latest_exception(struct fo_flink *f, const char *jobid, char **ret_latest) {
  *ret_latest = NULL;
  struct fo_buf p;
  fo_buf_init(&p, 256);
  int r = job_path(&p, jobid, "/exceptions");
  json_object *o = NULL;
  if (r == 0) r = call(f, "GET", p.data, NULL, &o);
  fo_buf_free(&p);
  if (r < 0) return r;
  json_object *hist = fo_json_get_object(o, "exceptionHistory");
  json_object *entries = fo_json_get_array(hist, "entries");
  if (!entries) return bad(f, o, "exceptionHistory.entries");
  if (json_object_array_length(entries)) {
    json_object *e = json_object_array_get_idx(entries, 0);
    const char *st = fo_json_get_string(e, "stacktrace"),
               *name = fo_json_get_string(e, "exceptionName");
    const char *src = st ? st : name ? name : "unknown exception";
    size_t n = strcspn(src, "\n");
    *ret_latest = strndup(src, n > 1000 ? 1000 : n);
    if (!*ret_latest) r = -ENOMEM;
  }
  json_object_put(o);
  return r;
}

int fo_flink_dispose_savepoint(struct fo_flink *f, const char *path, char **ret_trigger) {
  *ret_trigger = NULL;
  json_object *b = json_object_new_object();
  if (fo_json_set(b, "savepoint-path", json_object_new_string(path), NULL) < 0) {
    json_object_put(b);
    return -ENOMEM;
  }
  return trigger(f, "/savepoint-disposal", b, ret_trigger);
}

int fo_flink_health_metrics(struct fo_flink *f, const char *jobid,
                            struct fo_flink_health_metrics *ret) {
  *ret = (struct fo_flink_health_metrics){-1, -1, -1};
  struct fo_buf p;
  fo_buf_init(&p, 256);
  int r = job_path(&p, jobid, "/metrics?get=fullRestarts,numRestarts,numberOfCompletedCheckpoints");
  json_object *o = NULL;
  if (r == 0) r = call(f, "GET", p.data, NULL, &o);
  fo_buf_free(&p);
  if (r < 0) return r;
  if (!json_object_is_type(o, json_type_array) || json_object_array_length(o) > 64)
    return bad(f, o, "a list of metrics");
  for (size_t i = 0; i < json_object_array_length(o); i++) {
    json_object *m = json_object_array_get_idx(o, i);
    const char *id = fo_json_get_string(m, "id"), *v = fo_json_get_string(m, "value");
    char *end = NULL;
    errno = 0;
    long long n = v ? strtoll(v, &end, 10) : -1;
    if (!id || !v || errno || end == v || *end || n < 0) return bad(f, o, "whole metric values");
    if (!strcmp(id, "numRestarts")) ret->num_restarts = n;
    else if (!strcmp(id, "fullRestarts")) ret->full_restarts = n;
    else if (!strcmp(id, "numberOfCompletedCheckpoints")) ret->completed_checkpoints = n;
  }
  json_object_put(o);
  return 0;
}

/* A bound of a vertex's parallelism: a whole number from 1 to FO_FLINK_MAX_PARALLELISM. */
static bool bound(json_object *o, const char *key, int *ret) {
  json_object *v = fo_json_get(o, key);
  if (!json_object_is_type(v, json_type_int)) return false;
  int64_t n = json_object_get_int64(v);
  if (n < 1 || n > FO_FLINK_MAX_PARALLELISM) return false;
  *ret = (int)n;
  return true;
}

int fo_flink_resource_requirements(struct fo_flink *f, const char *jobid,
                                   struct fo_flink_requirements *ret) {
  *ret = (struct fo_flink_requirements){0};
  struct fo_buf p;
  fo_buf_init(&p, 256);
  int r = job_path(&p, jobid, "/resource-requirements");
  json_object *o = NULL;
  if (r == 0) r = call(f, "GET", p.data, NULL, &o);
  fo_buf_free(&p);
  if (r < 0) return r;
  if (!json_object_is_type(o, json_type_object) ||
      json_object_object_length(o) > FO_FLINK_MAX_VERTICES)
    return bad(f, o, "a map of job vertices");
  size_t n = (size_t)json_object_object_length(o);
  ret->v = calloc(n ? n : 1, sizeof *ret->v);
  if (!ret->v) {
    json_object_put(o);
    return -ENOMEM;
  }
  json_object_object_foreach(o, id, req) {
    struct fo_flink_vertex_req *v = &ret->v[ret->n];
    json_object *par = fo_json_get_object(req, "parallelism");
    if (!valid_id(id) || !bound(par, "lowerBound", &v->lower) ||
        !bound(par, "upperBound", &v->upper) || v->lower > v->upper) {
      fo_flink_requirements_free(ret);
      return bad(f, o, "vertex ids and parallelism bounds");
    }
    snprintf(v->id, sizeof v->id, "%s", id);
    ret->n++;
  }
  json_object_put(o);
  return 0;
}

int fo_flink_set_resource_requirements(struct fo_flink *f, const char *jobid,
                                       const struct fo_flink_requirements *req) {
  json_object *body = json_object_new_object();
  int oom = body ? 0 : -ENOMEM;
  for (size_t i = 0; !oom && i < req->n; i++) {
    json_object *par = json_object_new_object(), *v = json_object_new_object();
    fo_json_set(par, "lowerBound", json_object_new_int(req->v[i].lower), &oom);
    fo_json_set(par, "upperBound", json_object_new_int(req->v[i].upper), &oom);
    fo_json_set(v, "parallelism", par, &oom);
    fo_json_set(body, req->v[i].id, v, &oom);
  }
  struct fo_buf p;
  fo_buf_init(&p, 256);
  int r = oom ? oom : job_path(&p, jobid, "/resource-requirements");
  if (r == 0) r = call(f, "PUT", p.data, body, NULL);
  fo_buf_free(&p);
  json_object_put(body);
  return r;
}

void fo_flink_requirements_free(struct fo_flink_requirements *r) {
  free(r->v);
  *r = (struct fo_flink_requirements){0};
}

/* ---- a session cluster's jars ---- */

static bool valid_jar_id(const char *s, size_t n) {
  if (n < 1 || n > 255 || (n <= 2 && strspn(s, ".") == n)) return false;
  for (size_t i = 0; i < n; i++)
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", s[i]) || !s[i])
      return false;
  return true;
}

int fo_flink_jar_upload(struct fo_flink *f, const char *path, const char *name, char **ret_jar_id) {
  *ret_jar_id = NULL;
  struct fo_http_request rq = {.method = "POST",
                               .base = f->base,
                               .path = "/jars/upload",
                               .upload_path = path,
                               .upload_field = "jarfile",
                               .upload_name = name,
                               .upload_type = "application/x-java-archive",
                               .headers = accept_json,
                               .timeout_ms = 300000,
                               .low_speed_s = 30,
                               .connect_timeout_ms = f->timeout_ms < 5000 ? f->timeout_ms : 5000L,
                               .max_answer = MAX_ANSWER};
  json_object *o;
  int r = perform(f, &rq, &o);
  if (r < 0) return r;
  const char *fn = fo_json_get_string(o, "filename");
  const char *base = fn ? strrchr(fn, '/') : NULL;
  base = base ? base + 1 : fn;
  if (!base || !valid_jar_id(base, strlen(base)))
    return bad(f, o, "a filename naming the jar (1 to 255 of [A-Za-z0-9._-])");
  *ret_jar_id = strdup(base);
  json_object_put(o);
  return *ret_jar_id ? 0 : -ENOMEM;
}

int fo_flink_jar_run(struct fo_flink *f, const char *jar_id, const struct fo_flink_jar_run *run) {
  if (!jar_id || !valid_jar_id(jar_id, strlen(jar_id)) || !valid_id(run->job_id)) return -EINVAL;
  struct fo_buf p;
  fo_buf_init(&p, 512);
  json_object *b = json_object_new_object(), *o = NULL;
  int oom = b ? 0 : -ENOMEM;
  int r = fo_buf_printf(&p, "/jars/%s/run", jar_id) < 0 ? -ENOMEM : 0;
  if (run->entry_class)
    fo_json_set(b, "entryClass", json_object_new_string(run->entry_class), &oom);
  if (run->n_args) {
    json_object *a = json_object_new_array();
    for (size_t i = 0; a && i < run->n_args; i++)
      fo_json_push(a, json_object_new_string(run->args[i]), &oom);
    fo_json_set(b, "programArgsList", a, &oom);
  }
  if (run->parallelism > 0)
    fo_json_set(b, "parallelism", json_object_new_int(run->parallelism), &oom);
  fo_json_set(b, "jobId", json_object_new_string(run->job_id), &oom);
  fo_json_set(b, "allowNonRestoredState", json_object_new_boolean(run->allow_non_restored_state),
              &oom);
  if (run->savepoint_path)
    fo_json_set(b, "savepointPath", json_object_new_string(run->savepoint_path), &oom);
  if (run->restore_mode_key)
    fo_json_set(b, run->restore_mode_key, json_object_new_string("NO_CLAIM"), &oom);
  if (run->flink_configuration)
    fo_json_set(b, "flinkConfiguration", json_object_get(run->flink_configuration), &oom);
  if (r == 0) r = oom;
  if (r == 0) r = call(f, "POST", p.data, b, &o);
  json_object_put(b);
  fo_buf_free(&p);
  if (r < 0) return r;
  const char *jid = fo_json_get_string(o, "jobid");
  if (!jid || strcmp(jid, run->job_id) != 0) return bad(f, o, "the job's id as asked (jobid)");
  json_object_put(o);
  return 0;
}

int fo_flink_jar_delete(struct fo_flink *f, const char *jar_id) {
  if (!jar_id || !valid_jar_id(jar_id, strlen(jar_id))) return -EINVAL;
  struct fo_buf p;
  fo_buf_init(&p, 512);
  int r = fo_buf_printf(&p, "/jars/%s", jar_id) < 0 ? -ENOMEM : 0;
  if (r == 0) r = call(f, "DELETE", p.data, NULL, NULL);
  fo_buf_free(&p);
  return r;
}
