#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flinkop/buf.h"
#include "flinkop/yaml.h"

static char *read_path(const char *path, size_t *ret_len) {
  struct fo_buf b;
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fo_buf_init(&b, 64u << 20);
  char chunk[8192];
  size_t n;
  fo_buf_append(&b, "", 0);
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) fo_buf_append(&b, chunk, n);
  fclose(f);
  if (ret_len) *ret_len = b.len;
  return fo_buf_steal(&b);
}

char *tu_read_file_abs(const char *path) { return read_path(path, NULL); }

void tu_write_file(const char *path, const void *data, size_t len, size_t repeat) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  for (size_t i = 0; i < repeat; i++) assert_int_equal(fwrite(data, 1, len, f), len);
  assert_int_equal(fclose(f), 0);
}

int tu_wait_port_file(const char *path) {
  int port = 0;
  for (int i = 0; i < 200 && !port; i++) {
    usleep(50000);
    FILE *f = fopen(path, "r");
    if (f) {
      if (fscanf(f, "%d", &port) != 1) port = 0;
      fclose(f);
    }
  }
  assert_true(port > 0);
  return port;
}

char *tu_read_file(const char *rel, size_t *ret_len) {
  struct fo_buf path;
  fo_buf_init(&path, 4096);
  fo_buf_printf(&path, "%s/%s", FO_SOURCE_DIR, rel);
  char *r = read_path(path.data, ret_len);
  fo_buf_free(&path);
  return r;
}

json_object *tu_json(const char *text) {
  json_object *o = NULL;
  struct fo_parse_error e = {0};
  int r = fo_json_parse(text, strlen(text), NULL, &o, &e);
  if (r) fprintf(stderr, "tu_json: %s\n", e.message);
  assert_int_equal(r, 0);
  fo_parse_error_clear(&e);
  return o;
}

json_object *tu_yaml(const char *text) {
  struct fo_yaml_doc *d;
  size_t n;
  struct fo_parse_error e = {0};
  int r = fo_yaml_parse(text, strlen(text), NULL, &d, &n, &e);
  if (r) fprintf(stderr, "tu_yaml: %u:%u %s\n", e.line, e.column, e.message);
  assert_int_equal(r, 0);
  assert_int_equal(n, 1);
  json_object *o = d[0].root;
  d[0].root = NULL;
  fo_yaml_docs_free(d, n);
  fo_parse_error_clear(&e);
  return o;
}
