{{/* Chart name, overridable. */}}
{{- define "prescale.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full name prefix of every resource. */}}
{{- define "prescale.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Common labels; pass a dict with "ctx" (the root) and "component". */}}
{{- define "prescale.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version | replace "+" "_" }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: prescale
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
{{ include "prescale.selectorLabels" . }}
{{- end -}}

{{/* Selector labels; pass a dict with "ctx" and "component". */}}
{{- define "prescale.selectorLabels" -}}
app.kubernetes.io/name: {{ include "prescale.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* The NATS URL prescale's functions use. */}}
{{- define "prescale.natsURL" -}}
{{- if .Values.nats.create -}}
{{- printf "nats://%s-nats.%s.svc:%v" (include "prescale.fullname" .) .Release.Namespace .Values.nats.port -}}
{{- else -}}
{{- required "nats.url is required when nats.create is false" .Values.nats.url -}}
{{- end -}}
{{- end -}}

{{/* "true" when Prometheus Operator monitors are rendered. */}}
{{- define "prescale.monitoring" -}}
{{- $v := toString .Values.monitoring.enabled -}}
{{- if eq $v "auto" -}}
{{- if .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" -}}true{{- end -}}
{{- else if eq $v "true" -}}
true
{{- else if ne $v "false" -}}
{{- fail (printf "monitoring.enabled must be auto, true or false, got %q" $v) -}}
{{- end -}}
{{- end -}}

{{/* The NATS server configuration (JetStream on). */}}
{{- define "prescale.natsConf" -}}
port: {{ .Values.nats.port }}
http_port: {{ .Values.nats.monitorPort }}
server_name: $POD_NAME
jetstream {
  store_dir: /data
  max_memory_store: {{ .Values.nats.jetstream.maxMemoryStore }}
  max_file_store: {{ .Values.nats.jetstream.maxFileStore }}
}
{{- end -}}
