#include "fakecluster.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "flinkop/buf.h"
#include "flinkop/clock.h"
#include "flinkop/jsonpatch.h"

struct savepoint {
  char trigger[33];
  bool stop, done, failed;
  char location[256];
};

struct cp_trigger {
  char trigger[33];
  int id; /* the checkpoint it made; 0 when it failed */
};

struct fake {
  json_object *store;   /* {plural: {"ns/name": object}} */
  char gc_blind[64];    /* the garbage collector misses deletions of this plural */
  int64_t job_start_ms; /* when the running job started (Flink's start-time) */
  long rv;
  long uid;
  struct fo_buf log;
  size_t writes;
  long kill_after; /* < 0: none */
  bool killed;
  char *answer; /* the last answer (borrowed by the client until the next call) */
  /* the JobManager */
  struct fake_flink_view fl;
  struct savepoint sps[64];
  size_t n_sps;
  struct cp_trigger cps[64];
  size_t n_cps;
  bool fail_next_cp;
  bool fail_next;
  long now_ms;
  char jm_uid[64];  /* the Deployment the running JobManager belongs to */
  bool broken;      /* the JobManager cannot start */
  bool unavailable; /* the JobManager answers 503 to everything (shutting down) */
  struct {          /* fake_refuse */
    char method[8], plural[64], reason[64], message[512];
    long code; /* 0: none */
  } refuse;
};

struct fake *fake_new(void) {
  struct fake *f = calloc(1, sizeof *f);
  f->store = json_object_new_object();
  f->kill_after = -1;
  f->now_ms = 1700000000000;
  fo_buf_init(&f->log, 1 << 24);
  fo_buf_append(&f->log, "", 0);
  return f;
}

void fake_free(struct fake *f) {
  if (!f) return;
  json_object_put(f->store);
  fo_buf_free(&f->log);
  free(f->answer);
  free(f);
}

static const char *plural_of(const char *kind) {
  static const char *const map[][2] = {{"FlinkDeployment", "flinkdeployments"},
                                       {"FlinkSessionJob", "flinksessionjobs"},
                                       {"Deployment", "deployments"},
                                       {"Service", "services"},
                                       {"ConfigMap", "configmaps"},
                                       {"Event", "events"},
                                       {"Pod", "pods"},
                                       {"Lease", "leases"}};
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (kind && !strcmp(kind, map[i][0])) return map[i][1];
  return NULL;
}

void fake_refuse(struct fake *f, const char *method, const char *plural, long code,
                 const char *reason, const char *message) {
  snprintf(f->refuse.method, sizeof f->refuse.method, "%s", method);
  snprintf(f->refuse.plural, sizeof f->refuse.plural, "%s", plural);
  snprintf(f->refuse.reason, sizeof f->refuse.reason, "%s", reason);
  snprintf(f->refuse.message, sizeof f->refuse.message, "%s", message);
  f->refuse.code = code;
}

void fake_accept(struct fake *f) { f->refuse.code = 0; }

json_object *fake_all(struct fake *f, const char *plural) {
  return fo_json_get_object(f->store, plural);
}

static json_object *table(struct fake *f, const char *plural) {
  json_object *t = fo_json_get_object(f->store, plural);
  if (!t) {
    t = json_object_new_object();
    json_object_object_add(f->store, plural, t);
  }
  return t;
}

static void key_of(char *out, size_t n, const char *ns, const char *name) {
  snprintf(out, n, "%s/%s", ns ? ns : "", name);
}

json_object *fake_get(struct fake *f, const char *plural, const char *ns, const char *name) {
  char k[512];
  key_of(k, sizeof k, ns, name);
  return fo_json_get_object(fo_json_get_object(f->store, plural), k);
}

json_object *fake_copy(struct fake *f, const char *plural, const char *ns, const char *name) {
  json_object *o = fake_get(f, plural, ns, name), *c = NULL;
  if (o) json_object_deep_copy(o, &c, NULL);
  return c;
}

static json_object *meta(json_object *o) { return fo_json_get_object(o, "metadata"); }

static void bump(struct fake *f, json_object *o) {
  char rv[32];
  snprintf(rv, sizeof rv, "%ld", ++f->rv);
  json_object_object_add(meta(o), "resourceVersion", json_object_new_string(rv));
}

static void store(struct fake *f, const char *plural, json_object *o) {
  json_object *m = meta(o);
  char k[512];
  key_of(k, sizeof k, fo_json_get_string(m, "namespace"), fo_json_get_string(m, "name"));
  if (!fo_json_get(m, "uid")) {
    char uid[64];
    snprintf(uid, sizeof uid, "uid-%ld", ++f->uid);
    json_object_object_add(m, "uid", json_object_new_string(uid));
  }
  if (!strcmp(plural, "flinkdeployments") && !fo_json_get(m, "generation"))
    json_object_object_add(m, "generation", json_object_new_int64(1));
  bump(f, o);
  json_object_object_add(table(f, plural), k, o);
}

int fake_put(struct fake *f, const char *text) {
  json_object *o = json_tokener_parse(text);
  const char *plural = plural_of(fo_json_get_string(o, "kind"));
  if (!o || !plural || !meta(o)) {
    json_object_put(o);
    return -EINVAL;
  }
  store(f, plural, o);
  return 0;
}

int fake_patch_spec(struct fake *f, const char *plural, const char *ns, const char *name,
                    const char *patch) {
  json_object *o = fake_get(f, plural, ns, name), *p = json_tokener_parse(patch);
  if (!o || !p) {
    json_object_put(p);
    return -EINVAL;
  }
  json_object *spec = fo_merge_patch_new(fo_json_get_object(o, "spec"), p);
  json_object_put(p);
  if (!json_object_equal(spec, fo_json_get_object(o, "spec"))) {
    int64_t g = 1;
    fo_json_as_int64(fo_json_get(meta(o), "generation"), &g);
    json_object_object_add(meta(o), "generation", json_object_new_int64(g + 1));
  }
  json_object_object_add(o, "spec", spec);
  bump(f, o);
  return 0;
}

/* ---- requests ---- */

struct req {
  char plural[64], ns[128], name[256], sub[32];
  char selector[256];
};

static void parse_path(const char *path, struct req *r) {
  memset(r, 0, sizeof *r);
  char p[1024];
  snprintf(p, sizeof p, "%s", path);
  char *q = strchr(p, '?');
  if (q) {
    *q++ = '\0';
    char *ls = strstr(q, "labelSelector=");
    if (ls) {
      ls += strlen("labelSelector=");
      size_t k = 0;
      for (; *ls && *ls != '&' && k + 1 < sizeof r->selector; ls++) {
        if (ls[0] == '%' && ls[1] && ls[2]) { /* %3D, %2C */
          char hex[3] = {ls[1], ls[2], 0};
          r->selector[k++] = (char)strtol(hex, NULL, 16);
          ls += 2;
        } else {
          r->selector[k++] = *ls;
        }
      }
    }
  }
  char *parts[12];
  int n = 0;
  for (char *t = strtok(p, "/"); t && n < 12; t = strtok(NULL, "/"))
    parts[n++] = t;                         /* NOLINT: test only */
  int i = !strcmp(parts[0], "api") ? 2 : 3; /* /api/v1 or /apis/group/version */
  if (i < n && !strcmp(parts[i], "namespaces") && i + 2 < n) {
    snprintf(r->ns, sizeof r->ns, "%s", parts[i + 1]);
    i += 2;
  } else if (i < n && !strcmp(parts[i], "namespaces") && i + 1 < n) { /* a namespace itself */
    snprintf(r->plural, sizeof r->plural, "namespaces");
    snprintf(r->name, sizeof r->name, "%s", parts[i + 1]);
    return;
  }
  if (i < n) snprintf(r->plural, sizeof r->plural, "%s", parts[i]);
  if (i + 1 < n) snprintf(r->name, sizeof r->name, "%s", parts[i + 1]);
  if (i + 2 < n) snprintf(r->sub, sizeof r->sub, "%s", parts[i + 2]);
}

static long reply(struct fake *f, long code, json_object *o, const char **data, size_t *len) {
  free(f->answer);
  f->answer = o ? strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)) : strdup("");
  json_object_put(o);
  *data = f->answer;
  *len = strlen(f->answer);
  return code;
}

static long status_reply(struct fake *f, long code, const char *reason, const char *msg,
                         const char **data, size_t *len) {
  json_object *s = json_object_new_object();
  json_object_object_add(s, "kind", json_object_new_string("Status"));
  json_object_object_add(s, "status", json_object_new_string("Failure"));
  json_object_object_add(s, "reason", json_object_new_string(reason));
  json_object_object_add(s, "message", json_object_new_string(msg));
  json_object_object_add(s, "code", json_object_new_int64(code));
  return reply(f, code, s, data, len);
}

static json_object *copy(json_object *o) {
  json_object *c = NULL;
  json_object_deep_copy(o, &c, NULL);
  return c;
}

static bool matches(json_object *o, const char *ns, const char *selector) {
  json_object *m = meta(o);
  if (*ns &&
      strcmp(fo_json_get_string(m, "namespace") ? fo_json_get_string(m, "namespace") : "", ns))
    return false;
  char sel[256];
  snprintf(sel, sizeof sel, "%s", selector);
  json_object *labels = fo_json_get_object(m, "labels");
  char *save = NULL;
  for (char *t = strtok_r(sel, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(t, '=');
    if (!eq) { /* "key": the label is there */
      if (!fo_json_get_string(labels, t)) return false;
      continue;
    }
    *eq = '\0';
    const char *v = fo_json_get_string(labels, t);
    if (!v || strcmp(v, eq + 1)) return false;
  }
  return true;
}

void fake_gc_blind(struct fake *f, const char *plural) {
  snprintf(f->gc_blind, sizeof f->gc_blind, "%s", plural ? plural : "");
}

/* Objects owned (ownerReferences) by uid go with it. */
static void collect_garbage(struct fake *f, const char *uid) {
  json_object_object_foreach(f->store, plural, t) {
    (void)plural;
    bool again = true;
    while (again) {
      again = false;
      json_object_object_foreach(t, k, o) {
        json_object *refs = fo_json_get_array(meta(o), "ownerReferences");
        for (size_t i = 0; refs && i < json_object_array_length(refs); i++) {
          const char *ou = fo_json_get_string(json_object_array_get_idx(refs, i), "uid");
          if (ou && !strcmp(ou, uid)) {
            char ck[512];
            snprintf(ck, sizeof ck, "%s", k);
            char myuid[64];
            snprintf(myuid, sizeof myuid, "%s",
                     fo_json_get_string(meta(o), "uid") ? fo_json_get_string(meta(o), "uid") : "");
            json_object_object_del(t, ck);
            collect_garbage(f, myuid);
            again = true;
            break;
          }
        }
        if (again) break;
      }
    }
  }
}

long fake_kube_transport(void *ud, const char *method, const char *path, const char *body,
                         const char **data, size_t *len) {
  struct fake *f = ud;
  if (f->killed) return 0;
  bool write = strcmp(method, "GET") != 0;
  if (write && f->kill_after >= 0 && (long)f->writes >= f->kill_after) {
    f->killed = true;
    return 0;
  }
  struct req r;
  parse_path(path, &r);
  char line[1400];
  const char *q = strchr(path, '?');
  snprintf(line, sizeof line, "%s %.*s\n", method, (int)(q ? (size_t)(q - path) : strlen(path)),
           path);
  fo_buf_puts(&f->log, line);
  if (write) f->writes++;
  if (f->refuse.code && !strcmp(method, f->refuse.method) && !strcmp(r.plural, f->refuse.plural))
    return status_reply(f, f->refuse.code, f->refuse.reason, f->refuse.message, data, len);
  json_object *t = table(f, r.plural);
  char k[512];
  key_of(k, sizeof k, r.ns, r.name);
  json_object *cur = fo_json_get_object(t, k);
  json_object *in = body ? json_tokener_parse(body) : NULL;
  long code = 200;
  json_object *out = NULL;
  if (!strcmp(method, "GET") && !*r.name) {
    json_object *items = json_object_new_array();
    json_object_object_foreach(t, ik, io) {
      (void)ik;
      if (matches(io, r.ns, r.selector)) json_object_array_add(items, copy(io));
    }
    out = json_object_new_object();
    json_object *m = json_object_new_object();
    char rv[32];
    snprintf(rv, sizeof rv, "%ld", f->rv);
    json_object_object_add(m, "resourceVersion", json_object_new_string(rv));
    json_object_object_add(out, "metadata", m);
    json_object_object_add(out, "items", items);
  } else if (!strcmp(method, "GET")) {
    if (!cur) return json_object_put(in), status_reply(f, 404, "NotFound", "not found", data, len);
    out = copy(cur);
  } else if (!strcmp(method, "POST")) {
    const char *name = fo_json_get_string(meta(in), "name");
    key_of(k, sizeof k, r.ns, name ? name : "");
    if (fo_json_get_object(t, k))
      return json_object_put(in),
             status_reply(f, 409, "AlreadyExists", "already exists", data, len);
    if (!fo_json_get(meta(in), "namespace"))
      json_object_object_add(meta(in), "namespace", json_object_new_string(r.ns));
    json_object *sspec = fo_json_get_object(in, "spec");
    if (!strcmp(r.plural, "services") && sspec && !fo_json_get(sspec, "clusterIP"))
      json_object_object_add(sspec, "clusterIP", json_object_new_string("10.96.0.10"));
    store(f, r.plural, in);
    in = NULL;
    out = copy(fo_json_get_object(t, k));
    code = 201;
  } else if (!strcmp(method, "PUT")) {
    if (!cur) return json_object_put(in), status_reply(f, 404, "NotFound", "not found", data, len);
    const char *have = fo_json_get_string(meta(cur), "resourceVersion"),
               *want = fo_json_get_string(meta(in), "resourceVersion");
    if (want && *want && (!have || strcmp(have, want)))
      return json_object_put(in),
             status_reply(f, 409, "Conflict", "the object has been modified", data, len);
    const char *ip_had = fo_json_get_string(fo_json_get_object(cur, "spec"), "clusterIP"),
               *ip_want = fo_json_get_string(fo_json_get_object(in, "spec"), "clusterIP");
    if (!strcmp(r.plural, "services") && ip_had && (!ip_want || strcmp(ip_had, ip_want)))
      return json_object_put(in),
             status_reply(f, 422, "Invalid", "spec.clusterIP: Invalid value: field is immutable",
                          data, len);
    if (!strcmp(r.sub, "status")) {
      json_object *st = fo_json_get(in, "status");
      json_object_object_add(cur, "status", json_object_get(st));
    } else {
      json_object *spec_before = copy(fo_json_get(cur, "spec"));
      json_object *st = json_object_get(fo_json_get(cur, "status"));
      json_object *m = copy(meta(in));
      /* a PUT replaces the object: what it leaves out goes (status and metadata aside) */
      for (bool again = true; again;) {
        again = false;
        json_object_object_foreach(cur, ok, ov) {
          (void)ov;
          if (strcmp(ok, "status") && strcmp(ok, "metadata") && !fo_json_get(in, ok)) {
            json_object_object_del(cur, ok);
            again = true;
            break;
          }
        }
      }
      json_object_object_foreach(in, ck, cv) {
        if (strcmp(ck, "status") && strcmp(ck, "metadata"))
          json_object_object_add(cur, ck, json_object_get(cv));
      }
      /* the server's own metadata stays: uid, generation, deletionTimestamp */
      json_object_object_foreach(meta(cur), mk, mv) {
        if (!strcmp(mk, "uid") || !strcmp(mk, "generation") || !strcmp(mk, "deletionTimestamp"))
          json_object_object_add(m, mk, json_object_get(mv));
      }
      json_object_object_add(cur, "metadata", m);
      if (st) json_object_object_add(cur, "status", st);
      if (!strcmp(r.plural, "flinkdeployments") &&
          !json_object_equal(spec_before, fo_json_get(cur, "spec"))) {
        int64_t g = 1;
        fo_json_as_int64(fo_json_get(meta(cur), "generation"), &g);
        json_object_object_add(meta(cur), "generation", json_object_new_int64(g + 1));
      }
      json_object_put(spec_before);
      /* a deleted object whose last finalizer went is gone */
      json_object *fin = fo_json_get_array(meta(cur), "finalizers");
      if (fo_json_get(meta(cur), "deletionTimestamp") && (!fin || !json_object_array_length(fin))) {
        char uid[64];
        snprintf(uid, sizeof uid, "%s", fo_json_get_string(meta(cur), "uid"));
        out = copy(cur);
        json_object_object_del(t, k);
        if (strcmp(r.plural, f->gc_blind)) collect_garbage(f, uid);
        json_object_put(in);
        return reply(f, 200, out, data, len);
      }
    }
    bump(f, cur);
    out = copy(cur);
  } else if (!strcmp(method, "PATCH")) {
    if (!cur) return json_object_put(in), status_reply(f, 404, "NotFound", "not found", data, len);
    /* a resourceVersion in the patch is a precondition, as in a PUT */
    const char *have = fo_json_get_string(meta(cur), "resourceVersion"),
               *want = fo_json_get_string(meta(in), "resourceVersion");
    if (want && *want && (!have || strcmp(have, want)))
      return json_object_put(in),
             status_reply(f, 409, "Conflict", "the object has been modified", data, len);
    json_object *merged = fo_merge_patch_new(cur, in);
    json_object_object_add(t, k, merged);
    bump(f, merged);
    out = copy(merged);
    /* a deleted object whose last finalizer went is gone */
    json_object *fin = fo_json_get_array(meta(merged), "finalizers");
    if (fo_json_get(meta(merged), "deletionTimestamp") &&
        (!fin || !json_object_array_length(fin))) {
      char uid[64];
      snprintf(uid, sizeof uid, "%s", fo_json_get_string(meta(merged), "uid"));
      json_object_object_del(t, k);
      if (strcmp(r.plural, f->gc_blind)) collect_garbage(f, uid);
    }
  } else if (!strcmp(method, "DELETE")) {
    if (!cur) return json_object_put(in), status_reply(f, 404, "NotFound", "not found", data, len);
    json_object *fin = fo_json_get_array(meta(cur), "finalizers");
    const char *prop = fo_json_get_string(in, "propagationPolicy");
    if (prop && !strcmp(prop, "Foreground") && !strcmp(r.plural, "deployments")) {
      /* its pods take a while to stop: the object stays, deleting, until the next tick */
      if (!fo_json_get(meta(cur), "deletionTimestamp")) {
        json_object_object_add(meta(cur), "deletionTimestamp",
                               json_object_new_string("2026-12-01T00:00:00Z"));
        bump(f, cur);
      }
      out = copy(cur);
      code = 202;
    } else if (fin && json_object_array_length(fin)) {
      if (!fo_json_get(meta(cur), "deletionTimestamp")) {
        json_object_object_add(meta(cur), "deletionTimestamp",
                               json_object_new_string("2026-12-01T00:00:00Z"));
        bump(f, cur);
      }
      out = copy(cur);
    } else {
      char uid[64];
      snprintf(uid, sizeof uid, "%s",
               fo_json_get_string(meta(cur), "uid") ? fo_json_get_string(meta(cur), "uid") : "");
      out = copy(cur);
      json_object_object_del(t, k);
      if (strcmp(r.plural, f->gc_blind)) collect_garbage(f, uid);
    }
  } else {
    json_object_put(in);
    return status_reply(f, 405, "MethodNotAllowed", method, data, len);
  }
  json_object_put(in);
  return reply(f, code, out, data, len);
}

/* ---- the JobManager ---- */

static const char *config_value(const char *conf, const char *key, char *out, size_t n) {
  char needle[256];
  snprintf(needle, sizeof needle, "\"%s\": \"", key); /* config.yaml: JSON-quoted */
  const char *p = conf ? strstr(conf, needle) : NULL;
  char end = '"';
  if (!p && conf) { /* flink-conf.yaml (Flink before 1.19): "key: value" at a line's start */
    snprintf(needle, sizeof needle, "\n%s: ", key);
    size_t kl = strlen(key);
    if (!strncmp(conf, key, kl) && !strncmp(conf + kl, ": ", 2)) p = conf - 1;
    else p = strstr(conf, needle);
    end = '\n';
  }
  if (!p) return NULL;
  p += strlen(needle);
  size_t k = 0;
  for (; *p && *p != end && k + 1 < n; p++) out[k++] = *p;
  out[k] = '\0';
  return out;
}

void fake_tick(struct fake *f) {
  f->now_ms += 1000;
  json_object *deps = fo_json_get_object(f->store, "deployments");
  for (bool again = deps != NULL;
       again;) { /* deployments being deleted are gone now, with their pods */
    again = false;
    json_object_object_foreach(deps, dk, dd) {
      if (!fo_json_get(meta(dd), "deletionTimestamp")) continue;
      char key[512], uid[64];
      snprintf(key, sizeof key, "%s", dk);
      snprintf(uid, sizeof uid, "%s",
               fo_json_get_string(meta(dd), "uid") ? fo_json_get_string(meta(dd), "uid") : "");
      json_object_object_del(deps, key);
      collect_garbage(f, uid);
      again = true;
      break;
    }
  }
  json_object *jm = NULL;
  json_object_object_foreach(deps ? deps : f->store, k, d) {
    (void)k;
    if (!deps) break;
    const char *comp = fo_json_get_string(fo_json_get_object(meta(d), "labels"), "component");
    if (!comp || strcmp(comp, "jobmanager")) continue;
    jm = d;
    int64_t want = 1, ready = 0;
    fo_json_as_int64(fo_json_get(fo_json_get_object(d, "spec"), "replicas"), &want);
    fo_json_as_int64(fo_json_get(fo_json_get_object(d, "status"), "readyReplicas"), &ready);
    if (ready != want) { /* the deployment controller */
      json_object *st = json_object_new_object();
      json_object_object_add(st, "readyReplicas", json_object_new_int64(want));
      json_object_object_add(d, "status", st);
      bump(f, d);
    }
  }
  if (!jm) {
    f->fl.up = false;
    return;
  }
  const char *uid = fo_json_get_string(meta(jm), "uid");
  if (f->fl.up && uid && strcmp(uid, f->jm_uid))
    f->fl.up = false; /* a new Deployment: its own pod */
  if (f->broken) f->fl.up = false;
  if (!f->fl.up && !f->broken) { /* the JobManager starts the job its configuration names */
    const char *name = fo_json_get_string(meta(jm), "name"),
               *ns = fo_json_get_string(meta(jm), "namespace");
    char cmn[300];
    snprintf(cmn, sizeof cmn, "flink-config-%s", name);
    json_object *data = fo_json_get_object(fake_get(f, "configmaps", ns, cmn), "data");
    const char *conf = fo_json_get_string(data, "flink-conf.yaml");
    if (!conf) conf = fo_json_get_string(data, "config.yaml");
    if (!conf) return; /* no configuration: the container would not start */
    char v[256];
    f->fl.up = true;
    snprintf(f->jm_uid, sizeof f->jm_uid, "%s", uid ? uid : "");
    snprintf(f->fl.job_id, sizeof f->fl.job_id, "%.32s",
             config_value(conf, "$internal.pipeline.job-id", v, sizeof v) ? v : "");
    snprintf(f->fl.restored_from, sizeof f->fl.restored_from, "%s",
             config_value(conf, "execution.savepoint.path", v, sizeof v) ? v : "");
    f->fl.last_checkpoint[0] = 0;
    f->fl.pending_checkpoint_ms = 0;
    if (config_value(conf, "execution.target", v, sizeof v) && !strcmp(v, "kubernetes-session")) {
      f->fl.job_state[0] = '\0'; /* a session cluster: it runs what is sent to it */
      f->fl.restored_from[0] = '\0';
      return;
    }
    snprintf(f->fl.job_state, sizeof f->fl.job_state, "RUNNING");
    f->fl.starts++;
    f->fl.checkpoints = 0;
    f->fl.restarts = 0;
    f->job_start_ms = f->now_ms;
    json_object *cms = fo_json_get_object(f->store, "configmaps");
    if (cms) {
      json_object_object_foreach(cms, ck, cm) {
        (void)ck;
        json_object *l = fo_json_get_object(meta(cm), "labels");
        const char *app = fo_json_get_string(l, "app"),
                   *type = fo_json_get_string(l, "configmap-type");
        const char *hn = fo_json_get_string(meta(cm), "name");
        if (!app || !type || !hn || strcmp(app, name) || strcmp(type, "high-availability"))
          continue;
        size_t hl = strlen(hn);
        if (hl >= 19 && !strcmp(hn + hl - 19, "-cluster-config-map")) { /* another job's graph */
          json_object_object_foreach(fo_json_get_object(cm, "data"), gk, gv) {
            (void)gv;
            if (!strncmp(gk, "jobGraph-", 9) && strcmp(gk + 9, f->fl.job_id))
              f->fl.stale_ha_starts++;
          }
        } else if (!strstr(hn, f->fl.job_id)) { /* another job's checkpoints */
          f->fl.stale_ha_starts++;
        }
      }
    }
    f->fl.parallelism =
        config_value(conf, "parallelism.default", v, sizeof v) ? atoi(v) : 1; /* NOLINT */
    bool ha = config_value(conf, "high-availability.type", v, sizeof v) && !strcmp(v, "kubernetes");
    char ccm[400], graph_key[64];
    snprintf(ccm, sizeof ccm, "%s-cluster-config-map", name);
    snprintf(graph_key, sizeof graph_key, "jobGraph-%s", f->fl.job_id);
    const char *stored = fo_json_get_string(
        fo_json_get_object(fake_get(f, "configmaps", ns, ccm), "data"), graph_key);
    if (ha && stored) f->fl.parallelism = atoi(stored); /* NOLINT: test only */
    f->fl.adaptive =
        config_value(conf, "jobmanager.scheduler", v, sizeof v) && !strcasecmp(v, "adaptive");
    f->fl.vertex_lower = 1; /* the adaptive scheduler's bounds: 1 to the parallelism */
    f->fl.vertex_upper = f->fl.parallelism;
    if (ha) { /* the job graph, in the cluster's HA ConfigMap */
      json_object *c = fake_get(f, "configmaps", ns, ccm);
      if (!c) {
        char text[700];
        snprintf(text, sizeof text,
                 "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"%s\","
                 "\"namespace\":\"%s\","
                 "\"labels\":{\"app\":\"%s\",\"configmap-type\":\"high-availability\",\"type\":"
                 "\"flink-native-kubernetes\"}},\"data\":{}}",
                 ccm, ns, name);
        fake_put(f, text);
        c = fake_get(f, "configmaps", ns, ccm);
      }
      json_object *cd = fo_json_get_object(c, "data");
      char par[16];
      snprintf(par, sizeof par, "%d", f->fl.parallelism);
      if (cd && !stored) json_object_object_add(cd, graph_key, json_object_new_string(par));
    }
    if (ha) {
      /* Kubernetes HA: the job's ConfigMap with a checkpoint pointer, owned by nobody */
      char cm[1024];
      snprintf(cm, sizeof cm,
               "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"%s-%s-"
               "config-map\",\"namespace\":\"%s\","
               "\"labels\":{\"app\":\"%s\",\"configmap-type\":\"high-availability\",\"type\":"
               "\"flink-native-kubernetes\"}},"
               "\"data\":{\"checkpointID-0000000000000000001\":\"pointer\",\"counter\":\"2\"}}",
               name, f->fl.job_id, ns, name);
      char cmname[400];
      snprintf(cmname, sizeof cmname, "%s-%s-config-map", name, f->fl.job_id);
      if (!fake_get(f, "configmaps", ns, cmname)) fake_put(f, cm);
      fake_flink_checkpoint(f);
    }
    return;
  }
  for (size_t i = 0; i < f->n_sps; i++) { /* savepoints in flight complete */
    struct savepoint *s = &f->sps[i];
    if (s->done) continue;
    s->done = true;
    if (f->fail_next) {
      f->fail_next = false;
      s->failed = true;
      continue;
    }
    snprintf(s->location, sizeof s->location, "file:/savepoints/savepoint-%d", ++f->fl.savepoints);
    snprintf(f->fl.last_savepoint, sizeof f->fl.last_savepoint, "%s", s->location);
    if (s->stop) snprintf(f->fl.job_state, sizeof f->fl.job_state, "FINISHED");
  }
}

void fake_flink_view(struct fake *f, struct fake_flink_view *ret) { *ret = f->fl; }
void fake_flink_fail_next_savepoint(struct fake *f) { f->fail_next = true; }
void fake_flink_fail_next_checkpoint(struct fake *f) { f->fail_next_cp = true; }
void fake_flink_restarts(struct fake *f, int n) { f->fl.restarts += n; }

void fake_clock_now(struct fake *f) { f->now_ms = (long)fo_clock_ms(); }

void fake_flink_checkpoint_begin(struct fake *f, long ms) { f->fl.pending_checkpoint_ms = ms; }
void fake_flink_checkpoint(struct fake *f) {
  f->fl.pending_checkpoint_ms = 0;
  snprintf(f->fl.last_checkpoint, sizeof f->fl.last_checkpoint, "file:/checkpoints/%s/chk-%d",
           f->fl.job_id, ++f->fl.checkpoints);
}
void fake_flink_set_job_state(struct fake *f, const char *state) {
  snprintf(f->fl.job_state, sizeof f->fl.job_state, "%s", state);
}
void fake_flink_submit(struct fake *f, const char *job_id) {
  snprintf(f->fl.job_id, sizeof f->fl.job_id, "%.32s", job_id);
  snprintf(f->fl.job_state, sizeof f->fl.job_state, "RUNNING");
  f->fl.starts++;
}
void fake_flink_unavailable(struct fake *f, bool on) { f->unavailable = on; }

void fake_flink_break(struct fake *f, bool broken) {
  f->broken = broken;
  if (broken) f->fl.up = false;
}

/* {"id": n, "external_path": path, key: ms}, or null without a path. */
static json_object *checkpoint_json(const char *path, int id, const char *key, long ms) {
  if (!*path) return NULL;
  json_object *c = json_object_new_object();
  json_object_object_add(c, "id", json_object_new_int(id));
  json_object_object_add(c, "external_path", json_object_new_string(path));
  json_object_object_add(c, key, json_object_new_int64(ms));
  return c;
}

static struct savepoint *find_sp(struct fake *f, const char *trigger) {
  for (size_t i = 0; i < f->n_sps; i++)
    if (!strcmp(f->sps[i].trigger, trigger)) return &f->sps[i];
  return NULL;
}

long fake_flink_transport(void *ud, const char *method, const char *path, const char *body,
                          const char **data, size_t *len) {
  struct fake *f = ud;
  if (f->killed || !f->fl.up) return 0; /* nothing listens */
  if (f->unavailable) return status_reply(f, 503, "ServiceUnavailable", "shutting down", data, len);
  char line[1100];
  snprintf(line, sizeof line, "FLINK %s %s\n", method, path);
  fo_buf_puts(&f->log, line);
  char jid[64] = "", rest[256] = "";
  sscanf(path, "/jobs/%32[0-9a-f]%255s", jid, rest);
  bool ours = *jid && !strcmp(jid, f->fl.job_id);
  if (!strcmp(path, "/jobs/overview")) {
    json_object *o = json_object_new_object(), *jobs = json_object_new_array();
    if (*f->fl.job_id) {
      json_object *j = json_object_new_object(), *t = json_object_new_object();
      json_object_object_add(j, "jid", json_object_new_string(f->fl.job_id));
      json_object_object_add(j, "name", json_object_new_string("State machine job"));
      json_object_object_add(j, "state", json_object_new_string(f->fl.job_state));
      json_object_object_add(j, "start-time", json_object_new_int64(f->job_start_ms));
      json_object_object_add(t, "total", json_object_new_int(1));
      json_object_object_add(t, "running",
                             json_object_new_int(!strcmp(f->fl.job_state, "RUNNING")));
      json_object_object_add(j, "tasks", t);
      json_object_array_add(jobs, j);
    }
    json_object_object_add(o, "jobs", jobs);
    return reply(f, 200, o, data, len);
  }
  if (!strcmp(method, "POST") && !strcmp(path, "/savepoint-disposal")) {
    json_object *b = body ? json_tokener_parse(body) : NULL;
    const char *sp = fo_json_get_string(b, "savepoint-path");
    f->fl.disposed++;
    snprintf(f->fl.last_disposed, sizeof f->fl.last_disposed, "%s", sp ? sp : "");
    json_object_put(b);
    return reply(f, 202, json_tokener_parse("{\"request-id\":\"d1590sa1\"}"), data, len);
  }
  if (!ours)
    return reply(f, 404, json_tokener_parse("{\"errors\":[\"Job not found\"]}"), data, len);
  json_object *in = body ? json_tokener_parse(body) : NULL;
  if ((!strcmp(method, "POST") && (!strcmp(rest, "/stop") || !strcmp(rest, "/savepoints")))) {
    const char *trig = fo_json_get_string(in, "triggerId");
    if (!trig || strlen(trig) != 32 || strcmp(f->fl.job_state, "RUNNING")) {
      json_object_put(in);
      return reply(f, 409, json_tokener_parse("{\"errors\":[\"job not running\"]}"), data, len);
    }
    if (!find_sp(f, trig) && f->n_sps < 64) { /* the same trigger id is the same savepoint */
      struct savepoint *s = &f->sps[f->n_sps++];
      memset(s, 0, sizeof *s);
      snprintf(s->trigger, sizeof s->trigger, "%s", trig);
      s->stop = !strcmp(rest, "/stop");
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "request-id", json_object_new_string(trig));
    json_object_put(in);
    return reply(f, 202, o, data, len);
  }
  if (!strcmp(method, "POST") && !strcmp(rest, "/checkpoints")) {
    /* a checkpoint asked for: taken at once (or failed); the same trigger id is the same one */
    const char *trig = fo_json_get_string(in, "triggerId");
    const char *type = fo_json_get_string(in, "checkpointType");
    if (!trig || strlen(trig) != 32 || strcmp(f->fl.job_state, "RUNNING")) {
      json_object_put(in);
      return reply(f, 409, json_tokener_parse("{\"errors\":[\"job not running\"]}"), data, len);
    }
    bool known = false;
    for (size_t i = 0; i < f->n_cps; i++) known |= !strcmp(f->cps[i].trigger, trig);
    if (!known && f->n_cps < 64) {
      struct cp_trigger *c = &f->cps[f->n_cps++];
      snprintf(c->trigger, sizeof c->trigger, "%s", trig);
      f->fl.triggered_checkpoints++;
      snprintf(f->fl.last_checkpoint_type, sizeof f->fl.last_checkpoint_type, "%s",
               type ? type : "");
      if (f->fail_next_cp) {
        f->fail_next_cp = false;
        c->id = 0;
      } else {
        fake_flink_checkpoint(f);
        c->id = f->fl.checkpoints;
      }
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "request-id", json_object_new_string(trig));
    json_object_put(in);
    return reply(f, 202, o, data, len);
  }
  json_object_put(in);
  if (!strcmp(method, "GET") && !strncmp(rest, "/checkpoints/", 13)) {
    for (size_t i = 0; i < f->n_cps; i++) {
      if (strcmp(f->cps[i].trigger, rest + 13)) continue;
      char t[256];
      if (f->cps[i].id)
        snprintf(t, sizeof t,
                 "{\"status\":{\"id\":\"COMPLETED\"},\"operation\":{\"checkpointId\":%d}}",
                 f->cps[i].id);
      else
        snprintf(t, sizeof t,
                 "{\"status\":{\"id\":\"COMPLETED\"},\"operation\":{\"failureCause\":{"
                 "\"class\":\"java.lang.Exception\",\"stack-trace\":\"checkpoint declined\"}}}");
      return reply(f, 200, json_tokener_parse(t), data, len);
    }
    return reply(f, 404, json_tokener_parse("{\"errors\":[\"unknown trigger\"]}"), data, len);
  }
  if (!strcmp(method, "GET") && !strncmp(rest, "/savepoints/", 12)) {
    struct savepoint *s = find_sp(f, rest + 12);
    if (!s)
      return reply(f, 404, json_tokener_parse("{\"errors\":[\"unknown trigger\"]}"), data, len);
    json_object *o = json_object_new_object(), *st = json_object_new_object();
    json_object_object_add(st, "id", json_object_new_string(s->done ? "COMPLETED" : "IN_PROGRESS"));
    json_object_object_add(o, "status", st);
    if (s->done) {
      json_object *op = json_object_new_object();
      if (s->failed)
        json_object_object_add(
            op, "failure-cause",
            json_tokener_parse(
                "{\"class\":\"java.lang.Exception\",\"stack-trace\":\"savepoint failed\"}"));
      else json_object_object_add(op, "location", json_object_new_string(s->location));
      json_object_object_add(o, "operation", op);
    }
    return reply(f, 200, o, data, len);
  }
  if (!strcmp(method, "PATCH") && !strcmp(rest, "?mode=cancel")) {
    snprintf(f->fl.job_state, sizeof f->fl.job_state, "CANCELED");
    return reply(f, 202, json_object_new_object(), data, len);
  }
  if (!strcmp(rest, "/resource-requirements") && ours) {
    /* Flink 1.18+: served by the adaptive scheduler only (the default one refuses) */
    if (!f->fl.adaptive)
      return status_reply(f, 500, "InternalServerError",
                          "The scheduler does not support declarative resource requirements", data,
                          len);
    if (!strcmp(method, "PUT")) {
      json_object *b = body ? json_tokener_parse(body) : NULL;
      json_object *par = fo_json_path(b, FAKE_VERTEX, "parallelism", (const char *)NULL);
      int64_t lo = 0, hi = 0;
      if (!par || !fo_json_as_int64(fo_json_get(par, "lowerBound"), &lo) ||
          !fo_json_as_int64(fo_json_get(par, "upperBound"), &hi) || lo < 1 || hi < lo) {
        json_object_put(b);
        return status_reply(f, 400, "BadRequest", "bad requirements", data, len);
      }
      json_object_put(b);
      f->fl.vertex_lower = (int)lo;
      f->fl.vertex_upper = (int)hi;
      f->fl.parallelism = (int)hi; /* rescaled in place: the same job */
      f->fl.requirement_puts++;
      return reply(f, 200, json_object_new_object(), data, len);
    }
    json_object *o = json_object_new_object(), *v = json_object_new_object(),
                *par = json_object_new_object();
    json_object_object_add(par, "lowerBound", json_object_new_int(f->fl.vertex_lower));
    json_object_object_add(par, "upperBound", json_object_new_int(f->fl.vertex_upper));
    json_object_object_add(v, "parallelism", par);
    json_object_object_add(o, FAKE_VERTEX, v);
    return reply(f, 200, o, data, len);
  }
  if (!strcmp(method, "GET") &&
      !strcmp(rest, "/metrics?get=fullRestarts,numRestarts,numberOfCompletedCheckpoints")) {
    json_object *a = json_object_new_array();
    static const char *const ids[] = {"numRestarts", "numberOfCompletedCheckpoints"};
    for (int i = 0; i < 2; i++) { /* Flink 1.x and 2.x: fullRestarts is no more */
      json_object *m = json_object_new_object();
      char v[24];
      snprintf(v, sizeof v, "%d", i ? f->fl.checkpoints : f->fl.restarts);
      json_object_object_add(m, "id", json_object_new_string(ids[i]));
      json_object_object_add(m, "value", json_object_new_string(v));
      json_object_array_add(a, m);
    }
    return reply(f, 200, a, data, len);
  }
  if (!strcmp(method, "GET") && !strcmp(rest, "/checkpoints")) {
    json_object *o = json_object_new_object(), *c = json_object_new_object(),
                *l = json_object_new_object();
    json_object_object_add(c, "completed", json_object_new_int(f->fl.checkpoints));
    json_object_object_add(o, "counts", c);
    json_object_object_add(
        l, "completed",
        checkpoint_json(f->fl.last_checkpoint, f->fl.checkpoints, "trigger_timestamp", f->now_ms));
    json_object_object_add(l, "savepoint", NULL);
    json_object_object_add(l, "restored",
                           checkpoint_json(f->fl.restored_from, 0, "restore_timestamp", f->now_ms));
    json_object_object_add(o, "latest", l);
    json_object *hist = json_object_new_array();
    if (f->fl.pending_checkpoint_ms) { /* newest first, as Flink lists them */
      json_object *pc = json_object_new_object();
      json_object_object_add(pc, "id", json_object_new_int(f->fl.checkpoints + 1));
      json_object_object_add(pc, "status", json_object_new_string("IN_PROGRESS"));
      json_object_object_add(pc, "trigger_timestamp",
                             json_object_new_int64(f->fl.pending_checkpoint_ms));
      json_object_array_add(hist, pc);
    }
    json_object_object_add(o, "history", hist);
    return reply(f, 200, o, data, len);
  }
  if (!strcmp(method, "GET") && !strcmp(rest, "/exceptions"))
    return reply(f, 200, json_tokener_parse("{\"exceptionHistory\":{\"entries\":[]}}"), data, len);
  return reply(f, 404, json_tokener_parse("{\"errors\":[\"Not found\"]}"), data, len);
}

const char *fake_log(struct fake *f) { return f->log.data ? f->log.data : ""; }
size_t fake_writes(struct fake *f) { return f->writes; }

void fake_log_clear(struct fake *f) {
  fo_buf_free(&f->log);
  fo_buf_init(&f->log, 1 << 24);
  fo_buf_append(&f->log, "", 0);
}

void fake_kill_after(struct fake *f, long writes) { f->kill_after = (long)f->writes + writes; }

void fake_revive(struct fake *f) {
  f->killed = false;
  f->kill_after = -1;
}

bool fake_killed(struct fake *f) { return f->killed; }
