# Real Flink under the operator, in real pods, from the images built here: one FlinkDeployment per
# case through its life: deploy, a savepoint by nonce, an upgrade, suspend, resume, delete. The
# cases: Flink 1.20 in native mode (Flink's JobManager makes its own TaskManager pods) and in
# standalone mode (the operator makes the TaskManagers' Deployment), each in every upgrade mode;
# Flink 2 in native mode, last-state (Kubernetes HA) and savepoint. The job is the images' Counter
# (a count in keyed state, with gauges for the count and for what this run restored). Every step is checked from
# Flink's side: its REST API (the job, its checkpoints, what it restored from, the counter), the
# shared volume (the savepoints' files), the API server (what is left). last-state runs with
# Kubernetes HA, which Flink keeps in its own ConfigMaps.
# Sourced by run.sh (check/ok/ko, the node, $ROOT; release flink-operator installed).

source "$NODE_TESTS/flink_lib.sh"

# Where an upgrade's time went, from the leader's phase log: $1 the patch's time (ms), $2 the time
# the test saw the job RUNNING again. The operator's own part is its reaction to the change and
# the applying of the new cluster; the savepoint and the job's start are Flink's; the old pods'
# going is Kubernetes'.
breakdown() {
  local leader; leader=$(kubectl -n $OPNS get lease $REL-controller -o jsonpath='{.spec.holderIdentity}' 2>/dev/null)
  kubectl -n $OPNS logs "$leader" 2>/dev/null | $PY -c '
import json, sys, datetime
obj, t0, t1 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ph = []
for line in sys.stdin:
    try: e = json.loads(line)
    except ValueError: continue
    if e.get("msg") != "phase" or e.get("object") != obj: continue
    ts = int(datetime.datetime.strptime(e["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)
    if t0 - 1000 <= ts <= t1: ph.append((ts, e["from"], e["to"]))
def began(name):  # when a phase began: the move into it, else the first move out of it
    ts = [t for t, fr, to in ph if to == name] or [t for t, fr, to in ph if fr == name]
    return min(ts) if ts else None
ran = [t for t, fr, to in ph if to == "RUNNING"]
if not ph or not ran or began("START") is None: sys.exit(1)
at = {"RUNNING": max(ran), "START": began("START")}
for name in ("STOP_SAVEPOINT", "STOP_CLUSTER"):
    if began(name) is not None: at[name] = began(name)
first = ph[0][0]
stop = at.get("STOP_CLUSTER", first)
sp = stop - at["STOP_SAVEPOINT"] if "STOP_SAVEPOINT" in at else 0
react, teardown, apply_, start = first - t0, at["START"] - stop, at["RUNNING"] - at["START"], t1 - at["RUNNING"]
print("reaction %.1f s, savepoint %.1f s, old pods gone %.1f s, new cluster applied %.1f s, job RUNNING in Flink %.1f s: the operator'"'"'s own %.1f s of %.1f s"
      % (react / 1e3, sp / 1e3, teardown / 1e3, apply_ / 1e3, start / 1e3, (react + apply_) / 1e3, (t1 - t0) / 1e3))' "$FNS/$FD2" "$1" "$2"
}

# what the restarted job's counter says about its state: $1 the count seen before the stop
check_state() {
  local what=$1 before=$2 restored
  if ! wait_for 90 counting; then ko "$CASE: the counter counts again after $what" "$(counter count 2>&1)"; return; fi
  restored=$(counter restored)
  case $UMODE in
    stateless) check "$CASE: after $what the count started from nothing" "0" "$restored" ;;
    *) if [ "$restored" -ge "$before" ] && [ "$before" -gt 0 ]; then ok "$CASE: after $what the count went on from $restored (it was $before before)"
       else ko "$CASE: after $what the count goes on" "restored $restored, before $before"; fi ;;
  esac
}

# One FlinkDeployment through its life. $1: the case's name (the FlinkDeployment is real-$1),
# $2: the upgrade mode, $3: native or standalone, $4: the image's Flink version (1.20, 2.2), $5:
# more flinkConfiguration lines. The delete at the end runs whatever happened before it (a step
# that fails returns early).
flink_life() {
  CASE="flink $1"; FD2=real-$1; UMODE=$2; KMODE=$3; FV=$4
  flink_steps "${5:-}"
  flink_delete
}

flink_steps() {
  local extra=$1 t key=${CASE#flink }
  key=${key//-/_}
  fd_apply "    execution.checkpointing.interval: 3s
    kubernetes.jobmanager.cpu.limit-factor: \"8\"
    kubernetes.taskmanager.cpu.limit-factor: \"8\"
$extra" "" 0.25 0.25
  t=$(now_ms)
  if wait_for 240 stable_running; then figure "FLINK_DEPLOY_${key}_S" "$(secs $(( $(now_ms) - t )))"; ok "$CASE: deployed; Flink runs the job the status names"
  else ko "$CASE: deployed and running in Flink" "$(fstatus '{.status}')"$'\n'"$(kubectl -n $FNS get pods 2>&1)"$'\n'"$(kubectl -n $FNS logs deploy/$FD2 --tail 20 2>&1)"; return; fi
  local owner; owner=$(kubectl -n $FNS get pods -l app=$FD2,component=taskmanager -o jsonpath='{.items[0].metadata.ownerReferences[0].kind}/{.items[0].metadata.ownerReferences[0].name}')
  if [ "$KMODE" = native ] && [ "$owner" = "Deployment/$FD2" ]; then
    ok "$CASE: Flink's JobManager made its TaskManager pod, owned by the JobManager Deployment"
  elif [ "$KMODE" = standalone ] && [[ $owner == ReplicaSet/$FD2-taskmanager-* ]]; then
    ok "$CASE: the TaskManager pod is the operator's Deployment $FD2-taskmanager's"
  else ko "$CASE: a TaskManager pod of the right owner" "$owner"$'\n'"$(kubectl -n $FNS get pods -l app=$FD2 -o wide 2>&1)"; fi
  # the pod template reached the TaskManagers (in native mode Flink reads it only from
  # /opt/flink/pod-template in the JobManager's pod)
  local tvols; tvols=$(kubectl -n $FNS get pods -l app=$FD2,component=taskmanager -o jsonpath='{.items[0].spec.volumes[*].name}')
  case " $tvols " in
    *" flink-data "*) ok "$CASE: the TaskManager pod was made from the pod template (its flink-data volume)" ;;
    *) ko "$CASE: the TaskManager pod from the pod template" "volumes: $tvols" ;;
  esac
  check "$CASE: a first start restores nothing" "none" "$(restored_from)"
  if wait_for 60 counting; then check "$CASE: the counter started from nothing" "0" "$(counter restored)"
  else ko "$CASE: the counter counts, read through Flink's REST API" "$(counter count 2>&1)"; fi
  wait_for 60 has_checkpoint || ko "$CASE: a first checkpoint" "$(completed_checkpoints 2>&1)"

  # a savepoint by nonce: in the status, as Flink's latest savepoint, on the volume
  kubectl -n $FNS patch flinkdeployment $FD2 --type merge -p '{"spec":{"job":{"savepointTriggerNonce":1}}}' >/dev/null
  manual_done() { [ -n "$(last_sp)" ]; }
  local sp1=""
  if wait_for 120 manual_done; then
    sp1=$(last_sp)
    ok "$CASE: savepointTriggerNonce took a savepoint"
    if on_volume "$sp1"; then ok "$CASE: the savepoint is on the shared volume"; else ko "$CASE: the savepoint is on the volume" "$(ls -R "$DATA/savepoints" | head)"; fi
    # (Flink caches its checkpoint statistics for a few seconds: poll)
    flink_latest_sp() { flink_rest "/jobs/$(fstatus '{.status.jobStatus.jobId}')/checkpoints" | $PY -c 'import json,sys; print(((json.load(sys.stdin).get("latest") or {}).get("savepoint") or {}).get("external_path"))'; }
    latest_is() { [ "$(flink_latest_sp)" = "$1" ]; }
    if wait_for 30 latest_is "$sp1"; then ok "$CASE: Flink's latest savepoint is the one in the status"
    else ko "$CASE: Flink's latest savepoint is the one in the status" "want $sp1, got $(flink_latest_sp)"; fi
  else ko "$CASE: savepointTriggerNonce" "$(fstatus '{.status}')"; fi
  check "$CASE: the job kept running through the savepoint" "STABLE/RUNNING" "$(fstatus '{.status.lifecycleState}/{.status.jobStatus.state}')"
  if [ -n "$extra" ] && [ "$KMODE" = native ]; then contract_check "$(last_sp)"; fi

  # an upgrade
  local jid1 sp_before c0; jid1=$(fstatus '{.status.jobStatus.jobId}'); sp_before=$(last_sp)
  c0=$(counter count); checkpoints_after_now
  t=$(now_ms)
  kubectl -n $FNS patch flinkdeployment $FD2 --type merge -p '{"spec":{"job":{"parallelism":2}}}' >/dev/null
  upgraded() { [ "$(fstatus '{.status.reconciliationStatus.state}')" = DEPLOYED ] && [ "$(fstatus '{.status.observedGeneration}')" = "$(kubectl -n $FNS get flinkdeployment $FD2 -o jsonpath='{.metadata.generation}')" ] \
    && [ "$(kubectl -n $FNS get pods -l app=$FD2,component=taskmanager --field-selector status.phase=Running -o name | wc -l)" = 2 ] && stable_running; }
  if wait_for 300 upgraded; then
    local t1; t1=$(now_ms)
    figure "FLINK_UPGRADE_${key}_S" "$(secs $(( t1 - t )))"
    local bd; bd=$(breakdown "$t" "$t1") && echo "timing: $CASE upgrade: $bd"
    ok "$CASE: upgraded to parallelism 2 (2 TaskManagers of 1 slot)"
    local got; got=$(restored_from)
    case $UMODE in
      savepoint)
        check "$CASE: Flink says the new job restored from the upgrade's savepoint" "$(last_sp) savepoint" "$got"
        if [ "$(last_sp)" != "$sp_before" ] && on_volume "$(last_sp)"; then ok "$CASE: the upgrade's savepoint is a new one, on the volume"; else ko "$CASE: the upgrade's savepoint" "$sp_before / $(last_sp)"; fi
        if [ "$(fstatus '{.status.jobStatus.jobId}')" != "$jid1" ]; then ok "$CASE: a new job id"; else ko "$CASE: a new job id"; fi ;;
      last-state)
        case $got in
          "file:$DATA/checkpoints/$jid1/chk-"*" checkpoint") ok "$CASE: Flink says the job recovered its latest checkpoint through HA ($got)" ;;
          *) ko "$CASE: recovered from the latest checkpoint" "$got" ;;
        esac
        check "$CASE: the same job id" "$jid1" "$(fstatus '{.status.jobStatus.jobId}')"
        check "$CASE: no savepoint for the upgrade" "$sp_before" "$(last_sp)" ;;
      stateless)
        check "$CASE: the new job started empty" "none" "$got"
        if [ "$(fstatus '{.status.jobStatus.jobId}')" != "$jid1" ]; then ok "$CASE: a new job id"; else ko "$CASE: a new job id"; fi ;;
    esac
    check_state "the upgrade" "$c0"
  else ko "$CASE: upgrade" "$(fstatus '{.status}')"$'\n'"$(kubectl -n $FNS get pods 2>&1)"; return; fi

  # suspend, then resume
  local sp_up jid2 c1; sp_up=$(last_sp); jid2=$(fstatus '{.status.jobStatus.jobId}')
  c1=$(counter count); checkpoints_after_now
  kubectl -n $FNS patch flinkdeployment $FD2 --type merge -p '{"spec":{"job":{"state":"suspended"}}}' >/dev/null
  suspended() { [ "$(fstatus '{.status.lifecycleState}')" = SUSPENDED ] && [ -z "$(kubectl -n $FNS get pods -l app=$FD2 -o name 2>/dev/null)" ]; }
  if wait_for 180 suspended; then ok "$CASE: suspended: no JobManager or TaskManager pod left"; else ko "$CASE: suspended" "$(fstatus '{.status}')"$'\n'"$(kubectl -n $FNS get pods 2>&1)"; fi
  local sp3; sp3=$(last_sp)
  # Flink's HA ConfigMaps: app=<name>,type=flink-native-kubernetes (Flink 2 adds no configmap-type)
  local ha; ha=$(kubectl -n $FNS get configmaps -l app=$FD2,type=flink-native-kubernetes -o name 2>/dev/null | grep -vc "/flink-config-$FD2\$")
  case $UMODE in
    savepoint) if [ "$sp3" != "$sp_up" ] && on_volume "$sp3"; then ok "$CASE: the suspend took a savepoint, on the volume"; else ko "$CASE: the suspend's savepoint" "$sp3"; fi ;;
    last-state) if [ "$ha" -ge 1 ]; then ok "$CASE: the HA ConfigMaps stay while suspended ($ha)"; else ko "$CASE: HA ConfigMaps kept"; fi ;;
    stateless) check "$CASE: the suspend took no savepoint" "$sp_up" "$sp3" ;;
  esac
  kubectl -n $FNS patch flinkdeployment $FD2 --type merge -p '{"spec":{"job":{"state":"running"}}}' >/dev/null
  if wait_for 240 stable_running; then
    local got; got=$(restored_from)
    case $UMODE in
      savepoint) check "$CASE: resumed from the suspend's savepoint (Flink says)" "$sp3 savepoint" "$got" ;;
      last-state)
        case $got in
          "file:$DATA/checkpoints/$jid2/chk-"*" checkpoint") ok "$CASE: resumed from the latest checkpoint, same job ($got)" ;;
          *) ko "$CASE: resumed from the latest checkpoint" "$got" ;;
        esac ;;
      stateless) check "$CASE: resumed empty" "none" "$got" ;;
    esac
    check_state "the resume" "$c1"
    if [ -n "$extra" ]; then wait_for 30 has_checkpoint && schema_check; fi
  else ko "$CASE: resumed" "$(fstatus '{.status}')"; return; fi
  if [ "$UMODE" = stateless ] && [ -n "$sp1" ]; then redeploy "$sp1" && checkpoint_by_nonce; fi
}

# job.checkpointTriggerNonce: the checkpoint the controller says it had Flink take (its log names
# the id Flink answered with) is one Flink completed, on the volume; the job ran on
checkpoint_by_nonce() {
  local jid t0; jid=$(fstatus '{.status.jobStatus.jobId}'); t0=$(now_ms)
  kubectl -n $FNS patch flinkdeployment $FD2 --type merge -p '{"spec":{"job":{"checkpointTriggerNonce":1}}}' >/dev/null
  cp_done() { [ "$(fstatus '{.status.jobStatus.checkpointInfo.lastCheckpoint.triggerNonce}')" = 1 ]; }
  if ! wait_for 120 cp_done; then ko "$CASE: checkpointTriggerNonce" "$(fstatus '{.status.jobStatus}')"; return; fi
  check "$CASE: checkpointTriggerNonce: lastCheckpoint MANUAL FULL, nothing in flight" "MANUAL FULL " \
    "$(fstatus '{.status.jobStatus.checkpointInfo.lastCheckpoint.triggerType} {.status.jobStatus.checkpointInfo.lastCheckpoint.formatType} {.status.jobStatus.checkpointInfo.triggerId}')"
  local leader id; leader=$(kubectl -n $OPNS get lease $REL-controller -o jsonpath='{.spec.holderIdentity}' 2>/dev/null)
  id=$(kubectl -n $OPNS logs "$leader" 2>/dev/null | $PY -c 'import json, sys
ids = [e.get("checkpointId") for e in map(lambda l: json.loads(l) if l.startswith("{") else {}, sys.stdin)
       if e.get("msg") == "checkpoint completed" and e.get("object") == sys.argv[1]]
print(ids[-1] if ids else "")' "$FNS/$FD2")
  # (Flink serves checkpoint statistics from a cache refreshed every few seconds: poll)
  cp_details() { flink_rest "/jobs/$jid/checkpoints/details/$id" | $PY -c 'import json,sys; d=json.load(sys.stdin); print(d["status"], d["trigger_timestamp"] >= int(sys.argv[1]), d.get("discarded") is True, d["external_path"])' "$t0"; }
  cp_known() { cp_details | grep -q '^COMPLETED '; }
  wait_for 30 cp_known
  local det; det=$(cp_details 2>&1)
  # (the next periodic checkpoint subsumes it: Flink keeps one, deletes the files, and then says
  # it discarded it, once its statistics cache is refreshed)
  cp_discarded() { [ "$(cp_details | cut -d' ' -f3)" = True ]; }
  case $det in
    "COMPLETED True "*)
      if on_volume "${det##* }"; then ok "$CASE: Flink completed checkpoint $id after the nonce, on the volume"
      elif wait_for 20 cp_discarded; then ok "$CASE: Flink completed checkpoint $id after the nonce (subsumed since, Flink says)"
      else ko "$CASE: the nonce's checkpoint on the volume, or discarded as Flink says" "$(cp_details 2>&1)"; fi ;;
    *) ko "$CASE: Flink completed the nonce's checkpoint" "id '$id': $det" ;;
  esac
  check "$CASE: the job ran on through the checkpoint (same job)" "$jid RUNNING" "$(fstatus '{.status.jobStatus.jobId} {.status.jobStatus.state}')"
}

# job.savepointRedeployNonce: the job deployed again from job.initialSavepointPath ($1, the nonce's
# savepoint), even in stateless mode, which otherwise starts empty
redeploy() {
  local sp=$1 jid; jid=$(fstatus '{.status.jobStatus.jobId}')
  kubectl -n $FNS patch flinkdeployment $FD2 --type merge -p "{\"spec\":{\"job\":{\"initialSavepointPath\":\"$sp\",\"savepointRedeployNonce\":1}}}" >/dev/null
  redeployed() { [ "$(fstatus '{.status.jobStatus.jobId}')" != "$jid" ] && stable_running; }
  if wait_for 240 redeployed; then
    check "$CASE: savepointRedeployNonce: Flink says the new job restored the given savepoint" "$sp savepoint" "$(restored_from)"
    if wait_for 90 counting && [ "$(counter restored)" -gt 0 ]; then ok "$CASE: the redeployed job's count went on from the savepoint's ($(counter restored))"
    else ko "$CASE: the redeployed job's count restored" "$(counter restored 2>&1)"; fi
  else ko "$CASE: savepointRedeployNonce redeploys" "$(fstatus '{.status}')"; return 1; fi
}

# Flink's pod options on real Flink, on a stateless job: the JobManager in the node's network
# (kubernetes.hostnetwork.enabled: its pod's IP is the node's, it binds ports of its own choosing
# and points the Services there, as the chart's job Role lets it; Flink, reached through the REST
# Service, runs the job),
# kubernetes.flink.log.dir (Flink's JVM logs there, as Flink's /jobmanager/environment says),
# kubernetes.hadoop.conf.config-map.name (mounted where HADOOP_CONF_DIR says), and
# kubernetes.jobmanager.entrypoint.args (a dynamic property Flink's /jobmanager/config shows).
# Ports of its own: the JobManager binds them on the node.
flink_pod_options() {
  CASE="flink host network"; FD2=real-hostnet; UMODE=stateless; KMODE=native; FV=1.20
  local out; out=$(helm upgrade $REL "$CHART" -n $OPNS --reuse-values --set jobServiceAccount.hostNetwork=true --wait --timeout 120s 2>&1) \
    || { ko "$CASE: helm upgrade with jobServiceAccount.hostNetwork" "$out"; return; }
  kubectl -n $FNS create configmap $FD2-hadoop --from-literal=core-site.xml='<configuration><property><name>fo.test</name><value>1</value></property></configuration>' >/dev/null
  fd_apply "    rest.port: \"18097\"
    jobmanager.rpc.port: \"16197\"
    blob.server.port: \"16198\"
    taskmanager.rpc.port: \"16199\"
    kubernetes.hostnetwork.enabled: \"true\"
    kubernetes.flink.log.dir: /tmp/flink-logs
    kubernetes.hadoop.conf.config-map.name: $FD2-hadoop
    kubernetes.jobmanager.entrypoint.args: -D fo.test.entrypoint=seen
    kubernetes.jobmanager.cpu.limit-factor: \"8\"
    kubernetes.taskmanager.cpu.limit-factor: \"8\"" "" 0.25 0.25
  if wait_for 240 stable_running; then ok "$CASE: deployed; Flink runs the job the status names, reached through the REST Service"
  else ko "$CASE: deployed and running in Flink" "$(fstatus '{.status}')"$'\n'"$(kubectl -n $FNS get pods -l app=$FD2 -o wide 2>&1)"$'\n'"$(kubectl -n $FNS logs deploy/$FD2 --tail 20 2>&1)"; flink_delete; kubectl -n $FNS delete configmap $FD2-hadoop >/dev/null; return; fi
  local jm node_ip
  jm=$(kubectl -n $FNS get pods -l app=$FD2,component=jobmanager -o jsonpath='{.items[0].metadata.name}')
  node_ip=$(kubectl get nodes -o jsonpath='{.items[0].status.addresses[?(@.type=="InternalIP")].address}')
  check "$CASE: the JobManager's pod is in the node's network (its IP is the node's)" "true $node_ip" \
    "$(kubectl -n $FNS get pod "$jm" -o jsonpath='{.spec.hostNetwork} {.status.podIP}')"
  # (in the node's network Flink's JobManager binds ports of its own choosing, whatever rest.port
  # says, and points its Services at them: the chart's job Role lets it)
  local tp; tp=$(kubectl -n $FNS get svc $FD2-rest -o jsonpath='{.spec.ports[0].targetPort}')
  if [ -n "$tp" ] && [ "$tp" != 18097 ] && node_exec curl -sf --max-time 10 "http://$node_ip:$tp/config" >/dev/null; then
    ok "$CASE: Flink bound its REST API on the node at a port of its choosing and pointed the REST Service there ($tp)"
  else ko "$CASE: the REST Service leads to the port Flink bound on the node" "targetPort '$tp'"; fi
  local logf; logf=$(flink_rest /jobmanager/environment | $PY -c 'import json,sys
opts=[o for o in json.load(sys.stdin)["jvm"]["options"] if o.startswith("-Dlog.file=")]
print(opts[0][len("-Dlog.file="):] if opts else "")')
  case $logf in
    /tmp/flink-logs/*) ok "$CASE: Flink's JobManager logs into kubernetes.flink.log.dir ($logf)" ;;
    *) ko "$CASE: Flink's log file in kubernetes.flink.log.dir" "log.file: '$logf'" ;;
  esac
  check "$CASE: the entry point's arguments reached Flink's configuration" "seen" \
    "$(flink_rest /jobmanager/config | $PY -c 'import json,sys; print(*[e["value"] for e in json.load(sys.stdin) if e["key"]=="fo.test.entrypoint"])')"
  check "$CASE: the Hadoop configuration is where HADOOP_CONF_DIR says" "/opt/hadoop/conf <value>1</value>" \
    "$(kubectl -n $FNS exec "$jm" -- bash -c 'echo "$HADOOP_CONF_DIR" $(grep -o "<value>1</value>" "$HADOOP_CONF_DIR/core-site.xml")' 2>&1)"
  flink_delete
  kubectl -n $FNS delete configmap $FD2-hadoop >/dev/null
  out=$(helm upgrade $REL "$CHART" -n $OPNS --reuse-values --set jobServiceAccount.hostNetwork=false --wait --timeout 120s 2>&1) \
    || ko "$CASE: helm upgrade back to jobServiceAccount.hostNetwork=false" "$out"
}

HA="    high-availability.type: kubernetes
    high-availability.storageDir: file://$DATA/ha"
# two at a time (pods asking for a quarter of a core each, limited to two: the node has two)
in_parallel "flink_life savepoint savepoint native 1.20" "flink_life last-state last-state native 1.20 \"\$HA\""
in_parallel "flink_life stateless stateless native 1.20" "flink_life standalone savepoint standalone 1.20"
in_parallel "flink_life standalone-ls last-state standalone 1.20 \"\$HA\"" "flink_life standalone-sl stateless standalone 1.20"
in_parallel "flink_life flink2 last-state native 2.2 \"\$HA\"" "flink_life flink2-sp savepoint native 2.2"
flink_pod_options
