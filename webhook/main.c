/* flink-webhook: the admission webhook for FlinkDeployments, and its offline dry-run. */
#include <stdio.h>
#include <string.h>

#include "dryrun.h"
#include "server.h"

static void usage(FILE *f) {
  fputs(
      "usage: flink-webhook <command> [options]\n"
      "commands:\n"
      "  serve      run the admission webhook (HTTPS: /validate, /mutate, /healthz, /readyz, "
      "/metrics)\n"
      "  validate   check manifest files offline, exactly as the webhook would (dry-run)\n"
      "run 'flink-webhook <command> --help' for the options of a command\n",
      f);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (strcmp(argv[1], "serve") == 0) return server_main(argc - 1, argv + 1);
  if (strcmp(argv[1], "validate") == 0) return dryrun_main(argc - 1, argv + 1);
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    usage(stdout);
    return 0;
  }
  fprintf(stderr, "flink-webhook: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return 2;
}
