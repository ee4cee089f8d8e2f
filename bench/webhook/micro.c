/* In-process microbenchmark: AdmissionReview decode + validate + encode (and decode + mutate +
 * encode), requests per second on one core, against a baseline measured in the same run: json-c
 * alone parsing and re-serialising the same body (the least any JSON webhook must do).
 * usage: micro BODY.json [SECONDS] */
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flinkop/admission.h"

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t)n + 1);
  if (fread(b, 1, (size_t)n, f) != (size_t)n) n = 0;
  b[n] = '\0';
  fclose(f);
  *len = (size_t)n;
  return b;
}

static int judge(const char *body, size_t len, bool mutate) {
  struct fo_admission_request rq;
  struct fo_parse_error pe = {0};
  if (fo_admission_decode(body, len, NULL, &rq, &pe) < 0) return -1;
  struct fo_admission_response resp;
  int ok =
      mutate ? fo_admission_mutate(&rq, "flink", &resp) : fo_admission_validate(&rq, NULL, &resp);
  char *out = ok == 0 ? fo_admission_response_encode(&resp) : NULL;
  int r = out ? 0 : -1;
  free(out);
  fo_admission_response_free(&resp);
  fo_admission_request_free(&rq);
  return r;
}

static int ours(const char *body, size_t len) { return judge(body, len, false); }
static int ours_mutate(const char *body, size_t len) { return judge(body, len, true); }

static int baseline(const char *body, size_t len) {
  json_tokener *t = json_tokener_new();
  json_object *o = json_tokener_parse_ex(t, body, (int)len);
  json_tokener_free(t);
  if (!o) return -1;
  const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
  int r = s ? 0 : -1;
  json_object_put(o);
  return r;
}

static double rate(int (*fn)(const char *, size_t), const char *body, size_t len, double secs) {
  long n = 0;
  double t0 = now_s(), t;
  do {
    for (int i = 0; i < 100; i++)
      if (fn(body, len) < 0) {
        fprintf(stderr, "micro: a request failed\n");
        exit(1);
      }
    n += 100;
    t = now_s();
  } while (t - t0 < secs);
  return (double)n / (t - t0);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  size_t len;
  char *body = slurp(argv[1], &len);
  if (!body) return 2;
  char *end = NULL;
  double secs = argc > 2 ? strtod(argv[2], &end) : 3.0;
  if (argc > 2 && (end == argv[2] || *end || secs <= 0)) return 2;
  double base = rate(baseline, body, len, secs), mine = rate(ours, body, len, secs);
  double mut = rate(ours_mutate, body, len, secs);
  printf(
      "micro %s (%zu bytes): decode+validate+encode %.0f req/s/core; json-c parse+serialise "
      "baseline %.0f/s; ratio %.2f; "
      "decode+mutate+encode %.0f req/s/core (ratio %.2f)\n",
      argv[1], len, mine, base, mine / base, mut, mut / base);
  free(body);
  return 0;
}
