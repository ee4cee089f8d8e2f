/* findings.h - validation results as data: a list of {field path, message}.
 *
 * A check reports every problem it sees; the return code of a check says only whether it ran.
 * Ownership: the list owns its strings; fo_findings_free() releases them (NULL-safe, the struct
 * itself is caller-allocated). Not thread-safe: one list per request.
 */
#ifndef FLINKOP_FINDINGS_H
#define FLINKOP_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>

struct fo_finding {
  char *path;    /* e.g. "spec.job.upgradeMode"; may be "" */
  char *message; /* the user-facing message */
};

struct fo_findings {
  struct fo_finding *items;
  size_t n, cap;
  int oom; /* set when an add failed for lack of memory */
};

void fo_findings_init(struct fo_findings *f);
void fo_findings_free(struct fo_findings *f);
/* Appends a finding (message formatted). A message equal to one already present is not added
 * twice. Returns 0 or -ENOMEM (also recorded in f->oom). */
int fo_findings_add(struct fo_findings *f, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool fo_findings_has(const struct fo_findings *f, const char *message);
/* Messages joined with `sep`; returns a malloc'd string ("" when empty) or NULL on ENOMEM. */
char *fo_findings_join(const struct fo_findings *f, const char *sep);

#endif
