#include "flinkop/json.h"

#include <errno.h>
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
  e->message = r == 0 ? fo_buf_steal(&b) : strdup("error message too long");
  fo_buf_free(&b);
  e->line = line;
  e->column = column;
}

struct jp {
  const char *s;
  size_t len, pos;
  const struct fo_limits *lim;
  size_t nodes;
  struct fo_parse_error *err;
  int rc;
  struct fo_buf tmp;
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

static int put_utf8(struct fo_buf *b, unsigned cp) {
  char o[4];
  size_t n;
  if (cp < 0x80) {
    o[0] = (char)cp;
    n = 1;
  } else if (cp < 0x800) {
    o[0] = (char)(0xC0 | (cp >> 6));
    o[1] = (char)(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    o[0] = (char)(0xE0 | (cp >> 12));
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    n = 4;
  }
  return fo_buf_append(b, o, n);
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

/* Reads a string literal into p->tmp (NUL-terminated). p->pos is at the opening quote. */
static int jp_string(struct jp *p) {
  fo_buf_reset(&p->tmp);
  p->pos++;
  for (;;) {
    if (p->pos >= p->len) {
      jp_fail(p, -EINVAL, "unterminated string");
      return -1;
    }
    /* a run of plain ASCII goes in one copy */
    size_t run = p->pos;
    while (run < p->len) {
      unsigned char rc = (unsigned char)p->s[run];
      if (rc == '"' || rc == '\\' || rc < 0x20 || rc >= 0x80) break;
      run++;
    }
    if (run > p->pos) {
      int rr = fo_buf_append(&p->tmp, p->s + p->pos, run - p->pos);
      if (rr == -E2BIG) {
        jp_fail(p, -E2BIG, "string longer than %zu bytes", p->lim->string_bytes);
        return -1;
      }
      if (rr < 0) {
        jp_fail(p, -ENOMEM, "out of memory");
        return -1;
      }
      p->pos = run;
      continue;
    }
    unsigned char c = (unsigned char)p->s[p->pos];
    if (c == '"') {
      p->pos++;
      break;
    }
    int r = 0;
    if (c == '\\') {
      if (p->pos + 1 >= p->len) {
        jp_fail(p, -EINVAL, "unterminated string");
        return -1;
      }
      char e = p->s[p->pos + 1];
      p->pos += 2;
      switch (e) {
      case '"': r = fo_buf_putc(&p->tmp, '"'); break;
      case '\\': r = fo_buf_putc(&p->tmp, '\\'); break;
      case '/': r = fo_buf_putc(&p->tmp, '/'); break;
      case 'b': r = fo_buf_putc(&p->tmp, '\b'); break;
      case 'f': r = fo_buf_putc(&p->tmp, '\f'); break;
      case 'n': r = fo_buf_putc(&p->tmp, '\n'); break;
      case 'r': r = fo_buf_putc(&p->tmp, '\r'); break;
      case 't': r = fo_buf_putc(&p->tmp, '\t'); break;
      case 'u': {
        unsigned cp, lo;
        if (p->pos + 4 > p->len || hex4(p->s + p->pos, &cp) < 0) {
          jp_fail(p, -EINVAL, "invalid \\u escape");
          return -1;
        }
        p->pos += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          if (p->pos + 6 > p->len || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u' ||
              hex4(p->s + p->pos + 2, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF) {
            jp_fail(p, -EINVAL, "unpaired UTF-16 surrogate in \\u escape");
            return -1;
          }
          p->pos += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          jp_fail(p, -EINVAL, "unpaired UTF-16 surrogate in \\u escape");
          return -1;
        }
        if (cp == 0) {
          jp_fail(p, -EINVAL, "NUL character in string is not supported");
          return -1;
        }
        r = put_utf8(&p->tmp, cp);
        break;
      }
      default:
        p->pos -= 2;
        jp_fail(p, -EINVAL, "invalid escape '\\%c' in string", e >= 0x20 && e < 0x7f ? e : '?');
        return -1;
      }
    } else if (c < 0x20) {
      jp_fail(p, -EINVAL, "control character in string");
      return -1;
    } else {
      size_t k = utf8_seq((const unsigned char *)p->s + p->pos, p->len - p->pos);
      if (!k) {
        jp_fail(p, -EINVAL, "invalid UTF-8 in string");
        return -1;
      }
      r = fo_buf_append(&p->tmp, p->s + p->pos, k);
      p->pos += k;
    }
    if (r == -E2BIG) {
      jp_fail(p, -E2BIG, "string longer than %zu bytes", p->lim->string_bytes);
      return -1;
    }
    if (r < 0) {
      jp_fail(p, -ENOMEM, "out of memory");
      return -1;
    }
  }
  if (!p->tmp.data) fo_buf_append(&p->tmp, "", 0);
  return p->tmp.data ? 0 : (jp_fail(p, -ENOMEM, "out of memory"), -1);
}

static json_object *jp_number(struct jp *p) {
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
    errno = 0;
    char *end;
    long long v = strtoll(num, &end, 10);
    if (errno == 0 && *end == '\0') {
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
  o = json_object_new_double_s(d, num);
  if (!o) jp_fail(p, -ENOMEM, "out of memory");
  return o;
}

static json_object *jp_value(struct jp *p, unsigned depth);

static bool jp_count_node(struct jp *p) {
  if (++p->nodes > p->lim->nodes) {
    jp_fail(p, -E2BIG, "document has more than %zu values", p->lim->nodes);
    return false;
  }
  return true;
}

static json_object *jp_container(struct jp *p, unsigned depth, bool is_obj) {
  if (depth >= p->lim->depth) {
    jp_fail(p, -E2BIG, "nesting deeper than %u levels", p->lim->depth);
    return NULL;
  }
  char close = is_obj ? '}' : ']';
  json_object *c = is_obj ? json_object_new_object() : json_object_new_array();
  if (!c) {
    jp_fail(p, -ENOMEM, "out of memory");
    return NULL;
  }
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
    if (is_obj) {
      jp_ws(p);
      if (p->pos >= p->len || p->s[p->pos] != '"') {
        jp_fail(p, -EINVAL, "expected a string key");
        goto fail;
      }
      size_t kpos = p->pos;
      if (jp_string(p) < 0) goto fail;
      if (json_object_object_get_ex(c, p->tmp.data, NULL)) {
        p->pos = kpos;
        jp_fail(p, -EINVAL, "duplicate key \"%s\"", p->tmp.data);
        goto fail;
      }
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
    json_object *v = jp_value(p, depth + 1);
    if (p->rc) {
      if (key != short_key) free(key);
      json_object_put(v);
      goto fail;
    }
    int r = is_obj ? json_object_object_add_ex(c, key, v, JSON_C_OBJECT_ADD_KEY_IS_NEW)
                   : json_object_array_add(c, v);
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

static json_object *jp_value(struct jp *p, unsigned depth) {
  jp_ws(p);
  if (p->pos >= p->len) {
    jp_fail(p, -EINVAL, "unexpected end of input");
    return NULL;
  }
  if (!jp_count_node(p)) return NULL;
  char c = p->s[p->pos];
  json_object *o = NULL;
  switch (c) {
  case '{': return jp_container(p, depth, true);
  case '[': return jp_container(p, depth, false);
  case '"':
    if (jp_string(p) < 0) return NULL;
    o = json_object_new_string_len(p->tmp.data, (int)p->tmp.len);
    if (!o) jp_fail(p, -ENOMEM, "out of memory");
    return o;
  case 't':
    if (jp_lit(p, "true")) return json_object_new_boolean(1);
    break;
  case 'f':
    if (jp_lit(p, "false")) return json_object_new_boolean(0);
    break;
  case 'n':
    if (jp_lit(p, "null")) return NULL;
    break;
  default:
    if (c == '-' || (c >= '0' && c <= '9')) return jp_number(p);
  }
  if (c >= 0x20 && c < 0x7f)
    jp_fail(p, -EINVAL, "unexpected character '%c'", c);
  else
    jp_fail(p, -EINVAL, "unexpected byte 0x%02x", (unsigned char)c);
  return NULL;
}

int fo_json_parse(const char *text, size_t len, const struct fo_limits *lim, json_object **ret,
                  struct fo_parse_error *err) {
  struct jp p = {.s = text, .len = len, .lim = lim ? lim : fo_limits_default(), .err = err};
  *ret = NULL;
  if (len > p.lim->doc_bytes) {
    fo_parse_error_set(err, 0, 0, "document larger than %zu bytes", p.lim->doc_bytes);
    return -E2BIG;
  }
  fo_buf_init(&p.tmp, p.lim->string_bytes);
  json_object *o = jp_value(&p, 0);
  if (!p.rc) {
    jp_ws(&p);
    if (p.pos < p.len) jp_fail(&p, -EINVAL, "unexpected data after the JSON value");
  }
  fo_buf_free(&p.tmp);
  if (p.rc) {
    json_object_put(o);
    return p.rc;
  }
  *ret = o;
  return 0;
}

char *fo_json_dumps(json_object *o) {
  const char *s =
      json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  return s ? strdup(s) : NULL;
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
