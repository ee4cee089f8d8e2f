#include "flinkop/artifact.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flinkop/buf.h"

#define DEFAULT_MAX_BYTES ((size_t)512 << 20)
#define DEFAULT_TIMEOUT_MS 300000L
#define MAX_HEADERS 64

bool fo_artifact_restricted_ip(const char *ip) {
  unsigned char a[16];
  if (!ip) return true;
  if (inet_pton(AF_INET, ip, a) == 1)
    return a[0] == 127 || a[0] == 10 || a[0] == 0 || (a[0] == 169 && a[1] == 254) ||
           (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) ||
           (a[0] & 0xf0) == 224;
  if (inet_pton(AF_INET6, ip, a) != 1) return true;
  static const unsigned char zero[16];
  if (!memcmp(a, zero, 10) && a[10] == 0xff && a[11] == 0xff) { /* IPv4-mapped */
    char v4[INET_ADDRSTRLEN];
    return !inet_ntop(AF_INET, a + 12, v4, sizeof v4) || fo_artifact_restricted_ip(v4);
  }
  return (!memcmp(a, zero, 15) && (a[15] == 0 || a[15] == 1)) || /* any-local, loopback */
         (a[0] == 0xfe && (a[1] & 0x80) == 0x80) ||              /* link- and site-local */
         (a[0] & 0xfe) == 0xfc ||                                /* unique local */
         a[0] == 0xff;                                           /* multicast */
}

int fo_artifact_scheme_allowed(const char *list, const char *scheme, size_t scheme_n,
                               struct fo_buf *display) {
  bool ok = false;
  int r = display ? fo_buf_putc(display, '[') : 0;
  size_t shown = 0;
  for (const char *p = list ? list : "https"; r == 0 && *p;) {
    size_t n = strcspn(p, ";,");
    const char *t = p;
    size_t tn = n;
    while (tn && (*t == ' ' || *t == '\t')) t++, tn--;
    while (tn && (t[tn - 1] == ' ' || t[tn - 1] == '\t')) tn--;
    if (tn == scheme_n && !strncasecmp(t, scheme, tn)) ok = true;
    if (tn && display && shown++) r = fo_buf_puts(display, ", ");
    for (size_t i = 0; tn && display && r == 0 && i < tn; i++)
      r = fo_buf_putc(display, (char)tolower((unsigned char)t[i]));
    p += n;
    if (*p) p++;
  }
  if (r == 0 && display) r = fo_buf_putc(display, ']');
  return r < 0 ? -ENOMEM : ok;
}

static bool scheme_allowed(const char *list, const char *scheme, size_t scheme_n) {
  return fo_artifact_scheme_allowed(list, scheme, scheme_n, NULL) == 1;
}

struct dl {
  int fd;
  size_t got, max;
  bool too_big, write_failed;
  bool allow_restricted, refused;
  char refused_ip[64];
};

static size_t on_data(char *p, size_t size, size_t n, void *ud) {
  struct dl *d = ud;
  size_t len = size * n;
  if (len > d->max - d->got) {
    d->too_big = true;
    return 0;
  }
  for (size_t off = 0; off < len;) {
    ssize_t w = write(d->fd, p + off, len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      d->write_failed = true;
      return 0;
    }
    off += (size_t)w;
  }
  d->got += len;
  return len;
}

/* Every connection, before its request: the address it reached must be allowed (redirects and
 * DNS answers included). */
static int on_prereq(void *ud, char *conn_primary_ip, char *conn_local_ip, int conn_primary_port,
                     int conn_local_port) {
  (void)conn_local_ip;
  (void)conn_primary_port;
  (void)conn_local_port;
  struct dl *d = ud;
  if (d->allow_restricted || !fo_artifact_restricted_ip(conn_primary_ip)) return CURL_PREREQFUNC_OK;
  d->refused = true;
  snprintf(d->refused_ip, sizeof d->refused_ip, "%s", conn_primary_ip ? conn_primary_ip : "?");
  return CURL_PREREQFUNC_ABORT;
}

/* The file's name: the URI path's last element, query and fragment left out, made of safe
 * characters, ending in .jar. */
static int file_name(const char *uri, struct fo_buf *out) {
  const char *path = strstr(uri, "://");
  path = path ? strchr(path + 3, '/') : NULL;
  size_t n = path ? strcspn(path, "?#") : 0;
  const char *last = path;
  for (size_t i = 0; i < n; i++)
    if (path[i] == '/') last = path + i + 1;
  size_t ln = last ? (size_t)(path + n - last) : 0;
  if (ln > 200) ln = 200;
  int r = 0;
  for (size_t i = 0; r == 0 && i < ln; i++) {
    char c = last[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_';
    r = fo_buf_putc(out, ok ? c : '_');
  }
  if (r == 0 && (out->len == 0 || out->data[0] == '.')) r = fo_buf_puts(out, "job");
  if (r == 0 && (out->len < 4 || strcmp(out->data + out->len - 4, ".jar") != 0))
    r = fo_buf_puts(out, ".jar");
  return r < 0 ? -ENOMEM : 0;
}

/* "k1:v1,k2:v2" as header lines (name checked: a token; value without line breaks). */
static int add_headers(struct curl_slist **hd, const char *spec, char *why, size_t why_n) {
  int count = 0;
  for (const char *p = spec; p && *p;) {
    size_t n = strcspn(p, ",");
    const char *colon = memchr(p, ':', n);
    size_t kn = colon ? (size_t)(colon - p) : 0;
    while (kn && p[0] == ' ') p++, kn--, n--;
    bool ok = colon && kn > 0 && ++count <= MAX_HEADERS && n < 8192;
    for (size_t i = 0; ok && i < kn; i++)
      ok = p[i] > ' ' && p[i] < 0x7f && !strchr("()<>@,;:\\\"/[]?={}", p[i]);
    for (size_t i = 0; ok && i < n; i++) ok = p[i] != '\r' && p[i] != '\n';
    if (!ok) {
      snprintf(why, why_n,
               "kubernetes.operator.user.artifacts.http.header cannot be read: expected "
               "name:value pairs separated by ',' (at most %d)",
               MAX_HEADERS);
      return -EINVAL;
    }
    char line[8192];
    snprintf(line, sizeof line, "%.*s: %.*s", (int)kn, p, (int)(n - kn - 1), colon + 1);
    struct curl_slist *nh = curl_slist_append(*hd, line);
    if (!nh) return -ENOMEM;
    *hd = nh;
    p += n;
    if (*p) p++;
  }
  return 0;
}

static int fetch_http(const char *uri, int fd, const struct fo_artifact_opts *o, char *why,
                      size_t why_n) {
  CURL *c = curl_easy_init();
  if (!c) return -ENOMEM;
  struct dl d = {.fd = fd,
                 .max = o->max_bytes ? o->max_bytes : DEFAULT_MAX_BYTES,
                 .allow_restricted = o->allow_restricted};
  struct curl_slist *hd = NULL;
  int r = add_headers(&hd, o->http_headers, why, why_n);
  if (r < 0) {
    curl_slist_free_all(hd);
    curl_easy_cleanup(c);
    return r;
  }
  /* the schemes a redirect may go to: the allowed ones of http and https */
  bool hs = scheme_allowed(o->allowed_schemes, "https", 5),
       h = scheme_allowed(o->allowed_schemes, "http", 4);
  const char *redir = hs && h ? "https,http" : h ? "http" : "https";
  curl_easy_setopt(c, CURLOPT_URL, uri);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, redir);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)d.max);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &d);
  curl_easy_setopt(c, CURLOPT_PREREQFUNCTION, on_prereq);
  curl_easy_setopt(c, CURLOPT_PREREQDATA, &d);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "flink-operator");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hd);
  CURLcode cr = curl_easy_perform(c);
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  if (d.refused) {
    snprintf(why, why_n, "jarURI host resolves to a restricted address (%s)", d.refused_ip);
    r = -EPERM;
  } else if (d.too_big || cr == CURLE_FILESIZE_EXCEEDED) {
    snprintf(why, why_n, "the jar is larger than %zu bytes", d.max);
    r = -EFBIG;
  } else if (cr == CURLE_OPERATION_TIMEDOUT) {
    snprintf(why, why_n, "the jar did not arrive in time: %s", curl_easy_strerror(cr));
    r = -ETIMEDOUT;
  } else if (cr == CURLE_UNSUPPORTED_PROTOCOL || cr == CURLE_TOO_MANY_REDIRECTS) {
    snprintf(why, why_n, "the jar's download was redirected where it may not go: %s",
             curl_easy_strerror(cr));
    r = -EPERM;
  } else if (d.write_failed) {
    snprintf(why, why_n, "the jar could not be written: %s", strerror(errno));
    r = -EIO;
  } else if (cr != CURLE_OK) {
    snprintf(why, why_n, "the jar could not be downloaded: %s", curl_easy_strerror(cr));
    r = cr == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EIO;
  } else if (code < 200 || code > 299) {
    snprintf(why, why_n, "the jar could not be downloaded: HTTP %ld", code);
    r = code == 404 || code == 410 ? -ENOENT : -EIO;
  }
  curl_slist_free_all(hd);
  curl_easy_cleanup(c);
  return r;
}

static int fetch_file(const char *path, int fd, const struct fo_artifact_opts *o, char *why,
                      size_t why_n) {
  int in = open(path, O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    int e = errno;
    snprintf(why, why_n, "the jar %.300s cannot be read: %s", path, strerror(e));
    return e == ENOENT ? -ENOENT : -EIO;
  }
  struct stat st;
  size_t max = o->max_bytes ? o->max_bytes : DEFAULT_MAX_BYTES;
  int r = 0;
  if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode)) {
    snprintf(why, why_n, "the jar %.300s is not a regular file", path);
    r = -EIO;
  } else if ((size_t)st.st_size > max) {
    snprintf(why, why_n, "the jar is larger than %zu bytes", max);
    r = -EFBIG;
  }
  char buf[65536];
  size_t total = 0;
  while (r == 0) {
    ssize_t n = read(in, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) break;
    if (n < 0 || (total += (size_t)n) > max) {
      snprintf(why, why_n, n < 0 ? "the jar cannot be read" : "the jar is larger than %zu bytes",
               max);
      r = n < 0 ? -EIO : -EFBIG;
      break;
    }
    for (ssize_t off = 0; r == 0 && off < n;) {
      ssize_t w = write(fd, buf + off, (size_t)(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        snprintf(why, why_n, "the jar could not be written: %s", strerror(errno));
        r = -EIO;
      } else {
        off += w;
      }
    }
  }
  close(in);
  return r;
}

int fo_artifact_fetch(const char *uri, const char *dir, const struct fo_artifact_opts *o,
                      char **ret_path, char *why, size_t why_n) {
  *ret_path = NULL;
  why[0] = '\0';
  size_t sn =
      uri ? strspn(uri, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-") : 0;
  if (!uri || sn == 0 || strncmp(uri + sn, "://", 3) != 0 || strlen(uri) > 8192) {
    snprintf(why, why_n, "jarURI %.300s cannot be fetched: it needs a scheme and //",
             uri ? uri : "(none)");
    return -EINVAL;
  }
  if (!scheme_allowed(o->allowed_schemes, uri, sn)) {
    snprintf(why, why_n,
             "jarURI scheme '%.*s' is not in the allowlist. Configure "
             "'kubernetes.operator.user.artifacts.allowed-schemes' to extend the allowlist.",
             (int)(sn > 32 ? 32 : sn), uri);
    return -EPERM;
  }
  bool http =
      (sn == 4 && !strncasecmp(uri, "http", 4)) || (sn == 5 && !strncasecmp(uri, "https", 5));
  bool file = sn == 4 && !strncasecmp(uri, "file", 4);
  if (!http && !file) {
    snprintf(why, why_n,
             "jarURI scheme '%.*s' cannot be fetched by this operator (https, http and file can)",
             (int)(sn > 32 ? 32 : sn), uri);
    return -EINVAL;
  }
  struct fo_buf path;
  fo_buf_init(&path, 4096);
  int r = fo_buf_printf(&path, "%s/", dir) < 0 ? -ENOMEM : file_name(uri, &path);
  if (r < 0) {
    fo_buf_free(&path);
    return r;
  }
  int fd = open(path.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    snprintf(why, why_n, "the jar cannot be stored in %.300s: %s", dir, strerror(errno));
    fo_buf_free(&path);
    return -EIO;
  }
  if (http) {
    r = fetch_http(uri, fd, o, why, why_n);
  } else { /* file:///path or file:/path (the authority, when any, must be empty or localhost) */
    const char *p = uri + sn + 3;
    if (!strncmp(p, "localhost/", 10)) p += 9;
    if (*p != '/') {
      snprintf(why, why_n, "jarURI %.300s names a file on another host", uri);
      r = -EINVAL;
    } else {
      r = fetch_file(p, fd, o, why, why_n);
    }
  }
  if (close(fd) < 0 && r == 0) {
    snprintf(why, why_n, "the jar could not be written: %s", strerror(errno));
    r = -EIO;
  }
  if (r < 0) {
    unlink(path.data);
    fo_buf_free(&path);
    return r;
  }
  *ret_path = fo_buf_steal(&path);
  return *ret_path ? 0 : -ENOMEM;
}
