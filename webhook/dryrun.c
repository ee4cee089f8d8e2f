#include "dryrun.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flinkop/admission.h"
#include "flinkop/buf.h"
#include "flinkop/flinkconf.h"
#include "flinkop/model.h"
#include "flinkop/yaml.h"

/* One parsed document of an input, with where it came from. */
struct doc {
  json_object *obj; /* owned */
  const char *file;
  unsigned line;
};

struct docs {
  struct doc *v;
  size_t n, cap;
};

static void docs_free(struct docs *d) {
  for (size_t i = 0; i < d->n; i++) json_object_put(d->v[i].obj);
  free(d->v);
  memset(d, 0, sizeof *d);
}

/* Takes `obj`. */
static int docs_push(struct docs *d, json_object *obj, const char *file, unsigned line) {
  if (d->n == d->cap) {
    size_t nc = d->cap ? d->cap * 2 : 8;
    struct doc *nv = realloc(d->v, nc * sizeof *nv);
    if (!nv) {
      json_object_put(obj);
      return -ENOMEM;
    }
    d->v = nv;
    d->cap = nc;
  }
  d->v[d->n++] = (struct doc){obj, file, line};
  return 0;
}

/* Takes `obj`; expands `kind: List`. */
static int docs_push_expanded(struct docs *d, json_object *obj, const char *file, unsigned line) {
  const char *kind = fo_json_get_string(obj, "kind");
  json_object *items = fo_json_get_array(obj, "items");
  if (kind && strcmp(kind, "List") == 0 && items) {
    int r = 0;
    size_t n = json_object_array_length(items);
    for (size_t i = 0; r == 0 && i < n; i++)
      r = docs_push(d, json_object_get(json_object_array_get_idx(items, i)), file, line);
    json_object_put(obj);
    return r;
  }
  return docs_push(d, obj, file, line);
}

static int read_all(const char *path, struct fo_buf *out) {
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  if (!f) return -errno;
  char chunk[16384];
  size_t n;
  int r = fo_buf_append(out, "", 0);
  while (r == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0) r = fo_buf_append(out, chunk, n);
  if (r == 0 && ferror(f)) r = -EIO;
  if (f != stdin) fclose(f);
  return r;
}

/* Reads every document of one input. Returns 0, or -1 after printing why (file:line:col). */
static int load_file(const char *path, struct docs *d) {
  const struct fo_limits *lim = fo_limits_default();
  struct fo_buf b;
  fo_buf_init(&b, lim->doc_bytes);
  const char *shown = strcmp(path, "-") == 0 ? "<stdin>" : path;
  int r = read_all(path, &b);
  if (r < 0) {
    fprintf(stderr, "%s: cannot read: %s\n", shown,
            r == -E2BIG ? "file larger than the 3 MiB limit" : strerror(-r));
    fo_buf_free(&b);
    return -1;
  }
  struct fo_parse_error err = {0};
  size_t i = 0;
  while (i < b.len &&
         (b.data[i] == ' ' || b.data[i] == '\t' || b.data[i] == '\n' || b.data[i] == '\r'))
    i++;
  if (i < b.len && (b.data[i] == '{' || b.data[i] == '[')) {
    json_object *o;
    r = fo_json_parse(b.data, b.len, lim, &o, &err);
    if (r == 0) {
      if (o && json_object_is_type(o, json_type_array)) {
        size_t n = json_object_array_length(o);
        for (size_t k = 0; r == 0 && k < n; k++)
          r = docs_push_expanded(d, json_object_get(json_object_array_get_idx(o, k)), shown, 1);
        json_object_put(o);
      } else {
        r = docs_push_expanded(d, o, shown, 1);
      }
    }
  } else {
    struct fo_yaml_doc *yd;
    size_t nd;
    r = fo_yaml_parse(b.data, b.len, lim, &yd, &nd, &err);
    for (size_t k = 0; r == 0 && k < nd; k++) {
      r = docs_push_expanded(d, yd[k].root, shown, yd[k].line);
      yd[k].root = NULL;
    }
    if (r == 0) fo_yaml_docs_free(yd, nd);
  }
  fo_buf_free(&b);
  if (r < 0) {
    if (err.line)
      fprintf(stderr, "%s:%u:%u: %s\n", shown, err.line, err.column,
              err.message ? err.message : "parse error");
    else fprintf(stderr, "%s: %s\n", shown, err.message ? err.message : strerror(-r));
    fo_parse_error_clear(&err);
    return -1;
  }
  return 0;
}

static const char *meta_str(json_object *o, const char *key) {
  return fo_json_get_string(fo_json_get_object(o, "metadata"), key);
}

/* "flinkdeployment", "flinksessionjob" or "flinkstatesnapshot" for what the rulebook judges, else
 * NULL (static). */
static const char *judged_kind(json_object *obj) {
  const char *av = fo_json_get_string(obj, "apiVersion"), *kind = fo_json_get_string(obj, "kind");
  return fo_flinkdeployment_type(av, kind)      ? "flinkdeployment"
         : fo_flinksessionjob_type(av, kind)    ? "flinksessionjob"
         : fo_flinkstatesnapshot_type(av, kind) ? "flinkstatesnapshot"
                                                : NULL;
}

static bool same_object(json_object *a, json_object *b) {
  const char *na = meta_str(a, "name"), *nb = meta_str(b, "name");
  const char *sa = meta_str(a, "namespace"), *sb = meta_str(b, "namespace");
  if (!na || !nb || strcmp(na, nb) != 0) return false;
  return strcmp(sa ? sa : "default", sb ? sb : "default") == 0;
}

static void usage(FILE *f) {
  fputs(
      "usage: flink-webhook validate [--old FILE] [--config FILE] [--output text|json] FILE...\n"
      "  Runs each FlinkDeployment, FlinkSessionJob and FlinkStateSnapshot in FILE (YAML or JSON,\n"
      "  '-' = stdin) through the admission webhook's mutate-then-validate path, as a CREATE, or "
      "as\n"
      "  an UPDATE of the object of the same name and kind in --old. --config is the operator's\n"
      "  default Flink configuration.\n"
      "  Exit: 0 all admitted, 1 any denied, 2 an input could not be read or parsed.\n",
      f);
}

/* Appends one result to the JSON array in `out`. 0 or -ENOMEM: a result missing a part (its
 * errors, say) would read as another verdict, so it is not printed at all. */
static int print_json_result(struct fo_buf *out, const struct doc *d, const char *kind,
                             const char *name, const char *op, int verdict,
                             const struct fo_findings *errors, const struct fo_findings *warnings) {
  json_object *o = json_object_new_object();
  int oom = o ? 0 : -ENOMEM;
  const char *ns = meta_str(d->obj, "namespace");
  fo_json_set(o, "file", json_object_new_string(d->file), &oom);
  fo_json_set(o, "line", json_object_new_int((int)d->line), &oom);
  /* absent ones are JSON null */
  const char *keys[] = {"kind", "name", "namespace"}, *vals[] = {kind, name, ns};
  for (int i = 0; i < 3; i++) {
    if (vals[i]) fo_json_set(o, keys[i], json_object_new_string(vals[i]), &oom);
    else if (oom == 0 && json_object_object_add(o, keys[i], NULL) != 0) oom = -ENOMEM;
  }
  fo_json_set(o, "result",
              json_object_new_string(verdict < 0 ? "skipped"
                                     : verdict   ? "admitted"
                                                 : "denied"),
              &oom);
  if (verdict >= 0) {
    fo_json_set(o, "operation", json_object_new_string(op), &oom);
    json_object *ea = json_object_new_array();
    for (size_t i = 0; ea && i < errors->n; i++) {
      json_object *e = json_object_new_object();
      fo_json_set(e, "field", json_object_new_string(errors->items[i].path), &oom);
      fo_json_set(e, "message", json_object_new_string(errors->items[i].message), &oom);
      fo_json_push(ea, e, &oom);
    }
    fo_json_set(o, "errors", ea, &oom);
    json_object *wa = json_object_new_array();
    for (size_t i = 0; wa && i < warnings->n; i++)
      fo_json_push(wa, json_object_new_string(warnings->items[i].message), &oom);
    fo_json_set(o, "warnings", wa, &oom);
  }
  char *s = oom == 0 ? fo_json_dumps(o) : NULL;
  json_object_put(o);
  if (!s) return -ENOMEM;
  int r = out->len > 1 ? fo_buf_putc(out, ',') : 0;
  if (r == 0) r = fo_buf_puts(out, s);
  free(s);
  return r;
}

/* Without memory for a result the run cannot say what it found: exit 2, as for unreadable input. */
static int oom_exit(void) {
  fputs("flink-webhook validate: out of memory\n", stderr);
  return 2;
}

int dryrun_main(int argc, char **argv) {
  static const struct option opts[] = {{"old", required_argument, NULL, 'o'},
                                       {"config", required_argument, NULL, 'c'},
                                       {"output", required_argument, NULL, 'O'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  const char *old_path = NULL, *conf_path = NULL, *output = "text";
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case 'o': old_path = optarg; break;
    case 'c': conf_path = optarg; break;
    case 'O': output = optarg; break;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (strcmp(output, "text") != 0 && strcmp(output, "json") != 0) {
    fprintf(stderr, "flink-webhook validate: --output must be text or json\n");
    return 2;
  }
  if (optind >= argc) {
    usage(stderr);
    return 2;
  }
  int rc = 0;
  json_object *conf = NULL;
  struct docs olds = {0}, news = {0};
  if (conf_path) {
    struct fo_parse_error err = {0};
    if (fo_conf_load_file(conf_path, &conf, &err) < 0) {
      if (err.line) fprintf(stderr, "%s:%u:%u: %s\n", conf_path, err.line, err.column, err.message);
      else fprintf(stderr, "%s: %s\n", conf_path, err.message ? err.message : "cannot read");
      fo_parse_error_clear(&err);
      return 2;
    }
  }
  if (old_path && load_file(old_path, &olds) < 0) {
    json_object_put(conf);
    docs_free(&olds);
    return 2;
  }
  for (int i = optind; i < argc; i++)
    if (load_file(argv[i], &news) < 0) rc = 2;

  struct fo_buf jout;
  bool lost = false; /* a result could not be made: the report would be incomplete */
  fo_buf_init(&jout, SIZE_MAX / 2);
  fo_buf_putc(&jout, '[');
  for (size_t i = 0; i < news.n; i++) {
    struct doc *d = &news.v[i];
    const char *kind = fo_json_get_string(d->obj, "kind");
    const char *name = meta_str(d->obj, "name");
    const char *what =
        d->obj && json_object_is_type(d->obj, json_type_object) ? judged_kind(d->obj) : NULL;
    if (!what) {
      if (strcmp(output, "text") == 0)
        printf(
            "%s/%s skipped (not a flink.apache.org FlinkDeployment, FlinkSessionJob or "
            "FlinkStateSnapshot)\n",
            kind ? kind : "<no kind>", name ? name : "<no name>");
      else if (print_json_result(&jout, d, kind, name, NULL, -1, NULL, NULL) < 0)
        rc = oom_exit(), lost = true;
      continue;
    }
    json_object *old = NULL;
    for (size_t k = 0; k < olds.n && !old; k++)
      if (judged_kind(olds.v[k].obj) == what && same_object(olds.v[k].obj, d->obj))
        old = olds.v[k].obj;
    json_object *status = fo_json_get(old, "status");
    if (old && status && !fo_json_get(d->obj, "status") && /* the API server keeps the status */
        fo_json_set(d->obj, "status", json_object_get(status), NULL) < 0) {
      rc = oom_exit(), lost = true;
      continue;
    }
    struct fo_findings errors, warnings;
    fo_findings_init(&errors);
    fo_findings_init(&warnings);
    int r = fo_admission_review_object(d->obj, old, conf, NULL, &errors, &warnings);
    if (r < 0) {
      fprintf(stderr, "%s:%u: %s\n", d->file, d->line,
              r == -ENOMEM ? "out of memory" : "cannot judge object");
      rc = 2;
    } else {
      bool ok = errors.n == 0;
      if (!ok && rc == 0) rc = 1;
      if (strcmp(output, "text") == 0) {
        if (ok) {
          printf("%s/%s admitted\n", what, name ? name : "<no name>");
        } else {
          char *msg = fo_findings_join(&errors, "; ");
          printf("%s/%s denied: %s\n", what, name ? name : "<no name>", msg ? msg : "");
          free(msg);
        }
        for (size_t k = 0; k < warnings.n; k++) printf("warning: %s\n", warnings.items[k].message);
      } else if (print_json_result(&jout, d, kind, name, old ? "UPDATE" : "CREATE", ok, &errors,
                                   &warnings) < 0) {
        rc = oom_exit(), lost = true;
      }
    }
    fo_findings_free(&errors);
    fo_findings_free(&warnings);
  }
  if (fo_buf_putc(&jout, ']') < 0) rc = oom_exit(), lost = true;
  if (strcmp(output, "json") == 0 && jout.data && !lost) printf("%s\n", jout.data);
  fo_buf_free(&jout);
  docs_free(&news);
  docs_free(&olds);
  json_object_put(conf);
  return rc;
}
