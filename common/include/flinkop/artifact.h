/* artifact.h - a FlinkSessionJob's jar, fetched to a local file before it is uploaded to its
 * session cluster (the reference's ArtifactManager):
 *   https://, http://  downloaded with libcurl: the scheme in the allowlist, bounded in size and
 *                      time, the extra headers of kubernetes.operator.user.artifacts.http.header
 *                      sent, redirects followed only to allowed schemes, and every address
 *                      actually connected to checked (no loopback, link-local, private, any-local
 *                      or multicast one unless allowed): a name cannot be made to point inside
 *                      the cluster between the webhook's check and the fetch;
 *   file://            a file the controller can read (a volume mounted into it), copied with
 *                      the same size bound.
 * Anything else is refused with a message naming the scheme.
 *
 * Ownership: options are borrowed; *ret_path is malloc'd (the caller frees it and removes the
 * file). Thread-safe: no shared state (one curl handle per call). */
#ifndef FLINKOP_ARTIFACT_H
#define FLINKOP_ARTIFACT_H

#include <stdbool.h>
#include <stddef.h>

#include "flinkop/buf.h"

struct fo_artifact_opts {
  const char *allowed_schemes; /* ';'- or ','-separated, case-insensitive; NULL: "https" */
  bool allow_restricted;       /* kubernetes.operator.user.artifacts.disallow-restricted-hosts
                                * false: any address may be connected to */
  const char *http_headers;    /* "k1:v1,k2:v2" (kubernetes.operator.user.artifacts.http.header),
                                * or NULL */
  size_t max_bytes;            /* 0: 512 MiB */
  long timeout_ms;             /* the whole fetch; 0: 5 min */
};

/* Fetches `uri` into a new file in `dir` named after the URI's last path element (".jar"
 * appended when it has none: Flink accepts only .jar uploads). 0 and *ret_path, or a negative
 * errno with `why` saying what went wrong in words a status can carry:
 *   -EPERM a scheme or an address not allowed, -EFBIG over max_bytes, -ETIMEDOUT, -ENOENT the
 *   file or the HTTP resource does not exist, -EIO anything else (HTTP status, transport),
 *   -EINVAL a URI that cannot be fetched, -ENOMEM. */
int fo_artifact_fetch(const char *uri, const char *dir, const struct fo_artifact_opts *o,
                      char **ret_path, char *why, size_t why_n);

/* Whether the scheme (`scheme_n` bytes, any case) is in `list` (';'- or ','-separated, blanks
 * around entries ignored; NULL: "https"). With `display` (may be NULL), the list as the reference
 * prints it is appended there: "[https, s3]", lower case. 1 or 0, or -ENOMEM (display). */
int fo_artifact_scheme_allowed(const char *list, const char *scheme, size_t scheme_n,
                               struct fo_buf *display);

/* Whether a connection to the numeric address `ip` (IPv4 or IPv6 text) is to a restricted
 * address: loopback, link-local, private (site-local, unique local), any-local or multicast,
 * IPv4-mapped ones included. Text that is no address is restricted. */
bool fo_artifact_restricted_ip(const char *ip);

#endif
