#include "savepoint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "events.h"
#include "flinkop/clock.h"
#include "flinkop/flinkconf.h"
#include "flinkop/log.h"

void sp_new_id(char out[33]) {
  static const char hex[] = "0123456789abcdef";
  unsigned char b[16] = {0};
  FILE *f = fopen("/dev/urandom", "rb");
  if (f) {
    if (fread(b, 1, sizeof b, f) != sizeof b) memset(b, 0, sizeof b);
    fclose(f);
  }
  for (int i = 0; i < 16; i++) {
    out[2 * i] = hex[b[i] >> 4];
    out[2 * i + 1] = hex[b[i] & 15];
  }
  out[32] = '\0';
}

struct fo_savepoint_info *sp_info(struct pass *p) {
  p->st.has_job_status = true;
  p->st.job_status.has_savepoint_info = true;
  return &p->st.job_status.savepoint_info;
}

/* Flink takes the caller's trigger id from 1.15 on; 1.14 and before refuse a request that carries
 * one (their REST API reads request bodies strictly) and choose their own. */
static bool caller_trigger_id(const struct pass *p) {
  return fo_flink1_minor(p->spec.flink_version) >= 15;
}

/* Sends the request carrying our trigger id; to a Flink that chooses its own, without it, and its
 * id is recorded instead (a pass that dies before that write leaves one savepoint unrecorded: the
 * next asks for another). A refusal is said in a Warning event (once per message). */
static int send(struct pass *p, struct fo_flink *f, bool stop) {
  struct fo_savepoint_info *s = sp_info(p);
  const char *dir = fo_conf_savepoint_dir(p->conf);
  const char *ours = caller_trigger_id(p) ? s->trigger_id : NULL;
  char *t = NULL;
  int r = stop ? fo_flink_stop_with_savepoint(f, p->st.job_status.job_id, dir, false, ours, &t)
               : fo_flink_trigger_savepoint(f, p->st.job_status.job_id, dir, false, ours, &t);
  if (r == 0 && !ours && t) {
    pass_set(p, &s->trigger_id, t);
    pass_finish(p);
    r = pass_write_status(p);
  } else if (r < 0 && fo_flink_last_http_code(f) >= 400 && fo_flink_last_http_code(f) < 500) {
    char msg[600];
    snprintf(msg, sizeof msg, "Flink refused the savepoint request (HTTP %ld): %s",
             fo_flink_last_http_code(f), fo_flink_last_error(f));
    event_record(p->k, p->obj, "Warning", "SavepointError", msg);
  }
  free(t);
  return r;
}

void sp_mark(struct pass *p, const char *type) {
  struct fo_savepoint_info *s = sp_info(p);
  char id[33];
  sp_new_id(id);
  pass_set(p, &s->trigger_id, id);
  pass_set(p, &s->trigger_type, type);
  s->trigger_timestamp = (struct fo_opt_int){true, fo_clock_ms()};
}

void sp_send(struct pass *p, struct fo_flink *f, bool stop) {
  send(p, f, stop); /* not sent (Flink down, say): sp_poll sends it again with the same id */
}

int sp_begin(struct pass *p, struct fo_flink *f, const char *type, bool stop) {
  sp_mark(p, type);
  pass_finish(p);
  int r = pass_write_status(p); /* the id is recorded before the request */
  if (r < 0) return r;
  sp_send(p, f, stop);
  return 0;
}

int sp_poll(struct pass *p, struct fo_flink *f, bool stop, char **ret_loc, char **ret_fail) {
  struct fo_savepoint_info *s = sp_info(p);
  struct fo_flink_savepoint_status ss;
  *ret_loc = *ret_fail = NULL;
  int r = fo_flink_savepoint_status(f, p->st.job_status.job_id, s->trigger_id, &ss);
  if (r == -ENOENT) { /* Flink does not know it: the request never reached it. The same id asks
                       * for that one savepoint, never a second one. */
    r = send(p, f, stop);
    return r < 0 ? r : 0;
  }
  if (r < 0) return r;
  int done = 0;
  if (ss.state == FO_FLINK_OP_COMPLETED) {
    *ret_loc = ss.location;
    ss.location = NULL;
    done = 1;
  } else if (ss.state == FO_FLINK_OP_FAILED) {
    *ret_fail = ss.failure_cause ? ss.failure_cause : strdup("savepoint failed");
    ss.failure_cause = NULL;
    if (!*ret_fail) done = -ENOMEM;
    else done = 1;
  }
  fo_flink_savepoint_status_free(&ss);
  return done;
}

static int fill(struct fo_savepoint *sp, struct fo_opt_int ts, const char *location,
                const char *type, struct fo_opt_int nonce) {
  sp->time_stamp = ts;
  sp->location = strdup(location);
  sp->trigger_type = strdup(type);
  sp->format_type = strdup("CANONICAL");
  sp->trigger_nonce = nonce;
  return sp->location && sp->trigger_type && sp->format_type ? 0 : -ENOMEM;
}

void sp_record(struct pass *p, const char *location, const char *type, struct fo_opt_int nonce) {
  if (!location) return; /* COMPLETED always carries one (flinkrest.c); never record a NULL */
  struct fo_savepoint_info *s = sp_info(p);
  struct fo_opt_int ts =
      s->trigger_timestamp.set ? s->trigger_timestamp : (struct fo_opt_int){true, fo_clock_ms()};
  struct fo_savepoint sp = {0};
  free(s->last.location);
  free(s->last.trigger_type);
  free(s->last.format_type);
  s->has_last = true;
  /* a savepoint recorded without its location, or left out of the history, would be lost */
  if (fill(&s->last, ts, location, type, nonce) < 0 || fill(&sp, ts, location, type, nonce) < 0)
    pass_nomem(p);
  struct fo_savepoint *h = realloc(s->history, (s->n_history + 1) * sizeof *h);
  if (h) {
    s->history = h;
    s->history[s->n_history++] = sp;
  } else {
    pass_nomem(p);
    free(sp.location);
    free(sp.trigger_type);
    free(sp.format_type);
  }
  s->has_history = true;
}

void sp_clear(struct pass *p) {
  struct fo_savepoint_info *s = sp_info(p);
  pass_set(p, &s->trigger_id, NULL);
  pass_set(p, &s->trigger_type, NULL);
  s->trigger_timestamp.set = false;
}

int sp_trim(struct pass *p, struct fo_flink *f) {
  struct fo_savepoint_info *si = &p->st.job_status.savepoint_info;
  if (si->n_history < 2) return 0;
  int64_t max_count =
      fo_conf_whole(p->conf, "kubernetes.operator.savepoint.history.max.count", 0, 100000, 10);
  int64_t max_age = fo_conf_duration(p->conf, "kubernetes.operator.savepoint.history.max.age",
                                     24LL * 3600 * 1000);
  const char *cl = fo_conf_get(p->conf, "kubernetes.operator.savepoint.cleanup.enabled");
  bool dispose = !cl || strcasecmp(cl, "false") != 0;
  const char *keep = p->st.job_status.upgrade_savepoint_path;
  int64_t now = fo_clock_ms();
  size_t n = si->n_history, kept = 0;
  int gone = 0;
  for (size_t i = 0; i < n; i++) {
    struct fo_savepoint *e = &si->history[i];
    bool newest = i + 1 == n;
    bool over = (int64_t)(n - i) > (max_count < 1 ? 1 : max_count) ||
                (e->time_stamp.set && now - e->time_stamp.v > max_age);
    bool needed = newest || (keep && e->location && !strcmp(keep, e->location));
    char *trig = NULL;
    if (over && !needed && dispose && e->location &&
        fo_flink_dispose_savepoint(f, e->location, &trig) < 0) {
      over = false; /* Flink did not take it: kept, tried again later */
      fo_log("warning", "savepoint disposal not taken; kept in the history",
             "\"object\":\"%s\",\"location\":\"%s\"", fo_log_str(p->key), fo_log_str(e->location));
    }
    free(trig);
    if (over && !needed) {
      fo_log("info", "savepoint history trimmed",
             "\"object\":\"%s\",\"location\":\"%s\",\"disposed\":%s", fo_log_str(p->key),
             fo_log_str(e->location), dispose ? "true" : "false");
      free(e->location);
      free(e->trigger_type);
      free(e->format_type);
      gone++;
      continue;
    }
    si->history[kept++] = *e;
  }
  si->n_history = kept;
  return gone;
}
