import Foundation
import TaiCore
import TaiDiff
import TaiTesting
import Testing

/// `tai-gitops adopt` against objects made the way kubectl, Helm, Argo CD and Flux make them.
@Suite("tai-gitops adopt end to end", .serialized)
struct AdoptCommandTests {
    /// A small environment in a repository of its own: a Namespace, a ConfigMap and a Deployment.
    final class Fixture {
        let e: EmulatorProcess
        let repo: TemporaryDirectory

        init() throws {
            e = try EmulatorProcess()
            repo = try TemporaryDirectory("tai-adopt")
            _ = try repo.write("environments/demo/kustomization.yaml", "namespace: adopt\nresources: [ns.yaml, cm.yaml, web.yaml]\n")
            _ = try repo.write("environments/demo/ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: adopt\n")
            try setConfig(["a": "1", "b": "2"])
            _ = try repo.write(
                "environments/demo/web.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {app: web}\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n")
        }

        func setConfig(_ data: [String: String]) throws {
            let lines = data.sorted { $0.key < $1.key }.map { "  \($0.key): \"\($0.value)\"\n" }.joined()
            _ = try repo.write("environments/demo/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n" + lines)
        }

        /// The rendered objects, with a tool's marks added.
        func rendered(labels: [String: String] = [:], annotations: [String: String] = [:]) throws -> String {
            let json = try ProcessRunner.check(TaiTesting.taiGitopsBinary, ["build", repo.path + "/environments/demo", "-o", "json"])
            var list = try JSON.parse(Array(json.utf8))
            guard case .list(var items)? = list["items"] else { return json }
            for i in items.indices {
                for (k, v) in labels { items[i].set(path: ["metadata", "labels", k], to: .string(v)) }
                for (k, v) in annotations { items[i].set(path: ["metadata", "annotations", k], to: .string(v)) }
            }
            list["items"] = .list(items)
            return try repo.write("rendered-\(UUID().uuidString).json", JSON.serialize(list))
        }

        func tai(_ args: [String]) throws -> ProcessResult {
            try ProcessRunner.run(
                TaiTesting.taiGitopsBinary, args + ["--repo", repo.path],
                environment: ["KUBECONFIG": e.directory.path + "/kubeconfig", "NO_COLOR": "1"])
        }

        /// The objects' values (metadata and status aside), to check adoption changed none.
        func values() throws -> [Value] {
            var out: [Value] = []
            for (kind, name) in [("namespace", "adopt"), ("configmap", "settings"), ("deployment", "web")] {
                var object = try e.json(["get", kind, name, "-n", "adopt"])
                object["metadata"] = nil
                object["status"] = nil
                out.append(object)
            }
            return out
        }

        func writes(by manager: String) throws -> Int {
            let metrics = try ProcessRunner.check("curl", ["-s", e.url + "/metrics"])
            let line = metrics.split(separator: "\n").first { $0.hasPrefix("apiserver_writes_total{field_manager=\"\(manager)\"}") }
            return line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
        }
    }

    @Test(
        "made by kubectl apply, kubectl create, Helm, Argo CD or Flux: diff says to adopt (exit 0); adopt writes labels and ownership only; a field later removed from git leaves the cluster; a second adopt writes nothing",
        arguments: ["kubectl-apply", "kubectl-create", "helm", "argocd", "flux"])
    func adoptFrom(tool: String) throws {
        let f = try Fixture()
        switch tool {
        case "kubectl-apply":
            try f.e.ok(["apply", "-f", try f.rendered()])
        case "kubectl-create":
            try f.e.ok(["create", "-f", try f.rendered()])
        case "helm":
            try f.e.ok([
                "apply", "--server-side", "--field-manager", "helm", "-f",
                try f.rendered(
                    labels: ["app.kubernetes.io/managed-by": "Helm"],
                    annotations: ["meta.helm.sh/release-name": "tai", "meta.helm.sh/release-namespace": "adopt"]),
            ])
        case "argocd":
            try f.e.ok([
                "apply", "--server-side", "--field-manager", "argocd-controller", "-f",
                try f.rendered(labels: ["app.kubernetes.io/instance": "tai"], annotations: ["argocd.argoproj.io/tracking-id": "tai:apps/Deployment:adopt/web"]),
            ])
        default:
            try f.e.ok([
                "apply", "--server-side", "--field-manager", "kustomize-controller", "-f",
                try f.rendered(labels: ["kustomize.toolkit.fluxcd.io/name": "tai", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"]),
            ])
        }
        let diff = try f.tai(["diff", "demo"])
        #expect(diff.status == 0, "\(tool): \(diff.stdout.suffix(500))\(diff.stderr)")
        #expect(diff.stdout.contains("demo: 0 drifted, 3 to adopt"), "\(tool): \(diff.stdout.suffix(300))")

        let before = try f.values()
        let from = ["kubectl-apply": "kubectl", "kubectl-create": "kubectl"][tool] ?? tool
        let plan = try f.tai(["adopt", "demo", "--from", from, "--dry-run", "-o", "json"])
        #expect(plan.status == 0, "\(tool): \(plan.stderr)")
        let planned = try JSON.parse(Array(plan.stdout.utf8))
        #expect(planned[path: ["summary", "adopt"]] == 3 && planned[path: ["summary", "writes"]] == 0, "\(tool): \(planned)")
        let config = planned["objects"]?.listValue?.first { $0["object"]?.stringValue?.contains("settings") == true }
        #expect(config?["moving"]?.mapValue?.values.contains { $0.listValue?.contains(".data.b") == true } == true, "\(tool): \(String(describing: config))")
        #expect(try f.writes(by: "tai-gitops") == 0, "a dry run writes nothing")

        let adopt = try f.tai(["adopt", "demo", "--from", from, "--remove-previous-bookkeeping"])
        #expect(adopt.status == 0, "\(tool): \(adopt.stdout)\(adopt.stderr)")
        #expect(adopt.stdout.contains("demo: 3 to adopt"), "\(tool): \(adopt.stdout)")
        // One write per object, and the inventory parent: no value changed.
        #expect(try f.writes(by: "tai-gitops") == 4, "\(tool): \(adopt.stdout)")
        #expect(try f.values() == before, "\(tool): adoption changed a value")
        let live = try f.e.json(["get", "deployment", "web", "-n", "adopt", "--show-managed-fields"])
        #expect(live[path: ["metadata", "labels", "applyset.kubernetes.io/part-of"]] != nil)
        #expect(live[path: ["metadata", "annotations", "kubectl.kubernetes.io/last-applied-configuration"]] == nil)
        for mark in ["app.kubernetes.io/managed-by", "app.kubernetes.io/instance", "kustomize.toolkit.fluxcd.io/name"] {
            #expect(live[path: ["metadata", "labels", mark]] == nil, "\(tool): \(mark) should be removed")
        }
        #expect(live[path: ["metadata", "annotations", "meta.helm.sh/release-name"]] == nil)
        let managers = live[path: ["metadata", "managedFields"]]?.listValue?.compactMap { $0["manager"]?.stringValue } ?? []
        #expect(managers.contains("tai-gitops"), "\(tool): \(managers)")
        #expect(try f.tai(["diff", "demo"]).stdout.contains("demo: 0 drifted, 0 to create, 0 to prune, 3 in sync"))

        // A second adopt writes nothing.
        let again = try f.tai(["adopt", "demo"])
        #expect(again.stdout.contains("0 to adopt") && again.stdout.contains("0 writes"), "\(tool): \(again.stdout)")
        #expect(try f.writes(by: "tai-gitops") == 4)

        // Git drops data.b: the apply removes it from the cluster (it would stay behind, owned by the
        // previous manager, without the adoption).
        try f.setConfig(["a": "1"])
        let apply = try f.tai(["apply", "demo"])
        #expect(apply.status == 0, "\(tool): \(apply.stdout)\(apply.stderr)")
        let data = try f.e.json(["get", "configmap", "settings", "-n", "adopt"])["data"]
        #expect(data == ["a": "1"], "\(tool): \(String(describing: data))")
    }

    @Test("an object that differs from git is drift, not adoption: shown, left alone, exit 1")
    func driftIsNotAdopted() throws {
        let f = try Fixture()
        try f.e.ok(["apply", "-f", try f.rendered()])
        try f.e.ok(["scale", "deployment", "web", "-n", "adopt", "--replicas=5"])
        let adopt = try f.tai(["adopt", "demo"])
        #expect(adopt.status == 1)
        #expect(adopt.stdout.contains("Deployment adopt/web: drifted") && adopt.stdout.contains("spec.replicas: 5 → 2"), "\(adopt.stdout)")
        #expect(try f.e.json(["get", "deployment", "web", "-n", "adopt"])[path: ["spec", "replicas"]] == 5)
    }

    @Test("the TAI prod environment installed Helm-style is adopted with no value changed")
    func taiProdFromHelm() throws {
        let e = try EmulatorProcess()
        let repo = TaiTesting.repositoryRoot
        try e.ok(["apply", "--server-side", "-f", repo + "/platform/crds.yaml"])
        let json = try ProcessRunner.check(TaiTesting.taiGitopsBinary, ["build", repo + "/environments/prod", "-o", "json"])
        var list = try JSON.parse(Array(json.utf8))
        var items = list["items"]?.listValue ?? []
        for i in items.indices {
            items[i].set(path: ["metadata", "labels", "app.kubernetes.io/managed-by"], to: "Helm")
            items[i].set(path: ["metadata", "annotations", "meta.helm.sh/release-name"], to: "tai")
            items[i].set(path: ["metadata", "annotations", "meta.helm.sh/release-namespace"], to: "tai-prod")
        }
        list["items"] = .list(items)
        let file = try e.directory.write("prod-helm.json", JSON.serialize(list))
        try e.ok(["apply", "--server-side", "--field-manager", "helm", "-f", file])
        let env = ["KUBECONFIG": e.directory.path + "/kubeconfig", "NO_COLOR": "1"]
        let diff = try ProcessRunner.run(TaiTesting.taiGitopsBinary, ["diff", "prod", "--repo", repo, "--context", "tai-emulator"], environment: env)
        #expect(diff.status == 0 && diff.stdout.contains("prod: 0 drifted, 36 to adopt"), "\(diff.stdout.suffix(300))")
        let adopt = try ProcessRunner.run(TaiTesting.taiGitopsBinary, ["adopt", "prod", "--from", "helm", "--repo", repo, "--context", "tai-emulator"], environment: env)
        #expect(adopt.status == 0 && adopt.stdout.contains("prod: 36 to adopt"), "\(adopt.stdout.suffix(500))\(adopt.stderr)")
        let clean = try ProcessRunner.run(TaiTesting.taiGitopsBinary, ["diff", "prod", "--repo", repo, "--context", "tai-emulator"], environment: env)
        #expect(clean.status == 0 && clean.stdout.contains("prod: 0 drifted, 0 to create, 0 to prune, 36 in sync"), "\(clean.stdout.suffix(300))")
        let again = try ProcessRunner.run(TaiTesting.taiGitopsBinary, ["apply", "prod", "--repo", repo, "--context", "tai-emulator"], environment: env)
        #expect(again.stdout.contains("(0 writes"), "\(again.stdout.suffix(300))")
    }
}
