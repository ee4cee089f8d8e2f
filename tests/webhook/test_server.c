/* Black-box tests of `flink-webhook serve`: the real server on loopback, driven over TLS with
 * libcurl, verifying its certificate with the generated CA.
 * usage: test_server FLINK_WEBHOOK_BINARY
 * FO_VALGRIND (optional) is a command prefix for the server, e.g. "valgrind --error-exitcode=99".
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "certgen.h"
#include "testutil.h"

static const char *g_bin;
static char g_dir[256];
static int g_port;
static pid_t g_pid;
static char g_url[64];
static char g_ca[300];

/* ---- helpers ---- */

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void write_text(const char *path, const char *text) {
  char tmp[1024];
  int n = snprintf(tmp, sizeof tmp, "%s.tmp", path);
  assert_true(n > 0 && (size_t)n < sizeof tmp);
  FILE *f = fopen(tmp, "wb");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  assert_int_equal(rename(tmp, path), 0);
}

/* Generates a serving pair signed by the CA in g_dir into dir/tls.crt, dir/tls.key. */
static void make_serving(const char *dir, long seconds) {
  char p[512];
  snprintf(p, sizeof p, "%s/ca.crt", g_dir);
  char *ca = tu_read_file_abs(p);
  snprintf(p, sizeof p, "%s/ca.key", g_dir);
  char *cak = tu_read_file_abs(p);
  const char *dns[] = {"localhost"};
  const char *ips[] = {"127.0.0.1"};
  struct fo_cert_request rq = {.common_name = "localhost",
                               .dns = dns,
                               .n_dns = 1,
                               .ips = ips,
                               .n_ips = 1,
                               .seconds = seconds};
  struct fo_buf c, k;
  fo_buf_init(&c, 1 << 20);
  fo_buf_init(&k, 1 << 20);
  const char *why;
  assert_int_equal(fo_certgen_serving(&rq, ca, cak, &c, &k, &why), 0);
  mkdir(dir, 0755);
  snprintf(p, sizeof p, "%s/tls.key", dir);
  write_text(p, k.data);
  snprintf(p, sizeof p, "%s/tls.crt", dir);
  write_text(p, c.data);
  fo_buf_free(&c);
  fo_buf_free(&k);
  free(ca);
  free(cak);
}

struct resp {
  long code;
  long request_size; /* bytes of the request that were sent */
  struct fo_buf body;
  char serial[128];
  CURLcode rc;
};

static size_t on_body(char *p, size_t s, size_t n, void *ud) {
  struct resp *r = ud;
  return fo_buf_append(&r->body, p, s * n) == 0 ? s * n : 0;
}

/* One request on a new connection. */
static void request(const char *method, const char *path, const char *ctype, const char *body,
                    size_t body_len, struct resp *r) {
  memset(r, 0, sizeof *r);
  fo_buf_init(&r->body, 64 << 20);
  fo_buf_append(&r->body, "", 0);
  CURL *c = curl_easy_init();
  char url[256];
  snprintf(url, sizeof url, "%s%s", g_url, path);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CAINFO, g_ca);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
  curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
  curl_easy_setopt(c, CURLOPT_CERTINFO, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  struct curl_slist *h = NULL;
  if (ctype) {
    char hdr[256];
    snprintf(hdr, sizeof hdr, "Content-Type: %s", ctype);
    h = curl_slist_append(h, hdr);
  }
  /* Large bodies go with "Expect: 100-continue", as the API server's client does: a refusal (413)
   * then arrives before the upload instead of racing it. */
  if (body_len < (1u << 20)) h = curl_slist_append(h, "Expect:");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  if (body) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
  } else if (!strcmp(method, "HEAD")) {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  }
  r->rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->code);
  curl_easy_getinfo(c, CURLINFO_REQUEST_SIZE, &r->request_size);
  struct curl_certinfo *ci = NULL;
  if (r->rc == CURLE_OK && curl_easy_getinfo(c, CURLINFO_CERTINFO, &ci) == CURLE_OK && ci &&
      ci->num_of_certs > 0)
    for (struct curl_slist *s = ci->certinfo[0]; s; s = s->next)
      if (!strncmp(s->data, "Serial Number:", 14))
        snprintf(r->serial, sizeof r->serial, "%s", s->data + 14);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
}

static void post(const char *path, const char *body, struct resp *r) {
  request("POST", path, "application/json", body, strlen(body), r);
}

static double metric(const char *name) {
  struct resp r;
  request("GET", "/metrics", NULL, NULL, 0, &r);
  assert_int_equal(r.code, 200);
  double v = -1;
  for (char *line = strtok(r.body.data, "\n"); line;
       line = strtok(NULL, "\n")) /* NOLINT: test only */
    if (!strncmp(line, name, strlen(name)) && line[strlen(name)] == ' ')
      v = strtod(line + strlen(name) + 1, NULL);
  fo_buf_free(&r.body);
  return v;
}

static int free_port(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bind(s, (struct sockaddr *)&a, sizeof a);
  socklen_t l = sizeof a;
  getsockname(s, (struct sockaddr *)&a, &l);
  close(s);
  return ntohs(a.sin_port);
}

static int raw_connect(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((uint16_t)g_port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  assert_int_equal(connect(s, (struct sockaddr *)&a, sizeof a), 0);
  return s;
}

/* Starts the server with the common flags and `extra` (NULL-terminated, may be NULL). */
static void start_server_with(const char *const *extra) {
  g_port = free_port();
  snprintf(g_url, sizeof g_url, "https://127.0.0.1:%d", g_port);
  char listen[64], cert[300], key[300], logp[300];
  snprintf(listen, sizeof listen, "127.0.0.1:%d", g_port);
  snprintf(cert, sizeof cert, "%s/current/tls.crt", g_dir);
  snprintf(key, sizeof key, "%s/current/tls.key", g_dir);
  snprintf(logp, sizeof logp, "%s/server.log", g_dir);
  g_pid = fork();
  if (g_pid == 0) {
    FILE *lf = freopen(logp, "w", stderr);
    (void)lf;
    const char *vg = getenv("FO_VALGRIND");
    char *argv[40];
    int n = 0;
    char *vgcopy = vg && *vg ? strdup(vg) : NULL;
    for (char *t = vgcopy ? strtok(vgcopy, " ") : NULL; t && n < 20; t = strtok(NULL, " "))
      argv[n++] = t;
    char *args[] = {(char *)g_bin,
                    "serve",
                    "--listen",
                    listen,
                    "--tls-cert",
                    cert,
                    "--tls-key",
                    key,
                    "--request-timeout",
                    "3",
                    "--conn-timeout",
                    "3",
                    "--cert-poll-ms",
                    "100",
                    "--threads",
                    "2",
                    "--shutdown-timeout",
                    "10",
                    NULL};
    for (int i = 0; args[i]; i++) argv[n++] = args[i];
    for (int i = 0; extra && extra[i] && n < 38; i++) argv[n++] = (char *)extra[i];
    argv[n] = NULL;
    execvp(argv[0], argv);
    _exit(127);
  }
  double t0 = now_s();
  for (;;) {
    struct resp r;
    request("GET", "/readyz", NULL, NULL, 0, &r);
    fo_buf_free(&r.body);
    if (r.code == 200) break;
    if (now_s() - t0 > 60) fail_msg("server did not become ready");
    usleep(50 * 1000);
  }
}

static void start_server(void) { start_server_with(NULL); }

static int stop_server(void) {
  kill(g_pid, SIGTERM);
  int st;
  waitpid(g_pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int setup(void **state) {
  (void)state;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  snprintf(g_dir, sizeof g_dir, "%s/fo-webhook-test-XXXXXX",
           getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  assert_non_null(mkdtemp(g_dir));
  struct fo_cert_request ca = {.common_name = "test-ca", .days = 30};
  struct fo_buf c, k;
  fo_buf_init(&c, 1 << 20);
  fo_buf_init(&k, 1 << 20);
  const char *why;
  assert_int_equal(fo_certgen_ca(&ca, &c, &k, &why), 0);
  char p[512];
  snprintf(g_ca, sizeof g_ca, "%s/ca.crt", g_dir);
  write_text(g_ca, c.data);
  snprintf(p, sizeof p, "%s/ca.key", g_dir);
  write_text(p, k.data);
  fo_buf_free(&c);
  fo_buf_free(&k);
  snprintf(p, sizeof p, "%s/gen1", g_dir);
  make_serving(p, 86400);
  char link[512];
  snprintf(link, sizeof link, "%s/current", g_dir);
  assert_int_equal(symlink("gen1", link), 0);
  start_server();
  return 0;
}

static int teardown(void **state) {
  (void)state;
  if (g_pid > 0) stop_server();
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
  if (!getenv("FO_KEEP_TMP")) {
    int rc = system(cmd);
    (void)rc;
  }
  curl_global_cleanup();
  return 0;
}

/* ---- tests ---- */

static int cmpstr(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_golden_pairs(void **state) {
  (void)state;
  char dir[512];
  snprintf(dir, sizeof dir, "%s/tests/admission", FO_SOURCE_DIR);
  DIR *d = opendir(dir);
  assert_non_null(d);
  char *names[128];
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < 128)
    if (strstr(e->d_name, ".request.json")) names[n++] = strdup(e->d_name);
  closedir(d);
  qsort(names, n, sizeof *names, cmpstr);
  assert_true(n >= 20);
  for (size_t i = 0; i < n; i++) {
    char rel[600], base[300];
    snprintf(base, sizeof base, "%.*s", (int)(strlen(names[i]) - strlen(".request.json")),
             names[i]);
    snprintf(rel, sizeof rel, "tests/admission/%s.request.json", base);
    char *body = tu_read_file(rel, NULL);
    snprintf(rel, sizeof rel, "tests/admission/%s.response.json", base);
    char *want_text = tu_read_file(rel, NULL);
    assert_non_null(body);
    assert_non_null(want_text);
    char path[32];
    snprintf(path, sizeof path, "/%s", strncmp(base, "mutate", 6) == 0 ? "mutate" : "validate");
    struct resp r;
    post(path, body, &r);
    if (r.rc != CURLE_OK || r.code != 200) fail_msg("%s: curl %d, HTTP %ld", base, r.rc, r.code);
    json_object *got = tu_json(r.body.data), *want = tu_json(want_text);
    if (!json_object_equal(got, want))
      fail_msg("%s: response differs\n got:  %s\n want: %s", base, r.body.data, want_text);
    json_object_put(got);
    json_object_put(want);
    fo_buf_free(&r.body);
    free(body);
    free(want_text);
    free(names[i]);
  }
}

static void test_bad_requests(void **state) {
  (void)state;
  static const char *review =
      "{\"apiVersion\":\"admission.k8s.io/"
      "v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\",\"operation\":\"CREATE\"}}";
  struct {
    const char *method, *path, *ctype, *body;
    long want;
    const char *want_text;
  } cases[] = {
      {"GET", "/validate", NULL, NULL, 405, "method not allowed"},
      {"PUT", "/mutate", "application/json", review, 405, "method not allowed"},
      {"POST", "/healthz", "application/json", review, 405, "method not allowed"},
      {"POST", "/nope", "application/json", review, 404, "not found"},
      {"GET", "/", NULL, NULL, 404, "not found"},
      {"POST", "/validate", "text/plain", review, 415, "unsupported media type"},
      {"POST", "/validate", NULL, review, 415, "unsupported media type"},
      {"POST", "/validate", "application/json", "{\"apiVersion\":", 400,
       "malformed JSON at line 1 column 15"},
      {"POST", "/validate", "application/json", "", 400, "malformed JSON"},
      {"POST", "/validate", "application/json", "[1,2]", 400,
       "not an AdmissionReview request: body is not a JSON object"},
      {"POST", "/validate", "application/json", "{\"kind\":\"Pod\"}", 400,
       "not an AdmissionReview request: kind is not AdmissionReview"},
      {"POST", "/mutate", "application/json",
       "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}", 400,
       "request is missing"},
      {"POST", "/validate", "application/json", "{\"a\":1,\"a\":2}", 400, "duplicate key"},
      {"POST", "/validate", "application/json",
       "{\"apiVersion\":\"admission.k8s.io/"
       "v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"\xff\xfe\"}}",
       400, "invalid UTF-8 in string"},
      {"POST", "/validate", "application/json", "{\"a\":1e400}", 400, "number out of range"},
      /* a 30-digit integer is read (as a double, as json-c does), the body is then judged as usual
       */
      {"POST", "/validate", "application/json", "{\"a\":123456789012345678901234567890}", 400,
       "kind is not AdmissionReview"},
      {"POST", "/validate", "application/json",
       "{\"apiVersion\":\"admission.k8s.io/"
       "v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":5}}",
       400, "request.uid"},
      {"POST", "/validate", "application/json", "{\"a\":\"\\ud800\"}", 400, "malformed JSON"},
      {"POST", "/validate", "application/json; charset=utf-8", review, 200, "\"allowed\":true"},
      {"GET", "/healthz", NULL, NULL, 200, "ok"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct resp r;
    request(cases[i].method, cases[i].path, cases[i].ctype, cases[i].body,
            cases[i].body ? strlen(cases[i].body) : 0, &r);
    if (r.code != cases[i].want || !strstr(r.body.data, cases[i].want_text))
      fail_msg("case %zu %s %s: got %ld %s", i, cases[i].method, cases[i].path, r.code,
               r.body.data);
    fo_buf_free(&r.body);
  }
  /* nested 5,000 deep: refused at the nesting limit, no recursion blow-up */
  {
    char *deep = malloc(10001);
    memset(deep, '[', 5000);
    memset(deep + 5000, ']', 5000);
    deep[10000] = '\0';
    struct resp rd;
    request("POST", "/validate", "application/json", deep, 10000, &rd);
    assert_int_equal(rd.code, 400);
    assert_non_null(strstr(rd.body.data, "nesting deeper than"));
    fo_buf_free(&rd.body);
    free(deep);
  }
  /* a wrong type in every field of the spec: one denial naming each */
  {
    static const char *typed =
        "{\"apiVersion\":\"admission.k8s.io/"
        "v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"t\",\"operation\":\"CREATE\","
        "\"kind\":{\"group\":\"flink.apache.org\",\"version\":\"v1beta1\",\"kind\":"
        "\"FlinkDeployment\"},\"object\":{"
        "\"apiVersion\":\"flink.apache.org/"
        "v1beta1\",\"kind\":\"FlinkDeployment\",\"metadata\":{\"name\":\"t\"},\"spec\":{"
        "\"image\":[1],\"imagePullPolicy\":2,\"serviceAccount\":{},\"flinkVersion\":7,\"mode\":"
        "true,\"flinkConfiguration\":[1],"
        "\"ingress\":\"x\",\"podTemplate\":5,\"logConfiguration\":{\"a\":1},\"restartNonce\":\"n\","
        "\"jobManager\":{\"replicas\":\"1\",\"resource\":{\"memory\":5,\"cpu\":\"x\"}},"
        "\"taskManager\":{\"resource\":{\"memory\":[],\"cpu\":{}}},"
        "\"job\":{\"jarURI\":{},\"parallelism\":\"two\",\"args\":\"a\",\"upgradeMode\":3,\"state\":"
        "1,\"savepointTriggerNonce\":\"s\"}}}}}";
    static const char *named[] = {"spec.image must be a string",
                                  "spec.flinkVersion must be a string",
                                  "spec.flinkConfiguration must be an object",
                                  "spec.logConfiguration.a must be a string",
                                  "spec.jobManager.replicas must be an integer",
                                  "spec.jobManager.resource.cpu must be a number",
                                  "spec.job.jarURI must be a string",
                                  "spec.job.parallelism must be an integer",
                                  "spec.job.args must be an array of strings"};
    struct resp rt;
    post("/validate", typed, &rt);
    assert_int_equal(rt.code, 200);
    assert_non_null(strstr(rt.body.data, "\"allowed\":false"));
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
      if (!strstr(rt.body.data, named[i]))
        fail_msg("wrong types: '%s' not in %s", named[i], rt.body.data);
    fo_buf_free(&rt.body);
  }
  /* a body over the 3 MiB default limit: 413, and the server still answers */
  size_t big = 3u * 1024 * 1024 + 10;
  char *b = malloc(big + 1);
  memset(b, ' ', big);
  b[0] = '{';
  b[big - 1] = '}';
  b[big] = '\0';
  struct resp r;
  request("POST", "/validate", "application/json", b, big, &r);
  assert_int_equal(r.code, 413);
  fo_buf_free(&r.body);
  free(b);
  post("/validate", review, &r);
  assert_int_equal(r.code, 200);
  fo_buf_free(&r.body);
}

static void test_idle_and_slow_clients(void **state) {
  (void)state;
  /* a client that connects and sends nothing */
  int idle = raw_connect();
  /* a client that sends half a request line */
  int slow = raw_connect();
  assert_true(write(slow, "\x16\x03", 2) == 2);
  struct resp r;
  post("/validate",
       "{\"apiVersion\":\"admission.k8s.io/"
       "v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\",\"operation\":\"DELETE\"}}",
       &r);
  assert_int_equal(r.code, 200);
  fo_buf_free(&r.body);
  /* both are closed by the server within the 3 s request deadline (plus sweeper slack) */
  double t0 = now_s();
  char buf[64];
  struct timeval tv = {8, 0};
  setsockopt(idle, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(slow, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ssize_t a, b;
  while ((a = read(idle, buf, sizeof buf)) > 0) {} /* a TLS alert may come first; then the close */
  while ((b = read(slow, buf, sizeof buf)) > 0) {}
  double took = now_s() - t0;
  assert_true(a <= 0);
  assert_true(b <= 0);
  assert_true(took < 7.0);
  close(idle);
  close(slow);
}

/* A slowloris over TLS: headers sent, then the body one byte a second. */
struct slow_ctx {
  int sent;
};
static size_t slow_read(char *buf, size_t size, size_t n, void *ud) {
  struct slow_ctx *s = ud;
  (void)size, (void)n;
  if (s->sent >= 20) return 0;
  sleep(1);
  buf[0] = ' ';
  s->sent++;
  return 1;
}

static void test_slowloris_body(void **state) {
  (void)state;
  CURL *c = curl_easy_init();
  char url[128];
  snprintf(url, sizeof url, "%s/validate", g_url);
  struct slow_ctx sc = {0};
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CAINFO, g_ca);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "POST");
  curl_easy_setopt(c, CURLOPT_READFUNCTION, slow_read);
  curl_easy_setopt(c, CURLOPT_READDATA, &sc);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)20);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  struct resp sink;
  memset(&sink, 0, sizeof sink);
  fo_buf_init(&sink.body, 1 << 20);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
  h = curl_slist_append(h, "Expect:");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  double t0 = now_s();
  CURLcode rc = curl_easy_perform(c);
  double took = now_s() - t0;
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  /* cut off well before the 20 s the client wanted */
  assert_true(rc != CURLE_OK || code != 200);
  assert_true(took < 8.0);
  assert_true(sc.sent < 10);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  fo_buf_free(&sink.body);
}

/* Sends raw bytes over TLS on a new connection and reads until the server closes it or `secs`
 * pass. Returns what was read (malloc'd, NUL-terminated); *closed says whether the server closed.
 */
static char *tls_exchange(const char *raw, size_t n, double secs, bool *closed) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  assert_non_null(ctx);
  assert_int_equal(SSL_CTX_load_verify_locations(ctx, g_ca, NULL), 1);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  int fd = raw_connect();
  SSL *ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  SSL_set_tlsext_host_name(ssl, "localhost");
  assert_int_equal(SSL_connect(ssl), 1);
  assert_int_equal(SSL_write(ssl, raw, (int)n), (int)n);
  struct timeval tv = {0, 200 * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  struct fo_buf out;
  fo_buf_init(&out, 1 << 20);
  fo_buf_append(&out, "", 0);
  *closed = false;
  double t0 = now_s();
  while (now_s() - t0 < secs) {
    char buf[4096];
    int k = SSL_read(ssl, buf, sizeof buf);
    if (k > 0) {
      fo_buf_append(&out, buf, (size_t)k);
      continue;
    }
    int e = SSL_get_error(ssl, k);
    if (e == SSL_ERROR_ZERO_RETURN ||
        (e == SSL_ERROR_SYSCALL && errno != EAGAIN && errno != EWOULDBLOCK)) {
      *closed = true;
      break;
    }
    if (e == SSL_ERROR_SSL) {
      *closed = true;
      break;
    }
  }
  SSL_free(ssl);
  close(fd);
  SSL_CTX_free(ctx);
  return fo_buf_steal(&out);
}

static unsigned count_responses(const char *s) {
  unsigned n = 0;
  for (const char *p = s; (p = strstr(p, "HTTP/1.1 ")); p++) n++;
  return n;
}

/* Request smuggling shapes: a request whose body's end could be read two ways is refused with
 * one answer and the connection closed, so what follows it is never answered as a request. */
static void test_smuggling_shapes(void **state) {
  (void)state;
  static const char *H = "POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
  static const char *next = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  struct {
    const char *name, *headers, *body;
    unsigned want;
  } cases[] = {
      {"CL.TE", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n", 400},
      {"TE.CL", "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", "2\r\n{}\r\n0\r\n\r\n", 400},
      {"two Content-Length", "Content-Length: 2\r\nContent-Length: 40\r\n", "{}", 400},
      {"two equal Content-Length", "Content-Length: 2\r\nContent-Length: 2\r\n", "{}", 400},
      {"two Transfer-Encoding", "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n",
       "2\r\n{}\r\n0\r\n\r\n", 400},
      {"Transfer-Encoding list", "Transfer-Encoding: chunked, identity\r\n", "2\r\n{}\r\n0\r\n\r\n",
       501},
      {"Transfer-Encoding xchunked", "Transfer-Encoding: xchunked\r\n", "2\r\n{}\r\n0\r\n\r\n",
       501},
      {"Transfer-Encoding identity", "transfer-encoding: identity\r\n", "{}", 501},
      {"bad chunk size", "Transfer-Encoding: chunked\r\n", "zz\r\n{}\r\n0\r\n\r\n", 400},
      {"chunk size overflow", "Transfer-Encoding: chunked\r\n",
       "ffffffffffffffffffff\r\n{}\r\n0\r\n\r\n", 413},
      {"negative Content-Length", "Content-Length: -1\r\n", "{}", 400},
      {"signed Content-Length", "Content-Length: +2\r\n", "{}", 400},
      {"two numbers in Content-Length", "Content-Length: 2 2\r\n", "{}", 400},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char raw[1024];
    int n = snprintf(raw, sizeof raw, "%s%s\r\n%s%s", H, cases[i].headers, cases[i].body, next);
    bool closed;
    char *got = tls_exchange(raw, (size_t)n, 5.0, &closed);
    char want[32];
    snprintf(want, sizeof want, "HTTP/1.1 %u ", cases[i].want);
    if (strncmp(got, want, strlen(want)) != 0 || !closed || strstr(got, "\r\n\r\nok\n"))
      fail_msg("%s: want one \"%s\" and a close, got (closed %d):\n%s", cases[i].name, want, closed,
               got);
    free(got);
  }
  /* the counting above can see a second answer: two pipelined requests get two */
  char raw[1024];
  const char *review =
      "{\"apiVersion\":\"admission.k8s.io/"
      "v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"p\",\"operation\":\"DELETE\"}}";
  int n = snprintf(raw, sizeof raw,
                   "%sContent-Length: %zu\r\n\r\n%sGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: "
                   "close\r\n\r\n",
                   H, strlen(review), review);
  bool closed;
  char *got = tls_exchange(raw, (size_t)n, 5.0, &closed);
  if (count_responses(got) != 2 || !strstr(got, "\"uid\":\"p\"") || !strstr(got, "\r\n\r\nok\n"))
    fail_msg("pipelined requests: want two answers, got:\n%s", got);
  free(got);
  /* and legitimate clients are served throughout */
  struct resp r;
  post("/validate", review, &r);
  assert_int_equal(r.code, 200);
  fo_buf_free(&r.body);
}

/* Many idle connections (TCP only, and TLS without a request) do not keep a legitimate client
 * waiting, and are all closed by the server's deadline. */
static void test_many_idle_connections(void **state) {
  (void)state;
  enum { N = 300 };
  int fds[N];
  for (int i = 0; i < N; i++) {
    fds[i] = raw_connect();
    if (i % 3 == 0)
      assert_true(write(fds[i], "\x16\x03\x01", 3) == 3); /* a TLS record header, then nothing */
  }
  double t0 = now_s();
  struct resp r;
  post("/validate",
       "{\"apiVersion\":\"admission.k8s.io/"
       "v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"i\",\"operation\":\"DELETE\"}}",
       &r);
  double took = now_s() - t0;
  assert_int_equal(r.code, 200);
  fo_buf_free(&r.body);
  assert_true(took < 2.0);
  /* every idle one is closed within the 3 s request deadline (plus the sweeper's slack) */
  int closed = 0;
  double deadline = now_s() + 10;
  for (int i = 0; i < N; i++) {
    struct timeval tv = {1, 0};
    setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[256];
    ssize_t k;
    while (now_s() < deadline && ((k = read(fds[i], buf, sizeof buf)) > 0 ||
                                  (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)))) {}
    if (now_s() < deadline) closed++;
    close(fds[i]);
  }
  assert_int_equal(closed, N);
  assert_true(now_s() - t0 < 10.0);
}

static void test_tls_garbage_and_weak_clients(void **state) {
  (void)state;
  double before = metric("flink_webhook_tls_handshake_failures_total");
  assert_true(before >= 0);
  int s = raw_connect();
  const char *plain = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  assert_true(write(s, plain, strlen(plain)) > 0);
  char buf[256];
  struct timeval tv = {5, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  while (read(s, buf, sizeof buf) > 0) {}
  close(s);
  /* TLS 1.1 and a CBC-only cipher list are refused */
  CURL *c = curl_easy_init();
  char url[128];
  snprintf(url, sizeof url, "%s/healthz", g_url);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CAINFO, g_ca);
  curl_easy_setopt(c, CURLOPT_SSLVERSION,
                   (long)(CURL_SSLVERSION_TLSv1_0 | CURL_SSLVERSION_MAX_TLSv1_1));
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
  struct resp sink;
  memset(&sink, 0, sizeof sink);
  fo_buf_init(&sink.body, 1 << 16);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  CURLcode rc11 = curl_easy_perform(c);
  curl_easy_setopt(c, CURLOPT_SSLVERSION,
                   (long)(CURL_SSLVERSION_TLSv1_2 | CURL_SSLVERSION_MAX_TLSv1_2));
  curl_easy_setopt(c, CURLOPT_SSL_CIPHER_LIST, "AES128-SHA:AES256-SHA:DES-CBC3-SHA");
  CURLcode rcweak = curl_easy_perform(c);
  curl_easy_setopt(c, CURLOPT_SSL_CIPHER_LIST, "ECDHE-ECDSA-AES128-GCM-SHA256");
  CURLcode rcgood = curl_easy_perform(c);
  curl_easy_cleanup(c);
  fo_buf_free(&sink.body);
  assert_int_not_equal(rc11, CURLE_OK);
  assert_int_not_equal(rcweak, CURLE_OK);
  assert_int_equal(rcgood, CURLE_OK);
  /* the close is noticed asynchronously */
  double t0 = now_s(), after = before;
  while (now_s() - t0 < 5 &&
         (after = metric("flink_webhook_tls_handshake_failures_total")) < before + 3)
    usleep(50000);
  assert_true(after >= before + 3);
}

/* Rotation: a client loops on new connections while the certificate files are swapped. */
static atomic_bool rot_stop;
static atomic_int rot_fail, rot_ok;
static char rot_last_serial[128];
static pthread_mutex_t rot_mu = PTHREAD_MUTEX_INITIALIZER;

static void *rot_client(void *arg) {
  (void)arg;
  while (!atomic_load(&rot_stop)) {
    struct resp r;
    post(
        "/validate",
        "{\"apiVersion\":\"admission.k8s.io/"
        "v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"rot\",\"operation\":\"DELETE\"}}",
        &r);
    if (r.rc == CURLE_OK && r.code == 200 && strstr(r.body.data, "\"uid\":\"rot\"")) {
      atomic_fetch_add(&rot_ok, 1);
      pthread_mutex_lock(&rot_mu);
      snprintf(rot_last_serial, sizeof rot_last_serial, "%s", r.serial);
      pthread_mutex_unlock(&rot_mu);
    } else {
      atomic_fetch_add(&rot_fail, 1);
      fprintf(stderr, "rotation: request failed: curl %d http %ld\n", r.rc, r.code);
    }
    fo_buf_free(&r.body);
  }
  return NULL;
}

static void current_serial(char *out, size_t n) {
  pthread_mutex_lock(&rot_mu);
  snprintf(out, n, "%s", rot_last_serial);
  pthread_mutex_unlock(&rot_mu);
}

static void swap_to(const char *gen) {
  char link[512], tmp[512];
  snprintf(link, sizeof link, "%s/current", g_dir);
  snprintf(tmp, sizeof tmp, "%s/current.tmp", g_dir);
  unlink(tmp);
  assert_int_equal(symlink(gen, tmp), 0);
  assert_int_equal(rename(tmp, link), 0); /* what kubelet does for a Secret volume */
}

static void test_rotation(void **state) {
  (void)state;
  pthread_t th[2];
  atomic_store(&rot_stop, false);
  for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, rot_client, NULL);
  while (atomic_load(&rot_ok) < 5) usleep(10000);
  char s1[128], s2[128], s3[128];
  current_serial(s1, sizeof s1);
  assert_true(strlen(s1) > 0);
  char p[512];
  snprintf(p, sizeof p, "%s/gen2", g_dir);
  make_serving(p, 86400);
  swap_to("gen2");
  double t0 = now_s();
  do {
    usleep(20000);
    current_serial(s2, sizeof s2);
  } while (!strcmp(s1, s2) && now_s() - t0 < 10);
  assert_string_not_equal(s1, s2);
  /* a mismatched pair (key of gen1, certificate of gen3) is refused; gen2 stays */
  snprintf(p, sizeof p, "%s/gen3", g_dir);
  make_serving(p, 86400);
  char from[600], to[600];
  snprintf(from, sizeof from, "%s/gen1/tls.key", g_dir);
  snprintf(to, sizeof to, "%s/gen3/tls.key", g_dir);
  char *k1 = tu_read_file_abs(from);
  write_text(to, k1);
  free(k1);
  swap_to("gen3");
  /* an expired pair (gen4: valid 1 s) is refused too */
  snprintf(p, sizeof p, "%s/gen4", g_dir);
  make_serving(p, 1);
  sleep(2);
  swap_to("gen4");
  usleep(600 * 1000);
  int ok_before = atomic_load(&rot_ok);
  while (atomic_load(&rot_ok) < ok_before + 5) usleep(10000);
  current_serial(s3, sizeof s3);
  assert_string_equal(s2, s3);
  atomic_store(&rot_stop, true);
  for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
  assert_int_equal(atomic_load(&rot_fail), 0);
  snprintf(p, sizeof p, "%s/server.log", g_dir);
  char *log = tu_read_file_abs(p);
  assert_non_null(strstr(log, "\"reason\":\"the private key does not match the certificate\""));
  assert_non_null(strstr(log, "\"reason\":\"the certificate has expired\""));
  assert_non_null(strstr(log, "tls certificate reloaded"));
  free(log);
  assert_true(metric("flink_webhook_certificate_reloads_total") == 1);
  swap_to("gen2");
}

/* SIGTERM under load: no client sees a broken response; the server exits 0. */
static atomic_int term_ok, term_refused, term_broken;
static atomic_bool term_stop;

static void *term_client(void *arg) {
  (void)arg;
  char *body = tu_read_file("tests/admission/validate-deny-savepoint.request.json", NULL);
  while (!atomic_load(&term_stop)) {
    struct resp r;
    post("/validate", body, &r);
    if (r.rc == CURLE_OK && r.code == 200 &&
        strstr(r.body.data, "Job could not be upgraded with savepoint")) {
      atomic_fetch_add(&term_ok, 1);
    } else if (r.rc != CURLE_OK &&
               r.request_size == 0) { /* never delivered: refused or reset at connect */
      atomic_fetch_add(&term_refused, 1);
      usleep(10000);
    } else {
      atomic_fetch_add(&term_broken, 1);
      fprintf(stderr, "sigterm: broken response: curl %d (%s) http %ld body %.80s\n", r.rc,
              curl_easy_strerror(r.rc), r.code, r.body.data);
    }
    fo_buf_free(&r.body);
  }
  free(body);
  return NULL;
}

static void test_sigterm_under_load(void **state) {
  (void)state;
  pthread_t th[4];
  atomic_store(&term_stop, false);
  for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, term_client, NULL);
  while (atomic_load(&term_ok) < 50) usleep(5000);
  int rc = stop_server();
  g_pid = 0;
  usleep(200 * 1000);
  atomic_store(&term_stop, true);
  for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
  fprintf(stderr, "sigterm: %d ok, %d refused after close, %d broken\n", atomic_load(&term_ok),
          atomic_load(&term_refused), atomic_load(&term_broken));
  assert_int_equal(atomic_load(&term_broken), 0);
  assert_true(atomic_load(&term_refused) > 0);
  assert_int_equal(rc, 0);
}

/* --shutdown-delay: after SIGTERM /readyz fails at once, but requests on kept-alive and on new
 * connections are still answered for the delay, each with "Connection: close" so the client does
 * not reuse a connection the drain will close; then the server exits 0. */
static size_t on_header(char *p, size_t s, size_t n, void *ud) {
  if (n * s >= 17 && !strncasecmp(p, "Connection: close", 17)) *(bool *)ud = true;
  return s * n;
}

static void test_sigterm_with_delay(void **state) {
  (void)state;
  const char *extra[] = {"--shutdown-delay", "2", NULL};
  start_server_with(extra);
  char *body = tu_read_file("tests/admission/validate-deny-savepoint.request.json", NULL);
  char url[128];
  snprintf(url, sizeof url, "%s/validate", g_url);
  struct resp kr; /* the kept-alive connection's bodies */
  memset(&kr, 0, sizeof kr);
  fo_buf_init(&kr.body, 1 << 20);
  bool closing = false;
  CURL *c = curl_easy_init();
  struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CAINFO, g_ca);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &kr);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &closing);
  long code = 0, conns = 0;
  assert_int_equal(curl_easy_perform(c), CURLE_OK); /* a kept-alive connection, before the signal */
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  assert_int_equal(code, 200);
  assert_false(closing);
  double t0 = now_s();
  kill(g_pid, SIGTERM);
  struct resp r;
  for (;;) { /* not ready at once */
    request("GET", "/readyz", NULL, NULL, 0, &r);
    long rc = r.code;
    fo_buf_free(&r.body);
    if (rc == 503) break;
    assert_true(now_s() - t0 < 1.0);
    usleep(10 * 1000);
  }
  assert_int_equal(curl_easy_perform(c), CURLE_OK); /* the same connection, answered and closed */
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &conns);
  assert_int_equal(code, 200);
  assert_int_equal(conns, 0);
  assert_true(closing);
  post("/validate", body, &r); /* a new connection during the delay is still served */
  assert_int_equal(r.rc, CURLE_OK);
  assert_int_equal(r.code, 200);
  assert_non_null(strstr(r.body.data, "Job could not be upgraded with savepoint"));
  fo_buf_free(&r.body);
  assert_true(now_s() - t0 < 2.0); /* all of it inside the delay */
  int st;
  assert_int_equal(waitpid(g_pid, &st, 0), g_pid);
  double took = now_s() - t0;
  g_pid = 0;
  fprintf(stderr, "shutdown delay 2 s: exited after %.2f s\n", took);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  assert_true(took >= 2.0 && took < 5.0);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  fo_buf_free(&kr.body);
  free(body);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: test_server FLINK_WEBHOOK_BINARY\n");
    return 2;
  }
  g_bin = argv[1];
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_golden_pairs),
      cmocka_unit_test(test_bad_requests),
      cmocka_unit_test(test_idle_and_slow_clients),
      cmocka_unit_test(test_slowloris_body),
      cmocka_unit_test(test_tls_garbage_and_weak_clients),
      cmocka_unit_test(test_smuggling_shapes),
      cmocka_unit_test(test_many_idle_connections),
      cmocka_unit_test(test_rotation),
      cmocka_unit_test(test_sigterm_under_load),
      cmocka_unit_test(test_sigterm_with_delay),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
