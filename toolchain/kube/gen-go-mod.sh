#!/usr/bin/env bash
# Prints a go.mod that builds k8s.io/kubernetes commands from the Go module proxy: it requires
# k8s.io/kubernetes and pins each staging module, which upstream replaces with a local folder, to its
# published version. Usage: gen-go-mod.sh KUBE_VERSION STAGING_VERSION
set -euo pipefail
kube=$1 staging=$2
staging_modules=(api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider
  cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api cri-client
  csi-translation-lib dynamic-resource-allocation endpointslice externaljwt kms kube-aggregator
  kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics mount-utils
  pod-security-admission sample-apiserver sample-cli-plugin sample-controller)
echo "module meridian.local/kube"
echo
echo "go 1.24"
echo
echo "godebug default=go1.24"
echo
echo "require k8s.io/kubernetes $kube"
echo
echo "replace ("
for m in "${staging_modules[@]}"; do
  echo "	k8s.io/$m => k8s.io/$m $staging"
done
echo ")"
