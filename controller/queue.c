#include "queue.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flinkop/flinkconf.h"
#include "flinkop/json.h"

/* Sets are json-c objects used as string hash sets (never shared outside this module). */
struct delayed {
  char *key;
  double due;
};

struct ring {
  char **keys;
  size_t head, len, cap;
};

/* Two FIFOs: changes (watch events) go before the periodic and delayed work, so a spec change
 * waits for at most the reconciles in progress, never for a backlog of job-status polls. */
enum { NORMAL = 1, URGENT = 2 };

struct queue {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct ring fifo, urgent;
  json_object *dirty;      /* queued or waiting to be re-queued: key -> NORMAL or URGENT */
  json_object *processing; /* handed to a worker */
  json_object *failures;   /* key -> consecutive failures */
  json_object *stamps;     /* key -> what the object was when it last failed (queue_add_change) */
  struct delayed *later;
  size_t n_later, cap_later;
  struct retry_policy backoff;
  bool down;
};

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct queue *queue_new(const struct retry_policy *b) {
  struct queue *q = calloc(1, sizeof *q);
  if (!q) return NULL;
  pthread_mutex_init(&q->mu, NULL);
  pthread_condattr_t a;
  pthread_condattr_init(&a);
  pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
  pthread_cond_init(&q->cv, &a);
  pthread_condattr_destroy(&a);
  q->dirty = json_object_new_object();
  q->processing = json_object_new_object();
  q->failures = json_object_new_object();
  q->stamps = json_object_new_object();
  q->backoff = *b;
  return q;
}

void queue_free(struct queue *q) {
  if (!q) return;
  struct ring *rs[] = {&q->fifo, &q->urgent};
  for (int r = 0; r < 2; r++) {
    for (size_t i = 0; i < rs[r]->len; i++) free(rs[r]->keys[(rs[r]->head + i) % rs[r]->cap]);
    free(rs[r]->keys);
  }
  for (size_t i = 0; i < q->n_later; i++) free(q->later[i].key);
  free(q->later);
  json_object_put(q->dirty);
  json_object_put(q->processing);
  json_object_put(q->failures);
  json_object_put(q->stamps);
  pthread_mutex_destroy(&q->mu);
  pthread_cond_destroy(&q->cv);
  free(q);
}

/* The queue's bookkeeping cannot fail halfway: a key lost from it is a change never reconciled, a
 * key handed out without its "processing" mark could go to two workers at once. Without memory for
 * it the controller exits, and is restarted with its state intact (it lives in the API server). */
static void need(int r) {
  if (r == 0) return;
  static const char msg[] =
      "{\"level\":\"error\",\"msg\":\"out of memory in the work queue: exiting\"}\n";
  ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
  (void)w;
  abort();
}

static void push(struct ring *r, const char *key) {
  if (r->len == r->cap) {
    size_t nc = r->cap ? r->cap * 2 : 64;
    char **nf = malloc(nc * sizeof *nf);
    need(nf ? 0 : -1);
    for (size_t i = 0; i < r->len; i++) nf[i] = r->keys[(r->head + i) % r->cap];
    free(r->keys);
    r->keys = nf;
    r->cap = nc;
    r->head = 0;
  }
  char *k = strdup(key);
  need(k ? 0 : -1);
  r->keys[(r->head + r->len) % r->cap] = k;
  r->len++;
}

static char *pop(struct ring *r) {
  char *k = r->keys[r->head];
  r->head = (r->head + 1) % r->cap;
  r->len--;
  return k;
}

static int dirty_level(struct queue *q, const char *key) {
  json_object *v = NULL;
  if (!json_object_object_get_ex(q->dirty, key, &v)) return 0;
  return json_object_get_int(v);
}

/* A key sits in at most one FIFO per level; an urgent add of a key queued as normal puts it in
 * the urgent FIFO too (the later copy is skipped when popped, as the key is no longer dirty). */
static void add_locked(struct queue *q, const char *key, int level) {
  int cur = dirty_level(q, key);
  if (q->down || cur >= level) return;
  need(fo_json_set(q->dirty, key, json_object_new_int(level), NULL));
  if (!json_object_object_get_ex(q->processing, key, NULL))
    push(level == URGENT ? &q->urgent : &q->fifo, key);
  pthread_cond_signal(&q->cv);
}

void queue_add(struct queue *q, const char *key) {
  pthread_mutex_lock(&q->mu);
  add_locked(q, key, URGENT);
  pthread_mutex_unlock(&q->mu);
}

void queue_add_background(struct queue *q, const char *key) {
  pthread_mutex_lock(&q->mu);
  add_locked(q, key, NORMAL);
  pthread_mutex_unlock(&q->mu);
}

void queue_add_after(struct queue *q, const char *key, double seconds) {
  if (seconds <= 0) {
    queue_add_background(q, key);
    return;
  }
  pthread_mutex_lock(&q->mu);
  double due = now_s() + seconds;
  for (size_t i = 0; i < q->n_later; i++) /* keep only the earliest */
    if (!strcmp(q->later[i].key, key)) {
      if (due < q->later[i].due) q->later[i].due = due;
      pthread_mutex_unlock(&q->mu);
      return;
    }
  if (q->n_later == q->cap_later) {
    size_t nc = q->cap_later ? q->cap_later * 2 : 64;
    struct delayed *nl = realloc(q->later, nc * sizeof *nl);
    if (!nl) {
      pthread_mutex_unlock(&q->mu);
      return;
    }
    q->later = nl;
    q->cap_later = nc;
  }
  q->later[q->n_later].key = strdup(key);
  q->later[q->n_later].due = due;
  if (q->later[q->n_later].key) q->n_later++;
  pthread_cond_signal(&q->cv);
  pthread_mutex_unlock(&q->mu);
}

double queue_add_rate_limited(struct queue *q, const char *key, const char *stamp,
                              int *ret_attempt) {
  pthread_mutex_lock(&q->mu);
  if (stamp) fo_json_set(q->stamps, key, json_object_new_string(stamp), NULL);
  else json_object_object_del(q->stamps, key);
  json_object *f = NULL;
  int n = json_object_object_get_ex(q->failures, key, &f) ? json_object_get_int(f) : 0;
  if (n < INT_MAX - 1) n++;
  fo_json_set(q->failures, key, json_object_new_int(n),
              NULL); /* without memory: no longer backoff */
  pthread_mutex_unlock(&q->mu);
  double d = retry_delay(&q->backoff, n);
  queue_add_after(q, key, d);
  if (ret_attempt) *ret_attempt = n;
  return d;
}

void queue_forget(struct queue *q, const char *key) {
  pthread_mutex_lock(&q->mu);
  json_object_object_del(q->failures, key);
  json_object_object_del(q->stamps, key);
  pthread_mutex_unlock(&q->mu);
}

void queue_add_change(struct queue *q, const char *key, const char *stamp) {
  pthread_mutex_lock(&q->mu);
  json_object *s = NULL;
  bool same = stamp && json_object_object_get_ex(q->stamps, key, &s) &&
              !strcmp(json_object_get_string(s), stamp);
  if (!same) add_locked(q, key, URGENT);
  pthread_mutex_unlock(&q->mu);
}

/* Moves due delayed keys into the queue; returns the earliest remaining due time or 0. */
static double promote_due(struct queue *q) {
  double now = now_s(), next = 0;
  size_t w = 0;
  for (size_t i = 0; i < q->n_later; i++) {
    if (q->later[i].due <= now) {
      add_locked(q, q->later[i].key, NORMAL);
      free(q->later[i].key);
    } else {
      if (next == 0 || q->later[i].due < next) next = q->later[i].due;
      q->later[w++] = q->later[i];
    }
  }
  q->n_later = w;
  return next;
}

char *queue_get(struct queue *q) {
  pthread_mutex_lock(&q->mu);
  for (;;) {
    double next = promote_due(q);
    if (q->down) break;
    if (q->urgent.len || q->fifo.len) {
      char *k = pop(q->urgent.len ? &q->urgent : &q->fifo);
      if (!dirty_level(q, k) || json_object_object_get_ex(q->processing, k, NULL)) {
        free(k); /* the copy left in the other FIFO of a key already handed out */
        continue;
      }
      json_object_object_del(q->dirty, k);
      need(json_object_object_add(q->processing, k, NULL));
      pthread_mutex_unlock(&q->mu);
      return k;
    }
    if (next > 0) {
      struct timespec ts;
      double secs = floor(next);
      ts.tv_sec = (time_t)secs;
      ts.tv_nsec = (long)((next - secs) * 1e9);
      pthread_cond_timedwait(&q->cv, &q->mu, &ts);
    } else {
      pthread_cond_wait(&q->cv, &q->mu);
    }
  }
  pthread_mutex_unlock(&q->mu);
  return NULL;
}

void queue_done(struct queue *q, const char *key) {
  pthread_mutex_lock(&q->mu);
  json_object_object_del(q->processing, key);
  int level = dirty_level(q, key);
  if (level) {
    push(level == URGENT ? &q->urgent : &q->fifo, key);
    pthread_cond_signal(&q->cv);
  }
  pthread_mutex_unlock(&q->mu);
}

void queue_shutdown(struct queue *q) {
  pthread_mutex_lock(&q->mu);
  q->down = true;
  pthread_cond_broadcast(&q->cv);
  pthread_mutex_unlock(&q->mu);
}

size_t queue_depth(struct queue *q) {
  pthread_mutex_lock(&q->mu);
  size_t n = q->fifo.len + q->urgent.len + q->n_later;
  pthread_mutex_unlock(&q->mu);
  return n;
}
