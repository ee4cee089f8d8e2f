/* certgen.h - a CA and a serving certificate for the webhook, on OpenSSL.
 *
 * Ownership: fo_certgen_* functions write PEM into caller-provided fo_buf's (owned by the
 * caller). Thread-safe (OpenSSL 3 is). Returns 0 or a negative errno; `why` (static) explains. */
#ifndef FLINKOP_CERTGEN_H
#define FLINKOP_CERTGEN_H

#include <stddef.h>
#include <stdint.h>

#include "flinkop/buf.h"

enum fo_key_type { FO_KEY_EC_P256, FO_KEY_RSA_2048 };

struct fo_cert_request {
  const char *common_name;
  const char *const *dns; /* subjectAltName DNS entries */
  size_t n_dns;
  const char *const *ips; /* subjectAltName IP entries */
  size_t n_ips;
  long days;    /* validity; default 365 when 0 */
  long seconds; /* if > 0: validity in seconds instead of days (tests) */
  enum fo_key_type key_type;
};

/* A self-signed CA (basicConstraints CA:TRUE, keyCertSign). */
int fo_certgen_ca(const struct fo_cert_request *rq, struct fo_buf *ret_cert_pem,
                  struct fo_buf *ret_key_pem, const char **why);
/* A serving certificate (serverAuth, the SANs of `rq`) signed by the CA given as PEM. */
int fo_certgen_serving(const struct fo_cert_request *rq, const char *ca_cert_pem,
                       const char *ca_key_pem, struct fo_buf *ret_cert_pem,
                       struct fo_buf *ret_key_pem, const char **why);
/* notAfter of the first certificate in `pem` (unix seconds). */
int fo_certgen_not_after(const char *pem, int64_t *ret, const char **why);
/* 0 when `key_pem` belongs to `cert_pem` and, if `ca_pem` is not NULL, the certificate's signature
 * verifies with the first certificate of `ca_pem`; -EINVAL with *why otherwise. */
int fo_certgen_verify(const char *cert_pem, const char *key_pem, const char *ca_pem,
                      const char **why);
/* Base64 of `pem` (what a webhook configuration's caBundle holds). */
int fo_certgen_base64(const char *pem, struct fo_buf *out);

#endif
