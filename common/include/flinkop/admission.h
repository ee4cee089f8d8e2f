/* admission.h - admission.k8s.io/v1 AdmissionReview: decoding a request, judging it with the
 * rulebook (validate) or the defaults (mutate), and encoding the response. The webhook serves
 * these; the dry-run command runs the same mutate-then-validate path on manifest files.
 *
 * Ownership: fo_admission_request owns the arena its document lives in (`arena`); root, object,
 * old_object and the strings borrow from it. fo_admission_response owns every member. Both are
 * released by their
 * *_free (NULL-safe, the structs are caller-allocated). Thread-safe: no shared mutable state;
 * `default_conf` is only read.
 */
#ifndef FLINKOP_ADMISSION_H
#define FLINKOP_ADMISSION_H

#include <stdbool.h>

#include "flinkop/findings.h"
#include "flinkop/json.h"

struct fo_admission_request {
  struct fo_arena arena;
  const struct fo_jv *root;
  const char *api_version; /* of the AdmissionReview */
  const char *uid;
  const char *operation; /* CREATE, UPDATE, DELETE, CONNECT */
  const char *kind;      /* request.kind.kind, or object.kind */
  const char *namespace_;
  const char *name;
  bool dry_run;
  const struct fo_jv *object;     /* may be NULL (DELETE) */
  const struct fo_jv *old_object; /* may be NULL */
};

struct fo_admission_response {
  char *uid;
  bool allowed;
  int code;      /* HTTP-style status code on denial */
  char *reason;  /* on denial */
  char *message; /* on denial: every violation joined with "; " */
  struct fo_findings warnings;
  json_object *patch; /* mutate only: JSON Patch array (owned); NULL for validate */
};

/* Decodes an AdmissionReview body. Returns 0, -EINVAL (not JSON or not an AdmissionReview
 * request: `err` says why), -E2BIG (a limit), -ENOMEM. After a failure there is nothing to free. */
int fo_admission_decode(const char *body, size_t len, const struct fo_limits *lim,
                        struct fo_admission_request *req, struct fo_parse_error *err);
/* Decodes another body into a request that was decoded before (successfully or not) and not freed
 * since, reusing its arena's memory: a server decodes request after request without allocating.
 * The previous document is gone. Same results as fo_admission_decode. */
int fo_admission_decode_again(const char *body, size_t len, const struct fo_limits *lim,
                              struct fo_admission_request *req, struct fo_parse_error *err);
void fo_admission_request_free(struct fo_admission_request *req);

/* Judges the request. CREATE and UPDATE of a FlinkDeployment go through the rulebook; DELETE,
 * CONNECT and other kinds are allowed untouched. Returns 0 or -ENOMEM. */
int fo_admission_validate(const struct fo_admission_request *req, json_object *default_conf,
                          struct fo_admission_response *resp);
/* Computes the defaults patch (empty for anything but CREATE/UPDATE of a FlinkDeployment);
 * `service_account` (may be NULL): the default spec.serviceAccount for the request's object
 * (defaults.h). Returns 0 or -ENOMEM. */
int fo_admission_mutate(const struct fo_admission_request *req, const char *service_account,
                        struct fo_admission_response *resp);

/* Encodes {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": ...}.
 * Returns a malloc'd string or NULL (ENOMEM). */
char *fo_admission_response_encode(const struct fo_admission_response *resp);
void fo_admission_response_free(struct fo_admission_response *resp);

/* The dry-run path for one object: defaults patch applied, then the rulebook. *ret_mutated
 * (owned, may be NULL to discard) is the object after mutation. Returns 0 (verdict in the
 * lists), -EINVAL (obj not an object), -ENOMEM. */
int fo_admission_review_object(json_object *obj, json_object *old_obj, json_object *default_conf,
                               json_object **ret_mutated, struct fo_findings *errors,
                               struct fo_findings *warnings);

#endif
