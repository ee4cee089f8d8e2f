/* gate.h - the controller's one write check, installed as each worker's Kubernetes client write
 * hook (fo_kube_set_write_hook), so no call site has to remember it: a write is sent only while
 * this process may act (it leads, or leader election is off); every write is logged (identity,
 * verb, resource, the FlinkDeployment of the pass, the object written) and counted. The tests'
 * fault injection lives here too: FO_FAULT_KILL_BEFORE_WRITE=<namespace/name>:<n> kills the
 * process (SIGKILL) just before its n-th write for that FlinkDeployment.
 * Threading: a gate belongs to one worker; the counters it bumps are atomic. */
#ifndef FLINKOP_CONTROLLER_GATE_H
#define FLINKOP_CONTROLLER_GATE_H

#include <stdbool.h>

struct gate {
  const char *identity;  /* borrowed: the process's leader-election identity */
  bool (*may_act)(void); /* leader_valid */
  const char *key;       /* the FlinkDeployment of the current pass (borrowed), or NULL */
};

/* fo_kube_write_hook_fn: 0 to send, -EPERM when this process must not write now. */
int gate_check(void *gate, const char *method, const char *path);

#endif
