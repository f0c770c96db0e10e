{{/* What every app gets unless its values say otherwise (merged under .Values by edge-app.all). */}}
{{- define "edge-app.defaults" -}}
replicaCount: 2
image:
  tag: ""
  pullPolicy: IfNotPresent
imagePullSecrets: []
service:
  type: ClusterIP
env: {}
secretEnv: {}
probes: {}
podAnnotations: {}
podSecurityContext:
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
  fsGroup: 10001
  seccompProfile:
    type: RuntimeDefault
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: [ALL]
resources:
  requests:
    cpu: 50m
    memory: 128Mi
  limits:
    memory: 384Mi
# More containers in the app's pod (a sidecar), templated; a port with `container: <name>` in
# `ports` is that container's (on the Service, not declared on the app's container).
extraContainers: []
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: 64Mi
volumeMounts:
  - name: tmp
    mountPath: /tmp
podDisruptionBudget:
  enabled: true
  minAvailable: 1
serviceMonitor:
  enabled: false
  port: metrics
  path: /metrics
  interval: 30s
  labels: {}
nodeSelector: {}
affinity: {}
tolerations: []
{{- end -}}
