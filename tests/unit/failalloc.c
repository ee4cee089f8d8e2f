/* Allocation-failure injection: see failalloc.h. The wrappers call glibc's own implementations
 * (__libc_malloc and friends), so blocks from either side of the wrapper mix safely. */
#include "failalloc.h"

#include <errno.h>
#include <execinfo.h>
#include <unistd.h>
#include <stddef.h>
#include <stdlib.h>

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

static long g_nth, g_count, g_live;
static bool g_injected, g_trace;

void fa_trace(bool on) {
  void *warm[2];
  if (on) backtrace(warm, 2); /* the first call loads the unwinder: not during a failure */
  g_trace = on;
}

void fa_arm(long nth) {
  g_nth = nth;
  g_count = 0;
  g_injected = false;
}

bool fa_injected(void) { return g_injected; }
long fa_count(void) { return g_count; }
long fa_live(void) { return g_live; }

static bool fail_now(void) {
  if (g_nth <= 0) return false;
  if (++g_count != g_nth) return false;
  g_injected = true;
  if (g_trace) {
    void *frames[32];
    int n = backtrace(frames, 32);
    backtrace_symbols_fd(frames, n, STDERR_FILENO);
  }
  errno = ENOMEM;
  return true;
}

void *malloc(size_t n) {
  if (fail_now()) return NULL;
  void *p = __libc_malloc(n);
  if (p) g_live++;
  return p;
}

void *calloc(size_t n, size_t size) {
  if (fail_now()) return NULL;
  void *p = __libc_calloc(n, size);
  if (p) g_live++;
  return p;
}

void *realloc(void *old, size_t n) {
  if (!old) return malloc(n);
  if (n == 0) {
    free(old);
    return NULL;
  }
  if (fail_now()) return NULL; /* the old block stays valid, as with a real failure */
  return __libc_realloc(old, n);
}

void free(void *p) {
  if (!p) return;
  g_live--;
  __libc_free(p);
}
