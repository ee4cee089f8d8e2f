/* checkpoint.h - checkpoints asked of Flink (its REST API takes them from Flink 1.17 on): on a
 * new job.checkpointTriggerNonce (MANUAL) and each time kubernetes.operator.periodic.checkpoint.
 * interval has passed (PERIODIC), of kubernetes.operator.checkpoint.type (FULL by default, or
 * INCREMENTAL). As for savepoints the trigger id is ours and written to the status before the
 * request goes out, so a controller that dies meanwhile asks for that same checkpoint again. A
 * checkpoint in flight holds nothing back (an upgrade does not wait for it, as in the reference);
 * one whose job stops running is given up. The result is status.jobStatus.checkpointInfo
 * .lastCheckpoint; a failure is a CheckpointError Warning in Flink's words. A nonce counts as
 * handled once its checkpoint completed, failed or was given up.
 * Threading: the pass's. */
#ifndef FLINKOP_CONTROLLER_CHECKPOINT_H
#define FLINKOP_CONTROLLER_CHECKPOINT_H

#include <stdbool.h>

#include "flinkop/flinkrest.h"
#include "lifecycle.h"
#include "pass.h"

/* One step of the running job's checkpoints. *ret_wrote: the status was written (the pass is
 * done); otherwise what changed is in p->st for the caller to write. Returns 0 or a negative
 * errno. */
int cp_step(struct pass *p, struct fo_flink *f, struct lc_step *s, bool *ret_wrote);

#endif
