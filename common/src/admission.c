#include "flinkop/admission.h"

#include "flinkop/base64.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flinkop/buf.h"
#include "flinkop/defaults.h"
#include "flinkop/jsonpatch.h"
#include "flinkop/model.h"
#include "flinkop/rules.h"

void fo_admission_request_free(struct fo_admission_request *req) {
  if (!req) return;
  fo_arena_free(&req->arena);
  memset(req, 0, sizeof *req);
}

/* What admission reads of a review, and nothing else: the request's identity and the objects'
 * metadata (name, namespace, labels), spec, and the two status fields the rules look at (the last
 * reconciled spec, a pending savepoint). Skipped parts are still checked as JSON, so a review is
 * accepted or rejected exactly as without the filter; building them (status, managedFields,
 * annotations, userInfo, options) was most of the cost of a review. */
static const struct fo_json_filter obj_metadata[] = {{"name", NULL, false},
                                                     {"namespace", NULL, false},
                                                     {"labels", NULL, false},
                                                     {NULL, NULL, false}};
static const struct fo_json_filter obj_reconciliation[] = {{"lastReconciledSpec", NULL, false},
                                                           {NULL, NULL, false}};
static const struct fo_json_filter obj_savepoint_info[] = {{"triggerId", NULL, false},
                                                           {NULL, NULL, false}};
static const struct fo_json_filter obj_job_status[] = {{"savepointInfo", obj_savepoint_info, false},
                                                       {NULL, NULL, false}};
static const struct fo_json_filter obj_status[] = {
    {"reconciliationStatus", obj_reconciliation, false},
    {"jobStatus", obj_job_status, false},
    {NULL, NULL, false}};
static const struct fo_json_filter review_object[] = {
    {"apiVersion", NULL, false}, {"kind", NULL, false},         {"metadata", obj_metadata, false},
    {"spec", NULL, false},       {"status", obj_status, false}, {NULL, NULL, false}};
/* The old object is read in a second pass, only when a rule needs it (old_object_needed). */
static const struct fo_json_filter review_request[] = {{"uid", NULL, false},
                                                       {"kind", NULL, false},
                                                       {"namespace", NULL, false},
                                                       {"name", NULL, false},
                                                       {"operation", NULL, false},
                                                       {"dryRun", NULL, false},
                                                       {"object", review_object, false},
                                                       {NULL, NULL, false}};
static const struct fo_json_filter review[] = {{"apiVersion", NULL, false},
                                               {"kind", NULL, false},
                                               {"request", review_request, false},
                                               {NULL, NULL, false}};
static const struct fo_json_filter old_request[] = {{"oldObject", review_object, false},
                                                    {NULL, NULL, false}};
static const struct fo_json_filter old_review[] = {{"request", old_request, false},
                                                   {NULL, NULL, false}};

/* Whether anything reads request.oldObject: fo_rules_validate reads the old status when the new
 * object has none, and the old spec when a savepoint is pending; the kind falls back to it. */
static bool old_object_needed(const struct fo_jv *rq, const struct fo_jv *object) {
  if (!object) return true;
  const char *op = fo_jv_get_string(rq, "operation");
  if (!op || strcmp(op, "UPDATE") != 0) return false;
  const struct fo_jv *st = fo_jv_get_object(object, "status");
  return !st || fo_rules_pending_savepoint(st) != NULL;
}

/* Arena chunks a decoded review keeps for reuse (larger ones are freed). */
enum { REVIEW_ARENA_KEEP = 256 * 1024 };

int fo_admission_decode(const char *body, size_t len, const struct fo_limits *lim,
                        struct fo_admission_request *req, struct fo_parse_error *err) {
  memset(req, 0, sizeof *req);
  int r = fo_admission_decode_again(body, len, lim, req, err);
  if (r < 0) fo_admission_request_free(req); /* nothing is left to free after a failure */
  return r;
}

int fo_admission_decode_again(const char *body, size_t len, const struct fo_limits *lim,
                              struct fo_admission_request *req, struct fo_parse_error *err) {
  struct fo_arena arena = req->arena;
  if (arena.max == 0) fo_arena_init(&arena, SIZE_MAX); /* new, or freed */
  else fo_arena_reset(&arena, REVIEW_ARENA_KEEP);
  memset(req, 0, sizeof *req);
  req->arena = arena;
  const struct fo_jv *root;
  int r = fo_jv_parse(body, len, lim, review, &req->arena, &root, err);
  if (r < 0) return r;
  const char *kind = fo_jv_get_string(root, "kind");
  const char *av = fo_jv_get_string(root, "apiVersion");
  const struct fo_jv *rq = fo_jv_get_object(root, "request");
  const struct fo_jv *old = NULL;
  if (rq && old_object_needed(rq, fo_jv_get_object(rq, "object"))) {
    /* a second pass over the same body reads only request.oldObject */
    const struct fo_jv *root2;
    if ((r = fo_jv_parse(body, len, lim, old_review, &req->arena, &root2, err)) < 0) return r;
    old = fo_jv_get_object(fo_jv_get_object(root2, "request"), "oldObject");
  }
  const char *why = NULL;
  if (!root || root->type != FO_JOBJECT) why = "body is not a JSON object";
  else if (!kind || strcmp(kind, "AdmissionReview") != 0) why = "kind is not AdmissionReview";
  else if (!av ||
           (strcmp(av, "admission.k8s.io/v1") != 0 && strcmp(av, "admission.k8s.io/v1beta1") != 0))
    why = "apiVersion is not admission.k8s.io/v1";
  else if (!rq) why = "request is missing";
  else if (!fo_jv_get_string(rq, "uid")) why = "request.uid is missing";
  else if (!fo_jv_get_string(rq, "operation")) why = "request.operation is missing";
  if (why) {
    fo_parse_error_set(err, 0, 0, "not an AdmissionReview request: %s", why);
    return -EINVAL;
  }
  req->root = root;
  req->api_version = av;
  req->uid = fo_jv_get_string(rq, "uid");
  req->operation = fo_jv_get_string(rq, "operation");
  req->namespace_ = fo_jv_get_string(rq, "namespace");
  req->name = fo_jv_get_string(rq, "name");
  const struct fo_jv *dr = fo_jv_get(rq, "dryRun");
  req->dry_run = dr && dr->type == FO_JBOOL && dr->u.b;
  req->object = fo_jv_get_object(rq, "object");
  req->old_object = old;
  req->kind = fo_jv_get_string(fo_jv_get_object(rq, "kind"), "kind");
  if (!req->kind) req->kind = fo_jv_get_string(req->object ? req->object : req->old_object, "kind");
  if (!req->name) req->name = fo_jv_get_string(fo_jv_get_object(req->object, "metadata"), "name");
  return 0;
}

/* A FlinkDeployment, FlinkSessionJob or FlinkStateSnapshot created or updated, and not a canary
 * (those are admitted as they are). */
static bool judged(const struct fo_admission_request *req) {
  bool op = strcmp(req->operation, "CREATE") == 0 || strcmp(req->operation, "UPDATE") == 0;
  const char *av = req->object ? fo_jv_get_string(req->object, "apiVersion") : NULL;
  const char *kind = req->object ? fo_jv_get_string(req->object, "kind") : NULL;
  return op && req->object &&
         (fo_flinkdeployment_type(av, kind) || fo_flinksessionjob_type(av, kind) ||
          fo_flinkstatesnapshot_type(av, kind)) &&
         !fo_jv_is_canary(req->object);
}

static int resp_init(const struct fo_admission_request *req, struct fo_admission_response *resp) {
  memset(resp, 0, sizeof *resp);
  fo_findings_init(&resp->warnings);
  resp->allowed = true;
  resp->uid = strdup(req->uid ? req->uid : "");
  return resp->uid ? 0 : -ENOMEM;
}

int fo_admission_validate(const struct fo_admission_request *req, json_object *default_conf,
                          struct fo_admission_response *resp) {
  int r = resp_init(req, resp);
  if (r < 0 || !judged(req)) return r;
  struct fo_findings errors;
  fo_findings_init(&errors);
  const struct fo_jv *old = strcmp(req->operation, "UPDATE") == 0 ? req->old_object : NULL;
  r = fo_rules_validate(req->object, old, default_conf, &errors, &resp->warnings);
  if (r == 0 && errors.n) {
    resp->allowed = false;
    resp->code = 403;
    resp->reason = strdup("Forbidden");
    resp->message = fo_findings_join(&errors, "; ");
    if (!resp->reason || !resp->message) r = -ENOMEM;
  }
  fo_findings_free(&errors);
  return r;
}

int fo_admission_mutate(const struct fo_admission_request *req, const char *service_account,
                        struct fo_admission_response *resp) {
  int r = resp_init(req, resp);
  if (r < 0) return r;
  if (judged(req)) return fo_defaults_patch(req->object, service_account, &resp->patch);
  resp->patch = json_object_new_array();
  return resp->patch ? 0 : -ENOMEM;
}

char *fo_admission_response_encode(const struct fo_admission_response *resp) {
  struct fo_buf b;
  fo_buf_init(&b, SIZE_MAX / 2);
  int r = fo_buf_puts(&b,
                      "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
                      "\"response\":{\"uid\":");
  if (r == 0) r = fo_buf_json_string(&b, resp->uid, strlen(resp->uid));
  if (r == 0) r = fo_buf_puts(&b, resp->allowed ? ",\"allowed\":true" : ",\"allowed\":false");
  if (r == 0 && !resp->allowed) {
    r = fo_buf_printf(&b, ",\"status\":{\"code\":%d,\"reason\":", resp->code);
    const char *reason = resp->reason ? resp->reason : "";
    const char *msg = resp->message ? resp->message : "";
    if (r == 0) r = fo_buf_json_string(&b, reason, strlen(reason));
    if (r == 0) r = fo_buf_puts(&b, ",\"message\":");
    if (r == 0) r = fo_buf_json_string(&b, msg, strlen(msg));
    if (r == 0) r = fo_buf_putc(&b, '}');
  }
  if (r == 0 && resp->warnings.n) {
    r = fo_buf_puts(&b, ",\"warnings\":[");
    for (size_t i = 0; r == 0 && i < resp->warnings.n; i++) {
      const char *m = resp->warnings.items[i].message;
      if (i) r = fo_buf_putc(&b, ',');
      if (r == 0) r = fo_buf_json_string(&b, m, strlen(m));
    }
    if (r == 0) r = fo_buf_putc(&b, ']');
  }
  if (r == 0 && resp->patch) {
    char *pj = fo_json_dumps(resp->patch);
    char *p64 = pj ? fo_base64_encode(pj, strlen(pj)) : NULL;
    r = p64 ? fo_buf_printf(&b, ",\"patchType\":\"JSONPatch\",\"patch\":\"%s\"", p64) : -ENOMEM;
    free(pj);
    free(p64);
  }
  if (r == 0) r = fo_buf_puts(&b, "}}");
  if (r < 0) {
    fo_buf_free(&b);
    return NULL;
  }
  return fo_buf_steal(&b);
}

void fo_admission_response_free(struct fo_admission_response *resp) {
  if (!resp) return;
  free(resp->uid);
  free(resp->reason);
  free(resp->message);
  fo_findings_free(&resp->warnings);
  json_object_put(resp->patch);
  memset(resp, 0, sizeof *resp);
}

int fo_admission_review_object(json_object *obj, json_object *old_obj, json_object *default_conf,
                               json_object **ret_mutated, struct fo_findings *errors,
                               struct fo_findings *warnings) {
  if (ret_mutated) *ret_mutated = NULL;
  if (fo_is_canary(obj)) { /* admitted as it is */
    if (ret_mutated) *ret_mutated = json_object_get(obj);
    return 0;
  }
  json_object *patch;
  int r = fo_defaults_patch_json(obj, NULL, &patch);
  if (r < 0) return r;
  json_object *mutated;
  const char *why;
  r = fo_patch_apply(obj, patch, SIZE_MAX, &mutated, &why);
  json_object_put(patch);
  if (r < 0) return r == -ENOMEM ? r : -EINVAL;
  r = fo_rules_validate_json(mutated, old_obj, default_conf, errors, warnings);
  if (r == 0 && ret_mutated) *ret_mutated = mutated;
  else json_object_put(mutated);
  return r;
}
