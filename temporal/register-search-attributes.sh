#!/bin/sh
# Registers the search attributes listed under `searchAttributes:` in dev-server.yaml with the server at
# $TEMPORAL_ADDRESS. Attributes that exist already are left as they are, so it can run on every start.
set -eu
config=${1:-$(dirname "$0")/dev-server.yaml}
namespace=${TEMPORAL_NAMESPACE:-default}
sed -n '/^searchAttributes:/,/^[^ #]/p' "$config" | sed -n 's/^  \([A-Za-z][A-Za-z0-9_]*\): *\([A-Za-z]*\).*/\1 \2/p' |
while read -r name type; do
  if temporal operator search-attribute list --namespace "$namespace" | grep -q "^ *$name "; then
    echo "search attribute $name exists"
  else
    temporal operator search-attribute create --namespace "$namespace" --name "$name" --type "$type"
  fi
done
