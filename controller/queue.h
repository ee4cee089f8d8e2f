/* queue.h - the controller's work queue, keyed by "namespace/name".
 *
 * A key is never handed to two workers at once; adding a key that is already queued coalesces;
 * adding a key that is being processed queues it again once fo_queue_done() is called. Delayed
 * adds ("requeue after") and per-key exponential backoff on errors (struct retry_policy: the
 * reference operator's retry settings). Two levels: queue_add() (a
 * change seen on a watch) goes before queue_add_background() and the delayed adds (resyncs,
 * job-status polls, retries), so a spec change never waits behind a backlog of polls.
 * Thread-safe (one mutex). */
#ifndef FLINKOP_CONTROLLER_QUEUE_H
#define FLINKOP_CONTROLLER_QUEUE_H

#include <json-c/json.h>
#include <stdbool.h>

#include "retry.h"
#include <stddef.h>

struct queue;

/* b is copied. */
struct queue *queue_new(const struct retry_policy *b);
void queue_free(struct queue *q);
void queue_add(struct queue *q, const char *key);
void queue_add_background(struct queue *q, const char *key);
void queue_add_after(struct queue *q, const char *key, double seconds);
/* Counts one more consecutive failure of this key and adds it after that attempt's backoff delay;
 * returns the delay in seconds and the attempt number in *ret_attempt (may be NULL). `stamp`
 * (copied, may be NULL) says what the object was when it failed, for queue_add_change(). */
double queue_add_rate_limited(struct queue *q, const char *key, const char *stamp,
                              int *ret_attempt);
/* A change seen on a watch: queue_add(), except for a key backing off whose object is still what
 * it was when it failed (the same `stamp`): the status the failure report wrote comes back as a
 * change, and must not turn the backoff into a loop. NULL stamp: always added. */
void queue_add_change(struct queue *q, const char *key, const char *stamp);
/* Forgets the failure count of a key (after a success). */
void queue_forget(struct queue *q, const char *key);
/* Blocks for the next key (caller frees it) or NULL after queue_shutdown(). */
char *queue_get(struct queue *q);
void queue_done(struct queue *q, const char *key);
void queue_shutdown(struct queue *q);
size_t queue_depth(struct queue *q);

#endif
