#include "flinkop/opts.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

void fo_opts_usage(const struct fo_opt *opts, size_t n, const char *prog, FILE *f) {
  fprintf(f, "usage: %s [options]\n", prog);
  for (size_t i = 0; i < n; i++)
    fprintf(f, "  --%-20s %s (env %s%s%s)%s\n", opts[i].flag, opts[i].help, opts[i].env,
            opts[i].def ? ", default " : "", opts[i].def ? opts[i].def : "",
            opts[i].type == FO_OPT_LIST ? " [repeatable]" : "");
}

static int set(const struct fo_opt *o, void *target, const char *v, const char *src,
               const char *prog, bool append) {
  char *base = target;
  switch (o->type) {
  case FO_OPT_STR: {
    char **p = (char **)(base + o->offset);
    char *c = strdup(v);
    if (!c) return -ENOMEM;
    free(*p);
    *p = c;
    return 0;
  }
  case FO_OPT_LIST: {
    char ***p = (char ***)(base + o->offset);
    size_t k = 0;
    if (append && *p)
      while ((*p)[k]) k++;
    else if (*p) {
      for (char **q = *p; *q; q++) free(*q);
      free(*p);
      *p = NULL;
    }
    /* a comma-separated value adds several */
    const char *s = v;
    while (*s) {
      const char *comma = strchr(s, ',');
      size_t len = comma ? (size_t)(comma - s) : strlen(s);
      if (len) {
        char **nv = realloc(*p, (k + 2) * sizeof *nv);
        if (!nv) return -ENOMEM;
        *p = nv;
        nv[k] = strndup(s, len);
        if (!nv[k]) return -ENOMEM;
        nv[++k] = NULL;
      }
      s += len + (comma ? 1 : 0);
    }
    return 0;
  }
  case FO_OPT_BOOL: {
    bool *p = (bool *)(base + o->offset);
    if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes")) *p = true;
    else if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "no")) *p = false;
    else {
      fprintf(stderr, "%s: %s: --%s must be true or false, not '%s'\n", prog, src, o->flag, v);
      return -EINVAL;
    }
    return 0;
  }
  case FO_OPT_LONG: {
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < o->min || x > o->max) {
      fprintf(stderr, "%s: %s: --%s must be an integer in [%ld, %ld], not '%s'\n", prog, src,
              o->flag, o->min, o->max, v);
      return -EINVAL;
    }
    *(long *)(base + o->offset) = x;
    return 0;
  }
  }
  return -EINVAL;
}

int fo_opts_parse(const struct fo_opt *opts, size_t n, void *target, int argc, char **argv,
                  const char *prog) {
  for (size_t i = 0; i < n; i++)
    if (opts[i].def && set(&opts[i], target, opts[i].def, "default", prog, false) < 0)
      return -EINVAL;
  for (size_t i = 0; i < n; i++) {
    const char *v = getenv(opts[i].env);
    if (v && *v && set(&opts[i], target, v, opts[i].env, prog, false) < 0) return -EINVAL;
  }
  struct option *lo = calloc(n + 2, sizeof *lo);
  bool *seen = calloc(n + 1, sizeof *seen);
  if (!lo || !seen) {
    free(lo);
    free(seen);
    return -ENOMEM;
  }
  for (size_t i = 0; i < n; i++)
    lo[i] = (struct option){opts[i].flag,
                            opts[i].type == FO_OPT_BOOL ? optional_argument : required_argument,
                            NULL, (int)i};
  lo[n] = (struct option){"help", no_argument, NULL, 'h' + 1000};
  optind = 1;
  int c, rc = 0;
  while (rc == 0 && (c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
    if (c == 'h' + 1000) {
      fo_opts_usage(opts, n, prog, stdout);
      rc = 1;
      break;
    }
    if (c < 0 || (size_t)c >= n) {
      fo_opts_usage(opts, n, prog, stderr);
      rc = -EINVAL;
      break;
    }
    const struct fo_opt *o = &opts[c];
    /* the first command-line use of a list replaces the environment's value */
    rc = set(o, target, o->type == FO_OPT_BOOL && !optarg ? "true" : optarg, "command line", prog,
             seen[c]);
    seen[c] = true;
  }
  if (rc == 0 && optind < argc) {
    fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[optind]);
    rc = -EINVAL;
  }
  free(lo);
  free(seen);
  return rc;
}

void fo_opts_free(const struct fo_opt *opts, size_t n, void *target) {
  for (size_t i = 0; i < n; i++) {
    if (opts[i].type == FO_OPT_STR) {
      char **p = (char **)((char *)target + opts[i].offset);
      free(*p);
      *p = NULL;
    } else if (opts[i].type == FO_OPT_LIST) {
      char ***p = (char ***)((char *)target + opts[i].offset);
      if (*p)
        for (char **q = *p; *q; q++) free(*q);
      free(*p);
      *p = NULL;
    }
  }
}
