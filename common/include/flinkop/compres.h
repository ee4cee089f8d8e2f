/* compres.h - the resources of a JobManager or a TaskManager as the reference operator reads
 * them: spec.<component>.resources (Kubernetes ResourceRequirements) when it holds a request or a
 * limit, else the older spec.<component>.resource (cpu, memory, ephemeralStorage).
 *
 * From `resources`: the process memory is the memory request, else its limit (a Flink size such as
 * 2048m, else a Kubernetes quantity such as 2Gi); the CPU the cpu request, else its limit; the
 * limit factors (kubernetes.<component>.cpu|memory.limit-factor) are limit / request where both
 * are given; every other resource (ephemeral-storage, extended resources) goes to the main
 * container's requests and limits as written. From `resource`: memory and cpu, and
 * ephemeralStorage as the main container's ephemeral-storage request and limit.
 *
 * Ownership: everything is borrowed from the spec (`requests`, `limits`, `ephemeral_storage`);
 * `memory` is a copy in the struct. Thread-safe: no shared state. */
#ifndef FLINKOP_COMPRES_H
#define FLINKOP_COMPRES_H

#include <stdbool.h>
#include <stdint.h>

#include "flinkop/findings.h"
#include "flinkop/jv.h"
#include "flinkop/model.h"

struct fo_compres {
  bool memory_set;
  uint64_t memory_bytes;
  char memory[48]; /* for *.memory.process.size: as written when Flink reads it, else bytes */
  bool cpu_set;
  double cpu;
  bool cpu_factor_set, memory_factor_set;
  double cpu_factor, memory_factor;
  const struct fo_jv *requests, *limits; /* from `resources` (NULL from `resource`) */
  const char *ephemeral_storage;         /* from `resource` */
};

/* True when `resources` (may be NULL) holds a request or a limit: then it wins over `resource`. */
bool fo_compres_has_requirements(const struct fo_jv *resources);

/* The effective resources of `c` (borrowed). A value that cannot be read is left unset (the
 * rulebook refuses it first). Always succeeds. */
void fo_compres_read(const struct fo_component *c, struct fo_compres *out);

/* A quantity of a ResourceRequirements map (a string or a number): 0 with *ret, or -EINVAL with
 * the reason. */
int fo_compres_quantity(const struct fo_jv *v, double *ret, const char **ret_why);

/* The reference's rule on spec.<component>.resources (`who` "JobManager" or "TaskManager"):
 * each quantity readable, memory and cpu positive, others not negative, a cpu or memory request
 * not above its limit; the problems joined with "; " as one finding at `path`. Returns 0 or
 * -ENOMEM. */
int fo_compres_check(struct fo_findings *e, const char *who, const char *path,
                     const struct fo_jv *resources);

#endif
