/* Helpers shared by the unit tests: reading files of the repository. */
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
/* Parses one JSON text that the test knows is valid. */
json_object *tu_json(const char *text);
/* Parses one YAML document that the test knows is valid. */
json_object *tu_yaml(const char *text);

#endif
