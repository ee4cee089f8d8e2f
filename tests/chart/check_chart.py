#!/usr/bin/python3
"""Renders charts/flink-operator with the real helm in every certificate mode and with
watchNamespaces, parses the YAML (PyYAML), and checks the objects: the kinds each mode must and
must not produce, pod hardening, probes and resources, the webhook configurations, least-privilege
RBAC (no `*`), and that values.schema.json rejects bad values with a message naming the key.

usage: check_chart.py HELM CHART_DIR      prints "ok <what>" / "FAIL <what>: <detail>" lines;
exit status 1 when anything failed."""
import subprocess
import sys

import yaml

HELM, CHART = sys.argv[1], sys.argv[2]
NS = "ops"
results = []


def ok(what):
    results.append(("ok", what, ""))


def fail(what, detail):
    results.append(("FAIL", what, detail))


def expect(what, cond, detail=""):
    ok(what) if cond else fail(what, detail)


def render(*sets, release="fo"):
    cmd = [HELM, "template", release, CHART, "--namespace", NS]
    for s in sets:
        cmd += ["--set", s]
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def objects(*sets):
    rc, out, err = render(*sets)
    if rc != 0:
        raise SystemExit("helm template %s failed: %s" % (" ".join(sets), err))
    return [d for d in yaml.safe_load_all(out) if d]


def by_kind(objs, kind):
    return [o for o in objs if o["kind"] == kind]


def one(objs, kind, name_suffix=""):
    found = [o for o in by_kind(objs, kind) if o["metadata"]["name"].endswith(name_suffix)]
    return found[0] if len(found) == 1 else None


def check_pods(label, objs):
    deps = by_kind(objs, "Deployment")
    expect(label + ": a webhook and a controller Deployment",
           sorted(d["metadata"]["name"] for d in deps) == ["fo-flink-operator-controller", "fo-flink-operator-webhook"],
           [d["metadata"]["name"] for d in deps])
    for d in deps:
        name = d["metadata"]["name"]
        spec = d["spec"]["template"]["spec"]
        psc = spec.get("securityContext", {})
        expect("%s: %s runs as non-root with seccomp RuntimeDefault" % (label, name),
               psc.get("runAsNonRoot") is True and isinstance(psc.get("runAsUser"), int) and psc["runAsUser"] > 0
               and psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", psc)
        for c in spec["containers"]:
            sc = c.get("securityContext", {})
            expect("%s: %s/%s read-only root, no privilege escalation, all capabilities dropped" % (label, name, c["name"]),
                   sc.get("readOnlyRootFilesystem") is True and sc.get("allowPrivilegeEscalation") is False
                   and sc.get("capabilities", {}).get("drop") == ["ALL"] and not sc.get("privileged"), sc)
            res = c.get("resources", {})
            expect("%s: %s/%s has resource requests and limits" % (label, name, c["name"]),
                   set(res.get("requests", {})) >= {"cpu", "memory"} and set(res.get("limits", {})) >= {"cpu", "memory"}, res)
            probes_ok = all(c.get(p, {}).get("httpGet", {}).get("path") == path
                            for p, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")))
            expect("%s: %s/%s probes /healthz and /readyz" % (label, name, c["name"]), probes_ok)
            expect("%s: %s/%s command and args are arrays (no shell)" % (label, name, c["name"]),
                   isinstance(c.get("command"), list) and isinstance(c.get("args"), list)
                   and not any(x in ("sh", "/bin/sh", "bash", "-c") for x in c["command"]), c.get("command"))
        ann = d["spec"]["template"]["metadata"].get("annotations", {})
        expect("%s: %s has Prometheus annotations" % (label, name), ann.get("prometheus.io/scrape") == "true", ann)
        vols = {v["name"]: v for v in spec.get("volumes", [])}
        expect("%s: %s reads the default Flink configuration ConfigMap" % (label, name),
               vols.get("config", {}).get("configMap", {}).get("name") == "fo-flink-operator-config", vols)


def check_webhook_configs(label, objs, mode, namespaces=None):
    for kind, path in (("MutatingWebhookConfiguration", "/mutate"), ("ValidatingWebhookConfiguration", "/validate")):
        cfgs = by_kind(objs, kind)
        if len(cfgs) != 1:
            fail("%s: one %s" % (label, kind), len(cfgs))
            continue
        c = cfgs[0]
        hooks = c["webhooks"]
        h = hooks[0]
        cc = h["clientConfig"]
        rules = h["rules"]
        expect("%s: %s v1 reviews, no side effects, Fail, CREATE/UPDATE of flinkdeployments, flinksessionjobs and flinkstatesnapshots" % (label, kind),
               len(hooks) == 1 and h["admissionReviewVersions"] == ["v1"] and h["sideEffects"] == "None"
               and h["failurePolicy"] == "Fail" and 1 <= h["timeoutSeconds"] <= 30
               and rules == [{"apiGroups": ["flink.apache.org"], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"],
                              "resources": ["flinkdeployments", "flinksessionjobs", "flinkstatesnapshots"], "scope": "Namespaced"}], h)
        expect("%s: %s calls the webhook Service on 443 at %s" % (label, kind, path),
               cc.get("service") == {"name": "fo-flink-operator-webhook", "namespace": NS, "path": path, "port": 443}, cc)
        if mode == "existingSecret":
            expect("%s: %s carries the given caBundle" % (label, kind), cc.get("caBundle") == "Q0FCVU5ETEU=", cc)
        else:
            expect("%s: %s sets no caBundle (helm upgrade must not overwrite one it did not set)" % (label, kind),
                   "caBundle" not in cc, cc)
        ann = c["metadata"].get("annotations", {})
        if mode == "certManager":
            expect("%s: %s has the CA injected by cert-manager" % (label, kind),
                   ann.get("cert-manager.io/inject-ca-from") == NS + "/fo-flink-operator-webhook-cert", ann)
        if namespaces:
            sel = h.get("namespaceSelector", {})
            expect("%s: %s is limited to the watched namespaces" % (label, kind),
                   sel == {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": namespaces}]}, sel)
        else:
            expect("%s: %s sees every namespace" % (label, kind), "namespaceSelector" not in h, h)


def check_rbac(label, objs):
    for o in objs:
        if o["kind"] in ("Role", "ClusterRole"):
            bad = [r for r in o.get("rules", []) for k in ("verbs", "resources", "apiGroups") if "*" in r.get(k, [])]
            expect("%s: %s %s grants no `*`" % (label, o["kind"], o["metadata"]["name"]), not bad, bad)


def webhook_args(objs):
    d = one(objs, "Deployment", "-webhook")
    return d["spec"]["template"]["spec"]["containers"][0]["args"], d["spec"]["template"]["spec"]


def main():
    # --- selfManaged (default) ---
    objs = objects()
    label = "selfManaged"
    check_pods(label, objs)
    check_webhook_configs(label, objs, "selfManaged")
    check_rbac(label, objs)
    args, spec = webhook_args(objs)
    names = [a.split("=", 1)[1] for a in args if a.startswith("--cert-names=")]
    expect(label + ": the webhook manages its certificate in a Secret and keeps the caBundle",
           "--cert-mode=self-managed" in args and "--cert-secret=%s/fo-flink-operator-webhook-certs" % NS in args
           and "--webhook-configuration=fo-flink-operator" in args, args)
    expect(label + ": /mutate fills in the job ServiceAccount where the chart made it (the release namespace)",
           "--default-service-account=flink" in args
           and "--default-service-account-namespaces=%s" % NS in args, args)
    expect(label + ": the certificate names cover the Service's DNS names",
           names and set(names[0].split(",")) >= {"fo-flink-operator-webhook.%s.svc" % NS,
                                                  "fo-flink-operator-webhook.%s.svc.cluster.local" % NS}, names)
    expect(label + ": the webhook pod has an API token (it needs one)", spec.get("automountServiceAccountToken") is True)
    role = one(objs, "Role", "-webhook")
    crole = one(objs, "ClusterRole", "-webhook")
    expect(label + ": the webhook may read and update only its Secret (and create it)",
           role is not None and role["rules"] == [
               {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["fo-flink-operator-webhook-certs"], "verbs": ["get", "update"]},
               {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]}], role)
    expect(label + ": the webhook may update only its two webhook configurations",
           crole is not None and crole["rules"] == [
               {"apiGroups": ["admissionregistration.k8s.io"],
                "resources": ["validatingwebhookconfigurations", "mutatingwebhookconfigurations"],
                "resourceNames": ["fo-flink-operator"], "verbs": ["get", "update"]}], crole)
    ctl = one(objs, "ClusterRole", "-controller")
    expect(label + ": the controller gets a ClusterRole when no namespaces are listed", ctl is not None)
    resources = sorted(r for rule in (ctl or {}).get("rules", []) for r in rule["resources"])
    expect(label + ": the controller's ClusterRole names exactly the resources it uses",
           resources == sorted(["flinkdeployments", "flinkdeployments/status", "flinkdeployments/finalizers", "flinksessionjobs",
                                "flinksessionjobs/status", "flinksessionjobs/finalizers", "flinkstatesnapshots",
                                "flinkstatesnapshots/status", "flinkstatesnapshots/finalizers", "deployments",
                                "services", "configmaps", "pods", "events", "ingresses"]), resources)
    lease = one(objs, "Role", "-controller-lease")
    expect(label + ": the Lease role lives in the release namespace",
           lease is not None and lease["metadata"]["namespace"] == NS and lease["rules"][0]["resources"] == ["leases"], lease)
    pdb = by_kind(objs, "PodDisruptionBudget")
    expect(label + ": a PodDisruptionBudget keeps a webhook replica", len(pdb) == 1 and pdb[0]["spec"]["minAvailable"] == 1, pdb)
    svc = one(objs, "Service", "-webhook")
    expect(label + ": the webhook Service maps 443 to the container's https port",
           svc is not None and {"name": "https", "port": 443, "targetPort": "https", "protocol": "TCP"} in svc["spec"]["ports"], svc)
    jsa = [o for o in objs if o["kind"] == "ServiceAccount" and o["metadata"]["name"] == "flink"]
    jrole = [o for o in objs if o["kind"] == "Role" and o["metadata"]["name"] == "flink"]
    expect(label + ": the Flink pods' ServiceAccount may manage pods and ConfigMaps in the job namespace",
           len(jsa) == 1 and len(jrole) == 1 and jrole[0]["rules"][0]["resources"] == ["pods", "configmaps"], jrole)
    expect(label + ": the Flink pods may not touch Services by default",
           not [r for r in jrole[0]["rules"] if "services" in r["resources"]] if jrole else False, jrole)
    hn = [o for o in objects("jobServiceAccount.hostNetwork=true") if o["kind"] == "Role" and o["metadata"]["name"] == "flink"]
    expect(label + ": with jobServiceAccount.hostNetwork the Flink pods may update their Services (a JobManager in the node's network points them at its ports)",
           len(hn) == 1 and {"apiGroups": [""], "resources": ["services"], "verbs": ["get", "patch", "update"]} in hn[0]["rules"], hn)
    cm = one(objs, "ConfigMap", "-config")
    conf = yaml.safe_load(cm["data"]["flink-conf.yaml"]) if cm else None
    expect(label + ": the default Flink configuration is rendered from values",
           conf == {"taskmanager.numberOfTaskSlots": "2", "parallelism.default": "1"}, conf)
    expect(label + ": no cert-manager objects", not [o for o in objs if o["apiVersion"].startswith("cert-manager.io")])

    # --- certManager ---
    label = "certManager"
    objs = objects("certificates.mode=certManager")
    check_pods(label, objs)
    check_webhook_configs(label, objs, "certManager")
    check_rbac(label, objs)
    certs = by_kind(objs, "Certificate")
    serving = [c for c in certs if c["metadata"]["name"] == "fo-flink-operator-webhook-cert"]
    expect(label + ": a self-signed CA chain and a serving Certificate",
           len(by_kind(objs, "Issuer")) == 2 and len(certs) == 2 and serving
           and serving[0]["spec"]["secretName"] == "fo-flink-operator-webhook-cert", certs)
    args, spec = webhook_args(objs)
    expect(label + ": the webhook reads the Secret's files", "--tls-cert=/etc/flink-webhook/tls/tls.crt" in args
           and {"name": "tls", "secret": {"secretName": "fo-flink-operator-webhook-cert"}} in spec["volumes"], args)
    expect(label + ": the webhook pod has no API token and no RBAC",
           spec.get("automountServiceAccountToken") is False and one(objs, "Role", "-webhook") is None
           and one(objs, "ClusterRole", "-webhook") is None)
    objs = objects("certificates.mode=certManager", "certificates.certManager.issuerRef.name=corp-ca",
                   "certificates.certManager.issuerRef.kind=ClusterIssuer")
    certs = by_kind(objs, "Certificate")
    expect(label + " with an issuer: only the serving Certificate, from that issuer",
           len(certs) == 1 and not by_kind(objs, "Issuer") and certs[0]["spec"]["issuerRef"] == {"name": "corp-ca", "kind": "ClusterIssuer"}, certs)

    # --- existingSecret ---
    label = "existingSecret"
    objs = objects("certificates.mode=existingSecret", "certificates.existingSecret.name=my-tls",
                   "certificates.existingSecret.caBundle=Q0FCVU5ETEU=")
    check_pods(label, objs)
    check_webhook_configs(label, objs, "existingSecret")
    check_rbac(label, objs)
    args, spec = webhook_args(objs)
    expect(label + ": the webhook mounts the given Secret", {"name": "tls", "secret": {"secretName": "my-tls"}} in spec["volumes"])

    # --- watchNamespaces ---
    label = "watchNamespaces"
    objs = objects("watchNamespaces={team-a,team-b}")
    check_webhook_configs(label, objs, "selfManaged", ["team-a", "team-b"])
    check_rbac(label, objs)
    roles = [o for o in by_kind(objs, "Role") if o["metadata"]["name"] == "fo-flink-operator-controller"]
    expect(label + ": a controller Role in each watched namespace and no controller ClusterRole",
           sorted(r["metadata"]["namespace"] for r in roles) == ["team-a", "team-b"]
           and one(objs, "ClusterRole", "-controller") is None, [r["metadata"].get("namespace") for r in roles])
    rbs = [o for o in by_kind(objs, "RoleBinding") if o["metadata"]["name"] == "fo-flink-operator-controller"]
    expect(label + ": each Role is bound to the controller's ServiceAccount in the release namespace",
           len(rbs) == 2 and all(rb["subjects"] == [{"kind": "ServiceAccount", "name": "fo-flink-operator-controller", "namespace": NS}] for rb in rbs))
    ctl_args = one(objs, "Deployment", "-controller")["spec"]["template"]["spec"]["containers"][0]["args"]
    expect(label + ": the controller watches exactly those namespaces",
           [a for a in ctl_args if a.startswith("--namespace=")] == ["--namespace=team-a", "--namespace=team-b"], ctl_args)
    jsa = sorted(o["metadata"]["namespace"] for o in by_kind(objs, "ServiceAccount") if o["metadata"]["name"] == "flink")
    expect(label + ": the Flink ServiceAccount exists in each watched namespace", jsa == ["team-a", "team-b"], jsa)

    # --- session jobs' jars: an emptyDir the controller fetches to (its root is read-only), and
    # extra volumes for jars it reads from files ---
    objs = objects("controller.volumes[0].name=jars", "controller.volumes[0].hostPath.path=/srv/jars",
                   "controller.volumeMounts[0].name=jars", "controller.volumeMounts[0].mountPath=/jars",
                   "controller.artifactsSizeLimit=2Gi")
    ctl = one(objs, "Deployment", "-controller")["spec"]["template"]["spec"]
    mounts = {m["name"]: m["mountPath"] for m in ctl["containers"][0]["volumeMounts"]}
    vols = {v["name"]: v for v in ctl["volumes"]}
    expect("controller: the artifacts emptyDir (sizeLimit from the values) at --artifacts-dir, and the extra volume",
           mounts.get("artifacts") == "/opt/flink/artifacts" and "--artifacts-dir=/opt/flink/artifacts" in ctl["containers"][0]["args"]
           and vols.get("artifacts", {}).get("emptyDir") == {"sizeLimit": "2Gi"}
           and mounts.get("jars") == "/jars" and vols.get("jars", {}).get("hostPath") == {"path": "/srv/jars"}, (mounts, vols))

    # --- the schema rejects bad values with a message naming the key ---
    for sets, key in ((["webhook.failurePolicy=Maybe"], "/webhook/failurePolicy"),
                      (["certificates.mode=vault"], "/certificates/mode"),
                      (["webhook.replicas=0"], "/webhook/replicas"),
                      (["watchNamespaces={Not_A_Name}"], "/watchNamespaces/0"),
                      (["certificates.mode=existingSecret"], "/certificates/existingSecret/name"),
                      (["controller.artifactsSizeLimit=lots"], "/controller/artifactsSizeLimit"),
                      (["webhok.replicas=2"], "webhok")):
        rc, out, err = render(*sets)
        expect("values.schema.json rejects %s, naming %s" % (sets[0], key), rc != 0 and key in err, err.strip()[-300:])


main()
for status, what, detail in results:
    print("%s %s%s" % (status, what, (": %s" % str(detail)[:400]) if status == "FAIL" and detail != "" else ""))
sys.exit(1 if any(r[0] == "FAIL" for r in results) else 0)
