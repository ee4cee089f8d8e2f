/* libFuzzer target: the AdmissionReview decoder, both judgements, and the response encoder. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "flinkop/admission.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct fo_admission_request req;
  struct fo_parse_error err = {0};
  if (fo_admission_decode((const char *)data, size, NULL, &req, &err) == 0) {
    struct fo_admission_response v, m;
    if (fo_admission_validate(&req, NULL, &v) == 0) free(fo_admission_response_encode(&v));
    fo_admission_response_free(&v);
    if (fo_admission_mutate(&req, &m) == 0) free(fo_admission_response_encode(&m));
    fo_admission_response_free(&m);
    fo_admission_request_free(&req);
  }
  fo_parse_error_clear(&err);
  return 0;
}
