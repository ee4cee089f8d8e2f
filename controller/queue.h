/* queue.h - the controller's work queue, keyed by "namespace/name".
 *
 * A key is never handed to two workers at once; adding a key that is already queued coalesces;
 * adding a key that is being processed queues it again once fo_queue_done() is called. Delayed
 * adds ("requeue after") and per-key exponential backoff on errors. Two levels: queue_add() (a
 * change seen on a watch) goes before queue_add_background() and the delayed adds (resyncs,
 * job-status polls, retries), so a spec change never waits behind a backlog of polls.
 * Thread-safe (one mutex). */
#ifndef FLINKOP_CONTROLLER_QUEUE_H
#define FLINKOP_CONTROLLER_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

struct queue;

struct queue *queue_new(double backoff_base_s, double backoff_max_s);
void queue_free(struct queue *q);
void queue_add(struct queue *q, const char *key);
void queue_add_background(struct queue *q, const char *key);
void queue_add_after(struct queue *q, const char *key, double seconds);
/* Adds after this key's next backoff delay (doubling per consecutive failure); returns the delay
 * in seconds. */
double queue_add_rate_limited(struct queue *q, const char *key);
/* Forgets the failure count of a key (after a success). */
void queue_forget(struct queue *q, const char *key);
/* Blocks for the next key (caller frees it) or NULL after queue_shutdown(). */
char *queue_get(struct queue *q);
void queue_done(struct queue *q, const char *key);
void queue_shutdown(struct queue *q);
size_t queue_depth(struct queue *q);

#endif
