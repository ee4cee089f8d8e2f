/* Runs the validation cases under tests/cases/validation through the admission path. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flinkop/admission.h"
#include "flinkop/findings.h"
#include "flinkop/flinkconf.h"
#include "flinkop/jsonpatch.h"
#include "flinkop/model.h"
#include "flinkop/rules.h"
#include "flinkop/yaml.h"
#include "testutil.h"

static json_object *first_flinkdeployment(const char *rel) {
  size_t len;
  char *text = tu_read_file(rel, &len);
  if (!text) return NULL;
  struct fo_yaml_doc *d;
  size_t n;
  struct fo_parse_error e = {0};
  json_object *res = NULL;
  if (fo_yaml_parse(text, len, NULL, &d, &n, &e) == 0) {
    for (size_t i = 0; i < n && !res; i++)
      if (fo_is_flinkdeployment(d[i].root) ||
          fo_flinksessionjob_type(fo_json_get_string(d[i].root, "apiVersion"),
                                  fo_json_get_string(d[i].root, "kind")) ||
          fo_flinkstatesnapshot_type(fo_json_get_string(d[i].root, "apiVersion"),
                                     fo_json_get_string(d[i].root, "kind")))
        res = json_object_get(d[i].root);
    fo_yaml_docs_free(d, n);
  }
  fo_parse_error_clear(&e);
  free(text);
  return res;
}

/* Builds an object from {base|file, merge} or returns a copy of an inline object. */
static json_object *build(json_object *spec, json_object *inline_obj) {
  const char *base = fo_json_get_string(spec, "base");
  const char *file = fo_json_get_string(spec, "file");
  json_object *merge = fo_json_get(spec, "merge");
  json_object *start = NULL;
  if (base) {
    char rel[512];
    snprintf(rel, sizeof rel, "tests/cases/base/%s", base);
    start = first_flinkdeployment(rel);
  } else if (file) {
    start = first_flinkdeployment(file);
  } else if (inline_obj) {
    json_object_deep_copy(inline_obj, &start, NULL);
  }
  if (!start) return NULL;
  if (!merge) return start;
  json_object *res = fo_merge_patch_new(start, merge);
  json_object_put(start);
  return res;
}

/* The webhook's path for the same case: the mutated object (and the old one) in an AdmissionReview
 * as the API server sends it, with the parts the decoder skips (managedFields, annotations,
 * userInfo, options) present; decode + validate must give the direct path's findings. */
static int via_review(const char *file, const char *name, json_object *mutated, json_object *old,
                      json_object *conf, const char *want_errors,
                      const struct fo_findings *want_warns) {
  json_object *obj = NULL, *md;
  if (json_object_deep_copy(mutated, &obj, NULL) != 0) return 1;
  md = fo_json_ensure_object(obj, "metadata");
  json_object_object_add(
      md, "managedFields",
      tu_json("[{\"manager\":\"kubectl\",\"operation\":\"Apply\",\"fieldsV1\":{\"f:spec\":{}}}]"));
  json_object *ann = fo_json_ensure_object(md, "annotations");
  json_object_object_add(ann, "kubectl.kubernetes.io/last-applied-configuration",
                         json_object_new_string("{\"x\":1}"));
  json_object *rq = tu_json(
      "{\"uid\":\"case\",\"kind\":{\"group\":\"flink.apache.org\",\"version\":\"v1beta1\",\"kind\":"
      "\"FlinkDeployment\"},"
      "\"resource\":{\"resource\":\"flinkdeployments\"},\"userInfo\":{\"username\":\"u\","
      "\"groups\":[\"g\"]},"
      "\"options\":{\"kind\":\"CreateOptions\"},\"dryRun\":false}");
  json_object_object_add(rq, "operation", json_object_new_string(old ? "UPDATE" : "CREATE"));
  json_object_object_add(rq, "object", obj);
  if (old) json_object_object_add(rq, "oldObject", json_object_get(old));
  json_object *review =
      tu_json("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}");
  json_object_object_add(review, "request", rq);
  char *text = fo_json_dumps(review);
  json_object_put(review);
  struct fo_admission_request req;
  struct fo_parse_error pe = {0};
  int failed = 0;
  if (!text || fo_admission_decode(text, strlen(text), NULL, &req, &pe) != 0) {
    fprintf(stderr, "%s: case '%s': the review does not decode: %s\n", file, name,
            pe.message ? pe.message : "");
    fo_parse_error_clear(&pe);
    free(text);
    return 1;
  }
  struct fo_admission_response resp;
  if (fo_admission_validate(&req, conf, &resp) != 0) {
    fprintf(stderr, "%s: case '%s': validate failed\n", file, name);
    failed = 1;
  } else {
    const char *got = resp.allowed ? "" : resp.message;
    bool same_warns = resp.warnings.n == want_warns->n;
    for (size_t i = 0; same_warns && i < want_warns->n; i++)
      same_warns = strcmp(resp.warnings.items[i].message, want_warns->items[i].message) == 0;
    if (strcmp(got ? got : "", want_errors) != 0 || !same_warns) {
      fprintf(
          stderr,
          "%s: case '%s': through an AdmissionReview: '%s' (%zu warnings), directly: '%s' (%zu)\n",
          file, name, got ? got : "", resp.warnings.n, want_errors, want_warns->n);
      failed = 1;
    }
    fo_admission_response_free(&resp);
  }
  fo_admission_request_free(&req);
  free(text);
  return failed;
}

/* A case with `cluster: {base|file, merge}`: the FlinkSessionJob judged against that session
 * cluster (fo_rules_validate_session_job_cluster), as the controller judges it. */
static int run_cluster_case(const char *file, json_object *c) {
  const char *name = fo_json_get_string(c, "case");
  const char *verdict = fo_json_get_string(c, "verdict");
  const char *message = fo_json_get_string(c, "message");
  json_object *obj = build(c, NULL), *session = build(fo_json_get(c, "cluster"), NULL);
  json_object *conf =
      fo_json_get(c, "config") ? fo_conf_effective_new(fo_json_get(c, "config"), NULL) : NULL;
  int failed = 0;
  struct fo_findings errs;
  fo_findings_init(&errs);
  int r = obj && session && verdict
              ? fo_rules_validate_session_job_cluster(obj, session, conf, &errs)
              : -EINVAL;
  char *got = fo_findings_join(&errs, "; ");
  const char *got_verdict = errs.n ? "denied" : "admitted";
  if (r != 0) {
    fprintf(stderr, "%s: case '%s': judged with %d\n", file, name ? name : "?", r);
    failed = 1;
  } else if (strcmp(verdict, got_verdict) != 0 || (message && strcmp(message, got) != 0)) {
    fprintf(stderr, "%s: case '%s': expected %s '%s', got %s '%s'\n", file, name, verdict,
            message ? message : "", got_verdict, got);
    failed = 1;
  }
  free(got);
  fo_findings_free(&errs);
  json_object_put(obj);
  json_object_put(session);
  json_object_put(conf);
  return failed;
}

static int run_case(const char *file, json_object *c) {
  if (fo_json_get(c, "cluster")) return run_cluster_case(file, c);
  const char *name = fo_json_get_string(c, "case");
  const char *verdict = fo_json_get_string(c, "verdict");
  const char *message = fo_json_get_string(c, "message");
  json_object *want_warn = fo_json_get_array(c, "warnings");
  json_object *obj = build(c, fo_json_get(c, "object"));
  json_object *old_spec = fo_json_get(c, "old");
  json_object *old = NULL;
  if (old_spec)
    old = (fo_json_get(old_spec, "base") || fo_json_get(old_spec, "file"))
              ? build(old_spec, NULL)
              : build(c, old_spec) /* inline */;
  if (old_spec && !fo_json_get(old_spec, "base") && !fo_json_get(old_spec, "file")) {
    json_object_put(old);
    json_object_deep_copy(old_spec, &old, NULL);
  }
  json_object *conf =
      fo_json_get(c, "config") ? fo_conf_effective_new(fo_json_get(c, "config"), NULL) : NULL;
  int failed = 0;
  if (!obj || !verdict) {
    fprintf(stderr, "%s: case '%s': no object or verdict\n", file, name ? name : "?");
    failed = 1;
    goto out;
  }
  struct fo_findings errs, warns;
  fo_findings_init(&errs);
  fo_findings_init(&warns);
  json_object *mutated = NULL;
  int r = fo_admission_review_object(obj, old, conf, &mutated, &errs, &warns);
  char *got = fo_findings_join(&errs, "; ");
  if (r == 0 && mutated && via_review(file, name, mutated, old, conf, got ? got : "", &warns))
    failed = 1;
  json_object_put(mutated);
  const char *got_verdict = errs.n ? "denied" : "admitted";
  if (r != 0) {
    fprintf(stderr, "%s: case '%s': review returned %d\n", file, name, r);
    failed = 1;
  } else if (strcmp(verdict, got_verdict) != 0) {
    fprintf(stderr, "%s: case '%s': expected %s, got %s: %s\n", file, name, verdict, got_verdict,
            got);
    failed = 1;
  } else if (message && strcmp(message, got) != 0) {
    fprintf(stderr, "%s: case '%s':\n  expected message: %s\n  got message:      %s\n", file, name,
            message, got);
    failed = 1;
  }
  if (want_warn) {
    size_t n = json_object_array_length(want_warn);
    bool ok = n == warns.n;
    for (size_t i = 0; ok && i < n; i++)
      ok = fo_findings_has(&warns, json_object_get_string(json_object_array_get_idx(want_warn, i)));
    if (!ok) {
      char *gw = fo_findings_join(&warns, " | ");
      fprintf(stderr, "%s: case '%s': expected warnings %s, got [%s]\n", file, name,
              json_object_to_json_string(want_warn), gw);
      free(gw);
      failed = 1;
    }
  }
  free(got);
  fo_findings_free(&errs);
  fo_findings_free(&warns);
out:
  json_object_put(obj);
  json_object_put(old);
  json_object_put(conf);
  return failed;
}

static int cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_validation_cases(void **state) {
  (void)state;
  char dir[512];
  snprintf(dir, sizeof dir, "%s/tests/cases/validation", FO_SOURCE_DIR);
  DIR *d = opendir(dir);
  assert_non_null(d);
  char *names[256];
  size_t nn = 0;
  struct dirent *e;
  while ((e = readdir(d)) && nn < 256)
    if (strstr(e->d_name, ".yaml")) names[nn++] = strdup(e->d_name);
  closedir(d);
  qsort(names, nn, sizeof *names, cmp);
  int cases = 0, failures = 0;
  for (size_t i = 0; i < nn; i++) {
    char rel[600];
    snprintf(rel, sizeof rel, "tests/cases/validation/%s", names[i]);
    size_t len;
    char *text = tu_read_file(rel, &len);
    assert_non_null(text);
    struct fo_yaml_doc *docs;
    size_t nd;
    struct fo_parse_error pe = {0};
    int r = fo_yaml_parse(text, len, NULL, &docs, &nd, &pe);
    if (r) fprintf(stderr, "%s:%u:%u: %s\n", rel, pe.line, pe.column, pe.message);
    assert_int_equal(r, 0);
    for (size_t k = 0; k < nd; k++) {
      cases++;
      failures += run_case(rel, docs[k].root);
    }
    fo_yaml_docs_free(docs, nd);
    fo_parse_error_clear(&pe);
    free(text);
    free(names[i]);
  }
  fprintf(stderr, "validation cases: %d run, %d failed\n", cases, failures);
  assert_true(cases >= 60);
  assert_int_equal(failures, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_validation_cases)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
