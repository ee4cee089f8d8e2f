/* ingress.h - spec.ingress.template as the reference operator reads it (IngressUtils): "http://"
 * put in front unless it starts with http:// or https:// (any case), every {{name}} and
 * {{namespace}} (any case) replaced by the FlinkDeployment's, then read as a URL the way Java's
 * java.net.URL reads one. The rule of the Ingress takes the URL's host (when not blank) and path
 * (when not blank); a template Java cannot read is refused with Java's words:
 *   Unable to process the Ingress template(<template>). Error: <why>
 * so `example.com:port` gives `Error at index 0 in: "port"`, as in the reference's tests.
 *
 * Limits: a template longer than FO_INGRESS_TEMPLATE_MAX bytes, or one that renders longer than
 * FO_INGRESS_URL_MAX, is refused (-E2BIG).
 * Ownership: inputs are borrowed; *ret's strings are owned by the caller (fo_ingress_url_free).
 * Thread-safe: no shared state. */
#ifndef FLINKOP_INGRESS_H
#define FLINKOP_INGRESS_H

#include <stddef.h>

#define FO_INGRESS_TEMPLATE_MAX 2048
#define FO_INGRESS_URL_MAX 4096

struct fo_ingress_url {
  char *host; /* NULL when blank: the rule has no host */
  char *path; /* NULL when blank: the rule has no path */
};

/* Renders `tmpl` for the FlinkDeployment `name` in `ns`. Returns 0 with *ret filled; -EINVAL when
 * the URL cannot be read, with the reason (Java's message) in `why` (always NUL-terminated,
 * `why_len` > 0); -E2BIG past the limits (the reason in `why` too); -ENOMEM. On error *ret holds
 * nothing. */
int fo_ingress_render(const char *tmpl, const char *name, const char *ns,
                      struct fo_ingress_url *ret, char *why, size_t why_len);
void fo_ingress_url_free(struct fo_ingress_url *u);

#endif
