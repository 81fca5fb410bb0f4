{{/*
Names, labels and the derived settings every template shares.
*/}}

{{- define "tara.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* "<release>-<chart>" (or the release name when it already contains the chart name), at most 52 characters so suffixes fit in 63. */}}
{{- define "tara.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "tara.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tara.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tara.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{/* Labels on every object the chart renders. */}}
{{- define "tara.labels" -}}
helm.sh/chart: {{ include "tara.chart" . }}
app.kubernetes.io/name: {{ include "tara.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tara
{{- end -}}

{{- define "tara.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "tara.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "tara.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "tara.trainerImage" -}}
{{- default (printf "ghcr.io/tara-dev/tara-trainer:%s" .Chart.AppVersion) .Values.operator.trainerImage -}}
{{- end -}}

{{- define "tara.peeringName" -}}
{{- default (include "tara.fullname" .) .Values.leaderElection.peeringName -}}
{{- end -}}

{{/* The namespaces that hold TARA resources: the watched ones, or the release namespace when all are watched. */}}
{{- define "tara.workNamespaces" -}}
{{- if .Values.watchNamespaces -}}
{{- .Values.watchNamespaces | join "," -}}
{{- else -}}
{{- .Release.Namespace -}}
{{- end -}}
{{- end -}}

{{/* Refuse combinations that would misbehave in the cluster (the schema checks single values). */}}
{{- define "tara.validate" -}}
{{- if and (gt (int .Values.replicas) 1) (not .Values.leaderElection.enabled) -}}
{{- fail (printf "replicas is %d but leaderElection.enabled is false: standalone operator replicas would all reconcile the same resources; set leaderElection.enabled=true or replicas=1" (int .Values.replicas)) -}}
{{- end -}}
{{- if eq (int .Values.operator.metricsPort) (int .Values.operator.livenessPort) -}}
{{- fail "operator.metricsPort and operator.livenessPort must differ" -}}
{{- end -}}
{{- end -}}
