/* Canary resources: the generations seen and taken (canary.h). */
#include "canary.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

struct canary {
  char key[320]; /* namespace/name; "" when the slot is free */
  int64_t seen, taken;
  double seen_at;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct canary table[CANARY_MAX];

/* The slot of `key`, or a free one when `make` (NULL when none). Under mu. */
static struct canary *slot(const char *key, bool make) {
  struct canary *free_slot = NULL;
  for (size_t i = 0; i < CANARY_MAX; i++) {
    if (!strcmp(table[i].key, key)) return &table[i];
    if (!free_slot && !table[i].key[0]) free_slot = &table[i];
  }
  if (!make || !free_slot || strlen(key) >= sizeof free_slot->key) return NULL;
  memset(free_slot, 0, sizeof *free_slot);
  snprintf(free_slot->key, sizeof free_slot->key, "%s", key);
  return free_slot;
}

void canary_seen(const char *key, int64_t generation, double now) {
  pthread_mutex_lock(&mu);
  struct canary *c = slot(key, true);
  if (c && generation > c->seen) {
    c->seen = generation;
    c->seen_at = now;
  }
  pthread_mutex_unlock(&mu);
}

void canary_reconciled(const char *key, int64_t generation) {
  pthread_mutex_lock(&mu);
  struct canary *c = slot(key, true);
  if (c && generation > c->taken) c->taken = generation;
  pthread_mutex_unlock(&mu);
}

void canary_forget(const char *key) {
  pthread_mutex_lock(&mu);
  struct canary *c = slot(key, false);
  if (c) memset(c, 0, sizeof *c);
  pthread_mutex_unlock(&mu);
}

bool canary_healthy(double now, double timeout_s, char *why, size_t n) {
  bool ok = true;
  pthread_mutex_lock(&mu);
  for (size_t i = 0; i < CANARY_MAX && ok; i++) {
    const struct canary *c = &table[i];
    if (c->key[0] && c->seen > c->taken && now - c->seen_at > timeout_s) {
      ok = false;
      if (why)
        snprintf(why, n, "canary %s: generation %lld not reconciled within %g s\n", c->key,
                 (long long)c->seen, timeout_s);
    }
  }
  pthread_mutex_unlock(&mu);
  return ok;
}

void canary_reset(void) {
  pthread_mutex_lock(&mu);
  memset(table, 0, sizeof table);
  pthread_mutex_unlock(&mu);
}
