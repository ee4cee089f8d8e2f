/* failalloc.h - allocation-failure injection for the unit tests.
 *
 * Linking failalloc.c into a test program replaces malloc, calloc, realloc and free for the whole
 * process (json-c, libyaml and libc's own callers included) with thin wrappers around glibc's
 * allocator that count live blocks and can make the Nth allocation from now fail (NULL, ENOMEM).
 * Not for sanitizer builds (they bring their own allocator). Not thread-safe: single-threaded
 * tests only. */
#ifndef FO_TESTS_FAILALLOC_H
#define FO_TESTS_FAILALLOC_H

#include <stdbool.h>

/* Makes the nth allocation from now fail (1 = the next); 0 turns injection off. */
void fa_arm(long nth);
/* Whether a failure was injected since the last fa_arm(). */
bool fa_injected(void);
/* Allocations made since the last fa_arm() (counting the failed one). */
long fa_count(void);
/* Prints the stack of each injected failure to stderr (for finding a leak's path). */
void fa_trace(bool on);
/* Blocks currently allocated (malloc'd and not yet freed) through the wrappers. */
long fa_live(void);

#endif
