#include "flinkop/compres.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "flinkop/buf.h"
#include "flinkop/flinkconf.h"

static bool nonempty_map(const struct fo_jv *m) { return fo_jv_is(m, FO_JOBJECT) && m->n > 0; }

bool fo_compres_has_requirements(const struct fo_jv *resources) {
  return nonempty_map(fo_jv_get(resources, "requests")) ||
         nonempty_map(fo_jv_get(resources, "limits"));
}

int fo_compres_quantity(const struct fo_jv *v, double *ret, const char **ret_why) {
  if (fo_jv_is(v, FO_JINT) || fo_jv_is(v, FO_JDOUBLE)) {
    *ret = fo_jv_number(v);
    return 0;
  }
  if (fo_jv_is(v, FO_JSTRING)) return fo_quantity_parse(v->u.s, ret, ret_why);
  *ret_why = "a quantity is a string such as 500m or 2Gi, or a number";
  return -EINVAL;
}

/* A memory amount (a Flink size, else a Kubernetes quantity; a number is bytes) into bytes and
 * the text Flink reads. */
static int memory_of(const struct fo_jv *v, uint64_t *bytes, char *text, size_t n,
                     const char **why) {
  char num[48];
  const char *s = NULL;
  if (fo_jv_is(v, FO_JSTRING)) {
    s = v->u.s;
  } else if (fo_jv_is(v, FO_JINT) || fo_jv_is(v, FO_JDOUBLE)) {
    snprintf(num, sizeof num, "%.17g", fo_jv_number(v));
    s = num;
  } else {
    *why = "a quantity is a string such as 500m or 2Gi, or a number";
    return -EINVAL;
  }
  int r = fo_memory_parse(s, bytes, why);
  if (r < 0) return r;
  if (fo_memory_is_flink_size(s) && strlen(s) < n) snprintf(text, n, "%s", s);
  else snprintf(text, n, "%llu", (unsigned long long)*bytes);
  return 0;
}

/* The request, else the limit, of `key`. */
static const struct fo_jv *request_or_limit(const struct fo_compres *o, const char *key) {
  const struct fo_jv *v = fo_jv_get(o->requests, key);
  return v ? v : fo_jv_get(o->limits, key);
}

void fo_compres_read(const struct fo_component *c, struct fo_compres *out) {
  memset(out, 0, sizeof *out);
  const char *why;
  if (!fo_compres_has_requirements(c->resources)) {
    const struct fo_resource *r = &c->resource;
    if (r->memory &&
        memory_of(
            &(struct fo_jv){.type = FO_JSTRING, .n = (uint32_t)strlen(r->memory), .u.s = r->memory},
            &out->memory_bytes, out->memory, sizeof out->memory, &why) == 0)
      out->memory_set = true;
    out->cpu_set = r->cpu_set;
    out->cpu = r->cpu;
    if (r->ephemeral_storage && *r->ephemeral_storage)
      out->ephemeral_storage = r->ephemeral_storage;
    return;
  }
  out->requests = fo_jv_get_object(c->resources, "requests");
  out->limits = fo_jv_get_object(c->resources, "limits");
  const struct fo_jv *m = request_or_limit(out, "memory");
  if (m && memory_of(m, &out->memory_bytes, out->memory, sizeof out->memory, &why) == 0)
    out->memory_set = true;
  const struct fo_jv *cpu = request_or_limit(out, "cpu");
  if (cpu && fo_compres_quantity(cpu, &out->cpu, &why) == 0) out->cpu_set = true;
  /* limit / request, where both are given and the request is positive */
  double rq, lm;
  uint64_t rb, lb;
  char t[48];
  const struct fo_jv *cr = fo_jv_get(out->requests, "cpu"), *cl = fo_jv_get(out->limits, "cpu");
  if (cr && cl && fo_compres_quantity(cr, &rq, &why) == 0 &&
      fo_compres_quantity(cl, &lm, &why) == 0 && rq > 0) {
    out->cpu_factor_set = true;
    out->cpu_factor = lm / rq;
  }
  const struct fo_jv *mr = fo_jv_get(out->requests, "memory"),
                     *ml = fo_jv_get(out->limits, "memory");
  if (mr && ml && memory_of(mr, &rb, t, sizeof t, &why) == 0 &&
      memory_of(ml, &lb, t, sizeof t, &why) == 0 && rb > 0) {
    out->memory_factor_set = true;
    out->memory_factor = (double)lb / (double)rb;
  }
}

/* The quantity as the message shows it: as written. */
static void shown(const struct fo_jv *v, char *out, size_t n) {
  if (fo_jv_is(v, FO_JSTRING)) snprintf(out, n, "%.200s", v->u.s);
  else if (fo_jv_is(v, FO_JINT) || fo_jv_is(v, FO_JDOUBLE)) snprintf(out, n, "%g", fo_jv_number(v));
  else snprintf(out, n, "?");
}

static int check_section(struct fo_buf *b, const char *who, const char *section,
                         const struct fo_jv *m) {
  int r = 0;
  for (uint32_t i = 0; r == 0 && fo_jv_is(m, FO_JOBJECT) && i < m->n; i++) {
    const char *key = m->u.members[i].key;
    const struct fo_jv *v = &m->u.members[i].v;
    if (v->type == FO_JNULL) continue;
    char q[256];
    shown(v, q, sizeof q);
    const char *why = NULL;
    const char *sep = b->len ? "; " : "";
    if (!strcmp(key, "memory")) {
      uint64_t bytes;
      char t[48];
      if (memory_of(v, &bytes, t, sizeof t, &why) < 0)
        r = fo_buf_printf(b, "%s%s resource requirements %s memory parse error: '%s' is %s", sep,
                          who, section, q, why);
      else if (bytes == 0)
        r = fo_buf_printf(b, "%s%s resource requirements %s memory must be positive: %s", sep, who,
                          section, q);
    } else {
      double d;
      if (fo_compres_quantity(v, &d, &why) < 0)
        r = fo_buf_printf(b, "%s%s resource requirements %s %.100s parse error: %s", sep, who,
                          section, key, why);
      else if (!strcmp(key, "cpu") && d <= 0)
        r = fo_buf_printf(b, "%s%s resource requirements %s cpu must be positive: %s", sep, who,
                          section, q);
      else if (d < 0)
        r = fo_buf_printf(b, "%s%s resource requirements %s %.100s must not be negative: %s", sep,
                          who, section, key, q);
    }
  }
  return r;
}

static int check_not_above(struct fo_buf *b, const char *who, const struct fo_jv *res,
                           const char *key) {
  const struct fo_jv *rq = fo_jv_get(fo_jv_get_object(res, "requests"), key),
                     *lm = fo_jv_get(fo_jv_get_object(res, "limits"), key);
  if (!rq || !lm) return 0;
  double a, z;
  const char *why;
  char t[48];
  uint64_t ab, zb;
  if (!strcmp(key, "memory")) {
    if (memory_of(rq, &ab, t, sizeof t, &why) < 0 || memory_of(lm, &zb, t, sizeof t, &why) < 0)
      return 0; /* said by check_section */
    a = (double)ab;
    z = (double)zb;
  } else if (fo_compres_quantity(rq, &a, &why) < 0 || fo_compres_quantity(lm, &z, &why) < 0) {
    return 0;
  }
  if (a <= z) return 0;
  char qa[256], qz[256];
  shown(rq, qa, sizeof qa);
  shown(lm, qz, sizeof qz);
  return fo_buf_printf(b,
                       "%s%s resource requirements %s request (%s) must not exceed its limit (%s)",
                       b->len ? "; " : "", who, key, qa, qz);
}

int fo_compres_check(struct fo_findings *e, const char *who, const char *path,
                     const struct fo_jv *resources) {
  if (!fo_jv_is(resources, FO_JOBJECT)) return 0;
  struct fo_buf b;
  fo_buf_init(&b, 64 * 1024);
  int r = check_section(&b, who, "requests", fo_jv_get(resources, "requests"));
  if (r == 0) r = check_section(&b, who, "limits", fo_jv_get(resources, "limits"));
  if (r == 0) r = check_not_above(&b, who, resources, "cpu");
  if (r == 0) r = check_not_above(&b, who, resources, "memory");
  if ((r == 0 || r == -E2BIG) && b.len) r = fo_findings_add(e, path, "%s", b.data);
  fo_buf_free(&b);
  return r;
}
