/* tlscreds.h - the serving certificate and key, swapped without a restart.
 *
 * A watcher thread stats the two files every `poll_ms` (a Kubernetes Secret update swaps them
 * through a symlink, which changes the inode) and, when they change, loads the new pair. A pair
 * that does not parse, whose key does not match the certificate, or that is expired (or not yet
 * valid) is refused with a log line and the current pair stays. The TLS handshake callback hands
 * GnuTLS the current pair; pairs that were replaced are kept until every connection that could
 * still use them has timed out, then freed.
 *
 * Threading: wh_creds_retrieve() is called from MHD's worker threads and takes a mutex for a
 * pointer copy; everything else runs on the watcher thread or at start/stop.
 */
#ifndef FLINKOP_WEBHOOK_TLSCREDS_H
#define FLINKOP_WEBHOOK_TLSCREDS_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stdint.h>

/* Loads the pair once (start-up). Returns 0 or a negative errno after logging why. */
int wh_creds_init(const char *cert_path, const char *key_path, long poll_ms, long keep_retired_s);
/* Self-managed certificates: no files; pairs arrive through wh_creds_install_pem(). */
void wh_creds_init_memory(long keep_retired_s);
/* Checks a pair (PEM strings, borrowed) and makes it current unless it is the current one.
 * Returns 1 when installed, 0 when unchanged, -EINVAL when refused (logged; the old pair stays). */
int wh_creds_install_pem(const char *cert_pem, const char *key_pem);
/* Frees retired pairs whose connections have timed out (self-managed mode has no watcher). */
void wh_creds_tick(void);
/* Starts the watcher thread. */
int wh_creds_watch_start(void);
void wh_creds_shutdown(void);

/* gnutls_certificate_retrieve_function2 for MHD_OPTION_HTTPS_CERT_CALLBACK. */
int wh_creds_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
                      const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                      gnutls_pcert_st **pcert, unsigned int *pcert_length, gnutls_privkey_t *pkey);

/* Expiry (unix seconds) of the current certificate, 0 when none. Thread-safe. */
int64_t wh_creds_not_after(void);
/* Number of successful reloads since start. Thread-safe. */
uint64_t wh_creds_reloads(void);
bool wh_creds_loaded(void);

#endif
