{{/* envoy/front-proxy.yaml (files/front-proxy.yaml is a link to it) with its placeholders filled. */}}
{{- define "edge-platform.frontProxyConfig" -}}
{{- $config := .Files.Get "files/front-proxy.yaml" -}}
{{- if not $config -}}
{{- fail "files/front-proxy.yaml is empty: it must link to envoy/front-proxy.yaml" -}}
{{- end -}}
{{- range $name, $value := .Values.frontProxy.envoyVars -}}
{{- $config = replace (printf "{{%s}}" $name) (tpl (toString $value) $) $config -}}
{{- end -}}
{{- $left := regexFindAll "\\{\\{[A-Z0-9_]+\\}\\}" $config -1 | uniq -}}
{{- if $left -}}
{{- fail (printf "frontProxy.envoyVars has no value for %s" (join ", " $left)) -}}
{{- end -}}
{{- $config -}}
{{- end -}}

{{- define "edge-platform.frontProxyName" -}}
{{- printf "%s-front-proxy" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "edge-platform.frontProxySelector" -}}
app.kubernetes.io/name: front-proxy
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
