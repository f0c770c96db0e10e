{{/* The sidecar's Envoy config; HEADER_FILTER_CONFIG is headerFilterConfigValue() of @edge/envoy-config. */}}
{{- define "echo.sidecarConfig" -}}
{{- $vars := merge (dict "HEADER_FILTER_CONFIG" (toJson (toJson .Values.sidecar.headerFilter))) .Values.sidecar.envoyVars -}}
{{- include "edge-app.envoyConfig" (dict "file" "files/sidecar.yaml" "vars" $vars "root" .) -}}
{{- end -}}
