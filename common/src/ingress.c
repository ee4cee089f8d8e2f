#include "flinkop/ingress.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "flinkop/buf.h"

/* The template with {{name}} and {{namespace}} replaced (any case) and http:// in front unless it
 * has http:// or https://; into `out`. */
static int expand(struct fo_buf *out, const char *t, const char *name, const char *ns) {
  int r = 0;
  if (strncasecmp(t, "http://", 7) && strncasecmp(t, "https://", 8))
    r = fo_buf_puts(out, "http://");
  while (r == 0 && *t) {
    if (!strncasecmp(t, "{{name}}", 8)) {
      r = fo_buf_puts(out, name);
      t += 8;
    } else if (!strncasecmp(t, "{{namespace}}", 13)) {
      r = fo_buf_puts(out, ns);
      t += 13;
    } else {
      r = fo_buf_putc(out, *t++);
    }
  }
  return r;
}

/* Java's Integer.parseInt(s, begin, end, 10) on the port text [s, s+n): 0 with *port, or -EINVAL
 * with Java's NumberFormatException message. */
static int parse_port(const char *s, size_t n, long *port, char *why, size_t why_len) {
  size_t i = 0;
  bool neg = false;
  if (s[0] == '-' || s[0] == '+') {
    neg = s[0] == '-';
    if (n == 1) {
      snprintf(why, why_len, "For input string: \"%.*s\"", (int)n, s);
      return -EINVAL;
    }
    i = 1;
  }
  long v = 0;
  for (; i < n; i++) {
    if (s[i] < '0' || s[i] > '9' || v > (LONG_MAX / 10)) break;
    v = v * 10 + (s[i] - '0');
    if (v > (long)INT_MAX + (neg ? 1 : 0)) break;
  }
  if (i < n) {
    snprintf(why, why_len, "Error at index %zu in: \"%.*s\"", i, (int)(n > 512 ? 512 : n), s);
    return -EINVAL;
  }
  *port = neg ? -v : v;
  return 0;
}

/* The port text after an authority's ':' ([s, s+n), may be empty: no port), as Java's URL takes
 * it: 0, or -EINVAL with Java's message. */
static int check_port(const char *s, size_t n, char *why, size_t why_len) {
  long port = -1;
  if (n > 0 && parse_port(s, n, &port, why, why_len) < 0) return -EINVAL;
  if (port < -1) {
    snprintf(why, why_len, "Invalid port number :%ld", port);
    return -EINVAL;
  }
  return 0;
}

/* What Java's URL takes for an IPv6 literal between the brackets: hex digits, ':' and '.', with
 * a ':' (the text between '[' and ']', at least two characters). */
static bool ipv6_literal(const char *s, size_t n) {
  bool colon = false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == ':') colon = true;
    else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
               c == '.' || c == '%'))
      return false;
  }
  return colon;
}

static char *dup_n(const char *s, size_t n) {
  char *d = malloc(n + 1);
  if (d) {
    memcpy(d, s, n);
    d[n] = '\0';
  }
  return d;
}

static bool blank(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r' && s[i] != '\f' && s[i] != '\v')
      return false;
  return true;
}

/* java.net.URL on an http(s) URL: the fragment goes, then the query; "//authority" up to the next
 * '/'; the host is the authority less user info (none when there are two '@') and port. */
static int read_url(const char *u, struct fo_ingress_url *ret, char *why, size_t why_len) {
  size_t limit = strcspn(u, "#");
  const char *q = memchr(u, '?', limit);
  if (q) limit = (size_t)(q - u);
  size_t start = strcspn(u, ":") + 1; /* after the scheme (http: or https:) */
  const char *host = NULL;
  size_t host_n = 0, path_at = start;
  if (start + 2 <= limit && u[start] == '/' && u[start + 1] == '/') {
    start += 2;
    const char *slash = memchr(u + start, '/', limit - start);
    size_t end = slash ? (size_t)(slash - u) : limit;
    const char *auth = u + start;
    size_t auth_n = end - start;
    path_at = end;
    const char *at = memchr(auth, '@', auth_n);
    host = auth;
    host_n = auth_n;
    if (at) {
      const char *next = memchr(at + 1, '@', auth_n - (size_t)(at + 1 - auth));
      host = next ? NULL : at + 1;
      host_n = next ? 0 : auth_n - (size_t)(at + 1 - auth);
    }
    if (host && host_n > 0 && host[0] == '[') {
      const char *rb = memchr(host, ']', host_n);
      size_t ind = rb ? (size_t)(rb - host) : 0;
      if (ind <= 2) {
        snprintf(why, why_len, "Invalid authority field: %.*s", (int)auth_n, auth);
        return -EINVAL;
      }
      if (!ipv6_literal(host + 1, ind - 1)) {
        snprintf(why, why_len, "Invalid host: %.*s", (int)ind + 1, host);
        return -EINVAL;
      }
      if (host_n > ind + 1) {
        if (host[ind + 1] != ':') {
          snprintf(why, why_len, "Invalid authority field: %.*s", (int)auth_n, auth);
          return -EINVAL;
        }
        if (check_port(host + ind + 2, host_n - ind - 2, why, why_len) < 0) return -EINVAL;
      }
      host_n = ind + 1;
    } else if (host) {
      const char *colon = memchr(host, ':', host_n);
      if (colon) {
        size_t ind = (size_t)(colon - host);
        if (check_port(host + ind + 1, host_n - ind - 1, why, why_len) < 0) return -EINVAL;
        host_n = ind;
      }
    }
  }
  const char *path = u + path_at;
  size_t path_n = limit - path_at;
  ret->host = host && !blank(host, host_n) ? dup_n(host, host_n) : NULL;
  ret->path = !blank(path, path_n) ? dup_n(path, path_n) : NULL;
  if ((host && !blank(host, host_n) && !ret->host) || (!blank(path, path_n) && !ret->path)) {
    fo_ingress_url_free(ret);
    return -ENOMEM;
  }
  return 0;
}

int fo_ingress_render(const char *tmpl, const char *name, const char *ns,
                      struct fo_ingress_url *ret, char *why, size_t why_len) {
  memset(ret, 0, sizeof *ret);
  why[0] = '\0';
  if (strlen(tmpl) > FO_INGRESS_TEMPLATE_MAX) {
    snprintf(why, why_len, "the template is longer than %d bytes", FO_INGRESS_TEMPLATE_MAX);
    return -E2BIG;
  }
  struct fo_buf u;
  fo_buf_init(&u, FO_INGRESS_URL_MAX);
  int r = expand(&u, tmpl, name ? name : "", ns ? ns : "");
  if (r == -E2BIG)
    snprintf(why, why_len, "the rendered template is longer than %d bytes", FO_INGRESS_URL_MAX);
  else if (r == 0) r = read_url(u.data ? u.data : "", ret, why, why_len);
  fo_buf_free(&u);
  return r;
}

void fo_ingress_url_free(struct fo_ingress_url *u) {
  free(u->host);
  free(u->path);
  u->host = u->path = NULL;
}
