{{/* Per-container environment beyond the shared ConfigMap: port, secret references, extras.
Call with (dict "root" $ "name" "scoring"). Secrets are referenced (secretKeyRef), never inlined. */}}
{{- define "linewatch.containerEnv" -}}
{{- $v := .root.Values }}
{{- $c := index $v.components .name -}}
{{- $kafka := include "linewatch.kafka" .root | fromYaml -}}
- name: LINEWATCH_METRICS_PORT
  value: {{ $c.port | quote }}
{{- if and $kafka.sasl.mechanism (ne $kafka.sasl.mechanism "OAUTHBEARER") }}
- name: LINEWATCH_KAFKA__SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ required "kafka.sasl.passwordSecret.name is required with kafka.sasl.mechanism" $kafka.sasl.passwordSecret.name }}
      key: {{ $kafka.sasl.passwordSecret.key }}
{{- end }}
{{- if eq .name "api" }}
- name: LINEWATCH_TOKEN_PEPPER
  valueFrom:
    secretKeyRef:
      name: {{ required "components.api.tokenPepperSecret.name is required" $c.tokenPepperSecret.name }}
      key: {{ $c.tokenPepperSecret.key }}
{{- end }}
{{- if and $c.usesStore $v.store.passwordSecret.name }}
- name: LINEWATCH_STORE__PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $v.store.passwordSecret.name }}
      key: {{ $v.store.passwordSecret.key }}
{{- end }}
{{- range $key, $value := $c.env }}
- name: {{ $key }}
  value: {{ $value | quote }}
{{- end }}
{{- with $v.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Startup, liveness and readiness probes on the component's HTTP port. Call with (dict "c" $c "port" "metrics"). */}}
{{- define "linewatch.probes" -}}
startupProbe:
  httpGet: {path: {{ .c.livenessPath }}, port: {{ .port }}}
  periodSeconds: 5
  failureThreshold: 36
livenessProbe:
  httpGet: {path: {{ .c.livenessPath }}, port: {{ .port }}}
  periodSeconds: 15
  timeoutSeconds: 5
  failureThreshold: 4
readinessProbe:
  httpGet: {path: {{ .c.readinessPath }}, port: {{ .port }}}
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 3
{{- end }}

{{/* Volume mounts: writable /tmp and data dir (the root filesystem is read-only), models,
archive, connector buffer and mapping, plant file, Kafka certificates. */}}
{{- define "linewatch.volumeMounts" -}}
{{- $v := .root.Values -}}
{{- $kafka := include "linewatch.kafka" .root | fromYaml -}}
- {name: tmp, mountPath: /tmp}
- {name: data, mountPath: /var/lib/linewatch}
{{- if has .name (list "scoring" "api") }}
- name: registry
  mountPath: /var/lib/linewatch/registry
  readOnly: {{ and (eq .name "scoring") (ne $v.registry.existingClaim "") }}
{{- end }}
{{- if eq .name "archive" }}
- {name: archive, mountPath: /var/lib/linewatch/archive}
{{- end }}
{{- if eq .name "connect" }}
- {name: buffer, mountPath: /var/lib/linewatch/buffer}
- {name: mapping, mountPath: /etc/linewatch/mapping, readOnly: true}
{{- end }}
{{- if $v.plant.existingConfigMap }}
- {name: plant, mountPath: /etc/linewatch/plant, readOnly: true}
{{- end }}
{{- if and $kafka.tls.enabled $kafka.tls.caSecret.name }}
- {name: kafka-ca, mountPath: /etc/linewatch/kafka-ca, readOnly: true}
{{- end }}
{{- if and $kafka.tls.enabled $kafka.tls.clientSecret.name }}
- {name: kafka-client, mountPath: /etc/linewatch/kafka-client, readOnly: true}
{{- end }}
{{- end }}

{{/* A PVC when a claim is named, else an emptyDir. Call with (dict "name" "archive" "claim" "..."). */}}
{{- define "linewatch.claimOrEmpty" -}}
- name: {{ .name }}
{{- if .claim }}
  persistentVolumeClaim:
    claimName: {{ .claim }}
{{- else }}
  emptyDir: {}
{{- end }}
{{- end }}

{{- define "linewatch.volumes" -}}
{{- $v := .root.Values -}}
{{- $kafka := include "linewatch.kafka" .root | fromYaml -}}
- name: tmp
  emptyDir: {sizeLimit: 256Mi}
- name: data
  emptyDir: {sizeLimit: 1Gi}
{{- if has .name (list "scoring" "api") }}
{{ include "linewatch.claimOrEmpty" (dict "name" "registry" "claim" $v.registry.existingClaim) }}
{{- end }}
{{- if eq .name "archive" }}
{{ include "linewatch.claimOrEmpty" (dict "name" "archive" "claim" $v.components.archive.persistence.existingClaim) }}
{{- end }}
{{- if eq .name "connect" }}
{{ include "linewatch.claimOrEmpty" (dict "name" "buffer" "claim" $v.components.connect.persistence.existingClaim) }}
- name: mapping
  configMap:
    name: {{ required "components.connect.mappingConfigMap is required when the connector is enabled" $v.components.connect.mappingConfigMap }}
    items: [{key: mapping.yaml, path: mapping.yaml}]
{{- end }}
{{- if $v.plant.existingConfigMap }}
- name: plant
  configMap:
    name: {{ $v.plant.existingConfigMap }}
    items: [{key: {{ $v.plant.key }}, path: plant.yaml}]
{{- end }}
{{- if and $kafka.tls.enabled $kafka.tls.caSecret.name }}
- name: kafka-ca
  secret:
    secretName: {{ $kafka.tls.caSecret.name }}
    items: [{key: {{ $kafka.tls.caSecret.key }}, path: ca.crt}]
{{- end }}
{{- if and $kafka.tls.enabled $kafka.tls.clientSecret.name }}
- name: kafka-client
  secret:
    secretName: {{ $kafka.tls.clientSecret.name }}
    items:
      - {key: {{ $kafka.tls.clientSecret.certKey }}, path: tls.crt}
      - {key: {{ $kafka.tls.clientSecret.keyKey }}, path: tls.key}
{{- end }}
{{- end }}
