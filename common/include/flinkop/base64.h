/* base64.h - RFC 4648 base64 (the standard alphabet; the decoder also takes the URL-safe one and
 * ignores whitespace, as kubeconfig and Secret data may carry either).
 *
 * Ownership: both functions return a new NUL-terminated string the caller frees, or NULL. */
#ifndef FLINKOP_BASE64_H
#define FLINKOP_BASE64_H

#include <stddef.h>

/* NULL on ENOMEM. */
char *fo_base64_encode(const void *data, size_t n);
/* NULL when `s` is not base64, longer than `max` decoded bytes, or on ENOMEM. *ret_len (may be
 * NULL) receives the decoded length; the result is NUL-terminated for text use. */
char *fo_base64_decode(const char *s, size_t max, size_t *ret_len);

#endif
