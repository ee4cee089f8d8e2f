#include "certgen.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static EVP_PKEY *new_key(enum fo_key_type t) {
  return t == FO_KEY_RSA_2048 ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
}

static int pem_out(struct fo_buf *out, X509 *crt, EVP_PKEY *key) {
  BIO *b = BIO_new(BIO_s_mem());
  if (!b) return -ENOMEM;
  int ok = crt ? PEM_write_bio_X509(b, crt)
               : PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL);
  char *p;
  long n = BIO_get_mem_data(b, &p);
  int r = ok && n > 0 ? fo_buf_append(out, p, (size_t)n) : -EIO;
  BIO_free(b);
  return r;
}

static int add_ext(X509 *crt, X509 *issuer, int nid, const char *value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, crt, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
  if (!ext) return -EINVAL;
  int ok = X509_add_ext(crt, ext, -1);
  X509_EXTENSION_free(ext);
  return ok ? 0 : -ENOMEM;
}

static X509 *new_cert(const struct fo_cert_request *rq, EVP_PKEY *key) {
  X509 *crt = X509_new();
  if (!crt) return NULL;
  X509_set_version(crt, 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
  ASN1_INTEGER *sn = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
  if (sn) X509_set_serialNumber(crt, sn);
  ASN1_INTEGER_free(sn);
  BN_free(bn);
  long validity = rq->seconds > 0 ? rq->seconds : (rq->days > 0 ? rq->days : 365) * 86400L;
  X509_gmtime_adj(X509_getm_notBefore(crt), -300); /* tolerate clock skew */
  X509_gmtime_adj(X509_getm_notAfter(crt), validity);
  X509_set_pubkey(crt, key);
  X509_NAME *name = X509_get_subject_name(crt);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)rq->common_name, -1,
                             -1, 0);
  return crt;
}

int fo_certgen_ca(const struct fo_cert_request *rq, struct fo_buf *cert_pem, struct fo_buf *key_pem,
                  const char **why) {
  EVP_PKEY *key = new_key(rq->key_type);
  X509 *crt = key ? new_cert(rq, key) : NULL;
  int r = -ENOMEM;
  *why = "out of memory";
  if (!crt) goto out;
  X509_set_issuer_name(crt, X509_get_subject_name(crt));
  if (add_ext(crt, crt, NID_basic_constraints, "critical,CA:TRUE") < 0 ||
      add_ext(crt, crt, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature") < 0 ||
      add_ext(crt, crt, NID_subject_key_identifier, "hash") < 0) {
    *why = "cannot add CA extensions";
    r = -EINVAL;
    goto out;
  }
  if (!X509_sign(crt, key, EVP_sha256())) {
    *why = "cannot sign the CA certificate";
    r = -EIO;
    goto out;
  }
  r = pem_out(cert_pem, crt, NULL);
  if (r == 0) r = pem_out(key_pem, NULL, key);
  if (r < 0) *why = "cannot write PEM";
out:
  X509_free(crt);
  EVP_PKEY_free(key);
  return r;
}

static X509 *read_cert(const char *pem) {
  BIO *b = BIO_new_mem_buf(pem, -1);
  X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
  BIO_free(b);
  return x;
}

int fo_certgen_serving(const struct fo_cert_request *rq, const char *ca_cert_pem,
                       const char *ca_key_pem, struct fo_buf *cert_pem, struct fo_buf *key_pem,
                       const char **why) {
  X509 *ca = read_cert(ca_cert_pem);
  BIO *kb = BIO_new_mem_buf(ca_key_pem, -1);
  EVP_PKEY *ca_key = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
  BIO_free(kb);
  EVP_PKEY *key = NULL;
  X509 *crt = NULL;
  struct fo_buf san;
  fo_buf_init(&san, 1 << 16);
  int r = -EINVAL;
  if (!ca || !ca_key) {
    *why = "cannot read the CA certificate or key";
    goto out;
  }
  if (X509_check_private_key(ca, ca_key) != 1) {
    *why = "the CA key does not match the CA certificate";
    goto out;
  }
  if (rq->n_dns + rq->n_ips == 0) {
    *why = "a serving certificate needs at least one DNS name or IP address";
    goto out;
  }
  r = -ENOMEM;
  *why = "out of memory";
  key = new_key(rq->key_type);
  crt = key ? new_cert(rq, key) : NULL;
  if (!crt) goto out;
  X509_set_issuer_name(crt, X509_get_subject_name(ca));
  for (size_t i = 0; i < rq->n_dns; i++)
    fo_buf_printf(&san, "%sDNS:%s", san.len ? "," : "", rq->dns[i]);
  for (size_t i = 0; i < rq->n_ips; i++)
    fo_buf_printf(&san, "%sIP:%s", san.len ? "," : "", rq->ips[i]);
  r = -EINVAL;
  *why = "invalid subjectAltName (check the DNS names and IP addresses)";
  if (!san.data || add_ext(crt, ca, NID_subject_alt_name, san.data) < 0) goto out;
  *why = "cannot add extensions";
  if (add_ext(crt, ca, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
      add_ext(crt, ca, NID_key_usage, "critical,digitalSignature,keyEncipherment") < 0 ||
      add_ext(crt, ca, NID_ext_key_usage, "serverAuth") < 0 ||
      add_ext(crt, ca, NID_authority_key_identifier, "keyid:always") < 0)
    goto out;
  if (!X509_sign(crt, ca_key, EVP_sha256())) {
    *why = "cannot sign the serving certificate";
    r = -EIO;
    goto out;
  }
  r = pem_out(cert_pem, crt, NULL);
  if (r == 0) r = pem_out(key_pem, NULL, key);
  if (r < 0) *why = "cannot write PEM";
out:
  fo_buf_free(&san);
  X509_free(crt);
  EVP_PKEY_free(key);
  X509_free(ca);
  EVP_PKEY_free(ca_key);
  return r;
}

int fo_certgen_not_after(const char *pem, int64_t *ret, const char **why) {
  X509 *x = read_cert(pem);
  if (!x) {
    *why = "no PEM certificate";
    return -EINVAL;
  }
  struct tm tm;
  int ok = ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm);
  X509_free(x);
  if (!ok) {
    *why = "invalid notAfter";
    return -EINVAL;
  }
  *ret = (int64_t)timegm(&tm);
  return 0;
}

int fo_certgen_base64(const char *pem, struct fo_buf *out) {
  size_t n = strlen(pem);
  size_t need = 4 * ((n + 2) / 3) + 1;
  unsigned char *tmp = malloc(need);
  if (!tmp) return -ENOMEM;
  int k = EVP_EncodeBlock(tmp, (const unsigned char *)pem, (int)n);
  int r = fo_buf_append(out, tmp, (size_t)k);
  free(tmp);
  return r;
}

int fo_certgen_verify(const char *cert_pem, const char *key_pem, const char *ca_pem,
                      const char **why) {
  X509 *crt = read_cert(cert_pem), *ca = ca_pem ? read_cert(ca_pem) : NULL;
  BIO *kb = BIO_new_mem_buf(key_pem, -1);
  EVP_PKEY *key = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
  BIO_free(kb);
  EVP_PKEY *ca_pub = ca ? X509_get0_pubkey(ca) : NULL;
  int r = -EINVAL;
  if (!crt) *why = "no PEM certificate";
  else if (!key) *why = "no PEM private key";
  else if (X509_check_private_key(crt, key) != 1) *why = "the key does not match the certificate";
  else if (ca_pem && !ca_pub) *why = "no PEM CA certificate";
  else if (ca_pub && X509_verify(crt, ca_pub) != 1)
    *why = "the certificate is not signed by the CA";
  else r = 0;
  X509_free(crt);
  X509_free(ca);
  EVP_PKEY_free(key);
  ERR_clear_error();
  return r;
}
