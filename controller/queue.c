#include "queue.h"

#include <json-c/json.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Sets are json-c objects used as string hash sets (never shared outside this module). */
struct delayed {
  char *key;
  double due;
};

struct queue {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  char **fifo;
  size_t head, len, cap;
  json_object *dirty;      /* queued or waiting to be re-queued */
  json_object *processing; /* handed to a worker */
  json_object *failures;   /* key -> consecutive failures */
  struct delayed *later;
  size_t n_later, cap_later;
  double base, max;
  bool down;
};

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct queue *queue_new(double base, double max) {
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
  q->base = base;
  q->max = max;
  return q;
}

void queue_free(struct queue *q) {
  if (!q) return;
  for (size_t i = 0; i < q->len; i++) free(q->fifo[(q->head + i) % q->cap]);
  free(q->fifo);
  for (size_t i = 0; i < q->n_later; i++) free(q->later[i].key);
  free(q->later);
  json_object_put(q->dirty);
  json_object_put(q->processing);
  json_object_put(q->failures);
  pthread_mutex_destroy(&q->mu);
  pthread_cond_destroy(&q->cv);
  free(q);
}

static void push(struct queue *q, const char *key) {
  if (q->len == q->cap) {
    size_t nc = q->cap ? q->cap * 2 : 64;
    char **nf = malloc(nc * sizeof *nf);
    if (!nf) return;
    for (size_t i = 0; i < q->len; i++) nf[i] = q->fifo[(q->head + i) % q->cap];
    free(q->fifo);
    q->fifo = nf;
    q->cap = nc;
    q->head = 0;
  }
  char *k = strdup(key);
  if (!k) return;
  q->fifo[(q->head + q->len) % q->cap] = k;
  q->len++;
}

static void add_locked(struct queue *q, const char *key) {
  if (q->down || json_object_object_get_ex(q->dirty, key, NULL)) return;
  json_object_object_add(q->dirty, key, NULL);
  if (!json_object_object_get_ex(q->processing, key, NULL)) push(q, key);
  pthread_cond_signal(&q->cv);
}

void queue_add(struct queue *q, const char *key) {
  pthread_mutex_lock(&q->mu);
  add_locked(q, key);
  pthread_mutex_unlock(&q->mu);
}

void queue_add_after(struct queue *q, const char *key, double seconds) {
  if (seconds <= 0) {
    queue_add(q, key);
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

void queue_add_rate_limited(struct queue *q, const char *key) {
  pthread_mutex_lock(&q->mu);
  json_object *f = NULL;
  int n = json_object_object_get_ex(q->failures, key, &f) ? json_object_get_int(f) : 0;
  json_object_object_add(q->failures, key, json_object_new_int(n + 1));
  pthread_mutex_unlock(&q->mu);
  double d = q->base * pow(2.0, n > 30 ? 30 : n);
  if (d > q->max) d = q->max;
  queue_add_after(q, key, d);
}

void queue_forget(struct queue *q, const char *key) {
  pthread_mutex_lock(&q->mu);
  json_object_object_del(q->failures, key);
  pthread_mutex_unlock(&q->mu);
}

/* Moves due delayed keys into the queue; returns the earliest remaining due time or 0. */
static double promote_due(struct queue *q) {
  double now = now_s(), next = 0;
  size_t w = 0;
  for (size_t i = 0; i < q->n_later; i++) {
    if (q->later[i].due <= now) {
      add_locked(q, q->later[i].key);
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
    if (q->len) {
      char *k = q->fifo[q->head];
      q->head = (q->head + 1) % q->cap;
      q->len--;
      json_object_object_del(q->dirty, k);
      json_object_object_add(q->processing, k, NULL);
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
  if (json_object_object_get_ex(q->dirty, key, NULL)) {
    push(q, key);
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
  size_t n = q->len + q->n_later;
  pthread_mutex_unlock(&q->mu);
  return n;
}
