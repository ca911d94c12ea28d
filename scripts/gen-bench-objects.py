#!/usr/bin/env python3
# Writes DIR/objects.yaml (N objects: a Namespace, then ConfigMaps, Services and Deployments in turn,
# all labelled as members of the ApplySet inventory tai-gitops gives environment DIR) and
# DIR/kustomization.yaml. Usage: gen-bench-objects.py N DIR
import sys, hashlib, base64
n, out = int(sys.argv[1]), sys.argv[2]
env = out.rstrip("/").split("/")[-1]
ns = "bench"
digest = hashlib.sha256(f"tai-gitops-{env}.{ns}.ConfigMap.".encode()).digest()
ident = "applyset-" + base64.urlsafe_b64encode(digest).decode().rstrip("=") + "-v1"
docs = [f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n  labels:\n    applyset.kubernetes.io/part-of: {ident}\n"]
for i in range(n - 1):
    labels = f"  labels:\n    app: app-{i}\n    applyset.kubernetes.io/part-of: {ident}\n"
    if i % 3 == 0:
        docs.append(f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n  namespace: {ns}\n{labels}data:\n  key: value-{i}\n  port: \"{8000 + i % 1000}\"\n")
    elif i % 3 == 1:
        docs.append(f"apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-{i}\n  namespace: {ns}\n{labels}spec:\n  selector:\n    app: app-{i}\n  ports:\n  - name: http\n    port: 80\n    targetPort: 8080\n")
    else:
        docs.append(f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: deploy-{i}
  namespace: {ns}
{labels}spec:
  replicas: 2
  selector:
    matchLabels:
      app: app-{i}
  template:
    metadata:
      labels:
        app: app-{i}
    spec:
      containers:
      - name: app
        image: registry.example.com/app:{i % 7}.0
        ports:
        - containerPort: 8080
        resources:
          requests: {{cpu: 100m, memory: 128Mi}}
          limits: {{cpu: "0.5", memory: 256Mi}}
""")
open(f"{out}/objects.yaml", "w").write("---\n".join(docs))
open(f"{out}/kustomization.yaml", "w").write("resources:\n- objects.yaml\n")
