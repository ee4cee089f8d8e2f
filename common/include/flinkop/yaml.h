/* yaml.h - reads YAML manifests (multi-document streams) into json-c trees, resolving plain
 * scalars the way kubectl does (go-yaml v2, YAML 1.1 rules: `yes`/`on`/`y` are true, `0x1F` and
 * `0777` are integers, `~` is null; quoted scalars stay strings).
 *
 * Refused, with file:line:column: duplicate mapping keys, aliases (no expansion bombs), .inf and
 * .nan (not representable in JSON), and anything over the limits.
 * Ownership: fo_yaml_parse() returns an array of documents that fo_yaml_docs_free() releases,
 * roots included. Thread-safe (no shared state).
 */
#ifndef FLINKOP_YAML_H
#define FLINKOP_YAML_H

#include "flinkop/json.h"

struct fo_yaml_doc {
  json_object *root; /* owned by the array; never NULL (empty documents are skipped) */
  unsigned line;     /* 1-based line where the document starts */
};

/* Returns 0 with *ret_docs and *ret_n (possibly 0 documents), or -EINVAL (syntax or refused
 * construct), -E2BIG (a limit), -ENOMEM; `err` has line, column and message. */
int fo_yaml_parse(const char *text, size_t len, const struct fo_limits *lim,
                  struct fo_yaml_doc **ret_docs, size_t *ret_n, struct fo_parse_error *err);
void fo_yaml_docs_free(struct fo_yaml_doc *docs, size_t n);

/* Resolves one plain scalar as go-yaml v2 does; returns a new json value (NULL for null), and
 * -EINVAL for .inf/.nan. Exposed for tests. */
int fo_yaml_resolve_plain(const char *s, size_t n, json_object **ret);

#endif
