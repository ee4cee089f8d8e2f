/* libFuzzer target: the AdmissionReview decoder, both judgements, and the response encoder; and a
 * worker's reused review: the same body decoded again into the arena of the one before (whatever
 * that one was) must give the same verdict, byte for byte. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flinkop/admission.h"

/* The encoded validate response, or NULL when the request cannot be judged. Caller frees. */
static char *judge(const struct fo_admission_request *req) {
  struct fo_admission_response v;
  char *out = fo_admission_validate(req, NULL, &v) == 0 ? fo_admission_response_encode(&v) : NULL;
  fo_admission_response_free(&v);
  return out;
}

/* A worker keeps one review and decodes every request into it. */
static struct fo_admission_request g_worker;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct fo_admission_request req;
  struct fo_parse_error err = {0};
  int r = fo_admission_decode((const char *)data, size, NULL, &req, &err);
  fo_parse_error_clear(&err);
  char *fresh = NULL;
  if (r == 0) {
    struct fo_admission_response m;
    fresh = judge(&req);
    if (fo_admission_mutate(&req, "flink", &m) == 0) free(fo_admission_response_encode(&m));
    fo_admission_response_free(&m);
    fo_admission_request_free(&req);
  }
  int again = fo_admission_decode_again((const char *)data, size, NULL, &g_worker, &err);
  fo_parse_error_clear(&err);
  if ((again == 0) != (r == 0)) abort();
  if (again == 0) {
    char *reused = judge(&g_worker);
    if ((fresh == NULL) != (reused == NULL) || (fresh && strcmp(fresh, reused) != 0)) abort();
    free(reused);
  }
  free(fresh);
  return 0;
}
