/* opts.h - a daemon's options as one table: flag, environment variable, type, default, bounds.
 * fo_opts_parse() applies defaults, then the environment, then the command line, checking every
 * value against its bounds. The parsed struct is read-only afterwards (any thread may read it).
 * Ownership: string fields are malloc'd; fo_opts_free() releases them. */
#ifndef FLINKOP_OPTS_H
#define FLINKOP_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum fo_opt_type {
  FO_OPT_STR,
  FO_OPT_LONG,
  FO_OPT_BOOL,
  FO_OPT_LIST /* repeatable: char** NULL-terminated */
};

struct fo_opt {
  const char *flag; /* long option name, without -- */
  const char *env;
  enum fo_opt_type type;
  size_t offset; /* of the field in the target struct */
  const char *def;
  long min, max;
  const char *help;
};

/* Returns 0; -EINVAL after printing the problem to stderr; 1 when --help was printed. */
int fo_opts_parse(const struct fo_opt *opts, size_t n, void *target, int argc, char **argv,
                  const char *prog);
void fo_opts_usage(const struct fo_opt *opts, size_t n, const char *prog, FILE *f);
void fo_opts_free(const struct fo_opt *opts, size_t n, void *target);

#endif
