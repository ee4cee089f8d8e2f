/* The Flink cluster's objects as the controller builds them (controller/cluster.c), against the
 * golden files under tests/cases/cluster (README there). FO_UPDATE_GOLDEN=1 rewrites them. Also:
 * nothing of a user's argument or value is read by a shell, and every object is owned. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "flinkop/arena.h"
#include "flinkop/flinkconf.h"
#include "flinkop/jv.h"
#include "testutil.h"

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fputs("\n", f);
  fclose(f);
}

/* The objects of `input` as one JSON array. */
static json_object *build(json_object *input) {
  json_object *fd = fo_json_get_object(input, "deployment");
  json_object *m = fo_json_get_object(fd, "metadata");
  json_object *spec_json = fo_json_get_object(fd, "spec");
  struct fo_arena a;
  fo_arena_init(&a, SIZE_MAX);
  const struct fo_jv *spec_jv;
  assert_int_equal(fo_jv_from_json(&a, spec_json, &spec_jv), 0);
  struct fo_spec spec;
  assert_int_equal(fo_spec_read(spec_jv, &spec, NULL, "spec"), 0);
  json_object *conf = fo_conf_effective_new(fo_json_get_object(input, "defaults"),
                                            fo_json_get_object(spec_json, "flinkConfiguration"));
  int64_t gen = 0;
  fo_json_as_int64(fo_json_get(m, "generation"), &gen);
  struct cluster_input in = {.name = fo_json_get_string(m, "name"),
                             .ns = fo_json_get_string(m, "namespace"),
                             .uid = fo_json_get_string(m, "uid"),
                             .generation = gen,
                             .spec_json = spec_json,
                             .spec = &spec,
                             .conf = conf,
                             .job_id = fo_json_get_string(input, "jobId"),
                             .restore_path = fo_json_get_string(input, "restorePath")};
  struct cluster_objects objs;
  assert_int_equal(cluster_build(&in, &objs), 0);
  json_object *arr = json_object_new_array();
  for (size_t i = 0; i < objs.n; i++) json_object_array_add(arr, json_object_get(objs.obj[i]));
  cluster_objects_free(&objs);
  json_object_put(conf);
  fo_arena_free(&a);
  return arr;
}

/* Every container runs the image's entry point (/docker-entrypoint.sh, or the spec's
 * kubernetes.entry.path) with an array of plain strings; the one shell is native mode's
 * `bash -c "kubernetes-jobmanager.sh kubernetes-application"`, which carries nothing of the spec
 * but kubernetes.jobmanager.entrypoint.args (as Flink's CmdJobManagerDecorator); every object is
 * owned by the FlinkDeployment. */
static void check_shape(json_object *objs, const char *uid, json_object *fconf) {
  const char *entry = fo_json_get_string(fconf, "kubernetes.entry.path");
  const char *extra = fo_json_get_string(fconf, "kubernetes.jobmanager.entrypoint.args");
  char app[256], session[256];
  snprintf(app, sizeof app, "kubernetes-jobmanager.sh kubernetes-application%s%s", extra ? " " : "",
           extra ? extra : "");
  snprintf(session, sizeof session, "kubernetes-jobmanager.sh kubernetes-session%s%s",
           extra ? " " : "", extra ? extra : "");
  for (size_t i = 0; i < json_object_array_length(objs); i++) {
    json_object *o = json_object_array_get_idx(objs, i);
    json_object *ref = json_object_array_get_idx(
        fo_json_path(o, "metadata", "ownerReferences", (const char *)NULL), 0);
    assert_string_equal(fo_json_get_string(ref, "uid"), uid);
    assert_string_equal(fo_json_get_string(ref, "kind"), "FlinkDeployment");
    json_object *cs = fo_json_path(o, "spec", "template", "spec", "containers", (const char *)NULL);
    for (size_t c = 0; cs && c < json_object_array_length(cs); c++) {
      json_object *ct = json_object_array_get_idx(cs, c);
      if (strcmp(fo_json_get_string(ct, "name"), "flink-main-container")) continue;
      json_object *cmd = fo_json_get_array(ct, "command");
      assert_int_equal(json_object_array_length(cmd), 1);
      assert_string_equal(json_object_get_string(json_object_array_get_idx(cmd, 0)),
                          entry ? entry : "/docker-entrypoint.sh");
      json_object *args = fo_json_get_array(ct, "args");
      assert_non_null(args);
      for (size_t k = 0; k < json_object_array_length(args); k++)
        assert_true(json_object_is_type(json_object_array_get_idx(args, k), json_type_string));
      const char *a0 = json_object_get_string(json_object_array_get_idx(args, 0));
      if (!strcmp(a0, "bash")) {
        assert_int_equal(json_object_array_length(args), 3);
        assert_string_equal(json_object_get_string(json_object_array_get_idx(args, 1)), "-c");
        const char *a2 = json_object_get_string(json_object_array_get_idx(args, 2));
        assert_true(!strcmp(a2, app) || !strcmp(a2, session));
      } else { /* the image's commands: an application, a session JobManager, a TaskManager */
        assert_true(!strcmp(a0, "standalone-job") || !strcmp(a0, "jobmanager") ||
                    !strcmp(a0, "taskmanager"));
      }
    }
  }
}

static void test_golden(void **state) {
  (void)state;
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/tests/cases/cluster", FO_SOURCE_DIR);
  DIR *d = opendir(dir);
  assert_non_null(d);
  int n = 0;
  bool update = getenv("FO_UPDATE_GOLDEN") != NULL;
  for (struct dirent *e; (e = readdir(d));) {
    size_t len = strlen(e->d_name);
    if (len < 11 || strcmp(e->d_name + len - 11, ".input.json")) continue;
    char rel[1200], out[1200];
    snprintf(rel, sizeof rel, "tests/cases/cluster/%s", e->d_name);
    snprintf(out, sizeof out, "%s/%.*s.objects.json", dir, (int)(len - 11), e->d_name);
    char *text = tu_read_file(rel, NULL);
    json_object *input = tu_json(text);
    free(text);
    json_object *got = build(input);
    json_object *m = fo_json_path(input, "deployment", "metadata", (const char *)NULL);
    check_shape(
        got, fo_json_get_string(m, "uid"),
        fo_json_path(input, "deployment", "spec", "flinkConfiguration", (const char *)NULL));
    if (update) {
      write_file(out, json_object_to_json_string_ext(got, JSON_C_TO_STRING_PRETTY |
                                                              JSON_C_TO_STRING_SPACED |
                                                              JSON_C_TO_STRING_NOSLASHESCAPE));
    } else {
      char *want_text = tu_read_file_abs(out);
      if (!want_text) fail_msg("%s: no %s (FO_UPDATE_GOLDEN=1 writes it)", rel, out);
      json_object *want = tu_json(want_text);
      free(want_text);
      if (!json_object_equal(got, want))
        fail_msg("%s: built objects differ from %s:\n%s", rel, out,
                 json_object_to_json_string_ext(got, JSON_C_TO_STRING_PRETTY));
      json_object_put(want);
    }
    json_object_put(got);
    json_object_put(input);
    n++;
  }
  closedir(d);
  assert_true(n >= 3);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_golden)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
