import Foundation
import TaiCore
import TaiTesting
import Testing

@Suite("kubectl against the emulator", .serialized)
struct KubectlTests {
    static let deployment = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          labels: {app: web}
        spec:
          replicas: 2
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web}
            spec:
              containers:
              - name: nginx
                image: nginx:1.25
                ports:
                - containerPort: 80
                resources:
                  limits: {cpu: "0.5", memory: 1024Mi}
        """

    @Test("version, namespaces, server-side apply, get -o json with the server's defaults")
    func applyAndGet() throws {
        let e = try EmulatorProcess()
        let version = try e.ok(["version"])
        #expect(version.contains("Server Version: v1.32.0"))
        #expect(try e.ok(["get", "ns"]).contains("default"))
        #expect(try e.ok(["apply", "--server-side", "-f", "-"], stdin: Self.deployment).contains("deployment.apps/web serverside-applied"))
        let d = try e.json(["get", "deploy", "web"])
        #expect(d[path: ["spec", "strategy", "rollingUpdate", "maxSurge"]] == "25%")
        #expect(d[path: ["spec", "revisionHistoryLimit"]] == 10)
        #expect(d[path: ["spec", "progressDeadlineSeconds"]] == 600)
        #expect(d[path: ["spec", "template", "metadata", "creationTimestamp"]] == .null)
        let c = d[path: ["spec", "template", "spec", "containers"]]?.listValue?.first
        #expect(c?["imagePullPolicy"] == "IfNotPresent")
        #expect(c?["terminationMessagePath"] == "/dev/termination-log")
        #expect(c?[path: ["resources", "limits", "cpu"]] == "500m")
        #expect(c?[path: ["resources", "limits", "memory"]] == "1Gi")
        #expect(c?["ports"]?.listValue?.first?["protocol"] == "TCP")
        #expect(d[path: ["spec", "template", "spec", "dnsPolicy"]] == "ClusterFirst")
        #expect(d[path: ["metadata", "managedFields"]] == nil, "kubectl hides managedFields")
        #expect(d[path: ["metadata", "generation"]] == 1)
        #expect(d[path: ["status", "readyReplicas"]] == 2)
        let table = try e.ok(["get", "deploy"])
        #expect(table.hasPrefix("NAME   READY   UP-TO-DATE   AVAILABLE   AGE\nweb    2/2     2            2           "))
    }

    @Test("conflicts with another field manager, --force-conflicts, scale, patches, label, annotate")
    func writes() throws {
        let e = try EmulatorProcess()
        try e.ok(["apply", "--server-side", "-f", "-"], stdin: Self.deployment)
        #expect(try e.ok(["scale", "deploy", "web", "--replicas=4"]).contains("deployment.apps/web scaled"))
        let conflict = try e.kubectl(["apply", "--server-side", "-f", "-"], stdin: Self.deployment)
        #expect(conflict.status == 1)
        #expect(conflict.stderr.contains("error: Apply failed with 1 conflict: conflict with \"kubectl\" using apps/v1"))
        #expect(conflict.stderr.contains(".spec.replicas"))
        let other = try e.kubectl(["apply", "--server-side", "--field-manager", "other", "-f", "-"], stdin: Self.deployment)
        #expect(other.status == 1)
        #expect(other.stderr.contains("conflict"))
        try e.ok(["apply", "--server-side", "--force-conflicts", "-f", "-"], stdin: Self.deployment)
        #expect(try e.json(["get", "deploy", "web"])[path: ["spec", "replicas"]] == 2)

        #expect(try e.ok(["patch", "deploy", "web", "--type", "merge", "-p", #"{"spec":{"minReadySeconds":5}}"#]).contains("patched"))
        #expect(try e.ok(["patch", "deploy", "web", "--type", "json", "-p", #"[{"op":"replace","path":"/spec/minReadySeconds","value":6}]"#]).contains("patched"))
        try e.ok(["patch", "deploy", "web", "-p", #"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"envoy"}]}}}}"#])
        try e.ok(["set", "image", "deploy/web", "nginx=nginx:1.27"])
        #expect(try e.ok(["patch", "deploy", "web", "--type", "merge", "-p", #"{"spec":{"minReadySeconds":6}}"#]).contains("patched (no change)"))
        try e.ok(["label", "deploy", "web", "tier=frontend"])
        try e.ok(["annotate", "deploy", "web", "note=hello"])
        let d = try e.json(["get", "deploy", "web"])
        #expect(d[path: ["spec", "minReadySeconds"]] == 6)
        let containers = d[path: ["spec", "template", "spec", "containers"]]?.listValue ?? []
        #expect(containers.compactMap { $0["name"]?.stringValue } == ["nginx", "sidecar"], "strategic merge by name")
        #expect(containers.first?["image"] == "nginx:1.27")
        #expect(d[path: ["metadata", "labels", "tier"]] == "frontend")
        #expect(d[path: ["metadata", "annotations", "note"]] == "hello")
        try e.ok(["label", "deploy", "web", "tier-"])
        #expect(try e.json(["get", "deploy", "web"])[path: ["metadata", "labels", "tier"]] == nil)
        let managers = try e.json(["get", "deploy", "web", "--show-managed-fields"])[path: ["metadata", "managedFields"]]?.listValue?.compactMap { $0["manager"]?.stringValue } ?? []
        for manager in ["kubectl", "kubectl-patch", "kubectl-set", "kubectl-annotate"] { #expect(managers.contains(manager), "\(managers)") }
    }

    @Test("diff --server-side: exit 0 in sync, 1 with the changed lines, nothing persisted")
    func diff() throws {
        let e = try EmulatorProcess()
        try e.ok(["apply", "--server-side", "-f", "-"], stdin: Self.deployment)
        let clean = try e.kubectl(["diff", "--server-side", "-f", "-"], stdin: Self.deployment)
        #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")
        #expect(clean.stdout.isEmpty)
        let changed = Self.deployment.replacingOccurrences(of: "nginx:1.25", with: "nginx:1.26")
        let drift = try e.kubectl(["diff", "--server-side", "-f", "-"], stdin: changed)
        #expect(drift.status == 1)
        #expect(drift.stdout.contains("-      - image: nginx:1.25\n+      - image: nginx:1.26"))
        #expect(!drift.stdout.contains("resourceVersion"), "a dry run bumps nothing")
        #expect(try e.json(["get", "deploy", "web"])[path: ["spec", "template", "spec", "containers"]]?.listValue?.first?["image"] == "nginx:1.25")
    }

    @Test("create namespace (protobuf body), AlreadyExists, configmaps across namespaces, NotFound, delete")
    func namespacesAndErrors() throws {
        let e = try EmulatorProcess()
        #expect(try e.ok(["create", "namespace", "team-b"]).contains("namespace/team-b created"))
        let again = try e.kubectl(["create", "namespace", "team-b"])
        #expect(again.status == 1)
        #expect(again.stderr.contains("Error from server (AlreadyExists): namespaces \"team-b\" already exists"))
        try e.ok(["create", "configmap", "settings", "--from-literal=a=1", "-n", "team-b"])
        try e.ok(["create", "configmap", "other", "--from-literal=b=2"])
        #expect(try e.json(["get", "cm", "settings", "-n", "team-b"])["data"] == ["a": "1"])
        let all = try e.ok(["get", "cm", "-A"])
        #expect(all.contains("team-b      settings"))
        #expect(all.contains("default     other"))
        let missing = try e.kubectl(["get", "cm", "nope"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("Error from server (NotFound): configmaps \"nope\" not found"))
        #expect(try e.ok(["delete", "cm", "other"]).contains("configmap \"other\" deleted"))
        #expect(try e.kubectl(["get", "cm", "other"]).status == 1)
        try e.ok(["delete", "namespace", "team-b"])
        #expect(try e.kubectl(["get", "cm", "settings", "-n", "team-b"]).status == 1)
    }

    @Test("a CRD, then its custom resource by plural, singular, short name; strategic patch refused (415); CRD deletion")
    func customResources() throws {
        let e = try EmulatorProcess()
        try e.ok(["apply", "--server-side", "-f", "-"], stdin: """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata:
              name: widgets.example.com
            spec:
              group: example.com
              names: {kind: Widget, plural: widgets, singular: widget, shortNames: [wd], categories: [all]}
              scope: Namespaced
              versions:
              - name: v1
                served: true
                storage: true
                schema:
                  openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
            """)
        #expect(try e.ok(["apply", "--server-side", "-f", "-"], stdin: "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 3}\n").contains("widget.example.com/w1 serverside-applied"))
        for name in ["widgets", "widget", "wd", "widgets.example.com"] {
            #expect(try e.ok(["get", name]).contains("w1"), "get \(name)")
        }
        let strategic = try e.kubectl(["patch", "wd", "w1", "-p", #"{"spec":{"size":4}}"#])
        #expect(strategic.status == 1)
        #expect(strategic.stderr.contains("application/strategic-merge-patch+json is not supported"))
        try e.ok(["patch", "wd", "w1", "--type", "merge", "-p", #"{"spec":{"size":4}}"#])
        #expect(try e.json(["get", "wd", "w1"])[path: ["spec", "size"]] == 4)
        #expect(try e.json(["get", "wd", "w1"])[path: ["metadata", "generation"]] == 2)
        try e.ok(["delete", "crd", "widgets.example.com"])
        #expect(try e.kubectl(["get", "widgets.example.com"]).status != 0)
    }

    @Test("get --watch streams MODIFIED and DELETED after the current state")
    func watch() throws {
        let e = try EmulatorProcess()
        try e.ok(["apply", "--server-side", "-f", "-"], stdin: Self.deployment)
        let output = e.directory.path + "/watch.txt"
        let watcher = try BackgroundProcess("sh", ["-c", "KUBECONFIG=\(e.directory.path)/kubeconfig KUBECACHEDIR=\(e.directory.path)/cache exec kubectl get deploy -w --output-watch-events > \(output) 2>&1"])
        defer { watcher.stop() }
        Thread.sleep(forTimeInterval: 1.5)
        try e.ok(["scale", "deploy", "web", "--replicas=3"])
        try e.ok(["delete", "deploy", "web"])
        var text = ""
        for _ in 0..<50 {
            text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            if text.contains("DELETED") { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        let lines = text.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).prefix(3).joined(separator: " ") }
        #expect(lines == ["EVENT NAME READY", "ADDED web 2/2", "MODIFIED web 3/3", "DELETED web 3/3"], "\(text)")
    }
}

@Suite("kubectl applies the TAI environments to the emulator")
struct TAIEnvironmentTests {
    @Test("platform CRDs, then every environment: applied, in sync by kubectl diff --server-side, re-apply changes nothing", arguments: ["dev", "staging", "prod"])
    func environment(_ name: String) throws {
        let e = try EmulatorProcess()
        try e.ok(["apply", "--server-side", "-f", TaiTesting.repositoryRoot + "/platform/crds.yaml"])
        let rendered = try ProcessRunner.check(TaiTesting.taiGitopsBinary, ["build", TaiTesting.repositoryRoot + "/environments/" + name])
        let file = try e.directory.write("\(name).yaml", rendered)
        try e.ok(["apply", "--server-side", "--field-manager", "tai-gitops", "-f", file])
        let diff = try e.kubectl(["diff", "--server-side", "--field-manager", "tai-gitops", "-f", file])
        #expect(diff.status == 0, "false drift right after apply:\n\(diff.stdout)\(diff.stderr)")
        func versions() throws -> [String] {
            let all = try e.json(["get", "deploy,sts,svc,cm,sa,netpol,pdb,so,vs,dr", "-A"])
            return (all["items"]?.listValue ?? []).compactMap { item in
                guard let name = item[path: ["metadata", "name"]]?.stringValue, let rv = item[path: ["metadata", "resourceVersion"]]?.stringValue else { return nil }
                return "\(item["kind"]?.stringValue ?? "")/\(name)@\(rv)"
            }
        }
        let before = try versions()
        #expect(before.count > 10)
        try e.ok(["apply", "--server-side", "--field-manager", "tai-gitops", "-f", file])
        #expect(try versions() == before, "a re-apply of the same objects must not write")
    }
}
