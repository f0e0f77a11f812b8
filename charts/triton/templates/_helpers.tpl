{{- define "triton.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "triton.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "triton.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "triton.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}{{ .Values.serviceAccount.name }}{{- else -}}{{ default "default" .Values.serviceAccount.name }}{{- end -}}
{{- end -}}

{{/* The Kubernetes extended resource of the accelerator. */}}
{{- define "triton.acceleratorResource" -}}
{{- if eq .Values.accelerator.kind "nvidia" -}}nvidia.com/gpu{{- else if eq .Values.accelerator.kind "neuron" -}}aws.amazon.com/neuron{{- end -}}
{{- end -}}

{{/* Where Triton reads its model repository. */}}
{{- define "triton.modelRepositoryPath" -}}
{{- $m := .Values.modelRepository -}}
{{- if eq $m.mode "s3" -}}{{ required "modelRepository.s3Uri is required in s3 mode" $m.s3Uri }}{{- else -}}/models{{- end -}}
{{- end -}}
