{{/*
Every object of one app, from its values (see any app chart's values.yaml):
  {{ include "edge-app.all" . }}
*/}}
{{- define "edge-app.all" -}}
{{- $fullname := include "edge-app.fullname" . -}}
{{- $v := mergeOverwrite (include "edge-app.defaults" . | fromYaml) (deepCopy .Values) -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $fullname }}
  labels:
    {{- include "edge-app.labels" . | nindent 4 }}
data:
  {{- range $key, $value := $v.env }}
  {{ $key }}: {{ tpl (toString $value) $ | quote }}
  {{- end }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $fullname }}
  labels:
    {{- include "edge-app.labels" . | nindent 4 }}
spec:
  type: {{ $v.service.type }}
  selector:
    {{- include "edge-app.selectorLabels" . | nindent 4 }}
  ports:
    {{- range $v.ports }}
    - name: {{ .name }}
      port: {{ .port }}
      targetPort: {{ .name }}
      protocol: TCP
      {{- if .appProtocol }}
      appProtocol: {{ .appProtocol }}
      {{- end }}
    {{- end }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $fullname }}
  labels:
    {{- include "edge-app.labels" . | nindent 4 }}
spec:
  replicas: {{ $v.replicaCount }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "edge-app.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "edge-app.selectorLabels" . | nindent 8 }}
      annotations:
        # Roll the pods when the configuration changes.
        checksum/config: {{ toJson $v.env | sha256sum }}
        {{- with $v.configChecksum }}
        checksum/extra-config: {{ tpl (toString .) $ | sha256sum }}
        {{- end }}
        {{- with $v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      automountServiceAccountToken: false
      securityContext:
        {{- toYaml $v.podSecurityContext | nindent 8 }}
      {{- with $v.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .Values.nameOverride | default .Chart.Name }}
          image: {{ printf "%s:%s" $v.image.repository ($v.image.tag | default .Chart.AppVersion) | quote }}
          imagePullPolicy: {{ $v.image.pullPolicy }}
          ports:
            {{- range $v.ports }}
            {{- if not .container }}
            - name: {{ .name }}
              containerPort: {{ .port }}
              protocol: TCP
            {{- end }}
            {{- end }}
          envFrom:
            - configMapRef:
                name: {{ $fullname }}
          {{- if $v.secretEnv }}
          env:
            {{- range $key, $ref := $v.secretEnv }}
            - name: {{ $key }}
              valueFrom:
                secretKeyRef:
                  name: {{ required (printf "secretEnv.%s.secret: the name of an existing Secret" $key) (tpl (toString $ref.secret) $) }}
                  key: {{ required (printf "secretEnv.%s.key" $key) $ref.key }}
            {{- end }}
          {{- end }}
          {{- with $v.probes.startup }}
          startupProbe:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- with $v.probes.liveness }}
          livenessProbe:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- with $v.probes.readiness }}
          readinessProbe:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          securityContext:
            {{- toYaml $v.securityContext | nindent 12 }}
          {{- with $v.volumeMounts }}
          volumeMounts:
            {{- toYaml . | nindent 12 }}
          {{- end }}
        {{- with $v.extraContainers }}
        {{- tpl (toYaml .) $ | nindent 8 }}
        {{- end }}
      {{- with $v.volumes }}
      volumes:
        {{- tpl (toYaml .) $ | nindent 8 }}
      {{- end }}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- if $v.podDisruptionBudget.enabled }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $fullname }}
  labels:
    {{- include "edge-app.labels" . | nindent 4 }}
spec:
  {{- if $v.podDisruptionBudget.maxUnavailable }}
  maxUnavailable: {{ $v.podDisruptionBudget.maxUnavailable }}
  {{- else }}
  minAvailable: {{ $v.podDisruptionBudget.minAvailable | default 1 }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "edge-app.selectorLabels" . | nindent 6 }}
{{- end }}
{{- if $v.serviceMonitor.enabled }}
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ $fullname }}
  labels:
    {{- include "edge-app.labels" . | nindent 4 }}
    {{- with $v.serviceMonitor.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- include "edge-app.selectorLabels" . | nindent 6 }}
  endpoints:
    - port: {{ $v.serviceMonitor.port }}
      path: {{ $v.serviceMonitor.path }}
      interval: {{ $v.serviceMonitor.interval }}
{{- end }}
{{- end -}}
