{{/* Names and labels shared by every template. */}}
{{- define "fo.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "fo.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else if contains (include "fo.name" .) .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "fo.name" .) | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "fo.labels" -}}
app.kubernetes.io/name: {{ include "fo.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "fo.selector" -}}
app.kubernetes.io/name: {{ include "fo.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "fo.image" -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}

{{- define "fo.webhookService" -}}{{ include "fo.fullname" . }}-webhook{{- end -}}
{{- define "fo.webhookConfiguration" -}}{{ include "fo.fullname" . }}{{- end -}}
{{- define "fo.configMap" -}}{{ include "fo.fullname" . }}-config{{- end -}}

{{- define "fo.certSecret" -}}
{{- if eq .Values.certificates.mode "existingSecret" -}}
{{ .Values.certificates.existingSecret.name }}
{{- else if eq .Values.certificates.mode "certManager" -}}
{{ include "fo.fullname" . }}-webhook-cert
{{- else -}}
{{ default (printf "%s-webhook-certs" (include "fo.fullname" .)) .Values.certificates.selfManaged.secretName }}
{{- end -}}
{{- end -}}

{{/* The DNS names the webhook Service answers to. */}}
{{- define "fo.webhookNames" -}}
{{- $svc := include "fo.webhookService" . -}}
{{- $ns := .Release.Namespace -}}
{{- $names := list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.%s" $svc $ns .Values.clusterDomain) -}}
{{- concat $names .Values.certificates.selfManaged.extraNames | toJson -}}
{{- end -}}

{{/* The namespaces that get per-namespace objects: the watched ones, or the release's. */}}
{{- define "fo.jobNamespaces" -}}
{{- if .Values.watchNamespaces -}}{{ .Values.watchNamespaces | toJson }}{{- else -}}{{ list .Release.Namespace | toJson }}{{- end -}}
{{- end -}}

{{- define "fo.podAnnotations" -}}
{{- if .root.Values.metrics.podAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- end -}}

{{/* The controller's permissions in a namespace (or cluster-wide): exactly what it uses. */}}
{{- define "fo.controllerRules" -}}
- apiGroups: ["flink.apache.org"]
  resources: ["flinkdeployments"]
  verbs: ["get", "list", "watch", "update", "patch"]
- apiGroups: ["flink.apache.org"]
  resources: ["flinkdeployments/status", "flinkdeployments/finalizers"]
  verbs: ["get", "update", "patch"]
# the jobs the controller runs in session clusters (a session cluster's deletion also waits for
# the FlinkSessionJobs that name it)
- apiGroups: ["flink.apache.org"]
  resources: ["flinksessionjobs"]
  verbs: ["get", "list", "watch", "update", "patch"]
- apiGroups: ["flink.apache.org"]
  resources: ["flinksessionjobs/status", "flinksessionjobs/finalizers"]
  verbs: ["get", "update", "patch"]
# snapshots as resources: the user's to take, the operator's records of its own
- apiGroups: ["flink.apache.org"]
  resources: ["flinkstatesnapshots"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: ["flink.apache.org"]
  resources: ["flinkstatesnapshots/status", "flinkstatesnapshots/finalizers"]
  verbs: ["get", "update", "patch"]
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: [""]
  resources: ["services", "configmaps"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "delete"]
- apiGroups: ["networking.k8s.io"]
  resources: ["ingresses"]
  verbs: ["get", "create", "update", "delete"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["get", "create", "patch"]
{{- end -}}
