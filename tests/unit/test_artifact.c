/* fo_artifact_fetch against a local HTTP server (python3) and local files: what arrives, the
 * allowlist, the address check (the server is on loopback: refused unless allowed, whatever the
 * name), the size and redirect bounds, headers, and the messages. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "flinkop/artifact.h"
#include "testutil.h"

static char dir[64], out[96], url[128];
static pid_t srv;

static const char server_py[] =
    "import http.server, sys\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def log_message(self, *a): pass\n"
    "    def do_GET(self):\n"
    "        p = self.path\n"
    "        if p.startswith('/jars/'):\n"
    "            body = b'PK\\x03\\x04' + bytes(range(256)) * 64\n"
    "        elif p == '/echo':\n"
    "            body = (self.headers.get('X-Token') or '-').encode()\n"
    "        elif p == '/to-ftp':\n"
    "            self.send_response(302); self.send_header('Location', "
    "'ftp://example.com/x.jar');\n"
    "            self.send_header('Content-Length', '0'); self.end_headers(); return\n"
    "        elif p == '/to-jar':\n"
    "            self.send_response(302); self.send_header('Location', '/jars/a.jar');\n"
    "            self.send_header('Content-Length', '0'); self.end_headers(); return\n"
    "        else:\n"
    "            self.send_response(404); self.send_header('Content-Length', '0'); "
    "self.end_headers(); return\n"
    "        self.send_response(200); self.send_header('Content-Length', str(len(body)));\n"
    "        self.end_headers(); self.wfile.write(body)\n"
    "s = http.server.HTTPServer(('127.0.0.1', 0), H)\n"
    "open(sys.argv[1] + '.tmp', 'w').write(str(s.server_address[1]))\n"
    "import os; os.rename(sys.argv[1] + '.tmp', sys.argv[1])\n"
    "s.serve_forever()\n";

static int setup(void **st) {
  (void)st;
  snprintf(dir, sizeof dir, "/tmp/fo-artifact-XXXXXX");
  assert_non_null(mkdtemp(dir));
  snprintf(out, sizeof out, "%s/out", dir);
  assert_int_equal(mkdir(out, 0700), 0);
  char portf[128];
  snprintf(portf, sizeof portf, "%s/port", dir);
  srv = fork();
  if (srv == 0) {
    execlp("python3", "python3", "-c", server_py, portf, (char *)NULL);
    _exit(127);
  }
  int port = tu_wait_port_file(portf);
  snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
  return 0;
}

static int teardown(void **st) {
  (void)st;
  kill(srv, SIGTERM);
  waitpid(srv, NULL, 0);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  int rc = system(cmd);
  (void)rc;
  return 0;
}

static long file_size(const char *p) {
  struct stat s;
  return stat(p, &s) == 0 ? (long)s.st_size : -1;
}

static int entries(const char *d) { /* files left in the output directory */
  char cmd[160];
  snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 0", d);
  return system(cmd) == 0 ? 0 : 1;
}

struct fcase {
  const char *what, *path; /* path under the server ("" for none: `full` is used) */
  const char *full;        /* a whole URI instead */
  const char *schemes, *headers;
  bool allow_restricted;
  size_t max;
  int want;         /* 0 or the negative errno */
  const char *name; /* the file's name when fetched */
  long size;        /* its size, -1 not checked */
  const char *why;  /* a part of the message when refused */
};

static void test_fetch(void **st) {
  (void)st;
  char jar[128], big[128];
  snprintf(jar, sizeof jar, "%s/local.jar", dir);
  snprintf(big, sizeof big, "%s/big.jar", dir);
  tu_write_file(jar, "PK-local", 8, 1);
  tu_write_file(big, "0123456789", 10, 5000);
  char file_uri[160], big_uri[160];
  snprintf(file_uri, sizeof file_uri, "file://%s", jar);
  snprintf(big_uri, sizeof big_uri, "file://%s", big);
  const long jar_size = 4 + 256 * 64;
  const struct fcase cases[] = {
      {"http, loopback allowed", "/jars/counter.jar", NULL, "http", NULL, true, 0, 0, "counter.jar",
       jar_size, NULL},
      {"loopback refused at the connection", "/jars/counter.jar", NULL, "http", NULL, false, 0,
       -EPERM, NULL, -1, "restricted address (127.0.0.1)"},
      {"a name resolving to loopback refused too", NULL, "localhost", "http", NULL, false, 0,
       -EPERM, NULL, -1, "restricted address"},
      {"scheme not allowed", "/jars/counter.jar", NULL, "https", NULL, true, 0, -EPERM, NULL, -1,
       "jarURI scheme 'http' is not in the allowlist"},
      {"over the size bound", "/jars/counter.jar", NULL, "http", NULL, true, 1000, -EFBIG, NULL, -1,
       "larger than 1000 bytes"},
      {"not found", "/nothing.jar", NULL, "http", NULL, true, 0, -ENOENT, NULL, -1, "HTTP 404"},
      {"a name without .jar, query left out", "/jars/download?id=3", NULL, "http;https", NULL, true,
       0, 0, "download.jar", jar_size, NULL},
      {"headers sent", "/echo", NULL, "http", "X-Token:s3cret, Other: x", true, 0, 0, "echo.jar", 6,
       NULL},
      {"a header that cannot be read", "/echo", NULL, "http", "no-colon", true, 0, -EINVAL, NULL,
       -1, "http.header cannot be read"},
      {"a redirect to an allowed scheme", "/to-jar", NULL, "http", NULL, true, 0, 0, "to-jar.jar",
       jar_size, NULL},
      {"a redirect to ftp refused", "/to-ftp", NULL, "http", NULL, true, 0, -EPERM, NULL, -1,
       "redirected"},
      {"file", NULL, file_uri, "https;file", NULL, false, 0, 0, "local.jar", 8, NULL},
      {"file over the size bound", NULL, big_uri, "file", NULL, false, 100, -EFBIG, NULL, -1,
       "larger than 100 bytes"},
      {"file missing", NULL, "file:///nonexistent/x.jar", "file", NULL, false, 0, -ENOENT, NULL, -1,
       "No such file"},
      {"file on another host", NULL, "file://host/x.jar", "file", NULL, false, 0, -EINVAL, NULL, -1,
       "another host"},
      {"s3 allowed but not fetched here", NULL, "s3://bucket/x.jar", "s3", NULL, false, 0, -EINVAL,
       NULL, -1, "cannot be fetched by this operator"},
      {"no scheme", NULL, "/x.jar", "https", NULL, false, 0, -EINVAL, NULL, -1, "needs a scheme"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const struct fcase *c = &cases[i];
    char u[300];
    if (c->path) {
      snprintf(u, sizeof u, "%s%s", url, c->path);
    } else if (!strcmp(c->full, "localhost")) { /* the server by name */
      snprintf(u, sizeof u, "http://localhost:%s/jars/a.jar", strrchr(url, ':') + 1);
    } else {
      snprintf(u, sizeof u, "%s", c->full);
    }
    struct fo_artifact_opts o = {.allowed_schemes = c->schemes,
                                 .allow_restricted = c->allow_restricted,
                                 .http_headers = c->headers,
                                 .max_bytes = c->max,
                                 .timeout_ms = 10000};
    char *path = NULL, why[512];
    int r = fo_artifact_fetch(u, out, &o, &path, why, sizeof why);
    if (r != c->want) fail_msg("%s: %s: got %d (%s), want %d", c->what, u, r, why, c->want);
    if (r == 0) {
      char want_path[200];
      snprintf(want_path, sizeof want_path, "%s/%s", out, c->name);
      if (strcmp(path, want_path) != 0) fail_msg("%s: stored as %s", c->what, path);
      if (c->size >= 0 && file_size(path) != c->size)
        fail_msg("%s: %ld bytes, want %ld", c->what, file_size(path), c->size);
      if (!strcmp(c->name, "echo.jar")) {
        char got[16] = "";
        FILE *e = fopen(path, "r");
        if (!e || !fgets(got, sizeof got, e)) got[0] = '\0';
        if (e) fclose(e);
        assert_string_equal(got, "s3cret");
      }
      unlink(path);
      free(path);
    } else {
      assert_null(path);
      if (!strstr(why, c->why)) fail_msg("%s: message '%s' lacks '%s'", c->what, why, c->why);
    }
    if (entries(out)) fail_msg("%s: a file is left in %s", c->what, out);
  }
}

static void test_restricted_ip(void **st) {
  (void)st;
  static const struct {
    const char *ip;
    bool restricted;
  } cases[] = {
      {"127.0.0.1", true},       {"10.1.2.3", true},     {"172.16.0.1", true},
      {"172.31.255.255", true},  {"172.32.0.1", false},  {"192.168.0.1", true},
      {"169.254.169.254", true}, {"0.0.0.0", true},      {"224.0.0.1", true},
      {"8.8.8.8", false},        {"::1", true},          {"::", true},
      {"fe80::1", true},         {"fec0::1", true},      {"fd00::1", true},
      {"ff02::1", true},         {"2001:db8::1", false}, {"::ffff:10.0.0.1", true},
      {"::ffff:8.8.8.8", false}, {"not-an-ip", true},    {NULL, true},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    if (fo_artifact_restricted_ip(cases[i].ip) != cases[i].restricted)
      fail_msg("%s: restricted should be %d", cases[i].ip ? cases[i].ip : "NULL",
               cases[i].restricted);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fetch),
      cmocka_unit_test(test_restricted_ip),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
