#include "flinkop/base64.h"

#include <stdlib.h>
#include <string.h>

static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *fo_base64_encode(const void *data, size_t n) {
  const unsigned char *s = data;
  char *out = malloc(((n + 2) / 3) * 4 + 1);
  if (!out) return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)s[i] << 16;
    if (i + 1 < n) v |= (unsigned)s[i + 1] << 8;
    if (i + 2 < n) v |= (unsigned)s[i + 2];
    out[k++] = tbl[(v >> 18) & 63];
    out[k++] = tbl[(v >> 12) & 63];
    out[k++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
    out[k++] = i + 2 < n ? tbl[v & 63] : '=';
  }
  out[k] = '\0';
  return out;
}

static int val(int c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

char *fo_base64_decode(const char *s, size_t max, size_t *ret_len) {
  size_t n = strlen(s);
  if (n / 4 * 3 > max + 3) return NULL;
  char *out = malloc(n / 4 * 3 + 4);
  if (!out) return NULL;
  size_t k = 0;
  unsigned acc = 0;
  int bits = 0;
  size_t i = 0;
  for (; i < n && s[i] != '='; i++) {
    char c = s[i];
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    int v = val(c);
    if (v < 0) goto bad;
    acc = (acc << 6) | (unsigned)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[k++] = (char)((acc >> bits) & 0xFF);
    }
  }
  for (; i < n; i++) /* only padding and whitespace may follow */
    if (s[i] != '=' && s[i] != ' ' && s[i] != '\n' && s[i] != '\r' && s[i] != '\t') goto bad;
  if (k > max) goto bad;
  out[k] = '\0';
  if (ret_len) *ret_len = k;
  return out;
bad:
  free(out);
  return NULL;
}
