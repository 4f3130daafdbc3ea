{{/* Chart name, truncated to the 63 characters Kubernetes allows in names and labels. */}}
{{- define "linewatch.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-scoped base name for every resource. */}}
{{- define "linewatch.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Name of one component's resources: <fullname>-<component>. Call with (dict "root" $ "name" "scoring"). */}}
{{- define "linewatch.componentName" -}}
{{- printf "%s-%s" (include "linewatch.fullname" .root | trunc 50 | trimSuffix "-") .name }}
{{- end }}

{{- define "linewatch.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every resource. */}}
{{- define "linewatch.labels" -}}
helm.sh/chart: {{ include "linewatch.chart" . }}
app.kubernetes.io/name: {{ include "linewatch.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: linewatch
{{- end }}

{{/* Selector labels of one component. Call with (dict "root" $ "name" "scoring"). */}}
{{- define "linewatch.selectorLabels" -}}
app.kubernetes.io/name: {{ include "linewatch.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{/* All labels of one component's resources. */}}
{{- define "linewatch.componentLabels" -}}
{{ include "linewatch.labels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{- define "linewatch.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "linewatch.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "linewatch.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Kafka security protocol, derived from the tls and sasl settings. */}}
{{- define "linewatch.kafkaSecurityProtocol" -}}
{{- $k := .Values.kafka }}
{{- if and $k.tls.enabled $k.sasl.mechanism }}SASL_SSL
{{- else if $k.sasl.mechanism }}SASL_PLAINTEXT
{{- else if $k.tls.enabled }}SSL
{{- else }}PLAINTEXT
{{- end }}
{{- end }}

{{/* True ("true") when the scoring workers are scaled by a KEDA ScaledObject. */}}
{{- define "linewatch.kedaActive" -}}
{{- $a := .Values.autoscaling }}
{{- if and $a.enabled $a.keda.enabled .Values.components.scoring.enabled (.Capabilities.APIVersions.Has "keda.sh/v1alpha1") }}true{{ end }}
{{- end }}

{{/* True ("true") when the scoring workers are scaled by a CPU HorizontalPodAutoscaler. */}}
{{- define "linewatch.hpaActive" -}}
{{- if and .Values.autoscaling.enabled .Values.components.scoring.enabled (not (include "linewatch.kedaActive" .)) }}true{{ end }}
{{- end }}

{{/* True ("true") when KEDA needs a TriggerAuthentication: SASL, or TLS with a CA or client certificate. */}}
{{- define "linewatch.kedaNeedsAuth" -}}
{{- $k := .Values.kafka }}
{{- if or $k.sasl.mechanism (and $k.tls.enabled (or $k.tls.caSecret.name $k.tls.clientSecret.name)) }}true{{ end }}
{{- end }}
