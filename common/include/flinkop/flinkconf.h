/* flinkconf.h - Flink configuration as the rulebook sees it.
 *
 * A configuration is a json-c object whose values are all strings (flat `key: value`). The
 * effective configuration is the operator's defaults overlaid with spec.flinkConfiguration, where
 * nested objects are flattened with '.', numbers and booleans become their text, arrays are
 * joined with ';' (Flink's list syntax) and nulls are dropped.
 * Ownership: functions named *_new return an object the caller json_object_put()s; getters borrow.
 * Thread-safe: no shared state.
 */
#ifndef FLINKOP_FLINKCONF_H
#define FLINKOP_FLINKCONF_H

#include <stdbool.h>
#include <stdint.h>

#include "flinkop/json.h"

/* Flattens `src` (any JSON object, possibly nested) into `dst` (overwriting keys).
 * Returns 0, -EINVAL when src is not an object, -ENOMEM. */
int fo_conf_flatten_into(json_object *dst, json_object *src);

/* New effective configuration: copy of `defaults` (flat, may be NULL) overlaid with the
 * flattened `flink_configuration` (may be NULL). NULL on ENOMEM. */
json_object *fo_conf_effective_new(json_object *defaults, json_object *flink_configuration);

/* Reads the operator's default configuration file (YAML, flat or nested) into a new flat
 * object. Returns 0 or a negative errno; `err` explains. An empty file is an empty config. */
int fo_conf_load_file(const char *path, json_object **ret, struct fo_parse_error *err);

const char *fo_conf_get(json_object *conf, const char *key);
/* True when high-availability.type (or the legacy high-availability) is set to something other
 * than NONE (case-insensitive) or blank. */
bool fo_conf_ha_enabled(json_object *conf);
/* state.checkpoints.dir, else execution.checkpointing.dir; NULL when blank. */
const char *fo_conf_checkpoint_dir(json_object *conf);
/* state.savepoints.dir, else execution.checkpointing.savepoint-dir; NULL when blank. */
const char *fo_conf_savepoint_dir(json_object *conf);
/* True when a checkpoint interval is configured (execution.checkpointing.interval). */
bool fo_conf_checkpoint_interval_set(json_object *conf);

/* The effective configuration read in place, without building it: `spec` (spec.flinkConfiguration,
 * may be nested, may be NULL) as flattened over `defaults` (flat, may be NULL), exactly as
 * fo_conf_effective_new would give it. The text of a value that is not a string (a number, a
 * boolean, an array) is made in `arena` (may be NULL: then it reads as absent and `oom` is set, as
 * when the arena is out of memory). Returned strings borrow from the documents or the arena. */
struct fo_conf_view {
  const struct fo_jv *spec;
  json_object *defaults;
  struct fo_arena *arena;
  bool oom;
};
const char *fo_conf_view_get(struct fo_conf_view *cv, const char *key);
bool fo_conf_view_ha_enabled(struct fo_conf_view *cv);
const char *fo_conf_view_checkpoint_dir(struct fo_conf_view *cv);
const char *fo_conf_view_savepoint_dir(struct fo_conf_view *cv);
bool fo_conf_view_checkpoint_interval_set(struct fo_conf_view *cv);

/* Parses a memory amount written as a Flink MemorySize ("2048m", "2g", "512mb", "1024") or a
 * Kubernetes quantity ("1.5Gi", "2G", "1e9"). Returns 0 with *ret_bytes, or -EINVAL with a
 * static explanation in *ret_why. */
int fo_memory_parse(const char *s, uint64_t *ret_bytes, const char **ret_why);
/* True when Flink's own MemorySize reads `s` (a number with an optional unit b, k, m, g, t, kb,
 * mb, ...): a Kubernetes quantity such as 2Gi is not one, and must reach Flink as bytes. */
bool fo_memory_is_flink_size(const char *s);
/* Kubernetes quantity only (ephemeral storage). Same contract. */
int fo_quantity_parse(const char *s, double *ret_value, const char **ret_why);
/* A resource limit factor (kubernetes.<component>.cpu|memory.limit-factor): a number from 1 (Flink
 * refuses less) to 1000. NULL (not set) is 1. Returns 0 with *ret, or -EINVAL (*ret is then 1). */
int fo_limit_factor_parse(const char *s, double *ret);
/* The whole number `key` of `conf` (may be NULL) when it is one from min to max, else `def`
 * (unset, or a value the rulebook refuses). */
int64_t fo_conf_whole(json_object *conf, const char *key, int64_t min, int64_t max, int64_t def);
/* The Duration `key` of `conf` (may be NULL) in milliseconds, else `def` (unset, or a value the
 * rulebook refuses). */
int64_t fo_conf_duration(json_object *conf, const char *key, int64_t def);
/* How long Flink's REST API may serve a job's checkpoint statistics from its cache, in
 * milliseconds: rest.cache.checkpoint-statistics.timeout, else web.refresh-interval, else 3 s.
 * A view read less than this after a job ended may predate its last checkpoints. */
int64_t fo_conf_stats_cache_ms(json_object *conf);
/* Milliseconds from `now_ms` until the statistics of a job seen ended at `seen_ms` are read after
 * its end: the cache's time and a margin for a slow answer; 0 when they are (or with no cache). */
int64_t fo_conf_stats_wait_ms(json_object *conf, int64_t seen_ms, int64_t now_ms);
/* The boolean `key` of `conf` (may be NULL) as Flink reads one: "true" in any case is true, any
 * other value false; `def` when unset. */
bool fo_conf_bool(json_object *conf, const char *key, bool def);
/* kubernetes.rest-service.exposed.type read as Flink reads it (case-insensitive): its canonical
 * name ("ClusterIP", "NodePort", "LoadBalancer", "Headless_ClusterIP"), or NULL when it is none of
 * them. A static string. */
const char *fo_rest_service_type(const char *v);
/* A Flink Duration ("5 min", "300s", "1h", "250 ms", "10": milliseconds) as Flink's
 * TimeUtils.parseDuration reads it: a whole number, optional blanks, an optional unit (d, day(s),
 * h, hour(s), min, minute(s), m, s, sec(s), second(s), ms, milli(s), millisecond(s), us, micro(s),
 * microsecond(s), ns, nano(s), nanosecond(s)). Returns 0 with *ret_ms (rounded down), or -EINVAL
 * (not a duration, or over a year of milliseconds: nothing here waits longer). */
int fo_duration_parse(const char *s, int64_t *ret_ms);

/* A Flink map option ("k1:v1,k2:v2", as kubernetes.jobmanager.labels or .node-selector are
 * written), or a list of maps separated by ';' when `list` (kubernetes.jobmanager.tolerations).
 * A part may be quoted with ' or " (a doubled quote inside is one), to hold ',' ';' or ':'. Flink's
 * reading: each entry has exactly one ':' outside quotes, blanks around keys and values are
 * trimmed. At most 64 entries in all, 4 KiB of text. Returns 0 with *ret a new JSON object
 * (string values) or, when `list`, a new array of them; -EINVAL (with a static reason in *ret_why)
 * or -ENOMEM. NULL or blank `s` is an empty object or array. */
int fo_conf_map_parse(const char *s, bool list, json_object **ret, const char **ret_why);

#endif
