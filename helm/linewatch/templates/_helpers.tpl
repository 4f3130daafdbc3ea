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

{{/* The Strimzi KafkaUser's name; Strimzi writes its credentials to a Secret of the same name. */}}
{{- define "linewatch.kafkaUserName" -}}
{{- include "linewatch.fullname" . }}
{{- end }}

{{/* The Kafka settings in effect, as YAML (use: include "linewatch.kafka" . | fromYaml): .Values.kafka,
with the chart's Strimzi KafkaUser wired in when strimzi.enabled and strimzi.user.create. scram-sha-512: SASL mechanism
SCRAM-SHA-512, username = the KafkaUser, password from its Secret (key "password"); tls: the client
certificate from its Secret (user.crt/user.key). Values that contradict the KafkaUser fail the render. */}}
{{- define "linewatch.kafka" -}}
{{- $k := deepCopy .Values.kafka }}
{{- $s := .Values.strimzi }}
{{- if and $s.enabled $s.user.create }}
{{- $user := include "linewatch.kafkaUserName" . }}
{{- if eq $s.user.authentication "scram-sha-512" }}
{{- if and $k.sasl.mechanism (ne $k.sasl.mechanism "SCRAM-SHA-512") }}
{{- fail (printf "strimzi.user.authentication scram-sha-512 needs kafka.sasl.mechanism SCRAM-SHA-512 or empty, not %s" $k.sasl.mechanism) }}
{{- end }}
{{- if and $k.sasl.username (ne $k.sasl.username $user) }}
{{- fail (printf "kafka.sasl.username %q differs from the KafkaUser %q the chart creates: leave it empty" $k.sasl.username $user) }}
{{- end }}
{{- if and $k.sasl.passwordSecret.name (ne $k.sasl.passwordSecret.name $user) }}
{{- fail (printf "kafka.sasl.passwordSecret.name %q: Strimzi writes the password to Secret %q; leave it empty" $k.sasl.passwordSecret.name $user) }}
{{- end }}
{{- $_ := set $k "sasl" (dict "mechanism" "SCRAM-SHA-512" "username" $user "passwordSecret" (dict "name" $user "key" "password")) }}
{{- else }}
{{- if not $k.tls.enabled }}
{{- fail "strimzi.user.authentication tls needs kafka.tls.enabled (and the cluster CA in kafka.tls.caSecret)" }}
{{- end }}
{{- if and $k.tls.clientSecret.name (ne $k.tls.clientSecret.name $user) }}
{{- fail (printf "kafka.tls.clientSecret.name %q: Strimzi writes the client certificate to Secret %q; leave it empty" $k.tls.clientSecret.name $user) }}
{{- end }}
{{- $_ := set $k.tls "clientSecret" (dict "name" $user "certKey" "user.crt" "keyKey" "user.key") }}
{{- end }}
{{- end }}
{{- toYaml $k }}
{{- end }}

{{/* Kafka security protocol, derived from the tls and sasl settings in effect. */}}
{{- define "linewatch.kafkaSecurityProtocol" -}}
{{- $k := include "linewatch.kafka" . | fromYaml }}
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
{{- $k := include "linewatch.kafka" . | fromYaml }}
{{- if or $k.sasl.mechanism (and $k.tls.enabled (or $k.tls.caSecret.name $k.tls.clientSecret.name)) }}true{{ end }}
{{- end }}
