{{/*
The operator's environment: one TARA_* variable per setting of operator/tara_operator/settings.py
(tests/helm checks each name against that module's _FIELDS). TARA_PRIORITY is left unset: each
replica derives a distinct priority from HOSTNAME, its pod name.
*/}}
{{- define "tara.operatorEnv" -}}
{{- $o := .Values.operator -}}
- name: TARA_NAMESPACES
  value: {{ .Values.watchNamespaces | join "," | quote }}
- name: TARA_TRAINER_IMAGE
  value: {{ include "tara.trainerImage" . | quote }}
- name: TARA_SERVER_IMAGE
  value: {{ default (include "tara.trainerImage" .) $o.serverImage | quote }}
{{- with $o.routerImage }}
- name: TARA_ROUTER_IMAGE
  value: {{ . | quote }}
{{- end }}
- name: TARA_IMAGE_PULL_POLICY
  value: {{ $o.imagePullPolicy | quote }}
{{- with $o.storageClass }}
- name: TARA_STORAGE_CLASS
  value: {{ . | quote }}
{{- end }}
- name: TARA_ARTIFACTS_CLAIM
  value: {{ $o.artifactsClaim | quote }}
- name: TARA_ARTIFACTS_SIZE
  value: {{ $o.artifactsSize | quote }}
- name: TARA_METRICS_PORT
  value: {{ $o.metricsPort | quote }}
- name: TARA_LIVENESS_PORT
  value: {{ $o.livenessPort | quote }}
- name: TARA_TRAINER_METRICS_PORT
  value: {{ $o.trainerMetricsPort | quote }}
{{- if .Values.leaderElection.enabled }}
- name: TARA_PEERING
  value: {{ include "tara.peeringName" . | quote }}
{{- end }}
- name: TARA_BACKOFF_BASE
  value: {{ $o.backoffBaseSeconds | quote }}
- name: TARA_BACKOFF_MAX
  value: {{ $o.backoffMaxSeconds | quote }}
- name: TARA_RESYNC_SECONDS
  value: {{ $o.resyncSeconds | quote }}
- name: TARA_FIELD_VALIDATION
  value: {{ $o.fieldValidation | quote }}
- name: TARA_GPU_HOUR_PRICE
  value: {{ $o.gpuHourPrice | quote }}
- name: TARA_GPU_HOUR_PRICES
  value: {{ $o.gpuHourPrices | default dict | toJson | quote }}
- name: TARA_DEFAULT_CPU_REQUEST
  value: {{ $o.defaultCpuRequest | quote }}
- name: TARA_CPU_HOUR_PRICE
  value: {{ $o.cpuHourPrice | quote }}
- name: TARA_CURRENCY
  value: {{ $o.currency | quote }}
- name: TARA_SERVICE_MONITOR
  value: {{ $o.phaseServiceMonitors | quote }}
- name: TARA_TRAINER_SERVICE_ACCOUNT
  value: {{ $o.trainerServiceAccount | quote }}
{{- end -}}
