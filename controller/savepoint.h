/* savepoint.h - savepoints of a FlinkDeployment's job. The trigger id is ours: chosen here and
 * written to the status before the request goes to Flink (which accepts a caller's trigger id),
 * so a controller that dies at any point asks for that same savepoint again, never a second
 * one. A finished savepoint becomes status.jobStatus.savepointInfo.lastSavepoint and joins the
 * history.
 * Ownership: strings returned through ret_* are malloc'd. Threading: the pass's. */
#ifndef FLINKOP_CONTROLLER_SAVEPOINT_H
#define FLINKOP_CONTROLLER_SAVEPOINT_H

#include <stdbool.h>

#include "flinkop/flinkrest.h"
#include "pass.h"

/* A new 32-hex-digit id (Flink's trigger and job ids). */
void sp_new_id(char out[33]);
/* The pass's savepointInfo, marked present. */
struct fo_savepoint_info *sp_info(struct pass *p);
/* Records a new trigger of `type` (MANUAL, UPGRADE) in the status, writes the status, then asks
 * Flink (stop-with-savepoint when `stop`). Returns 0 once the status is written (the request
 * itself is retried by sp_poll when Flink does not know the trigger), or a negative errno. */
int sp_begin(struct pass *p, struct fo_flink *f, const char *type, bool stop);
/* sp_begin in two halves, for a step that writes the trigger with other changes: sp_mark records
 * a new trigger of `type` in the pass's status (not written); sp_send asks Flink for it, to be
 * called only once that status is written. */
void sp_mark(struct pass *p, const char *type);
void sp_send(struct pass *p, struct fo_flink *f, bool stop);
/* Polls the savepoint in flight. Returns 1 when it is done (*ret_loc its location on success,
 * *ret_fail the cause on failure), 0 while pending, < 0 when Flink cannot be asked. A trigger
 * Flink does not know (the request never reached it) is sent again with the same id. */
int sp_poll(struct pass *p, struct fo_flink *f, bool stop, char **ret_loc, char **ret_fail);
/* Records a finished savepoint as the last one and in the history. */
void sp_record(struct pass *p, const char *location, const char *type, struct fo_opt_int nonce);
/* Forgets the trigger in flight (after sp_poll said it is done). */
void sp_clear(struct pass *p);
/* Trims the savepoint history, oldest first, to kubernetes.operator.savepoint.history.max.count
 * (10) entries none older than .max.age (24 h), as the reference does; never the newest, nor the
 * one the next restore needs (upgradeSavepointPath). With kubernetes.operator.savepoint.cleanup.
 * enabled (true) each is disposed of through Flink first, and kept while Flink does not take the
 * request. Returns how many entries went. */
int sp_trim(struct pass *p, struct fo_flink *f);

#endif
