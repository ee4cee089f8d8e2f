/* dryrun.h - `flink-webhook validate`: the admission path (mutate, then validate) run offline on
 * manifest files, so users can check them before `kubectl apply`. */
#ifndef FLINKOP_WEBHOOK_DRYRUN_H
#define FLINKOP_WEBHOOK_DRYRUN_H

/* Exit codes: 0 all admitted, 1 any denied, 2 an input could not be read or parsed. */
int dryrun_main(int argc, char **argv);

#endif
