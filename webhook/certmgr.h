/* certmgr.h - self-managed serving certificates (the chart's default certificate mode).
 *
 * One Secret holds the CA (`ca.crt`: the current CA first, then the previous one while it is
 * still valid; `ca.key`) and the serving pair (`tls.crt`, `tls.key`). Every webhook replica runs
 * the same round:
 *   1. read the Secret; when it is absent, generate a CA and a serving pair and create it
 *      (create-if-absent: on AlreadyExists another replica won, use its Secret);
 *   2. renew the serving pair `renew_before` seconds before it expires, when its names changed, or
 *      when it is not signed by the CA; renew the CA when it would expire before a new serving
 *      certificate does (update with the resourceVersion read: on a conflict another replica
 *      renewed, re-read and use its Secret);
 *   3. make the caBundle of the Validating and the Mutating webhook configuration equal to
 *      `ca.crt` (re-reading the Secret just before, so a replica with an old view never writes an
 *      old bundle over a new one);
 *   4. only then serve the pair: a replica never serves a certificate the API server cannot
 *      verify (unless it has nothing valid to serve at all).
 * The chart never sets caBundle in this mode, so `helm upgrade` leaves it alone, and the round
 * puts it back if anything else removes it.
 *
 * Threading: wh_certmgr_start() runs the first round on the caller's thread (retrying until
 * `startup_timeout_s`), then a thread repeats it every `check_interval_s`, sooner when a renewal
 * falls due. The configuration is borrowed and must outlive wh_certmgr_stop().
 */
#ifndef FLINKOP_WEBHOOK_CERTMGR_H
#define FLINKOP_WEBHOOK_CERTMGR_H

#include <stdint.h>

struct wh_certmgr_config {
  const char *kubeconfig;       /* NULL: in-cluster */
  const char *secret_namespace; /* NULL: the kubeconfig's or the pod's namespace */
  const char *secret_name;
  char *const *names;                /* NULL-terminated SANs; IP addresses become IP SANs */
  const char *webhook_configuration; /* name of both webhook configurations; NULL: none */
  long validity_s, renew_before_s, ca_validity_s, check_interval_s, startup_timeout_s;
};

/* Returns 0 once a pair is being served, or a negative errno (logged) when the first round did
 * not succeed within the start-up timeout. */
int wh_certmgr_start(const struct wh_certmgr_config *cfg);
void wh_certmgr_stop(void);

/* Counters for /metrics (thread-safe). */
uint64_t wh_certmgr_renewals(void);
uint64_t wh_certmgr_errors(void);

#endif
