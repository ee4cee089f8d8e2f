/* Allocation failures: every operation of the library is run again and again, the Nth allocation
 * failing in run N (N = 1, 2, ... until a run makes fewer than N allocations). Each run must free
 * everything it took (live block count back where it was) and either report an error or, when the
 * failed allocation was not needed, give exactly the result of a run without failures. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "failalloc.h"
#include "flinkop/admission.h"
#include "flinkop/base64.h"
#include "flinkop/defaults.h"
#include "flinkop/flinkconf.h"
#include "flinkop/flinkrest.h"
#include "flinkop/jsonpatch.h"
#include "flinkop/podmerge.h"
#include "flinkop/rules.h"
#include "flinkop/status.h"
#include "flinkop/watchparse.h"
#include "flinkop/yaml.h"
#include "testutil.h"

#define OUT_MAX 65536

/* An operation: writes its result as text into out (no allocation), returns 0 or < 0. */
struct op {
  const char *name;
  int (*fn)(const void *arg, char *out);
  const void *arg;
};

/* Appends a NUL-terminated string to out (truncating at OUT_MAX). */
static void out_add(char *out, const char *s) {
  size_t n = strlen(out);
  snprintf(out + n, OUT_MAX - n, "%s|", s ? s : "(null)");
}

/* Appends the compact text of a tree and frees the text. -ENOMEM if it cannot be made. */
static int out_json(char *out, json_object *o) {
  char *s = fo_json_dumps(o);
  if (!s) return -ENOMEM;
  out_add(out, s);
  free(s);
  return 0;
}

/* ---- operations ---- */

static int on_event_ignored(void *ud, const char *type, json_object *object) {
  (void)ud, (void)type, (void)object;
  return 0;
}

struct text {
  const char *data;
  size_t len;
};

/* Parses a test text (JSON or YAML); the parse error's message is not kept. */
static int parse_json(const struct text *t, const struct fo_json_filter *f, json_object **o) {
  struct fo_parse_error e = {0};
  int r = fo_json_parse_filtered(t->data, t->len, NULL, f, o, &e);
  fo_parse_error_clear(&e);
  return r;
}

static int parse_yaml(const struct text *t, struct fo_yaml_doc **docs, size_t *n) {
  struct fo_parse_error e = {0};
  int r = fo_yaml_parse(t->data, t->len, NULL, docs, n, &e);
  fo_parse_error_clear(&e);
  return r;
}

static int op_json(const void *arg, char *out) {
  const struct text *t = arg;
  json_object *o;
  int r = parse_json(t, NULL, &o);
  if (r < 0) return r;
  r = out_json(out, o);
  json_object_put(o);
  return r;
}

static const struct fo_json_filter keep_spec[] = {
    {"spec", NULL, false}, {"metadata", NULL, false}, {NULL, NULL, false}};
static const struct fo_json_filter keep_request[] = {
    {"object", keep_spec, false}, {"uid", NULL, false}, {NULL, NULL, false}};
static const struct fo_json_filter keep_review[] = {{"request", keep_request, false},
                                                    {NULL, NULL, false}};

static int op_json_filtered(const void *arg, char *out) {
  const struct text *t = arg;
  json_object *o;
  int r = parse_json(t, keep_review, &o);
  if (r < 0) return r;
  r = out_json(out, o);
  json_object_put(o);
  return r;
}

/* A JSON error message is built with allocations too: the error path must free them. */
static int op_json_error(const void *arg, char *out) {
  (void)arg;
  static const char bad[] = "{\"a\": [1, 2, {\"b\": \"x\", \"b\": 3}]}";
  json_object *o;
  struct fo_parse_error e = {0};
  int r = fo_json_parse(bad, sizeof bad - 1, NULL, &o, &e);
  if (r == -EINVAL) {
    if (!e.message) r = -ENOMEM;
    else out_add(out, e.message);
  }
  fo_parse_error_clear(&e);
  return r == -EINVAL ? 0 : r < 0 ? r : -1;
}

/* Error paths: a refused document must free what the reader had built and say why. */
static int op_refused(const void *arg, char *out) {
  const char *which = arg;
  struct fo_parse_error e = {0};
  int r;
  if (strcmp(which, "yaml") == 0) {
    static const char y[] = "a: 1\nb:\n  c: [1, 2]\n  c: 3\n";
    struct fo_yaml_doc *docs = NULL;
    size_t n = 0;
    r = fo_yaml_parse(y, sizeof y - 1, NULL, &docs, &n, &e);
    if (r == 0) fo_yaml_docs_free(docs, n);
  } else if (strcmp(which, "review") == 0) {
    static const char j[] =
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":"
        "{\"uid\":\"u\",\"object\":{\"spec\":{}}}}";
    struct fo_admission_request rq;
    r = fo_admission_decode(j, sizeof j - 1, NULL, &rq, &e);
    if (r == 0) fo_admission_request_free(&rq);
  } else {
    static const char w[] =
        "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\nnot json\n";
    struct fo_watch_parser p;
    fo_watch_parser_init(&p, 4096, on_event_ignored, NULL);
    r = fo_watch_parser_feed(&p, w, sizeof w - 1);
    if (r == -EINVAL) {
      if (p.error) out_add(out, p.error);
      else r = -ENOMEM;
    }
    fo_watch_parser_free(&p);
    return r == -EINVAL ? 0 : r < 0 ? r : -1;
  }
  if (r == -EINVAL) {
    if (e.message) out_add(out, e.message);
    else r = -ENOMEM;
  }
  fo_parse_error_clear(&e);
  return r == -EINVAL ? 0 : r < 0 ? r : -1; /* refused, with its reason, is the expected result */
}

static int op_yaml(const void *arg, char *out) {
  const struct text *t = arg;
  struct fo_yaml_doc *docs;
  size_t n;
  int r = parse_yaml(t, &docs, &n);
  if (r < 0) return r;
  for (size_t i = 0; r == 0 && i < n; i++) r = out_json(out, docs[i].root);
  fo_yaml_docs_free(docs, n);
  return r;
}

/* Every case of a tests/cases/podmerge file merged (by name and by position as the case says). */
static int op_podmerge(const void *arg, char *out) {
  const struct text *t = arg;
  struct fo_yaml_doc *docs;
  size_t n;
  int r = parse_yaml(t, &docs, &n);
  if (r < 0) return r;
  for (size_t i = 0; r == 0 && i < n; i++) {
    json_object *c = docs[i].root, *m = NULL;
    r = fo_podmerge(fo_json_get(c, "base"), fo_json_get(c, "overlay"),
                    json_object_get_boolean(fo_json_get(c, "by_name")), &m);
    if (r == 0) r = out_json(out, m);
    json_object_put(m);
  }
  fo_yaml_docs_free(docs, n);
  return r;
}

/* Judges a decoded review and adds the encoded response. */
static int judge(const struct fo_admission_request *rq, bool mutate, char *out) {
  struct fo_admission_response resp;
  int r = mutate ? fo_admission_mutate(rq, "flink", &resp) : fo_admission_validate(rq, NULL, &resp);
  if (r == 0) {
    char *s = fo_admission_response_encode(&resp);
    if (s) out_add(out, s);
    else r = -ENOMEM;
    free(s);
  }
  fo_admission_response_free(&resp);
  return r;
}

static int op_admission(const void *arg, char *out, bool mutate) {
  const struct text *t = arg;
  struct fo_admission_request rq;
  struct fo_parse_error e = {0};
  int r = fo_admission_decode(t->data, t->len, NULL, &rq, &e);
  fo_parse_error_clear(&e);
  if (r < 0) return r;
  r = judge(&rq, mutate, out);
  fo_admission_request_free(&rq);
  return r;
}

static int op_validate(const void *arg, char *out) { return op_admission(arg, out, false); }
static int op_mutate(const void *arg, char *out) { return op_admission(arg, out, true); }

/* A worker's review decoded again into the same arena (after a denied one), then judged. */
static int op_admission_again(const void *arg, char *out) {
  const struct text *const *t = arg;
  struct fo_admission_request rq = {0};
  int r = 0;
  for (int i = 0; r == 0 && i < 2; i++) {
    struct fo_parse_error e = {0};
    r = fo_admission_decode_again(t[i]->data, t[i]->len, NULL, &rq, &e);
    fo_parse_error_clear(&e);
    if (r == 0) r = judge(&rq, false, out);
  }
  fo_admission_request_free(&rq);
  return r;
}

/* The rulebook on json-c trees (the controller's path: a copy into an arena), with a default
 * configuration, and the configuration view's text for values that are not strings. */
static int op_rules_json(const void *arg, char *out) {
  const struct text *t = arg;
  json_object *o;
  int r = parse_json(t, NULL, &o);
  if (r < 0) return r;
  json_object *obj = fo_json_path(o, "request", "object", (const char *)NULL);
  json_object *conf = NULL;
  struct text ct = {"{\"state.savepoints.dir\":\"/d\",\"high-availability.type\":\"kubernetes\"}",
                    0};
  ct.len = strlen(ct.data);
  r = parse_json(&ct, NULL, &conf);
  struct fo_findings errs, warns;
  fo_findings_init(&errs);
  fo_findings_init(&warns);
  if (r == 0) r = fo_rules_validate_json(obj, NULL, conf, &errs, &warns);
  for (size_t k = 0; r == 0 && k < errs.n; k++) out_add(out, errs.items[k].message);
  for (size_t k = 0; r == 0 && k < warns.n; k++) out_add(out, warns.items[k].message);
  fo_findings_free(&errs);
  fo_findings_free(&warns);
  json_object_put(conf);
  json_object_put(o);
  return r;
}

static int op_conf_view(const void *arg, char *out) {
  (void)arg;
  static const char text[] =
      "{\"state.savepoints.dir\":[\"a\",{\"b\":[1,2.5]}],\"state\":{\"checkpoints\":"
      "{\"dir\":7}},\"high-availability\":true,\"x\":{\"y\":null}}";
  struct fo_arena a;
  fo_arena_init(&a, SIZE_MAX);
  const struct fo_jv *v;
  struct fo_parse_error e = {0};
  int r = fo_jv_parse(text, sizeof text - 1, NULL, NULL, &a, &v, &e);
  fo_parse_error_clear(&e);
  struct fo_conf_view cv = {.spec = v, .arena = &a};
  static const char *const keys[] = {"state.savepoints.dir", "state.checkpoints.dir",
                                     "high-availability", "x.y"};
  for (size_t k = 0; r == 0 && k < sizeof keys / sizeof keys[0]; k++) {
    const char *s = fo_conf_view_get(&cv, keys[k]);
    if (cv.oom) r = -ENOMEM;
    else out_add(out, s ? s : "(absent)");
  }
  fo_arena_free(&a);
  return r;
}

/* The dry-run path: YAML manifest -> defaults -> rules. */
static int op_review_object(const void *arg, char *out) {
  const struct text *t = arg;
  struct fo_yaml_doc *docs;
  size_t n;
  int r = parse_yaml(t, &docs, &n);
  if (r < 0) return r;
  for (size_t i = 0; r == 0 && i < n; i++) {
    struct fo_findings errs, warns;
    fo_findings_init(&errs);
    fo_findings_init(&warns);
    json_object *mutated = NULL;
    r = fo_admission_review_object(docs[i].root, NULL, NULL, &mutated, &errs, &warns);
    if (r == 0) r = out_json(out, mutated);
    for (size_t k = 0; r == 0 && k < errs.n; k++) out_add(out, errs.items[k].message);
    for (size_t k = 0; r == 0 && k < warns.n; k++) out_add(out, warns.items[k].message);
    json_object_put(mutated);
    fo_findings_free(&errs);
    fo_findings_free(&warns);
  }
  fo_yaml_docs_free(docs, n);
  return r;
}

/* Status model round trip and the last-reconciled-spec codec. */
static int op_status(const void *arg, char *out) {
  const struct text *t = arg;
  json_object *o;
  int r = parse_json(t, NULL, &o);
  if (r < 0) return r;
  struct fo_status st;
  fo_status_init(&st);
  r = fo_status_read(fo_json_path(o, "request", "oldObject", "status", (const char *)NULL), &st);
  json_object *back = r == 0 ? fo_status_to_json(&st) : NULL;
  if (r == 0 && !back) r = -ENOMEM;
  if (r == 0) r = out_json(out, back);
  char *enc = NULL;
  if (r == 0 && !(enc = fo_reconciled_spec_encode(
                      fo_json_path(o, "request", "object", "spec", (const char *)NULL), true)))
    r = -ENOMEM;
  json_object *dec = NULL;
  bool first = false;
  struct fo_parse_error e = {0};
  if (r == 0) r = fo_reconciled_spec_decode(enc, &dec, &first, &e);
  fo_parse_error_clear(&e);
  if (r == 0) r = out_json(out, dec);
  json_object_put(dec);
  free(enc);
  json_object_put(back);
  fo_status_free(&st);
  json_object_put(o);
  return r;
}

static int op_defaults_patch(const void *arg, char *out) {
  const struct text *t = arg;
  json_object *o;
  int r = parse_json(t, NULL, &o);
  if (r < 0) return r;
  json_object *obj = fo_json_path(o, "request", "object", (const char *)NULL), *patch = NULL,
              *res = NULL;
  r = fo_defaults_patch_json(obj, "flink", &patch);
  const char *why = NULL;
  if (r == 0) r = fo_patch_apply(obj, patch, 1000, &res, &why);
  if (r == 0) r = out_json(out, patch);
  if (r == 0) r = out_json(out, res);
  json_object *merged = r == 0 ? fo_merge_patch_new(obj, patch) : NULL;
  if (r == 0 && !merged) r = -ENOMEM;
  json_object_put(merged);
  json_object_put(res);
  json_object_put(patch);
  json_object_put(o);
  return r;
}

static int on_event(void *ud, const char *type, json_object *object) {
  char *out = ud;
  out_add(out, type);
  return out_json(out, object);
}

static int op_watch(const void *arg, char *out) {
  (void)arg;
  static const char stream[] =
      "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"1\"}}}\n"
      "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"2\"},"
      "\"spec\":{\"x\":[1,2]}}}\n"
      "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"3\"}}}\n";
  struct fo_watch_parser p;
  fo_watch_parser_init(&p, 4096, on_event, out);
  int r = 0;
  for (size_t i = 0; r == 0 && i < sizeof stream - 1; i += 37) /* chunks cut anywhere */
    r = fo_watch_parser_feed(&p, stream + i,
                             sizeof stream - 1 - i < 37 ? sizeof stream - 1 - i : 37);
  fo_watch_parser_free(&p);
  return r;
}

/* Flink REST: each call gets its documented answer through the transport hook. */
static long flink_answer(void *ud, const char *method, const char *path, const char *body,
                         const char **data, size_t *len) {
  (void)ud, (void)method, (void)body;
  static const struct {
    const char *suffix, *answer;
  } answers[] = {
      {"/config", "{\"flink-version\":\"1.20.0\",\"flink-revision\":\"abc\"}"},
      {"/jobs/overview",
       "{\"jobs\":[{\"jid\":\"0123456789abcdef0123456789abcdef\",\"name\":\"j\",\"state\":"
       "\"RUNNING\","
       "\"start-time\":1,\"tasks\":{\"total\":2,\"running\":2,\"finished\":0}}]}"},
      {"/savepoints", "{\"request-id\":\"0123456789abcdef0123456789abcdef\"}"},
      {"/savepoints/0123456789abcdef0123456789abcdef",
       "{\"status\":{\"id\":\"COMPLETED\"},\"operation\":{\"location\":\"file:/sp/savepoint-1\"}}"},
      {"/checkpoints",
       "{\"counts\":{\"completed\":1},\"latest\":{\"completed\":{\"id\":1,\"external_path\":\"file:"
       "/cp/chk-1\","
       "\"trigger_timestamp\":1},\"savepoint\":null,\"restored\":null}}"},
      {"/exceptions",
       "{\"exceptionHistory\":{\"entries\":[{\"exceptionName\":\"E\",\"stacktrace\":\"s\\nt\","
       "\"timestamp\":1}]}}"},
  };
  size_t pl = strlen(path);
  const char *best = "{}";
  size_t best_len = 0;
  for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++) {
    size_t sl = strlen(answers[i].suffix);
    if (sl <= pl && strcmp(path + pl - sl, answers[i].suffix) == 0 && sl > best_len) {
      best = answers[i].answer;
      best_len = sl;
    }
  }
  *data = best;
  *len = strlen(best);
  return 200;
}

static int op_flink(const void *arg, char *out) {
  (void)arg;
  const char *jid = "0123456789abcdef0123456789abcdef";
  struct fo_flink *f = fo_flink_new("http://flink.invalid:8081", 1000);
  if (!f) return -ENOMEM;
  fo_flink_set_transport(f, flink_answer, NULL);
  struct fo_flink_version v = {0};
  int r = fo_flink_config(f, &v);
  if (r == 0) out_add(out, v.version);
  fo_flink_version_free(&v);
  struct fo_flink_jobs j = {0};
  if (r == 0 && (r = fo_flink_jobs_overview(f, &j)) == 0)
    for (size_t i = 0; i < j.n; i++) out_add(out, fo_flink_job_effective_state(&j.jobs[i]));
  fo_flink_jobs_free(&j);
  char *t = NULL;
  if (r == 0 && (r = fo_flink_trigger_savepoint(f, jid, "file:///sp", false, jid, &t)) == 0)
    out_add(out, t);
  free(t);
  struct fo_flink_savepoint_status ss = {0};
  if (r == 0 && (r = fo_flink_savepoint_status(f, jid, jid, &ss)) == 0) out_add(out, ss.location);
  fo_flink_savepoint_status_free(&ss);
  struct fo_flink_checkpoints cp = {0};
  if (r == 0 && (r = fo_flink_checkpoints(f, jid, &cp)) == 0)
    out_add(out, cp.completed.external_path);
  fo_flink_checkpoints_free(&cp);
  char *ex = NULL;
  if (r == 0 && (r = fo_flink_latest_exception(f, jid, &ex)) == 0) out_add(out, ex);
  free(ex);
  fo_flink_free(f);
  return r;
}

static int op_base64(const void *arg, char *out) {
  const struct text *t = arg;
  char *b = fo_base64_encode(t->data, t->len > 3000 ? 3000 : t->len);
  if (!b) return -ENOMEM;
  out_add(out, b);
  free(b);
  return 0;
}

/* ---- the driver ---- */

struct stats {
  long runs, errors, same;
};

static void run_op(const struct op *op, struct stats *st) {
  static char ref[OUT_MAX], got[OUT_MAX];
  ref[0] = '\0';
  fa_arm(0);
  if (op->fn(op->arg, ref) != 0) fail_msg("%s: fails without injected failures", op->name);
  ref[0] = '\0';
  if (op->fn(op->arg, ref) != 0) fail_msg("%s: fails without injected failures", op->name);
  for (long n = 1;; n++) {
    got[0] = '\0';
    long live = fa_live();
    fa_arm(n);
    int r = op->fn(op->arg, got);
    bool injected = fa_injected();
    fa_arm(0);
    if (fa_live() != live && !getenv("FA_TRACED")) { /* run it again, showing where it failed */
      setenv("FA_TRACED", "1", 1);
      fa_trace(true);
      got[0] = '\0';
      fa_arm(n);
      op->fn(op->arg, got);
      fa_arm(0);
      fa_trace(false);
    }
    if (fa_live() != live)
      fail_msg("%s: with allocation %ld failing, %ld blocks were not freed (result %d)", op->name,
               n, fa_live() - live, r);
    if (!injected) {
      if (r != 0 || strcmp(got, ref) != 0) fail_msg("%s: a run without failures differs", op->name);
      break;
    }
    st->runs++;
    if (r == 0) {
      if (strcmp(got, ref) != 0) {
        size_t at = 0;
        while (got[at] && got[at] == ref[at]) at++;
        at = at > 60 ? at - 60 : 0;
        fail_msg(
            "%s: allocation %ld failed, success was reported with a different result:\n got  "
            "...%.160s\n want ...%.160s",
            op->name, n, got + at, ref + at);
      }
      st->same++;
    } else {
      st->errors++;
    }
  }
}

static struct text g_texts[64];
static size_t g_ntexts;

static const struct text *load(const char *rel) {
  size_t len;
  char *d = tu_read_file(rel, &len);
  assert_non_null(d);
  assert_true(g_ntexts < sizeof g_texts / sizeof g_texts[0]);
  g_texts[g_ntexts] = (struct text){d, len};
  return &g_texts[g_ntexts++];
}

static void test_every_allocation_fails(void **state) {
  (void)state;
  const struct text *update = load("tests/admission/validate-allow-update.request.json");
  const struct text *deny = load("tests/admission/validate-deny-last-state.request.json");
  const struct text *pending =
      load("tests/admission/validate-warning-pending-savepoint.request.json");
  const struct text *defaults = load("tests/admission/mutate-create-defaults.request.json");
  const struct text *manifest = load("examples/last-state.yaml");
  const struct text *seed = load("examples/seed-savepoint-nonce.yaml");
  const struct text *merge_issue = load("tests/cases/podmerge/01-issue.yaml");
  const struct text *merge_names = load("tests/cases/podmerge/04-by-name.yaml");
  const struct text *again[] = {deny, pending};
  const struct op ops[] = {
      {"json parse", op_json, update},
      {"json filtered parse", op_json_filtered, pending},
      {"json error", op_json_error, NULL},
      {"yaml refused", op_refused, "yaml"},
      {"review refused", op_refused, "review"},
      {"watch stream refused", op_refused, "watch"},
      {"yaml parse", op_yaml, manifest},
      {"admission validate (allowed update)", op_validate, update},
      {"admission validate (denied)", op_validate, deny},
      {"admission validate (pending savepoint)", op_validate, pending},
      {"admission mutate", op_mutate, defaults},
      {"admission decoded again", op_admission_again, again},
      {"rules on json-c", op_rules_json, update},
      {"configuration view", op_conf_view, NULL},
      {"dry-run review", op_review_object, seed},
      {"status round trip", op_status, update},
      {"defaults patch", op_defaults_patch, defaults},
      {"watch stream", op_watch, NULL},
      {"flink rest", op_flink, NULL},
      {"base64", op_base64, manifest},
      {"pod template merge (issue 22)", op_podmerge, merge_issue},
      {"pod template merge (by name)", op_podmerge, merge_names},
  };
  long total = 0;
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
    struct stats st = {0};
    run_op(&ops[i], &st);
    printf("  %-40s %5ld allocations failed in turn: %5ld errors reported, %4ld same result\n",
           ops[i].name, st.runs, st.errors, st.same);
    assert_true(st.runs > 0);
    total += st.runs;
  }
  printf("  %ld runs, no leak, no wrong success\n", total);
  for (size_t i = 0; i < g_ntexts; i++) free((void *)g_texts[i].data);
}

/* The harness itself: an injected failure is seen, and a leak is seen. */
static void test_harness(void **state) {
  (void)state;
  fa_arm(2);
  void *a = malloc(8), *b = malloc(8);
  assert_non_null(a);
  assert_null(b);
  assert_true(fa_injected());
  fa_arm(0);
  long live = fa_live();
  void *c = calloc(4, 4);
  assert_int_equal(fa_live(), live + 1);
  free(c);
  free(a);
  assert_int_equal(fa_live(), live - 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_harness),
      cmocka_unit_test(test_every_allocation_fails),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
