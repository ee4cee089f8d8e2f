#include "flinkop/yaml.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "flinkop/buf.h"

struct yr {
  yaml_parser_t parser;
  const struct fo_limits *lim;
  struct fo_parse_error *err;
  size_t nodes;
  int rc;
};

static void yr_fail_at(struct yr *y, int rc, const yaml_mark_t *m, const char *what,
                       const char *detail) {
  if (y->rc) return;
  y->rc = rc;
  fo_parse_error_set(y->err, (unsigned)m->line + 1, (unsigned)m->column + 1, "%s%s%s", what,
                     detail ? ": " : "", detail ? detail : "");
}

static void yr_parser_error(struct yr *y) {
  if (y->rc) return;
  const yaml_parser_t *p = &y->parser;
  if (p->error == YAML_MEMORY_ERROR) {
    y->rc = -ENOMEM;
    fo_parse_error_set(y->err, 0, 0, "out of memory");
    return;
  }
  char ctx[512];
  snprintf(ctx, sizeof ctx, "%s%s%s", p->problem ? p->problem : "invalid YAML",
           p->context ? " " : "", p->context ? p->context : "");
  yr_fail_at(y, -EINVAL, &p->problem_mark, ctx, NULL);
}

static int yr_next(struct yr *y, yaml_event_t *ev) {
  if (!yaml_parser_parse(&y->parser, ev)) {
    yr_parser_error(y);
    return -1;
  }
  return 0;
}

/* Shortest decimal text that reads back as d, Go-json-like (no exponent for integers < 1e21). */
static void format_double(double d, char *out, size_t n) {
  if (d == floor(d) && fabs(d) < 1e21) {
    snprintf(out, n, "%.0f", d);
    return;
  }
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(out, n, "%.*g", prec, d);
    if (strtod(out, NULL) == d) return;
  }
}

static bool match_float(const char *s) {
  /* ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
  const char *p = s;
  if (*p == '+' || *p == '-') p++;
  if (*p == '.') {
    p++;
    if (!(*p >= '0' && *p <= '9')) return false;
    while (*p >= '0' && *p <= '9') p++;
  } else {
    if (!(*p >= '0' && *p <= '9')) return false;
    while (*p >= '0' && *p <= '9') p++;
    if (*p == '.') {
      p++;
      while (*p >= '0' && *p <= '9') p++;
    }
  }
  if (*p == 'e' || *p == 'E') {
    p++;
    if (*p == '+' || *p == '-') p++;
    if (!(*p >= '0' && *p <= '9')) return false;
    while (*p >= '0' && *p <= '9') p++;
  }
  return *p == '\0';
}

/* Go strconv.ParseInt(s, 0, 64) on an underscore-free string. */
static bool parse_go_int(const char *s, int64_t *ret) {
  const char *p = s;
  bool neg = false;
  if (*p == '+' || *p == '-') neg = *p++ == '-';
  int base = 10;
  if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
    base = 16;
    p += 2;
  } else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O')) {
    base = 8;
    p += 2;
  } else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B')) {
    base = 2;
    p += 2;
  } else if (p[0] == '0' && p[1]) {
    base = 8;
    p += 1;
  }
  if (!*p) return false;
  uint64_t v = 0;
  for (; *p; p++) {
    int d;
    char c = *p;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return false;
    if (d >= base) return false;
    if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base) return false;
    v = v * (uint64_t)base + (uint64_t)d;
  }
  if (neg) {
    if (v > (uint64_t)INT64_MAX + 1) return false;
    *ret = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
  } else {
    if (v > (uint64_t)INT64_MAX) return false;
    *ret = (int64_t)v;
  }
  return true;
}

static bool in_list(const char *s, const char *const *list) {
  for (; *list; list++)
    if (strcmp(s, *list) == 0) return true;
  return false;
}

int fo_yaml_resolve_plain(const char *s, size_t n, json_object **ret) {
  static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
  static const char *const trues[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                      "True", "TRUE", "on",  "On",  "ON",  NULL};
  static const char *const falses[] = {"n",     "N",     "no",  "No",  "NO",  "false",
                                       "False", "FALSE", "off", "Off", "OFF", NULL};
  static const char *const specials[] = {".inf",  ".Inf",  ".INF",  "+.inf", "+.Inf",
                                         "+.INF", "-.inf", "-.Inf", "-.INF", ".nan",
                                         ".NaN",  ".NAN",  NULL};
  *ret = NULL;
  if (strlen(s) != n) return -EINVAL; /* embedded NUL */
  if (in_list(s, nulls)) return 0;
  if (in_list(s, trues) || in_list(s, falses)) {
    *ret = json_object_new_boolean(in_list(s, trues));
    return *ret ? 0 : -ENOMEM;
  }
  if (in_list(s, specials)) return -EINVAL;
  char c = s[0];
  if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.') {
    if (n < 80) {
      char plain[80];
      size_t k = 0;
      for (size_t i = 0; i < n; i++)
        if (s[i] != '_') plain[k++] = s[i];
      plain[k] = '\0';
      int64_t iv;
      if (parse_go_int(plain, &iv)) {
        *ret = json_object_new_int64(iv);
        return *ret ? 0 : -ENOMEM;
      }
      if (match_float(plain)) {
        double d = strtod(plain, NULL);
        if (!isfinite(d)) return -EINVAL;
        char txt[40];
        format_double(d, txt, sizeof txt);
        *ret = json_object_new_double_s(d, txt);
        return *ret ? 0 : -ENOMEM;
      }
    }
  }
  *ret = json_object_new_string_len(s, (int)n);
  return *ret ? 0 : -ENOMEM;
}

static bool yr_count(struct yr *y, const yaml_mark_t *m) {
  if (++y->nodes > y->lim->nodes) {
    char d[64];
    snprintf(d, sizeof d, "more than %zu values", y->lim->nodes);
    yr_fail_at(y, -E2BIG, m, "document too large", d);
    return false;
  }
  return true;
}

static json_object *yr_scalar(struct yr *y, yaml_event_t *ev) {
  const char *v = (const char *)ev->data.scalar.value;
  size_t n = ev->data.scalar.length;
  if (n > y->lim->string_bytes) {
    char d[64];
    snprintf(d, sizeof d, "longer than %zu bytes", y->lim->string_bytes);
    yr_fail_at(y, -E2BIG, &ev->start_mark, "scalar too long", d);
    return NULL;
  }
  const char *tag = (const char *)ev->data.scalar.tag;
  bool force_str = tag && strcmp(tag, YAML_STR_TAG) == 0;
  if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || force_str) {
    if (strlen(v) != n) {
      yr_fail_at(y, -EINVAL, &ev->start_mark, "NUL character in string is not supported", NULL);
      return NULL;
    }
    json_object *o = json_object_new_string_len(v, (int)n);
    if (!o) yr_fail_at(y, -ENOMEM, &ev->start_mark, "out of memory", NULL);
    return o;
  }
  json_object *o;
  int r = fo_yaml_resolve_plain(v, n, &o);
  if (r == -EINVAL) yr_fail_at(y, -EINVAL, &ev->start_mark, "value not representable in JSON", v);
  else if (r < 0) yr_fail_at(y, r, &ev->start_mark, "out of memory", NULL);
  return o;
}

static json_object *yr_node(struct yr *y, yaml_event_t *ev, unsigned depth);

/* Turns a resolved key into the string kubectl's YAML-to-JSON conversion would use. */
static char *key_string(json_object *k) {
  if (!k) return strdup("null");
  if (json_object_is_type(k, json_type_string)) return strdup(json_object_get_string(k));
  return fo_json_dumps(k);
}

static json_object *yr_mapping(struct yr *y, yaml_event_t *start, unsigned depth) {
  json_object *obj = json_object_new_object();
  if (!obj) {
    yr_fail_at(y, -ENOMEM, &start->start_mark, "out of memory", NULL);
    return NULL;
  }
  size_t count = 0;
  for (;;) {
    yaml_event_t ev;
    if (yr_next(y, &ev) < 0) goto fail;
    if (ev.type == YAML_MAPPING_END_EVENT) {
      yaml_event_delete(&ev);
      return obj;
    }
    if (++count > y->lim->list_items) {
      char d[64];
      snprintf(d, sizeof d, "more than %zu keys", y->lim->list_items);
      yr_fail_at(y, -E2BIG, &ev.start_mark, "mapping too large", d);
      yaml_event_delete(&ev);
      goto fail;
    }
    yaml_mark_t kmark = ev.start_mark;
    if (ev.type != YAML_SCALAR_EVENT) {
      yr_fail_at(y, -EINVAL, &kmark, "mapping keys must be scalars", NULL);
      yaml_event_delete(&ev);
      goto fail;
    }
    json_object *k = yr_node(y, &ev, depth + 1);
    yaml_event_delete(&ev);
    if (y->rc) {
      json_object_put(k);
      goto fail;
    }
    char *key = key_string(k);
    json_object_put(k);
    if (!key) {
      yr_fail_at(y, -ENOMEM, &kmark, "out of memory", NULL);
      goto fail;
    }
    if (json_object_object_get_ex(obj, key, NULL)) {
      yr_fail_at(y, -EINVAL, &kmark, "duplicate key", key);
      free(key);
      goto fail;
    }
    if (yr_next(y, &ev) < 0) {
      free(key);
      goto fail;
    }
    json_object *v = yr_node(y, &ev, depth + 1);
    yaml_event_delete(&ev);
    if (y->rc) {
      free(key);
      json_object_put(v);
      goto fail;
    }
    if (json_object_object_add_ex(obj, key, v, JSON_C_OBJECT_ADD_KEY_IS_NEW) != 0) {
      json_object_put(v);
      free(key);
      yr_fail_at(y, -ENOMEM, &kmark, "out of memory", NULL);
      goto fail;
    }
    free(key);
  }
fail:
  json_object_put(obj);
  return NULL;
}

static json_object *yr_sequence(struct yr *y, yaml_event_t *start, unsigned depth) {
  json_object *arr = json_object_new_array();
  if (!arr) {
    yr_fail_at(y, -ENOMEM, &start->start_mark, "out of memory", NULL);
    return NULL;
  }
  size_t count = 0;
  for (;;) {
    yaml_event_t ev;
    if (yr_next(y, &ev) < 0) goto fail;
    if (ev.type == YAML_SEQUENCE_END_EVENT) {
      yaml_event_delete(&ev);
      return arr;
    }
    if (++count > y->lim->list_items) {
      char d[64];
      snprintf(d, sizeof d, "more than %zu items", y->lim->list_items);
      yr_fail_at(y, -E2BIG, &ev.start_mark, "sequence too long", d);
      yaml_event_delete(&ev);
      goto fail;
    }
    json_object *v = yr_node(y, &ev, depth + 1);
    yaml_event_delete(&ev);
    if (y->rc || json_object_array_add(arr, v) != 0) {
      json_object_put(v);
      if (!y->rc) yr_fail_at(y, -ENOMEM, &start->start_mark, "out of memory", NULL);
      goto fail;
    }
  }
fail:
  json_object_put(arr);
  return NULL;
}

static json_object *yr_node(struct yr *y, yaml_event_t *ev, unsigned depth) {
  if (!yr_count(y, &ev->start_mark)) return NULL;
  switch (ev->type) {
  case YAML_SCALAR_EVENT: return yr_scalar(y, ev);
  case YAML_MAPPING_START_EVENT:
  case YAML_SEQUENCE_START_EVENT:
    if (depth >= y->lim->depth) {
      char d[64];
      snprintf(d, sizeof d, "more than %u levels", y->lim->depth);
      yr_fail_at(y, -E2BIG, &ev->start_mark, "nesting too deep", d);
      return NULL;
    }
    return ev->type == YAML_MAPPING_START_EVENT ? yr_mapping(y, ev, depth)
                                                : yr_sequence(y, ev, depth);
  case YAML_ALIAS_EVENT:
    yr_fail_at(y, -EINVAL, &ev->start_mark, "YAML aliases are not supported", NULL);
    return NULL;
  default: yr_fail_at(y, -EINVAL, &ev->start_mark, "unexpected YAML event", NULL); return NULL;
  }
}

void fo_yaml_docs_free(struct fo_yaml_doc *docs, size_t n) {
  for (size_t i = 0; i < n; i++) json_object_put(docs[i].root);
  free(docs);
}

int fo_yaml_parse(const char *text, size_t len, const struct fo_limits *lim,
                  struct fo_yaml_doc **ret_docs, size_t *ret_n, struct fo_parse_error *err) {
  struct yr y = {.lim = lim ? lim : fo_limits_default(), .err = err};
  struct fo_yaml_doc *docs = NULL;
  size_t n = 0, cap = 0;
  *ret_docs = NULL;
  *ret_n = 0;
  if (len > y.lim->doc_bytes) {
    fo_parse_error_set(err, 0, 0, "document larger than %zu bytes", y.lim->doc_bytes);
    return -E2BIG;
  }
  if (!yaml_parser_initialize(&y.parser)) {
    fo_parse_error_set(err, 0, 0, "out of memory");
    return -ENOMEM;
  }
  yaml_parser_set_input_string(&y.parser, (const unsigned char *)text, len);
  yaml_event_t ev;
  bool done = false;
  while (!done && !y.rc) {
    if (yr_next(&y, &ev) < 0) break;
    switch (ev.type) {
    case YAML_STREAM_END_EVENT: done = true; break;
    case YAML_DOCUMENT_START_EVENT: {
      unsigned line = (unsigned)ev.start_mark.line + 1;
      yaml_event_t root;
      if (yr_next(&y, &root) < 0) break;
      if (root.type == YAML_DOCUMENT_END_EVENT) { /* cannot happen in libyaml, but be safe */
        yaml_event_delete(&root);
        break;
      }
      y.nodes = 0;
      json_object *o = yr_node(&y, &root, 0);
      yaml_event_delete(&root);
      if (y.rc) {
        json_object_put(o);
        break;
      }
      yaml_event_t end;
      if (yr_next(&y, &end) < 0) {
        json_object_put(o);
        break;
      }
      yaml_event_delete(&end);
      if (!o) break; /* empty document: skipped, as kubectl does */
      if (n == y.lim->documents) {
        json_object_put(o);
        yr_fail_at(&y, -E2BIG, &ev.start_mark, "too many documents", NULL);
        break;
      }
      if (n == cap) {
        size_t nc = cap ? cap * 2 : 4;
        struct fo_yaml_doc *nd = realloc(docs, nc * sizeof *nd);
        if (!nd) {
          json_object_put(o);
          yr_fail_at(&y, -ENOMEM, &ev.start_mark, "out of memory", NULL);
          break;
        }
        docs = nd;
        cap = nc;
      }
      docs[n].root = o;
      docs[n].line = line;
      n++;
      break;
    }
    default: break;
    }
    yaml_event_delete(&ev);
  }
  yaml_parser_delete(&y.parser);
  if (y.rc) {
    fo_yaml_docs_free(docs, n);
    return y.rc;
  }
  *ret_docs = docs;
  *ret_n = n;
  return 0;
}
