/* Helpers shared by the unit tests: reading and writing files, waiting for a child's port. */
#ifndef FLINKOP_TESTUTIL_H
#define FLINKOP_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "flinkop/json.h"

/* Reads a file (path relative to the repository root) into a malloc'd NUL-terminated buffer. */
char *tu_read_file(const char *rel, size_t *ret_len);
/* Reads a file by absolute path (malloc'd, NUL-terminated) or NULL. */
char *tu_read_file_abs(const char *path);
/* Writes `len` bytes of `data`, `repeat` times, to a new file at `path` (fails the test if it
 * cannot). */
void tu_write_file(const char *path, const void *data, size_t len, size_t repeat);
/* The port a child process wrote (as text) into the file `path` once it listens, polled for up to
 * 10 s; fails the test when none came. */
int tu_wait_port_file(const char *path);
/* Parses one JSON text that the test knows is valid. */
json_object *tu_json(const char *text);
/* Parses one YAML document that the test knows is valid. */
json_object *tu_yaml(const char *text);

#endif
