#include "flinkop/json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

/* A key of an open object, for finding duplicates: its decoded text (in the input when it has no
 * escape, else in the arena; either way stable for the whole parse) and length. */
struct jp_kref {
  const char *p;
  size_t n;
};

/* Keys of objects with many members go to a hash table instead of a linear scan. */
struct jp_key {
  uint64_t hash; /* 0 = empty slot */
  size_t obj;    /* which object */
  const char *p;
  size_t n;
};

struct jp {
  const char *s;
  size_t len, pos;
  const struct fo_limits *lim;
  size_t nodes;
  struct fo_parse_error *err;
  int rc;
  struct fo_arena *a;
  /* members (objects) or items (arrays, in .v) of the open kept containers, innermost last */
  struct fo_jm *stk;
  size_t stk_len, stk_cap;
  /* keys of the open objects, innermost last */
  struct jp_kref *keys;
  size_t keys_len, keys_cap;
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

static inline void jp_ws(struct jp *p) {
  /* compact JSON (what Kubernetes sends) has none: one test */
  if (p->pos < p->len && (unsigned char)p->s[p->pos] > ' ') return;
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

/* Bytes of a code point in UTF-8. */
static size_t utf8_len(unsigned cp) {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/* Encodes a code point as UTF-8 into o (room for 4); returns the length (utf8_len). */
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
// clang-format off
static const unsigned char jp_plain[256] = {
    ['\x20'] = 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20-0x2f, '"' is 0x22 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,            /* 0x30 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,            /* 0x40 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,            /* 0x50, '\\' is 0x5c */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,            /* 0x60 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,            /* 0x70 */
};
// clang-format on

/* The bytes of 8 (a word, little-endian) that are not plain (jp_plain): >= 0x80, < 0x20, '"' or
 * '\\', as the high bit of each byte. Bytes above the first flagged one may be flagged wrongly
 * (a borrow), but the lowest flag is always exact: it marks the first byte that is not plain. */
static inline uint64_t word_special(const unsigned char *s) {
  const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
  uint64_t v;
  memcpy(&v, s, sizeof v);
  uint64_t q = v ^ (ones * '"'), b = v ^ (ones * '\\');
  return (v & highs) | ((v - ones * 0x20) & ~v & highs) | ((q - ones) & ~q & highs) |
         ((b - ones) & ~b & highs);
}

/* Index of the first byte at or after i (before len) that is not plain, or len. */
static inline size_t plain_run(const unsigned char *s, size_t i, size_t len) {
#if defined(__SSE2__)
  /* 16 bytes a step: a signed compare with 0x20 flags control bytes and bytes >= 0x80 at once */
  const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
                space = _mm_set1_epi8(0x20);
  for (; i + 16 <= len; i += 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
    __m128i bad = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                               _mm_cmplt_epi8(v, space));
    unsigned m = (unsigned)_mm_movemask_epi8(bad);
    if (m) return i + (size_t)__builtin_ctz(m);
  }
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  for (; i + 8 <= len; i += 8) {
    uint64_t m = word_special(s + i);
    if (m) return i + ((size_t)__builtin_ctzll(m) >> 3);
  }
#endif
  while (i < len && jp_plain[s[i]]) i++;
  return i;
}

enum jp_smode { JS_CHECK, JS_KEY, JS_COPY };

/* Writes the decoded text of the valid string literal whose content starts at s[i] to `out`
 * (room for the decoded length, which the scan measured). */
static void jp_unescape(const unsigned char *s, size_t i, char *out) {
  size_t w = 0;
  for (;;) {
    unsigned char c = s[i];
    if (c == '"') return;
    if (c != '\\') {
      out[w++] = (char)c;
      i++;
      continue;
    }
    char e = (char)s[i + 1];
    i += 2;
    switch (e) {
    case 'b': out[w++] = '\b'; break;
    case 'f': out[w++] = '\f'; break;
    case 'n': out[w++] = '\n'; break;
    case 'r': out[w++] = '\r'; break;
    case 't': out[w++] = '\t'; break;
    case 'u': {
      unsigned cp = 0, lo = 0; /* the scan checked both escapes; hex4 cannot fail here */
      hex4((const char *)s + i, &cp);
      i += 4;
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        hex4((const char *)s + i + 2, &lo);
        i += 6;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      }
      w += utf8_put(out + w, cp);
      break;
    }
    default: out[w++] = e; break; /* '"', '\\', '/' */
    }
  }
}

/* Reads a string literal; p->pos is at the opening quote. JS_CHECK only checks it. JS_COPY gives
 * a NUL-terminated decoded copy in the arena; JS_KEY gives the text in place when it has no escape
 * (not NUL-terminated) and a decoded copy otherwise. 0, or -1 with p->rc set. */
static int jp_string(struct jp *p, enum jp_smode mode, const char **ret, size_t *ret_n) {
  const unsigned char *s = (const unsigned char *)p->s;
  const size_t len = p->len, max = p->lim->string_bytes, first = p->pos + 1;
  size_t i = first, w = 0; /* w: decoded length so far */
  bool escaped = false;
  const char *why = NULL;
  int rc = -EINVAL;
  for (;;) {
    size_t start = i;
    i = plain_run(s, i, len);
    if (i > start) {
      if (w + (i - start) > max) {
        i = start;
        rc = -E2BIG;
        break;
      }
      w += i - start;
    }
    if (i >= len) {
      why = "unterminated string";
      break;
    }
    unsigned char c = s[i];
    if (c == '"') {
      p->pos = i + 1;
      if (mode == JS_CHECK) return 0;
      if (!escaped && mode == JS_KEY) {
        *ret = p->s + first;
        *ret_n = w;
        return 0;
      }
      char *out = fo_arena_alloc(p->a, w + 1);
      if (!out) {
        jp_fail(p, -ENOMEM, "out of memory");
        return -1;
      }
      if (escaped) jp_unescape(s, first, out);
      else memcpy(out, s + first, w);
      out[w] = '\0';
      *ret = out;
      *ret_n = w;
      return 0;
    }
    size_t k = 1;
    if (c == '\\') {
      escaped = true;
      if (i + 1 >= len) {
        why = "unterminated string";
        break;
      }
      char e = (char)s[i + 1];
      i += 2;
      switch (e) {
      case '"':
      case '\\':
      case '/':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't': break;
      case 'u': {
        unsigned cp, lo;
        if (i + 4 > len || hex4(p->s + i, &cp) < 0) {
          why = "invalid \\u escape";
          break;
        }
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          if (i + 6 > len || s[i] != '\\' || s[i + 1] != 'u' || hex4(p->s + i + 2, &lo) < 0 ||
              lo < 0xDC00 || lo > 0xDFFF) {
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
        k = utf8_len(cp);
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
      i += k;
    }
    w += k;
  }
  p->pos = i;
  if (rc == -E2BIG) jp_fail(p, -E2BIG, "string longer than %zu bytes", max);
  else jp_fail(p, -EINVAL, "%s", why);
  return -1;
}

/* A number into *out (unless skip). 0, or -1 with p->rc set. */
static int jp_number(struct jp *p, bool skip, struct fo_jv *out) {
  size_t start = p->pos;
  bool integral = true;
  if (p->s[p->pos] == '-') p->pos++;
  if (p->pos < p->len && p->s[p->pos] == '0') {
    p->pos++;
  } else if (p->pos < p->len && p->s[p->pos] >= '1' && p->s[p->pos] <= '9') {
    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
  } else {
    jp_fail(p, -EINVAL, "invalid number");
    return -1;
  }
  if (p->pos < p->len && p->s[p->pos] == '.') {
    integral = false;
    p->pos++;
    size_t d = p->pos;
    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
    if (d == p->pos) {
      jp_fail(p, -EINVAL, "invalid number: digit expected after '.'");
      return -1;
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
      return -1;
    }
  }
  size_t n = p->pos - start;
  if (n > 64) {
    p->pos = start;
    jp_fail(p, -E2BIG, "number longer than 64 characters");
    return -1;
  }
  const char *t = p->s + start;
  if (integral && n <= 18) { /* fits an int64 */
    if (skip) return 0;
    bool neg = t[0] == '-';
    int64_t v = 0;
    for (size_t i = neg; i < n; i++) v = v * 10 + (t[i] - '0');
    out->type = FO_JINT;
    out->u.i = neg ? -v : v;
    return 0;
  }
  char num[72];
  memcpy(num, t, n);
  num[n] = '\0';
  if (integral) {
    errno = 0;
    char *end;
    long long v = strtoll(num, &end, 10);
    if (errno == 0 && *end == '\0') {
      if (skip) return 0;
      out->type = FO_JINT;
      out->u.i = v;
      return 0;
    }
  }
  double d = strtod(num, NULL);
  if (!isfinite(d)) {
    p->pos = start;
    jp_fail(p, -EINVAL, "number out of range: %s", num);
    return -1;
  }
  if (skip) return 0;
  const char *text = fo_arena_strndup(p->a, num, n);
  if (!text) {
    jp_fail(p, -ENOMEM, "out of memory");
    return -1;
  }
  out->type = FO_JDOUBLE;
  out->u.num.d = d;
  out->u.num.text = text;
  return 0;
}

static int jp_value(struct jp *p, unsigned depth, const struct fo_json_filter *f, bool skip,
                    struct fo_jv *out);

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

/* Adds a key of object `obj` to the hash table; false on a duplicate (nothing set) or with
 * p->rc set (out of memory). */
static bool tab_add(struct jp *p, size_t obj, const char *k, size_t n) {
  if (2 * (p->tab_used + 1) > p->tab_cap) {
    size_t cap = p->tab_cap ? 2 * p->tab_cap : 256;
    struct jp_key *t = fo_arena_alloc(p->a, cap * sizeof *t);
    if (!t) {
      jp_fail(p, -ENOMEM, "out of memory");
      return false;
    }
    memset(t, 0, cap * sizeof *t);
    for (size_t i = 0; i < p->tab_cap; i++) {
      if (!p->tab[i].hash) continue;
      size_t j = p->tab[i].hash & (cap - 1);
      while (t[j].hash) j = (j + 1) & (cap - 1);
      t[j] = p->tab[i];
    }
    p->tab = t;
    p->tab_cap = cap;
  }
  uint64_t h = key_hash(k, n, obj);
  size_t j = h & (p->tab_cap - 1);
  for (; p->tab[j].hash; j = (j + 1) & (p->tab_cap - 1)) {
    const struct jp_key *e = &p->tab[j];
    if (e->hash == h && e->obj == obj && e->n == n && memcmp(e->p, k, n) == 0) return false;
  }
  p->tab[j] = (struct jp_key){.hash = h, .obj = obj, .p = k, .n = n};
  p->tab_used++;
  return true;
}

enum { JP_LINEAR_KEYS = 32 };

/* A stack of the parse (`arr`, *cap elements of `size`, `len` used) with room for one more,
 * doubled when full: the stack (perhaps moved), or NULL with p->rc set (then `arr` is unchanged).
 */
static void *jp_grow(struct jp *p, void *arr, size_t *cap, size_t len, size_t size) {
  if (len < *cap) return arr;
  size_t n = *cap ? 2 * *cap : 64;
  void *a = realloc(arr, n * size);
  if (!a) {
    jp_fail(p, -ENOMEM, "out of memory");
    return NULL;
  }
  *cap = n;
  return a;
}

/* Records the key k[0..n) of the open object whose keys start at keys[base] (obj: its id in the
 * hash table once it has many members, else 0). 0, or -1 with p->rc set (a duplicate, reported
 * at `kpos`, or out of memory). */
static int jp_key_seen(struct jp *p, size_t base, size_t *obj, const char *k, size_t n,
                       size_t kpos) {
  bool dup = false;
  if (!*obj) {
    for (size_t i = base; i < p->keys_len; i++)
      if (p->keys[i].n == n && memcmp(p->keys[i].p, k, n) == 0) {
        dup = true;
        break;
      }
    if (!dup && p->keys_len - base >= JP_LINEAR_KEYS) {
      *obj = ++p->objs;
      for (size_t i = base; i < p->keys_len; i++)
        if (!tab_add(p, *obj, p->keys[i].p, p->keys[i].n)) return -1;
    }
  }
  if (!dup && *obj && !tab_add(p, *obj, k, n)) {
    if (p->rc) return -1;
    dup = true;
  }
  if (dup) {
    p->pos = kpos;
    jp_fail(p, -EINVAL, "duplicate key \"%.*s\"", (int)(n < 1024 ? n : 1024), k);
    return -1;
  }
  struct jp_kref *ks = jp_grow(p, p->keys, &p->keys_cap, p->keys_len, sizeof *ks);
  if (!ks) return -1;
  p->keys = ks;
  p->keys[p->keys_len++] = (struct jp_kref){k, n};
  return 0;
}

/* The filter entry for key k[0..n): an exact match, else the "*" entry, else NULL (skip). */
static const struct fo_json_filter *filter_find(const struct fo_json_filter *f, const char *k,
                                                size_t n) {
  const struct fo_json_filter *star = NULL;
  for (; f->key; f++) {
    if (strncmp(f->key, k, n) == 0 && f->key[n] == '\0') return f;
    if (f->key[0] == '*' && !f->key[1]) star = f;
  }
  return star;
}

static int jp_push(struct jp *p, const char *key, const struct fo_jv *v) {
  struct fo_jm *stk = jp_grow(p, p->stk, &p->stk_cap, p->stk_len, sizeof *stk);
  if (!stk) return -1;
  p->stk = stk;
  p->stk[p->stk_len].key = key;
  p->stk[p->stk_len].v = *v;
  p->stk_len++;
  return 0;
}

/* An object or array. With `skip` nothing is built but everything is checked as for a kept value.
 * With a filter (objects only) members are kept or skipped by key. 0, or -1 with p->rc set. */
static int jp_container(struct jp *p, unsigned depth, bool is_obj, const struct fo_json_filter *f,
                        bool skip, struct fo_jv *out) {
  if (depth >= p->lim->depth) {
    jp_fail(p, -E2BIG, "nesting deeper than %u levels", p->lim->depth);
    return -1;
  }
  if (!is_obj) f = NULL;
  char close = is_obj ? '}' : ']';
  size_t base = p->stk_len, kbase = p->keys_len, obj = 0;
  int rc = -1;
  p->pos++;
  jp_ws(p);
  size_t count = 0;
  if (p->pos < p->len && p->s[p->pos] == close) {
    p->pos++;
    rc = 0;
    goto done;
  }
  for (;;) {
    if (++count > p->lim->list_items) {
      jp_fail(p, -E2BIG, "%s has more than %zu %s", is_obj ? "object" : "array", p->lim->list_items,
              is_obj ? "members" : "items");
      goto done;
    }
    const char *key = NULL;
    size_t klen = 0, kpos = 0; /* where the key starts: a duplicate is reported there */
    bool skip_v = skip;
    const struct fo_json_filter *fv = NULL;
    if (is_obj) {
      jp_ws(p);
      if (p->pos >= p->len || p->s[p->pos] != '"') {
        jp_fail(p, -EINVAL, "expected a string key");
        goto done;
      }
      kpos = p->pos;
      /* a kept member's key is copied (NUL-terminated) into the arena; others are read in place */
      if (!skip && !f) {
        if (jp_string(p, JS_COPY, &key, &klen) < 0) goto done;
      } else {
        if (jp_string(p, JS_KEY, &key, &klen) < 0) goto done;
        if (f) {
          const struct fo_json_filter *e = filter_find(f, key, klen);
          skip_v = skip || !e || e->skip;
          fv = e && !e->skip ? e->inner : NULL;
          if (!skip_v && (key = fo_arena_strndup(p->a, key, klen)) == NULL) {
            jp_fail(p, -ENOMEM, "out of memory");
            goto done;
          }
        }
      }
      jp_ws(p);
      if (p->pos >= p->len || p->s[p->pos] != ':') {
        jp_fail(p, -EINVAL, "expected ':' after key");
        goto done;
      }
      p->pos++;
    }
    struct fo_jv v = {.type = FO_JNULL};
    if (jp_value(p, depth + 1, fv, skip_v, &v) < 0) goto done;
    /* duplicates are found after the value, whether it is kept or not */
    if (is_obj && jp_key_seen(p, kbase, &obj, key, klen, kpos) < 0) goto done;
    if (!skip_v && jp_push(p, key, &v) < 0) goto done;
    jp_ws(p);
    if (p->pos >= p->len) {
      jp_fail(p, -EINVAL, "unexpected end of input in %s", is_obj ? "object" : "array");
      goto done;
    }
    char ch = p->s[p->pos];
    if (ch == ',') {
      p->pos++;
      continue;
    }
    if (ch == close) {
      p->pos++;
      rc = 0;
      break;
    }
    jp_fail(p, -EINVAL, "expected ',' or '%c'", close);
    goto done;
  }
done:
  if (rc == 0 && !skip) {
    size_t n = p->stk_len - base;
    out->type = is_obj ? FO_JOBJECT : FO_JARRAY;
    out->n = (uint32_t)n;
    if (is_obj) {
      struct fo_jm *ms = n ? fo_arena_alloc(p->a, n * sizeof *ms) : NULL;
      if (n && !ms) rc = -1;
      else if (n) memcpy(ms, p->stk + base, n * sizeof *ms);
      out->u.members = ms;
    } else {
      struct fo_jv *items = n ? fo_arena_alloc(p->a, n * sizeof *items) : NULL;
      if (n && !items) rc = -1;
      for (size_t i = 0; items && i < n; i++) items[i] = p->stk[base + i].v;
      out->u.items = items;
    }
    if (rc < 0) jp_fail(p, -ENOMEM, "out of memory");
  }
  p->stk_len = base;
  p->keys_len = kbase;
  return rc;
}

static bool jp_lit(struct jp *p, const char *lit) {
  size_t n = strlen(lit);
  if (p->len - p->pos >= n && memcmp(p->s + p->pos, lit, n) == 0) {
    p->pos += n;
    return true;
  }
  return false;
}

static int jp_value(struct jp *p, unsigned depth, const struct fo_json_filter *f, bool skip,
                    struct fo_jv *out) {
  jp_ws(p);
  if (p->pos >= p->len) {
    jp_fail(p, -EINVAL, "unexpected end of input");
    return -1;
  }
  if (!jp_count_node(p)) return -1;
  char c = p->s[p->pos];
  switch (c) {
  case '{': return jp_container(p, depth, true, f, skip, out);
  case '[': return jp_container(p, depth, false, NULL, skip, out);
  case '"': {
    const char *s;
    size_t n;
    if (jp_string(p, skip ? JS_CHECK : JS_COPY, &s, &n) < 0) return -1;
    if (!skip) {
      out->type = FO_JSTRING;
      out->n = (uint32_t)n;
      out->u.s = s;
    }
    return 0;
  }
  case 't':
  case 'f':
    if (!jp_lit(p, c == 't' ? "true" : "false")) break;
    out->type = FO_JBOOL;
    out->u.b = c == 't';
    return 0;
  case 'n':
    if (!jp_lit(p, "null")) break;
    out->type = FO_JNULL;
    return 0;
  default:
    if (c == '-' || (c >= '0' && c <= '9')) return jp_number(p, skip, out);
  }
  if (c >= 0x20 && c < 0x7f) jp_fail(p, -EINVAL, "unexpected character '%c'", c);
  else jp_fail(p, -EINVAL, "unexpected byte 0x%02x", (unsigned char)c);
  return -1;
}

int fo_jv_parse(const char *text, size_t len, const struct fo_limits *lim,
                const struct fo_json_filter *filter, struct fo_arena *a, const struct fo_jv **ret,
                struct fo_parse_error *err) {
  struct jp p = {.s = text, .len = len, .lim = lim ? lim : fo_limits_default(), .err = err, .a = a};
  *ret = NULL;
  if (len > p.lim->doc_bytes) {
    fo_parse_error_set(err, 0, 0, "document larger than %zu bytes", p.lim->doc_bytes);
    return -E2BIG;
  }
  struct fo_jv *root = fo_arena_alloc(a, sizeof *root);
  if (!root) {
    fo_parse_error_set(err, 0, 0, "out of memory");
    return -ENOMEM;
  }
  *root = (struct fo_jv){.type = FO_JNULL};
  if (jp_value(&p, 0, filter, false, root) == 0) {
    jp_ws(&p);
    if (p.pos < p.len) jp_fail(&p, -EINVAL, "unexpected data after the JSON value");
  }
  free(p.stk);
  free(p.keys);
  if (p.rc) return p.rc;
  *ret = root;
  return 0;
}

/* Arena chunks of a parse for a json-c result are freed at its end: keep none. */
int fo_json_parse_filtered(const char *text, size_t len, const struct fo_limits *lim,
                           const struct fo_json_filter *filter, json_object **ret,
                           struct fo_parse_error *err) {
  *ret = NULL;
  struct fo_arena a;
  fo_arena_init(&a, SIZE_MAX);
  const struct fo_jv *v;
  int r = fo_jv_parse(text, len, lim, filter, &a, &v, err);
  if (r == 0 && (r = fo_jv_to_json(v, ret)) < 0) fo_parse_error_set(err, 0, 0, "out of memory");
  fo_arena_free(&a);
  return r;
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
  int r =
      o && v && json_object_is_type(o, json_type_object) && json_object_object_add(o, key, v) == 0
          ? 0
          : -ENOMEM;
  if (r < 0) json_object_put(v);
  if (err && *err == 0) *err = r;
  return r;
}

int fo_json_push(json_object *arr, json_object *v, int *err) {
  int r =
      arr && v && json_object_is_type(arr, json_type_array) && json_object_array_add(arr, v) == 0
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
