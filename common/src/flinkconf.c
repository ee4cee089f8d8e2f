#include "flinkop/flinkconf.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "flinkop/buf.h"
#include "flinkop/yaml.h"

static int scalar_text(json_object *v, struct fo_buf *out);

static int array_text(json_object *arr, struct fo_buf *out) {
  size_t n = json_object_array_length(arr);
  for (size_t i = 0; i < n; i++) {
    if (i && fo_buf_putc(out, ';') < 0) return -ENOMEM;
    json_object *e = json_object_array_get_idx(arr, i);
    int r =
        e && (json_object_is_type(e, json_type_object) || json_object_is_type(e, json_type_array))
            ? fo_json_write(out, e)
            : scalar_text(e, out);
    if (r < 0) return -ENOMEM;
  }
  return 0;
}

static int scalar_text(json_object *v, struct fo_buf *out) {
  if (!v) return 0;
  if (json_object_is_type(v, json_type_array)) return array_text(v, out);
  return fo_buf_puts(out, json_object_get_string(v)) < 0 ? -ENOMEM : 0;
}

static int flatten(json_object *dst, json_object *src, struct fo_buf *prefix) {
  json_object_object_foreach(src, k, v) {
    size_t mark = prefix->len;
    if ((mark && fo_buf_putc(prefix, '.') < 0) || fo_buf_puts(prefix, k) < 0) return -ENOMEM;
    int r = 0;
    if (v && json_object_is_type(v, json_type_object)) {
      r = flatten(dst, v, prefix);
    } else if (v) {
      struct fo_buf t;
      fo_buf_init(&t, SIZE_MAX / 2);
      r = fo_buf_append(&t, "", 0) < 0 ? -ENOMEM : scalar_text(v, &t);
      json_object *s = r == 0 ? json_object_new_string_len(t.data, (int)t.len) : NULL;
      fo_buf_free(&t);
      if (!s || json_object_object_add(dst, prefix->data, s) != 0) {
        json_object_put(s);
        r = -ENOMEM;
      }
    }
    prefix->len = mark;
    prefix->data[mark] = '\0';
    if (r < 0) return r;
  }
  return 0;
}

int fo_conf_flatten_into(json_object *dst, json_object *src) {
  if (!src || !json_object_is_type(src, json_type_object)) return -EINVAL;
  struct fo_buf prefix;
  fo_buf_init(&prefix, SIZE_MAX / 2);
  int r = fo_buf_append(&prefix, "", 0) < 0 ? -ENOMEM : flatten(dst, src, &prefix);
  fo_buf_free(&prefix);
  return r;
}

json_object *fo_conf_effective_new(json_object *defaults, json_object *flink_configuration) {
  json_object *conf = json_object_new_object();
  if (!conf) return NULL;
  if (defaults && json_object_is_type(defaults, json_type_object) &&
      fo_conf_flatten_into(conf, defaults) < 0)
    goto fail;
  if (flink_configuration && json_object_is_type(flink_configuration, json_type_object) &&
      fo_conf_flatten_into(conf, flink_configuration) < 0)
    goto fail;
  return conf;
fail:
  json_object_put(conf);
  return NULL;
}

int fo_conf_load_file(const char *path, json_object **ret, struct fo_parse_error *err) {
  *ret = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) {
    int e = errno;
    fo_parse_error_set(err, 0, 0, "cannot open %s: %s", path, strerror(e));
    return -e;
  }
  const struct fo_limits *lim = fo_limits_default();
  struct fo_buf b;
  fo_buf_init(&b, lim->doc_bytes);
  char chunk[8192];
  size_t n;
  int r = fo_buf_append(&b, "", 0);
  while (r == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0) r = fo_buf_append(&b, chunk, n);
  bool rerr = ferror(f);
  fclose(f);
  if (r < 0 || rerr) {
    fo_parse_error_set(err, 0, 0, "cannot read %s: %s", path,
                       r == -E2BIG ? "file too large" : "read error");
    fo_buf_free(&b);
    return r < 0 ? r : -EIO;
  }
  struct fo_yaml_doc *docs;
  size_t nd;
  r = fo_yaml_parse(b.data, b.len, lim, &docs, &nd, err);
  fo_buf_free(&b);
  if (r < 0) return r;
  json_object *conf = json_object_new_object();
  if (!conf) r = -ENOMEM;
  for (size_t i = 0; r == 0 && i < nd; i++) {
    if (!json_object_is_type(docs[i].root, json_type_object)) {
      fo_parse_error_set(err, docs[i].line, 1, "%s: configuration must be a mapping", path);
      r = -EINVAL;
    } else {
      r = fo_conf_flatten_into(conf, docs[i].root);
    }
  }
  fo_yaml_docs_free(docs, nd);
  if (r < 0) {
    json_object_put(conf);
    return r;
  }
  *ret = conf;
  return 0;
}

const char *fo_conf_get(json_object *conf, const char *key) {
  return fo_json_get_string(conf, key);
}

/* The value whose flattened name (see flatten) is key[0..tlen), under a prefix that matched
 * key[0..plen): the last one in document order, as flattening overwrites. */
static const struct fo_jv *flat_find(const struct fo_jv *o, const char *key, size_t tlen,
                                     size_t plen, unsigned depth) {
  const struct fo_jv *found = NULL;
  if (depth > 64) return NULL;
  for (uint32_t i = 0; i < o->n; i++) {
    const struct fo_jm *m = &o->u.members[i];
    if (m->v.type == FO_JNULL) continue;
    size_t at = plen;
    if (plen) {
      if (key[plen] != '.') continue;
      at++;
    }
    size_t kl = strlen(m->key);
    if (kl > tlen - at || memcmp(key + at, m->key, kl) != 0) continue;
    size_t nlen = at + kl;
    const struct fo_jv *v = NULL;
    if (m->v.type == FO_JOBJECT) {
      if (nlen < tlen) v = flat_find(&m->v, key, tlen, nlen, depth + 1);
    } else if (nlen == tlen) {
      v = &m->v;
    }
    if (v) found = v;
  }
  return found;
}

/* The text flattening gives a value that is not an object. */
static const char *view_text(struct fo_conf_view *cv, const struct fo_jv *v) {
  char num[32];
  switch (v->type) {
  case FO_JSTRING: return v->u.s;
  case FO_JBOOL: return v->u.b ? "true" : "false";
  case FO_JINT: snprintf(num, sizeof num, "%" PRId64, v->u.i); break;
  case FO_JDOUBLE:
    if (v->u.num.text) return v->u.num.text;
    snprintf(num, sizeof num, "%.17g", v->u.num.d);
    break;
  case FO_JARRAY: {
    json_object *arr;
    struct fo_buf t;
    fo_buf_init(&t, SIZE_MAX / 2);
    int r = fo_jv_to_json(v, &arr);
    if (r == 0) r = fo_buf_append(&t, "", 0) < 0 ? -ENOMEM : scalar_text(arr, &t);
    json_object_put(arr);
    const char *res = r == 0 && cv->arena ? fo_arena_strndup(cv->arena, t.data, t.len) : NULL;
    fo_buf_free(&t);
    if (!res) cv->oom = true;
    return res;
  }
  default: return NULL;
  }
  const char *res = cv->arena ? fo_arena_strndup(cv->arena, num, strlen(num)) : NULL;
  if (!res) cv->oom = true;
  return res;
}

const char *fo_conf_view_get(struct fo_conf_view *cv, const char *key) {
  if (cv->spec && cv->spec->type == FO_JOBJECT) {
    const struct fo_jv *v = flat_find(cv->spec, key, strlen(key), 0, 0);
    if (v) return view_text(cv, v);
  }
  return fo_conf_get(cv->defaults, key);
}

static bool blank(const char *s) {
  if (!s) return true;
  for (; *s; s++)
    if (!isspace((unsigned char)*s)) return false;
  return true;
}

bool fo_conf_view_ha_enabled(struct fo_conf_view *cv) {
  const char *v = fo_conf_view_get(cv, "high-availability.type");
  if (blank(v)) v = fo_conf_view_get(cv, "high-availability");
  return !blank(v) && strcasecmp(v, "NONE") != 0;
}

static const char *first_set(struct fo_conf_view *cv, const char *a, const char *b) {
  const char *v = fo_conf_view_get(cv, a);
  if (!blank(v)) return v;
  v = fo_conf_view_get(cv, b);
  return blank(v) ? NULL : v;
}

const char *fo_conf_view_checkpoint_dir(struct fo_conf_view *cv) {
  return first_set(cv, "state.checkpoints.dir", "execution.checkpointing.dir");
}

const char *fo_conf_view_savepoint_dir(struct fo_conf_view *cv) {
  return first_set(cv, "state.savepoints.dir", "execution.checkpointing.savepoint-dir");
}

bool fo_conf_view_checkpoint_interval_set(struct fo_conf_view *cv) {
  const char *v = fo_conf_view_get(cv, "execution.checkpointing.interval");
  return !blank(v) && strcmp(v, "0") != 0;
}

bool fo_conf_ha_enabled(json_object *conf) {
  struct fo_conf_view cv = {.defaults = conf};
  return fo_conf_view_ha_enabled(&cv);
}

const char *fo_conf_checkpoint_dir(json_object *conf) {
  struct fo_conf_view cv = {.defaults = conf};
  return fo_conf_view_checkpoint_dir(&cv);
}

const char *fo_conf_savepoint_dir(json_object *conf) {
  struct fo_conf_view cv = {.defaults = conf};
  return fo_conf_view_savepoint_dir(&cv);
}

bool fo_conf_checkpoint_interval_set(json_object *conf) {
  struct fo_conf_view cv = {.defaults = conf};
  return fo_conf_view_checkpoint_interval_set(&cv);
}

/* Flink MemorySize: digits, optional whitespace, optional unit. */
static int flink_memory(const char *s, uint64_t *ret) {
  static const struct {
    const char *name;
    unsigned shift;
  } units[] = {{"b", 0},   {"bytes", 0},      {"k", 10}, {"kb", 10}, {"kibibytes", 10}, {"m", 20},
               {"mb", 20}, {"mebibytes", 20}, {"g", 30}, {"gb", 30}, {"gibibytes", 30}, {"t", 40},
               {"tb", 40}, {"tebibytes", 40}};
  const char *p = s;
  while (isspace((unsigned char)*p)) p++;
  if (!isdigit((unsigned char)*p)) return -EINVAL;
  uint64_t v = 0;
  while (isdigit((unsigned char)*p)) {
    if (v > (UINT64_MAX - 9) / 10) return -ERANGE;
    v = v * 10 + (uint64_t)(*p++ - '0');
  }
  while (isspace((unsigned char)*p)) p++;
  size_t ul = strlen(p);
  while (ul && isspace((unsigned char)p[ul - 1])) ul--;
  if (ul == 0) {
    *ret = v;
    return 0;
  }
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    if (strlen(units[i].name) == ul && strncasecmp(p, units[i].name, ul) == 0) {
      if (units[i].shift && v > (UINT64_MAX >> units[i].shift)) return -ERANGE;
      *ret = v << units[i].shift;
      return 0;
    }
  }
  return -EINVAL;
}

int fo_quantity_parse(const char *s, double *ret_value, const char **ret_why) {
  static const struct {
    const char *suffix;
    double mult;
  } sfx[] = {{"Ki", 1024.0},
             {"Mi", 1048576.0},
             {"Gi", 1073741824.0},
             {"Ti", 1099511627776.0},
             {"Pi", 1125899906842624.0},
             {"Ei", 1152921504606846976.0},
             {"n", 1e-9},
             {"u", 1e-6},
             {"m", 1e-3},
             {"", 1.0},
             {"k", 1e3},
             {"M", 1e6},
             {"G", 1e9},
             {"T", 1e12},
             {"P", 1e15},
             {"E", 1e18}};
  const char *p = s;
  if (!*p) {
    *ret_why = "empty quantity";
    return -EINVAL;
  }
  if (*p == '+' || *p == '-') p++;
  const char *num = p;
  bool dot = false;
  while (isdigit((unsigned char)*p) || (*p == '.' && !dot)) {
    if (*p == '.') dot = true;
    p++;
  }
  if (p == num || (p == num + 1 && *num == '.')) {
    *ret_why =
        "quantities must match the regular expression "
        "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
    return -EINVAL;
  }
  char *end;
  double v = strtod(s, &end);
  if (end != p) {
    *ret_why = "invalid number";
    return -EINVAL;
  }
  if (*p == 'e' || *p == 'E') {
    const char *q = p + 1;
    if (*q == '+' || *q == '-') q++;
    if (isdigit((unsigned char)*q)) {
      while (isdigit((unsigned char)*q)) q++;
      if (*q) {
        *ret_why = "unable to parse quantity's suffix";
        return -EINVAL;
      }
      double e = strtod(p + 1, NULL);
      *ret_value = v * pow(10.0, e);
      return isfinite(*ret_value) ? 0 : (*ret_why = "quantity out of range", -EINVAL);
    }
  }
  for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
    if (strcmp(p, sfx[i].suffix) == 0) {
      *ret_value = v * sfx[i].mult;
      return 0;
    }
  }
  *ret_why = "unable to parse quantity's suffix";
  return -EINVAL;
}

bool fo_memory_is_flink_size(const char *s) {
  uint64_t b;
  return s && flink_memory(s, &b) == 0;
}

int fo_memory_parse(const char *s, uint64_t *ret_bytes, const char **ret_why) {
  uint64_t b;
  int r = flink_memory(s, &b);
  if (r == 0) {
    *ret_bytes = b;
    return 0;
  }
  if (r == -ERANGE) {
    *ret_why = "too large for a 64-bit number of bytes";
    return -EINVAL;
  }
  double q;
  const char *why;
  if (fo_quantity_parse(s, &q, &why) == 0) {
    if (q < 0) {
      *ret_why = "a negative amount";
      return -EINVAL;
    }
    if (q >= 1.8e19) {
      *ret_why = "too large for a 64-bit number of bytes";
      return -EINVAL;
    }
    *ret_bytes = (uint64_t)q;
    return 0;
  }
  *ret_why =
      "not a Flink memory size (a number with an optional unit b, k, m, g, t, kb, mb, gb, "
      "tb) nor a Kubernetes quantity (e.g. 1.5Gi, 2G)";
  return -EINVAL;
}

int fo_limit_factor_parse(const char *s, double *ret) {
  *ret = 1.0;
  if (!s) return 0;
  char *end = NULL;
  double f = strtod(s, &end);
  if (end == s || *end != '\0' || !(f >= 1.0 && f <= 1000.0)) return -EINVAL;
  *ret = f;
  return 0;
}

int fo_duration_parse(const char *s, int64_t *ret_ms) {
  static const struct {
    const char *unit;
    double ms;
  } units[] = {{"", 1},
               {"d", 86400000},
               {"day", 86400000},
               {"days", 86400000},
               {"h", 3600000},
               {"hour", 3600000},
               {"hours", 3600000},
               {"min", 60000},
               {"m", 60000},
               {"minute", 60000},
               {"minutes", 60000},
               {"s", 1000},
               {"sec", 1000},
               {"secs", 1000},
               {"second", 1000},
               {"seconds", 1000},
               {"ms", 1},
               {"milli", 1},
               {"millis", 1},
               {"millisecond", 1},
               {"milliseconds", 1},
               {"us", 1e-3},
               {"micro", 1e-3},
               {"micros", 1e-3},
               {"microsecond", 1e-3},
               {"microseconds", 1e-3},
               {"ns", 1e-6},
               {"nano", 1e-6},
               {"nanos", 1e-6},
               {"nanosecond", 1e-6},
               {"nanoseconds", 1e-6}};
  *ret_ms = 0;
  if (!s) return -EINVAL;
  while (*s == ' ' || *s == '\t') s++;
  const char *d = s;
  uint64_t n = 0;
  for (; *d >= '0' && *d <= '9'; d++) {
    if (n > 1000000000000000ULL) return -EINVAL; /* (no overflow below) */
    n = n * 10 + (uint64_t)(*d - '0');
  }
  if (d == s) return -EINVAL;
  while (*d == ' ' || *d == '\t') d++;
  size_t len = strlen(d);
  while (len && (d[len - 1] == ' ' || d[len - 1] == '\t')) len--;
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    if (strlen(units[i].unit) != len || strncasecmp(units[i].unit, d, len)) continue;
    double ms = (double)n * units[i].ms;
    if (ms > 366.0 * 86400000.0) return -EINVAL;
    *ret_ms = (int64_t)ms;
    return 0;
  }
  return -EINVAL;
}

/* ---- map options ---- */

#define MAP_MAX_TEXT 4096
#define MAP_MAX_ENTRIES 64

/* The next part of `s` up to an unquoted `sep` (or the end), unquoted and trimmed, into `out`
 * (at most `n` bytes). Returns the position after the separator (or the end), NULL on an
 * unterminated quote or a part too long. */
static const char *map_part(const char *s, const char *seps, char *out, size_t n, char *ret_sep) {
  size_t k = 0;
  while (*s == ' ' || *s == '\t') s++;
  *ret_sep = 0;
  if (*s == '\'' || *s == '"') {
    char q = *s++;
    for (;;) {
      if (!*s) return NULL;
      if (*s == q && s[1] == q) s++;
      else if (*s == q) break;
      if (k + 1 >= n) return NULL;
      out[k++] = *s++;
    }
    s++;
    while (*s == ' ' || *s == '\t') s++;
    if (*s && !strchr(seps, *s)) return NULL; /* text after the closing quote */
  } else {
    while (*s && !strchr(seps, *s)) {
      if (k + 1 >= n) return NULL;
      out[k++] = *s++;
    }
    while (k && (out[k - 1] == ' ' || out[k - 1] == '\t')) k--;
  }
  out[k] = 0;
  *ret_sep = *s;
  return *s ? s + 1 : s;
}

int fo_conf_map_parse(const char *s, bool list, json_object **ret, const char **ret_why) {
  *ret = NULL;
  *ret_why = NULL;
  if (s && strlen(s) > MAP_MAX_TEXT) {
    *ret_why = "longer than 4096 characters";
    return -EINVAL;
  }
  json_object *all = list ? json_object_new_array() : NULL;
  json_object *cur = json_object_new_object();
  if ((list && !all) || !cur) goto oom;
  char key[MAP_MAX_TEXT + 1], val[MAP_MAX_TEXT + 1];
  size_t entries = 0;
  const char *p = s ? s : "";
  while (*p == ' ' || *p == '\t') p++;
  while (*p) {
    char sep = 0;
    p = map_part(p, list ? ":,;" : ":,", key, sizeof key, &sep);
    if (!p || sep != ':' || !*key) {
      *ret_why = "each entry is key:value (quote a key or value holding , ; or :)";
      goto bad;
    }
    p = map_part(p, list ? ":,;" : ":,", val, sizeof val, &sep);
    if (!p || sep == ':') {
      *ret_why = p ? "each entry is key:value (quote a key or value holding , ; or :)"
                   : "an unterminated quote or an entry too long";
      goto bad;
    }
    if (++entries > MAP_MAX_ENTRIES) {
      *ret_why = "more than 64 entries";
      goto bad;
    }
    json_object *v = json_object_new_string(val);
    if (!v || json_object_object_add(cur, key, v)) {
      json_object_put(v);
      goto oom;
    }
    if (list && (sep == ';' || !*p)) {
      if (json_object_array_add(all, cur)) goto oom;
      cur = json_object_new_object();
      if (!cur) goto oom;
    }
  }
  if (list) {
    json_object_put(cur);
    *ret = all;
  } else {
    *ret = cur;
  }
  return 0;
bad:
  json_object_put(cur);
  json_object_put(all);
  return -EINVAL;
oom:
  json_object_put(cur);
  json_object_put(all);
  return -ENOMEM;
}

const char *fo_rest_service_type(const char *v) {
  static const char *const types[] = {"ClusterIP", "NodePort", "LoadBalancer",
                                      "Headless_ClusterIP"};
  for (size_t i = 0; v && i < sizeof types / sizeof types[0]; i++)
    if (!strcasecmp(v, types[i])) return types[i];
  return NULL;
}

int64_t fo_conf_duration(json_object *conf, const char *key, int64_t def) {
  const char *v = conf ? fo_conf_get(conf, key) : NULL;
  int64_t ms;
  return v && fo_duration_parse(v, &ms) == 0 ? ms : def;
}

int64_t fo_conf_stats_cache_ms(json_object *conf) {
  int64_t web = fo_conf_duration(conf, "web.refresh-interval", 3000);
  return fo_conf_duration(conf, "rest.cache.checkpoint-statistics.timeout", web);
}

int64_t fo_conf_stats_wait_ms(json_object *conf, int64_t seen_ms, int64_t now_ms) {
  int64_t cache = fo_conf_stats_cache_ms(conf);
  if (cache <= 0) return 0;
  int64_t left = seen_ms + cache + 500 - now_ms; /* (500 ms: a slow answer, a clock step) */
  return left > 0 ? left : 0;
}

bool fo_conf_bool(json_object *conf, const char *key, bool def) {
  const char *v = conf ? fo_conf_get(conf, key) : NULL;
  return v ? !strcasecmp(v, "true") : def;
}

int64_t fo_conf_whole(json_object *conf, const char *key, int64_t min, int64_t max, int64_t def) {
  const char *v = conf ? fo_conf_get(conf, key) : NULL;
  char *end = NULL;
  errno = 0;
  long long n = v ? strtoll(v, &end, 10) : 0;
  return !v || errno || end == v || *end || n < min || n > max ? def : n;
}
