# Two controller replicas on the node: one holds the Lease and acts. Its pod deleted (SIGTERM:
# it releases the Lease), the other takes over within the retry period; the new leader frozen
# (SIGSTOP: it can neither renew nor release), the third takes over once the Lease expires, and
# the frozen one, woken, writes nothing and exits. After each takeover a spec change must be
# acted on. From every replica's log: no two replicas reconciled at once.
# Sourced by run.sh (check/ok/ko, the node, $ROOT; release flink-operator and FlinkDeployment
# $FD from the tests before).

LEASE=$REL-controller
DUR=15 RETRY=2   # the chart's defaults (leaseDuration, retryPeriod)
out=$(helm upgrade $REL "$CHART" -n $OPNS --reuse-values --set controller.replicas=2 --wait --timeout 120s 2>&1) || ko "leader: helm upgrade to 2 controller replicas" "$out"
holder() { kubectl -n $OPNS get lease $LEASE -o jsonpath='{.spec.holderIdentity}' 2>/dev/null; }
ctl_pods() { kubectl -n $OPNS get pods -l app.kubernetes.io/component=controller -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}'; }
two_ready() { [ "$(ready_count controller)" = 2 ] && [ -n "$(holder)" ]; }
wait_for 60 two_ready || ko "leader: two controller pods Ready and a holder" "$(kubectl -n $OPNS get pods)"
logs=$FO_NODE_DIR/logs/leader-test
mkdir -p "$logs"
follow() { kubectl -n $OPNS logs -f "$1" > "$logs/$1.log" 2>/dev/null & }
for p in $(ctl_pods); do follow "$p"; done

leader1=$(holder)
check "leader: the Lease is held by one of the two controller pods" "1" "$(ctl_pods | grep -cx "$leader1")"
# the leader acts on a change
bump() { kubectl -n $OPNS patch flinkdeployment $FD --type merge -p "{\"spec\":{\"job\":{\"parallelism\":$1}}}" >/dev/null; }
observed() { [ "$(kubectl -n $OPNS get flinkdeployment $FD -o jsonpath='{.status.observedGeneration}')" = "$(kubectl -n $OPNS get flinkdeployment $FD -o jsonpath='{.metadata.generation}')" ]; }

# 1. graceful: kubectl delete pod (SIGTERM) -> the Lease is released -> the standby takes it
new_holder() { local h; h=$(holder); [ -n "$h" ] && [ "$h" != "$1" ]; }
t=$(now_ms)
kubectl -n $OPNS delete pod "$leader1" --wait=false >/dev/null
if wait_for 30 new_holder "$leader1"; then
  TAKEOVER_GRACEFUL_S=$(secs $(( $(now_ms) - t )))
  leader2=$(holder)
  if [ $(( $(now_ms) - t )) -le $(( (RETRY + 3) * 1000 )) ]; then ok "leader: leader pod deleted: $leader2 took over in ${TAKEOVER_GRACEFUL_S} s (released Lease; retry period ${RETRY} s)"
  else ko "leader: takeover after a graceful delete within retryPeriod + 3 s" "${TAKEOVER_GRACEFUL_S} s"; fi
else ko "leader: a new leader after the leader pod was deleted" "holder: $(holder)"; fi
bump 3
if wait_for 30 observed; then ok "leader: the new leader acts on a spec change"; else ko "leader: the new leader acts on a spec change"; fi
wait_for 60 two_ready || ko "leader: a replacement standby is Ready" "$(kubectl -n $OPNS get pods)"
for p in $(ctl_pods); do [ -f "$logs/$p.log" ] || follow "$p"; done

# 2. hung: the leader frozen (SIGSTOP), so it neither renews nor releases -> the Lease expires
host_pid() { # host PID of pod $1's container (the node runs no PID namespace of its own)
  local cid; cid=$(kubectl -n $OPNS get pod "$1" -o jsonpath='{.status.containerStatuses[0].containerID}')
  node_exec ctr -n k8s.io tasks ls 2>/dev/null | awk -v c="${cid#containerd://}" '$1 == c {print $2}'
}
# (the new leader may be the replacement pod, just started: its container is known once it runs)
pid=""
leader_process() { pid=$(host_pid "$leader2"); [ -n "$pid" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q '^/usr/bin/flink-controller '; }
if wait_for 60 leader_process; then
  t=$(now_ms)
  kill -STOP "$pid"
  if wait_for $((DUR + 20)) new_holder "$leader2"; then
    ms=$(( $(now_ms) - t )); TAKEOVER_EXPIRY_S=$(secs $ms); leader3=$(holder)
    # the standby counts leaseDuration from the last renewal it saw (the freeze came 0-2 s after it)
    if [ $ms -ge $(( (DUR - RETRY - 1) * 1000 )) ] && [ $ms -le $(( (DUR + RETRY + 3) * 1000 )) ]; then
      ok "leader: leader frozen: $leader3 took over in ${TAKEOVER_EXPIRY_S} s (Lease ${DUR} s, retry ${RETRY} s)"
    else ko "leader: takeover of an expired Lease within leaseDuration +- retryPeriod" "${TAKEOVER_EXPIRY_S} s"; fi
  else ko "leader: a new leader after the leader froze" "holder: $(holder)"; fi
  t_thaw=$(date +%s%3N)
  kill -CONT "$pid"
  bump 4
  if wait_for 30 observed; then ok "leader: the third leader acts on a spec change"; else ko "leader: the third leader acts on a spec change"; fi
  lost() { grep -q '"lost leadership"' "$logs/$leader2.log"; }
  if wait_for 30 lost; then ok "leader: the frozen leader, woken, says it lost leadership and exits"; else ko "leader: the woken leader exits" "$(tail -3 "$logs/$leader2.log")"; fi
else
  ko "leader: the leader's process found on the node" "pod $leader2 pid '$pid'"
fi

# no two replicas at once: every replica's reconcile and write lines, in time order, change hands
# only forward (A...A B...B C...C); the woken leader wrote nothing after it woke
sleep 1
for p in $(ctl_pods); do
  kubectl -n $OPNS logs "$p" > "$logs/$p.now.log" 2>/dev/null
  kubectl -n $OPNS logs "$p" --previous > "$logs/$p.previous.log" 2>/dev/null || rm -f "$logs/$p.previous.log"
done
kill $(jobs -p) 2>/dev/null; wait 2>/dev/null
out=$($PY - "$logs" "${leader2:-}" "${t_thaw:-0}" <<'PY'
import datetime, glob, json, os, sys
d, woken, thaw_ms = sys.argv[1], sys.argv[2], int(sys.argv[3])
events = []
for path in glob.glob(os.path.join(d, "*.log")):
    who = os.path.basename(path).split(".")[0]
    for line in open(path, errors="replace"):
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if e.get("msg") not in ("reconcile", "write"):
            continue
        t = datetime.datetime.strptime(e["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
        events.append((t.timestamp(), who, e["msg"]))
events.sort()
order = []
for _, who, _ in events:
    if not order or order[-1] != who:
        order.append(who)
late = [e for e in events if e[1] == woken and e[2] == "write" and e[0] * 1000 >= thaw_ms]
print(f"{len(events)} reconciles and writes by {len(set(w for _, w, _ in events))} replicas, in the order {' -> '.join(order)}")
if len(order) != len(set(order)):
    print("FAIL: a replica acted again after another had taken over")
if late:
    print(f"FAIL: the woken leader wrote {len(late)} times")
PY
)
if grep -q FAIL <<<"$out" || [ -z "$out" ]; then ko "leader: no two replicas acted at once" "$out"; else ok "leader: no two replicas acted at once ($out)"; fi
