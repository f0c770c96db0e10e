{{/* Name of an app's objects: <release>-<chart>, or <release> when it already names the app. */}}
{{- define "edge-app.fullname" -}}
{{- $name := .Values.nameOverride | default .Chart.Name -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "edge-app.selectorLabels" -}}
app.kubernetes.io/name: {{ .Values.nameOverride | default .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "edge-app.labels" -}}
{{ include "edge-app.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: edge-platform
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/*
An Envoy config of envoy/ (an app chart's files/<name>.yaml links to it) with its {{NAME}}
placeholders filled from a map whose string values are templated; a placeholder left without a
value fails the render:
  {{ include "edge-app.envoyConfig" (dict "file" "files/sidecar.yaml" "vars" .Values.sidecar.envoyVars "root" $) }}
*/}}
{{- define "edge-app.envoyConfig" -}}
{{- $config := .root.Files.Get .file -}}
{{- if not $config -}}
{{- fail (printf "%s is empty: it must link to a file of envoy/" .file) -}}
{{- end -}}
{{- range $name, $value := .vars -}}
{{- $config = replace (printf "{{%s}}" $name) (tpl (toString $value) $.root) $config -}}
{{- end -}}
{{- $left := regexFindAll "\\{\\{[A-Z0-9_]+\\}\\}" $config -1 | uniq -}}
{{- if $left -}}
{{- fail (printf "%s: no value for %s" .file (join ", " $left)) -}}
{{- end -}}
{{- $config -}}
{{- end -}}
