{{/*
The operator's permissions, exactly what its code and kopf use (tests/helm/test_rbac.py keeps the
table of which call needs which verb). Namespaced rules go in a Role per watched namespace, or in
a ClusterRole when every namespace is watched; cluster-scoped rules always go in a ClusterRole.
*/}}
{{- define "tara.namespacedRules" -}}
# The two kinds: kopf lists and watches them and patches finalizers and progress annotations;
# the reconcilers read the latest version and patch status.
- apiGroups: ["tara.dev"]
  resources: ["domaintrainings", "ggufphases"]
  verbs: ["get", "list", "watch", "patch"]
# Also what lets the operator grant the trainer Role (escalation prevention: one can only grant what one holds).
- apiGroups: ["tara.dev"]
  resources: ["domaintrainings/status", "ggufphases/status"]
  verbs: ["patch"]
# Training and build Jobs: created, read, listed by label, watched by kopf, deleted on suspend/spec change/deletion.
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["create", "get", "list", "watch", "delete"]
# Pods of those Jobs: read only, listed when the Job alone cannot say (why an attempt ended, why a pod waits); not watched.
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list"]
# A phase's builder and router ConfigMaps, a training's spec ConfigMap (an outsized spec only): created, compared, patched;
# watched (kopf indexes them, so a reconcile compares without reading them).
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["create", "get", "list", "watch", "patch"]
# Checkpoint and artifacts claims: created when the watch does not show them; deleted with storage.retention Delete.
- apiGroups: [""]
  resources: ["persistentvolumeclaims"]
  verbs: ["create", "list", "watch", "delete"]
# The serving Service of a phase; the headless Service of a multi-node training's ranks (created
# when the watch does not show it).
- apiGroups: [""]
  resources: ["services"]
  verbs: ["create", "list", "watch"]
# Kueue's Workloads of queued training Jobs: read only (admitted, waiting, evicted and why).
# Harmless without Kueue: the operator watches the kind only once its CRD exists.
- apiGroups: ["kueue.x-k8s.io"]
  resources: ["workloads"]
  verbs: ["list", "watch"]
# The serving Deployment: created, read, patched for a rollout or rollback, watched by kopf.
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["create", "get", "list", "watch", "patch"]
# The trainer's identity, created per namespace when the watch does not show it.
- apiGroups: [""]
  resources: ["serviceaccounts"]
  verbs: ["create", "list", "watch"]
- apiGroups: ["rbac.authorization.k8s.io"]
  resources: ["roles", "rolebindings"]
  verbs: ["create", "list", "watch"]
# Events posted by kopf and by the reconcilers.
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
{{- if .Values.operator.phaseServiceMonitors }}
# A ServiceMonitor per serving phase (operator.phaseServiceMonitors).
- apiGroups: ["monitoring.coreos.com"]
  resources: ["servicemonitors"]
  verbs: ["create"]
{{- end }}
{{- if and .Values.leaderElection.enabled .Values.watchNamespaces }}
# Leader election: kopf watches the KopfPeering of each watched namespace and patches its status.
- apiGroups: ["kopf.dev"]
  resources: ["kopfpeerings"]
  verbs: ["get", "list", "watch", "patch"]
{{- end }}
{{- end -}}

{{- define "tara.clusterRules" -}}
# kopf rescans the API when CRDs come and go.
- apiGroups: ["apiextensions.k8s.io"]
  resources: ["customresourcedefinitions"]
  verbs: ["list", "watch"]
{{- if .Values.watchNamespaces }}
# kopf lists and watches namespaces to know which of the given ones exist.
- apiGroups: [""]
  resources: ["namespaces"]
  verbs: ["list", "watch"]
{{- else if .Values.leaderElection.enabled }}
# Leader election across the cluster: the ClusterKopfPeering.
- apiGroups: ["kopf.dev"]
  resources: ["clusterkopfpeerings"]
  verbs: ["get", "list", "watch", "patch"]
{{- end }}
{{- end -}}
