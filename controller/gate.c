#include "gate.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller.h"
#include "flinkop/clock.h"
#include "flinkop/log.h"

static void fault_kill_before_write(const char *key) {
  static atomic_long count;
  const char *spec = getenv("FO_FAULT_KILL_BEFORE_WRITE");
  const char *colon = spec && key ? strrchr(spec, ':') : NULL;
  if (!colon || strncmp(spec, key, (size_t)(colon - spec)) || key[colon - spec] != '\0') return;
  char *end;
  long n = strtol(colon + 1, &end, 10);
  if (*end || n <= 0) return;
  if (atomic_fetch_add(&count, 1) + 1 == n) {
    fo_log("warning", "fault injection: killed before a write", "\"object\":\"%s\",\"write\":%ld",
           fo_log_str(key), n);
    raise(SIGKILL);
  }
}

/* "create", "update", ... and "plural[/sub]" with the object's name, read from the request. */
static const char *verb_of(const char *method) {
  return !strcmp(method, "POST")     ? "create"
         : !strcmp(method, "PUT")    ? "update"
         : !strcmp(method, "PATCH")  ? "patch"
         : !strcmp(method, "DELETE") ? "delete"
                                     : method;
}

static void what_of(const char *path, char *what, size_t wn, char *target, size_t tn) {
  /* .../namespaces/<ns>/<plural>[/<name>[/<sub>]][?query], or .../<plural>[/<name>] */
  const char *q = strchr(path, '?');
  size_t len = q ? (size_t)(q - path) : strlen(path);
  char p[1024];
  snprintf(p, sizeof p, "%.*s", (int)(len < sizeof p ? len : sizeof p - 1), path);
  char *rest = strstr(p, "/namespaces/");
  if (rest) rest = strchr(rest + strlen("/namespaces/"), '/');
  else rest = strrchr(p, '/'); /* cluster-scoped: the last part is the plural (a create) */
  const char *plural = rest ? rest + 1 : p, *name = "", *sub = NULL;
  char *s1 = rest ? strchr(rest + 1, '/') : NULL;
  if (s1) {
    *s1 = '\0';
    name = s1 + 1;
    char *s2 = strchr(s1 + 1, '/');
    if (s2) {
      *s2 = '\0';
      sub = s2 + 1;
    }
  }
  snprintf(what, wn, "%.60s%s%.60s", plural, sub ? "/" : "", sub ? sub : "");
  snprintf(target, tn, "%.*s", (int)(tn - 1), name);
}

int gate_check(void *ud, const char *method, const char *path) {
  struct gate *g = ud;
  fault_kill_before_write(g->key);
  char what[128], target[512];
  what_of(path, what, sizeof what, target, sizeof target);
  const char *verb = verb_of(method);
  if (g->may_act && !g->may_act()) {
    fo_log("warning", "write skipped: not the leader",
           "\"verb\":\"%s\",\"what\":\"%s\",\"object\":\"%s\"", verb, what, fo_log_str(g->key));
    return -EPERM;
  }
  fo_log("info", "write",
         "\"identity\":\"%s\",\"verb\":\"%s\",\"what\":\"%s\",\"object\":\"%s\",\"target\":\"%s\","
         "\"unixMs\":%lld",
         fo_log_str(g->identity), verb, what, fo_log_str(g->key), fo_log_str(target),
         (long long)fo_clock_ms());
  ctl_metrics_write();
  return 0;
}
