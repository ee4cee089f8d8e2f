#include "flinkop/json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flinkop/buf.h"

void fo_parse_error_clear(struct fo_parse_error *e) {
  if (!e) return;
  free(e->message);
  e->message = NULL;
  e->line = e->column = 0;
}

void fo_parse_error_set(struct fo_parse_error *e, unsigned line, unsigned column, const char *fmt,
                        ...) {
  if (!e || e->message) return;
  struct fo_buf b;
  fo_buf_init(&b, 4096);
  va_list ap;
  va_start(ap, fmt);
  int r = fo_buf_vprintf(&b, fmt, ap);
  va_end(ap);
  e->message = r == 0 ? fo_buf_steal(&b) : r == -E2BIG ? strdup("error message too long") : NULL;
  fo_buf_free(&b);
  e->line = line;
  e->column = column;
}

/* A key seen in an object whose members are not all kept (skipped keys are not in a json-c
 * object, so duplicates among them are found here). */
struct jp_key {
  uint64_t hash; /* 0 = empty slot */
  size_t obj;    /* which object */
  size_t off;    /* the key's text in jp.keys */
};

struct jp {
  const char *s;
  size_t len, pos;
  const struct fo_limits *lim;
  size_t nodes;
  struct fo_parse_error *err;
  int rc;
  struct fo_buf tmp;
  /* only for filtered parses */
  struct fo_buf keys;
  struct jp_key *tab;
  size_t tab_cap, tab_used, objs;
};

static void jp_where(const struct jp *p, size_t pos, unsigned *line, unsigned *col) {
  unsigned l = 1, c = 1;
  for (size_t i = 0; i < pos && i < p->len; i++) {
    if (p->s[i] == '\n') {
      l++;
      c = 1;
    } else if (((unsigned char)p->s[i] & 0xC0) != 0x80) {
      c++;
    }
  }
  *line = l;
  *col = c;
}

__attribute__((format(printf, 3, 4))) static void jp_fail(struct jp *p, int rc, const char *fmt,
                                                          ...) {
  if (p->rc) return;
  p->rc = rc;
  unsigned line, col;
  jp_where(p, p->pos, &line, &col);
  struct fo_buf b;
  fo_buf_init(&b, 4096);
  va_list ap;
  va_start(ap, fmt);
  int r = fo_buf_vprintf(&b, fmt, ap);
  va_end(ap);
  fo_parse_error_set(p->err, line, col, "%s", r == 0 && b.data ? b.data : "invalid JSON");
  fo_buf_free(&b);
  /* without memory for the message, the error is the lack of memory */
  if (r == -ENOMEM || (p->err && !p->err->message)) p->rc = -ENOMEM;
}

static void jp_ws(struct jp *p) {
  while (p->pos < p->len) {
    char c = p->s[p->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    p->pos++;
  }
}

/* Length of a valid UTF-8 sequence at s (max n bytes), 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  size_t k;
  unsigned min;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    k = 2;
    min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    k = 3;
    min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    k = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (n < k) return 0;
  unsigned cp = c & (0x3F >> (k - 1));
  for (size_t i = 1; i < k; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return k;
}

/* Encodes a code point as UTF-8 into o (room for 4); returns the length. */
static size_t utf8_put(char *o, unsigned cp) {
  if (cp < 0x80) {
    o[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (char)(0xC0 | (cp >> 6));
    o[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | (cp >> 12));
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | (cp >> 18));
  o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

static int hex4(const char *s, unsigned *ret) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return -1;
  }
  *ret = v;
  return 0;
}

/* Bytes that stand for themselves inside a string: printable ASCII but '"' and '\\'. */
static const unsigned char jp_plain[256] = {
    ['\x20'] = 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20-0x2f, '"' is 0x22 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,            /* 0x30 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,            /* 0x40 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,            /* 0x50, '\\' is 0x5c */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,            /* 0x60 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,            /* 0x70 */
};

/* Whether 8 bytes are all plain (jp_plain), tested a word at a time: no byte >= 0x80, < 0x20,
 * '"' or '\\'. Each test is exact as a yes/no for the whole word. */
static inline bool word_plain(const unsigned char *s) {
  const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
  uint64_t v;
  memcpy(&v, s, sizeof v);
  uint64_t q = v ^ (ones * '"'), b = v ^ (ones * '\\');
  uint64_t bad = (v & highs) | ((v - ones * 0x20) & ~v & highs) | ((q - ones) & ~q & highs) |
                 ((b - ones) & ~b & highs);
  return bad == 0;
}

/* Reads a string literal; p->pos is at the opening quote. With `store` the decoded text goes to
 * p->tmp (NUL-terminated), otherwise it is only checked. Decoding never makes a string longer, so
 * the output is sized once from the raw length (at most the string limit). */
static int jp_string(struct jp *p, bool store) {
  /* locals, not p->: writes through `out` (a char *) could alias *p and force reloads */
  const unsigned char *s = (const unsigned char *)p->s;
  const size_t len = p->len, max = p->lim->string_bytes;
  char *out = NULL;
  if (store) {
    /* the decoded text is never longer than what is left of the input */
    size_t room = len - p->pos < max ? len - p->pos : max;
    fo_buf_reset(&p->tmp);
    if (fo_buf_reserve(&p->tmp, room) < 0) {
      jp_fail(p, -ENOMEM, "out of memory");
      return -1;
    }
    out = p->tmp.data;
  }
  size_t i = p->pos + 1, w = 0;
  const char *why = NULL;
  int rc = -EINVAL;
  for (;;) {
    size_t start = i; /* a run of plain bytes goes in one copy */
    while (i + 8 <= len && word_plain(s + i)) i += 8;
    while (i < len && jp_plain[s[i]]) i++;
    if (i > start) {
      if (w + (i - start) > max) {
        i = start;
        rc = -E2BIG;
        break;
      }
      if (out) memcpy(out + w, s + start, i - start);
      w += i - start;
    }
    if (i >= len) {
      why = "unterminated string";
      break;
    }
    unsigned char c = s[i];
    if (c == '"') {
      p->pos = i + 1;
      if (out) {
        out[w] = '\0';
        p->tmp.len = w;
      }
      return 0;
    }
    char enc[4];
    size_t k = 1;
    if (c == '\\') {
      if (i + 1 >= len) {
        why = "unterminated string";
        break;
      }
      char e = (char)s[i + 1];
      i += 2;
      switch (e) {
      case '"': enc[0] = '"'; break;
      case '\\': enc[0] = '\\'; break;
      case '/': enc[0] = '/'; break;
      case 'b': enc[0] = '\b'; break;
      case 'f': enc[0] = '\f'; break;
      case 'n': enc[0] = '\n'; break;
      case 'r': enc[0] = '\r'; break;
      case 't': enc[0] = '\t'; break;
      case 'u': {
        unsigned cp, lo;
        if (i + 4 > len || hex4(p->s + i, &cp) < 0) {
          why = "invalid \\u escape";
          break;
        }
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          if (i + 6 > len || s[i] != '\\' || s[i + 1] != 'u' || hex4(p->s + i + 2, &lo) < 0 || lo < 0xDC00 ||
              lo > 0xDFFF) {
            why = "unpaired UTF-16 surrogate in \\u escape";
            break;
          }
          i += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          why = "unpaired UTF-16 surrogate in \\u escape";
          break;
        }
        if (cp == 0) {
          why = "NUL character in string is not supported";
          break;
        }
        k = utf8_put(enc, cp);
        break;
      }
      default:
        i -= 2;
        p->pos = i;
        jp_fail(p, -EINVAL, "invalid escape '\\%c' in string", e >= 0x20 && e < 0x7f ? e : '?');
        return -1;
      }
      if (why) break;
      if (w + k > max) {
        rc = -E2BIG;
        break;
      }
      if (out) {
        out[w] = enc[0];
        for (size_t j = 1; j < k; j++) out[w + j] = enc[j];
      }
    } else if (c < 0x20) {
      why = "control character in string";
      break;
    } else {
      k = utf8_seq(s + i, len - i);
      if (!k) {
        why = "invalid UTF-8 in string";
        break;
      }
      if (w + k > max) {
        rc = -E2BIG;
        break;
      }
      if (out) memcpy(out + w, s + i, k);
      i += k;
    }
    w += k;
  }
  p->pos = i;
  if (rc == -E2BIG) jp_fail(p, -E2BIG, "string longer than %zu bytes", max);
  else jp_fail(p, -EINVAL, "%s", why);
  return -1;
}

static json_object *jp_number(struct jp *p, bool skip) {
  size_t start = p->pos;
  bool integral = true;
  if (p->s[p->pos] == '-') p->pos++;
  if (p->pos < p->len && p->s[p->pos] == '0') {
    p->pos++;
  } else if (p->pos < p->len && p->s[p->pos] >= '1' && p->s[p->pos] <= '9') {
    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
  } else {
    jp_fail(p, -EINVAL, "invalid number");
    return NULL;
  }
  if (p->pos < p->len && p->s[p->pos] == '.') {
    integral = false;
    p->pos++;
    size_t d = p->pos;
    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
    if (d == p->pos) {
      jp_fail(p, -EINVAL, "invalid number: digit expected after '.'");
      return NULL;
    }
  }
  if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
    integral = false;
    p->pos++;
    if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-')) p->pos++;
    size_t d = p->pos;
    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
    if (d == p->pos) {
      jp_fail(p, -EINVAL, "invalid number: digit expected in exponent");
      return NULL;
    }
  }
  size_t n = p->pos - start;
  if (n > 64) {
    p->pos = start;
    jp_fail(p, -E2BIG, "number longer than 64 characters");
    return NULL;
  }
  char num[72];
  memcpy(num, p->s + start, n);
  num[n] = '\0';
  json_object *o;
  if (integral) {
    if (skip && n <= 18) return NULL; /* fits an int64: nothing to check */
    errno = 0;
    char *end;
    long long v = strtoll(num, &end, 10);
    if (errno == 0 && *end == '\0') {
      if (skip) return NULL;
      o = json_object_new_int64(v);
      if (!o) jp_fail(p, -ENOMEM, "out of memory");
      return o;
    }
  }
  double d = strtod(num, NULL);
  if (!isfinite(d)) {
    p->pos = start;
    jp_fail(p, -EINVAL, "number out of range: %s", num);
    return NULL;
  }
  if (skip) return NULL;
  o = json_object_new_double_s(d, num);
  if (!o) jp_fail(p, -ENOMEM, "out of memory");
  return o;
}

static json_object *jp_value(struct jp *p, unsigned depth, const struct fo_json_filter *f,
                             bool skip);

static bool jp_count_node(struct jp *p) {
  if (++p->nodes > p->lim->nodes) {
    jp_fail(p, -E2BIG, "document has more than %zu values", p->lim->nodes);
    return false;
  }
  return true;
}

static uint64_t key_hash(const char *k, size_t n, size_t obj) {
  uint64_t h = 1469598103934665603ULL ^ (uint64_t)obj * 0x9E3779B97F4A7C15ULL;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)k[i]) * 1099511628211ULL;
  return h ? h : 1;
}

/* Records `key` as a key of object `obj`; fails on a duplicate. 0, or -1 with p->rc set. */
static int jp_key_seen(struct jp *p, size_t obj, const char *key) {
  if (2 * (p->tab_used + 1) > p->tab_cap) {
    size_t cap = p->tab_cap ? 2 * p->tab_cap : 64;
    struct jp_key *t = calloc(cap, sizeof *t);
    if (!t) return jp_fail(p, -ENOMEM, "out of memory"), -1;
    for (size_t i = 0; i < p->tab_cap; i++) {
      if (!p->tab[i].hash) continue;
      size_t j = p->tab[i].hash & (cap - 1);
      while (t[j].hash) j = (j + 1) & (cap - 1);
      t[j] = p->tab[i];
    }
    free(p->tab);
    p->tab = t;
    p->tab_cap = cap;
  }
  size_t klen = strlen(key);
  uint64_t h = key_hash(key, klen, obj);
  size_t j = h & (p->tab_cap - 1);
  for (; p->tab[j].hash; j = (j + 1) & (p->tab_cap - 1)) {
    const struct jp_key *k = &p->tab[j];
    if (k->hash == h && k->obj == obj && strcmp(p->keys.data + k->off, key) == 0)
      return jp_fail(p, -EINVAL, "duplicate key \"%s\"", key), -1;
  }
  size_t off = p->keys.len;
  if (fo_buf_append(&p->keys, key, klen + 1) < 0)
    return jp_fail(p, -ENOMEM, "out of memory"), -1;
  p->tab[j] = (struct jp_key){.hash = h, .obj = obj, .off = off};
  p->tab_used++;
  return 0;
}

/* The filter entry for `key`: an exact match, else the "*" entry, else NULL (skip). */
static const struct fo_json_filter *filter_find(const struct fo_json_filter *f, const char *key) {
  const struct fo_json_filter *star = NULL;
  for (; f->key; f++) {
    if (strcmp(f->key, key) == 0) return f;
    if (f->key[0] == '*' && !f->key[1]) star = f;
  }
  return star;
}

/* An object or array. With `skip` nothing is built (NULL is returned) but everything is checked
 * as for a kept value. With a filter (objects only) members are kept or skipped by key. */
static json_object *jp_container(struct jp *p, unsigned depth, bool is_obj,
                                 const struct fo_json_filter *f, bool skip) {
  if (depth >= p->lim->depth) {
    jp_fail(p, -E2BIG, "nesting deeper than %u levels", p->lim->depth);
    return NULL;
  }
  if (!is_obj) f = NULL;
  char close = is_obj ? '}' : ']';
  json_object *c = NULL;
  if (!skip && !(c = is_obj ? json_object_new_object() : json_object_new_array())) {
    jp_fail(p, -ENOMEM, "out of memory");
    return NULL;
  }
  size_t obj = (skip || f) && is_obj ? ++p->objs : 0; /* keys tracked in p->tab */
  p->pos++;
  jp_ws(p);
  if (p->pos < p->len && p->s[p->pos] == close) {
    p->pos++;
    return c;
  }
  size_t count = 0;
  for (;;) {
    if (++count > p->lim->list_items) {
      jp_fail(p, -E2BIG, "%s has more than %zu %s", is_obj ? "object" : "array",
              p->lim->list_items, is_obj ? "members" : "items");
      goto fail;
    }
    char *key = NULL;
    char short_key[64];
    size_t kpos = 0; /* where the key starts: a duplicate is reported there */
    bool skip_v = skip;
    const struct fo_json_filter *fv = NULL;
    if (is_obj) {
      jp_ws(p);
      if (p->pos >= p->len || p->s[p->pos] != '"') {
        jp_fail(p, -EINVAL, "expected a string key");
        goto fail;
      }
      kpos = p->pos;
      if (jp_string(p, true) < 0) goto fail;
      if (f) {
        const struct fo_json_filter *e = filter_find(f, p->tmp.data);
        skip_v = !e || e->skip;
        fv = e && !e->skip ? e->inner : NULL;
      }
      /* duplicates are found after the value, whether it is kept or not */
      /* most keys are short: keep them on the stack while the value is parsed */
      if (p->tmp.len < sizeof short_key) {
        memcpy(short_key, p->tmp.data, p->tmp.len + 1);
        key = short_key;
      } else if (!(key = strdup(p->tmp.data))) {
        jp_fail(p, -ENOMEM, "out of memory");
        goto fail;
      }
      jp_ws(p);
      if (p->pos >= p->len || p->s[p->pos] != ':') {
        if (key != short_key) free(key);
        jp_fail(p, -EINVAL, "expected ':' after key");
        goto fail;
      }
      p->pos++;
    }
    json_object *v = jp_value(p, depth + 1, fv, skip_v);
    if (p->rc) {
      if (key != short_key) free(key);
      json_object_put(v);
      goto fail;
    }
    int r = 0;
    if (skip_v && obj) {
      size_t at = p->pos;
      p->pos = kpos;
      r = jp_key_seen(p, obj, key);
      p->pos = at;
      if (r < 0) {
        if (key != short_key) free(key);
        goto fail;
      }
    } else if (!skip_v && is_obj) {
      /* one hash lookup finds a duplicate and adds: a duplicate replaces, so the count stays */
      size_t before = (size_t)json_object_object_length(c);
      r = json_object_object_add(c, key, v);
      if (r == 0 && (size_t)json_object_object_length(c) == before) {
        p->pos = kpos;
        jp_fail(p, -EINVAL, "duplicate key \"%s\"", key);
        if (key != short_key) free(key);
        goto fail;
      }
    } else if (!skip_v) {
      r = json_object_array_add(c, v);
    }
    if (key != short_key) free(key);
    if (r != 0) {
      json_object_put(v);
      jp_fail(p, -ENOMEM, "out of memory");
      goto fail;
    }
    jp_ws(p);
    if (p->pos >= p->len) {
      jp_fail(p, -EINVAL, "unexpected end of input in %s", is_obj ? "object" : "array");
      goto fail;
    }
    char ch = p->s[p->pos];
    if (ch == ',') {
      p->pos++;
      continue;
    }
    if (ch == close) {
      p->pos++;
      return c;
    }
    jp_fail(p, -EINVAL, "expected ',' or '%c'", close);
    goto fail;
  }
fail:
  json_object_put(c);
  return NULL;
}

static bool jp_lit(struct jp *p, const char *lit) {
  size_t n = strlen(lit);
  if (p->len - p->pos >= n && memcmp(p->s + p->pos, lit, n) == 0) {
    p->pos += n;
    return true;
  }
  return false;
}

static json_object *jp_value(struct jp *p, unsigned depth, const struct fo_json_filter *f,
                             bool skip) {
  jp_ws(p);
  if (p->pos >= p->len) {
    jp_fail(p, -EINVAL, "unexpected end of input");
    return NULL;
  }
  if (!jp_count_node(p)) return NULL;
  char c = p->s[p->pos];
  json_object *o = NULL;
  switch (c) {
  case '{': return jp_container(p, depth, true, f, skip);
  case '[': return jp_container(p, depth, false, NULL, skip);
  case '"':
    if (jp_string(p, !skip) < 0 || skip) return NULL;
    o = json_object_new_string_len(p->tmp.data, (int)p->tmp.len);
    if (!o) jp_fail(p, -ENOMEM, "out of memory");
    return o;
  case 't':
  case 'f':
    if (!jp_lit(p, c == 't' ? "true" : "false")) break;
    if (skip) return NULL;
    /* NULL would read as JSON null: an allocation failure must not turn false into null */
    if (!(o = json_object_new_boolean(c == 't'))) jp_fail(p, -ENOMEM, "out of memory");
    return o;
  case 'n':
    if (jp_lit(p, "null")) return NULL;
    break;
  default:
    if (c == '-' || (c >= '0' && c <= '9')) return jp_number(p, skip);
  }
  if (c >= 0x20 && c < 0x7f)
    jp_fail(p, -EINVAL, "unexpected character '%c'", c);
  else
    jp_fail(p, -EINVAL, "unexpected byte 0x%02x", (unsigned char)c);
  return NULL;
}

int fo_json_parse_filtered(const char *text, size_t len, const struct fo_limits *lim,
                           const struct fo_json_filter *filter, json_object **ret,
                           struct fo_parse_error *err) {
  struct jp p = {.s = text, .len = len, .lim = lim ? lim : fo_limits_default(), .err = err};
  *ret = NULL;
  if (len > p.lim->doc_bytes) {
    fo_parse_error_set(err, 0, 0, "document larger than %zu bytes", p.lim->doc_bytes);
    return -E2BIG;
  }
  fo_buf_init(&p.tmp, p.lim->string_bytes);
  fo_buf_init(&p.keys, len + 1); /* decoded keys are never longer than their text */
  json_object *o = jp_value(&p, 0, filter, false);
  if (!p.rc) {
    jp_ws(&p);
    if (p.pos < p.len) jp_fail(&p, -EINVAL, "unexpected data after the JSON value");
  }
  fo_buf_free(&p.tmp);
  fo_buf_free(&p.keys);
  free(p.tab);
  if (p.rc) {
    json_object_put(o);
    return p.rc;
  }
  *ret = o;
  return 0;
}

int fo_json_parse(const char *text, size_t len, const struct fo_limits *lim, json_object **ret,
                  struct fo_parse_error *err) {
  return fo_json_parse_filtered(text, len, lim, NULL, ret, err);
}

/* json-c's own writer ignores allocation failures in places and then returns a shortened text
 * as if it were complete; this one reports them. Numbers other than integers are written by
 * json-c (it keeps the text they were read from), and a number's text is never empty. */
static int jw_value(struct fo_buf *b, json_object *o, unsigned depth) {
  if (depth > 10000) return -E2BIG;
  switch (json_object_get_type(o)) {
  case json_type_null: return fo_buf_append(b, "null", 4);
  case json_type_boolean: return fo_buf_puts(b, json_object_get_boolean(o) ? "true" : "false");
  case json_type_int: {
    int64_t v = json_object_get_int64(o);
    if (v == INT64_MAX) return fo_buf_printf(b, "%" PRIu64, json_object_get_uint64(o));
    return fo_buf_printf(b, "%" PRId64, v);
  }
  case json_type_double: {
    const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    return t && *t ? fo_buf_puts(b, t) : -ENOMEM;
  }
  case json_type_string:
    return fo_buf_json_string(b, json_object_get_string(o), (size_t)json_object_get_string_len(o));
  case json_type_array: {
    int r = fo_buf_putc(b, '[');
    size_t n = json_object_array_length(o);
    for (size_t i = 0; r == 0 && i < n; i++) {
      if (i) r = fo_buf_putc(b, ',');
      if (r == 0) r = jw_value(b, json_object_array_get_idx(o, i), depth + 1);
    }
    return r == 0 ? fo_buf_putc(b, ']') : r;
  }
  case json_type_object: {
    int r = fo_buf_putc(b, '{');
    bool first = true;
    json_object_object_foreach(o, k, v) {
      if (r < 0) break;
      if (!first) r = fo_buf_putc(b, ',');
      first = false;
      if (r == 0) r = fo_buf_json_string(b, k, strlen(k));
      if (r == 0) r = fo_buf_putc(b, ':');
      if (r == 0) r = jw_value(b, v, depth + 1);
    }
    return r == 0 ? fo_buf_putc(b, '}') : r;
  }
  }
  return -EINVAL;
}

int fo_json_write(struct fo_buf *b, json_object *o) { return jw_value(b, o, 0); }

char *fo_json_dumps(json_object *o) {
  struct fo_buf b;
  fo_buf_init(&b, SIZE_MAX / 2);
  if (fo_json_write(&b, o) < 0) {
    fo_buf_free(&b);
    return NULL;
  }
  return fo_buf_steal(&b);
}

json_object *fo_json_get(json_object *o, const char *key) {
  json_object *v = NULL;
  if (!o || !json_object_is_type(o, json_type_object)) return NULL;
  json_object_object_get_ex(o, key, &v);
  return v;
}

json_object *fo_json_get_object(json_object *o, const char *key) {
  json_object *v = fo_json_get(o, key);
  return v && json_object_is_type(v, json_type_object) ? v : NULL;
}

json_object *fo_json_get_array(json_object *o, const char *key) {
  json_object *v = fo_json_get(o, key);
  return v && json_object_is_type(v, json_type_array) ? v : NULL;
}

const char *fo_json_get_string(json_object *o, const char *key) {
  json_object *v = fo_json_get(o, key);
  return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

json_object *fo_json_path(json_object *o, ...) {
  va_list ap;
  va_start(ap, o);
  const char *k;
  while (o && (k = va_arg(ap, const char *))) o = fo_json_get(o, k);
  va_end(ap);
  return o;
}

json_object *fo_json_ensure_object(json_object *o, const char *key) {
  json_object *v = fo_json_get_object(o, key);
  if (v) return v;
  v = json_object_new_object();
  if (!v) return NULL;
  if (json_object_object_add(o, key, v) != 0) {
    json_object_put(v);
    return NULL;
  }
  return v;
}

int fo_json_set(json_object *o, const char *key, json_object *v, int *err) {
  int r = o && v && json_object_is_type(o, json_type_object) && json_object_object_add(o, key, v) == 0
              ? 0
              : -ENOMEM;
  if (r < 0) json_object_put(v);
  if (err && *err == 0) *err = r;
  return r;
}

int fo_json_push(json_object *arr, json_object *v, int *err) {
  int r = arr && v && json_object_is_type(arr, json_type_array) && json_object_array_add(arr, v) == 0
              ? 0
              : -ENOMEM;
  if (r < 0) json_object_put(v);
  if (err && *err == 0) *err = r;
  return r;
}

bool fo_json_as_int64(json_object *o, int64_t *ret) {
  if (!o) return false;
  if (json_object_is_type(o, json_type_int)) {
    errno = 0;
    int64_t v = json_object_get_int64(o);
    if (errno) return false;
    *ret = v;
    return true;
  }
  if (json_object_is_type(o, json_type_double)) {
    double d = json_object_get_double(o);
    if (d != floor(d) || d < -9.2e18 || d > 9.2e18) return false;
    *ret = (int64_t)d;
    return true;
  }
  return false;
}
