import Foundation
import TaiCore
import TaiDiff
import TaiTesting
import Testing

/// `tai-gitops diff` as a user runs it, against `tai-gitops cluster` on loopback.
@Suite("tai-gitops diff end to end", .serialized)
struct DiffCommandTests {
    static let repo = TaiTesting.repositoryRoot

    func diff(_ e: EmulatorProcess, _ args: [String], kubeconfig: String? = nil, env: [String: String] = [:]) throws -> ProcessResult {
        try ProcessRunner.run(
            TaiTesting.taiGitopsBinary, ["diff"] + args + ["--repo", Self.repo],
            environment: ["KUBECONFIG": kubeconfig ?? e.directory.path + "/kubeconfig", "NO_COLOR": "1"].merging(env) { $1 })
    }

    func applyEnvironment(_ e: EmulatorProcess, _ name: String) throws {
        try e.ok(["apply", "--server-side", "-f", Self.repo + "/platform/crds.yaml"])
        let rendered = try ProcessRunner.check(TaiTesting.taiGitopsBinary, ["build", Self.repo + "/environments/" + name])
        try e.ok(["apply", "--server-side", "--field-manager", "tai-gitops", "-f", try e.directory.write("\(name).yaml", rendered)])
    }

    @Test("exit 1 with everything to create; exit 1 for kubectl's own apply (the inventory label); attribution of a scale; JSON")
    func exitCodesAndAttribution() throws {
        let e = try EmulatorProcess()
        try e.ok(["apply", "--server-side", "-f", Self.repo + "/platform/crds.yaml"])
        let empty = try diff(e, ["prod"])
        #expect(empty.status == 1)
        #expect(empty.stdout.contains("prod: 0 drifted, 36 to create, 0 to prune, 0 in sync"), "\(empty.stdout.suffix(300))\(empty.stderr)")
        #expect(empty.stderr.contains("the sync settings name context \"prod\""))

        try applyEnvironment(e, "prod")
        try e.ok(["scale", "deploy", "tai-gitops", "-n", "tai-prod", "--replicas=5"])
        let scaled = try diff(e, ["prod", "-o", "json"])
        #expect(scaled.status == 1)
        let report = try JSON.parse(Array(scaled.stdout.utf8))
        let drifted = report["objects"]?.listValue?.filter { $0["verdict"] == "drifted" } ?? []
        let gitops = drifted.first { $0["name"] == "tai-gitops" && $0["kind"] == "Deployment" }
        let replicas = gitops?["changes"]?.listValue?.first { $0["path"] == "spec.replicas" }
        #expect(replicas?["live"] == 5)
        #expect(replicas?["desired"] == 2)
        #expect(replicas?["manager"] == "kubectl")
        #expect(replicas?["subresource"] == "scale")
        #expect(replicas?["cause"] == "the cluster was edited")
        let text = try diff(e, ["prod"])
        #expect(text.stdout.contains("spec.replicas: 5 → 2 (kubectl/scale, "), "\(text.stdout)")
        #expect(text.stdout.contains("-  replicas: 5\n+  replicas: 2"))
        #expect(!text.stdout.contains("\u{1B}["), "NO_COLOR: no escape codes")
    }

    @Test("no drift after tai-gitops' own apply with the inventory label: exit 0, both modes")
    func inSync() throws {
        let e = try EmulatorProcess()
        try e.ok(["apply", "--server-side", "-f", Self.repo + "/platform/crds.yaml"])
        // Apply what diff expects: the rendered objects with the environment's inventory label.
        let rendered = try ProcessRunner.check(TaiTesting.taiGitopsBinary, ["build", Self.repo + "/environments/dev", "-o", "json"])
        let list = try JSON.parse(Array(rendered.utf8))
        let namespace = try #require(list["items"]?.listValue?.first { $0["kind"] == "Namespace" }?[path: ["metadata", "name"]]?.stringValue)
        let id = Inventory(environment: "dev", namespace: namespace).id
        var items: [Value] = []
        for var item in list["items"]?.listValue ?? [] {
            item.set(path: ["metadata", "labels", "applyset.kubernetes.io/part-of"], to: .string(id))
            items.append(item)
        }
        try e.ok(["apply", "--server-side", "--field-manager", "tai-gitops", "-f", try e.directory.write("dev.json", JSON.serialize(["apiVersion": "v1", "kind": "List", "items": .list(items)]))])
        for mode in [[], ["--server-side"]] {
            let result = try diff(e, ["dev"] + mode)
            #expect(result.status == 0, "\(mode): \(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains("dev: 0 drifted, 0 to create, 0 to prune, \(items.count) in sync"))
        }
    }

    @Test("errors exit 2 with the reason: unreachable cluster, unknown environment, unknown kind, render error")
    func errors() throws {
        let e = try EmulatorProcess()
        let config = try e.directory.write("dead-kubeconfig", """
            apiVersion: v1
            kind: Config
            current-context: dead
            clusters: [{name: dead, cluster: {server: "http://127.0.0.1:9"}}]
            contexts: [{name: dead, context: {cluster: dead}}]
            """)
        let unreachable = try diff(e, ["dev", "--retries", "1"], kubeconfig: config)
        #expect(unreachable.status == 2)
        #expect(unreachable.stderr.contains("error: GET /apis"), "\(unreachable.stderr)")
        let unknown = try diff(e, ["qa"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("no environment \"qa\"") && unknown.stderr.contains("environments: dev, prod, staging"))
        let noCRD = try diff(e, ["prod"])
        #expect(noCRD.status == 2)
        #expect(noCRD.stderr.contains("does not serve kind") && noCRD.stderr.contains("CustomResourceDefinition"), "\(noCRD.stderr)")
        let dir = e.directory.path + "/bad"
        _ = try e.directory.write("bad/kustomization.yaml", "resources: [missing.yaml]\n")
        let render = try ProcessRunner.run(TaiTesting.taiGitopsBinary, ["diff", dir], environment: ["KUBECONFIG": e.directory.path + "/kubeconfig"])
        #expect(render.status == 2)
        #expect(render.stderr.contains("'missing.yaml' does not exist"))
        #expect(render.stdout.isEmpty)
    }

    @Test("a namespace the credentials may not read is an error (403), never \"no drift\"")
    func forbidden() throws {
        let e = try EmulatorProcess(["--only-namespaces", "tai-dev"])
        _ = try e.directory.write("env/kustomization.yaml", "namespace: kube-system\nresources: [cm.yaml]\n")
        _ = try e.directory.write("env/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: \"1\"\n")
        let result = try diff(e, [e.directory.path + "/env"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("Forbidden (403)"), "\(result.stderr)")
        #expect(result.stderr.contains("is forbidden: User"), "\(result.stderr)")
    }

    @Test("HTTPS with a token, a token file, an exec plugin (v1 and v1beta1), client certificates; wrong credentials exit 2")
    func credentials() throws {
        let pki = try TemporaryDirectory("tai-pki")
        defer { pki.remove() }
        func openssl(_ args: String...) throws { try ProcessRunner.check("openssl", args, in: pki.path) }
        try openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=tai-client-ca")
        try openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=tai-gitops")
        try openssl("x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "client.crt", "-days", "2")

        let e = try EmulatorProcess(["--tls", "--token", "s3cret", "--client-ca", pki.path + "/ca.crt"])
        #expect(e.url.hasPrefix("https://"))
        try e.ok(["apply", "--server-side", "-f", Self.repo + "/platform/crds.yaml"])
        let written = try String(contentsOfFile: e.directory.path + "/kubeconfig", encoding: .utf8)
        let caData = try #require(written.split(separator: "\n").first { $0.contains("certificate-authority-data") }?.split(separator: ":").last?.trimmingCharacters(in: .whitespaces))
        func kubeconfig(_ name: String, user: String) throws -> String {
            try e.directory.write(name, """
                apiVersion: v1
                kind: Config
                current-context: c
                clusters: [{name: c, cluster: {server: "\(e.url)", certificate-authority-data: \(caData)}}]
                contexts: [{name: c, context: {cluster: c, user: u}}]
                users:
                - name: u
                  user:
                \(user)
                """)
        }
        _ = try e.directory.write("token.txt", "s3cret\n")
        let plugin = try e.directory.write("plugin.sh", """
            #!/bin/sh
            # A credential plugin: answers with the API version it was asked for.
            version=$(printf '%s' "$KUBERNETES_EXEC_INFO" | sed 's/.*"apiVersion":"\\([^"]*\\)".*/\\1/')
            printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"2099-01-01T00:00:00Z"}}' "$version" "$PLUGIN_TOKEN"
            """)
        try ProcessRunner.check("chmod", ["+x", plugin])
        let variants: [(String, String, Int32)] = [
            ("token", "    token: s3cret", 1),
            ("token file", "    tokenFile: token.txt", 1),
            ("exec v1", "    exec: {apiVersion: client.authentication.k8s.io/v1, command: ./plugin.sh, env: [{name: PLUGIN_TOKEN, value: s3cret}]}", 1),
            ("exec v1beta1", "    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: ./plugin.sh, env: [{name: PLUGIN_TOKEN, value: s3cret}]}", 1),
            ("client certificate", "    client-certificate: \(pki.path)/client.crt\n    client-key: \(pki.path)/client.key", 1),
            ("wrong token", "    token: nope", 2),
            ("failing plugin", "    exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/false}", 2),
        ]
        for (i, (name, user, status)) in variants.enumerated() {
            let result = try diff(e, ["dev"], kubeconfig: try kubeconfig("kc-\(i)", user: user))
            #expect(result.status == status, "\(name): \(result.stderr)")
            if status == 1 { #expect(result.stdout.contains("to create"), "\(name)") }
            if name == "wrong token" { #expect(result.stderr.contains("Unauthorized (401)"), "\(result.stderr)") }
            if name == "failing plugin" { #expect(result.stderr.contains("credential plugin: /bin/false exited 1"), "\(result.stderr)") }
        }
    }

    @Test("injected 429s and 500s are retried; a cluster that always fails is an error after bounded retries")
    func faults() throws {
        let flaky = try EmulatorProcess(["--faults", "429=0.1,500=0.2,verbs=list+get"])
        try flaky.ok(["apply", "--server-side", "-f", Self.repo + "/platform/crds.yaml"])
        let result = try diff(flaky, ["dev"])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stdout.contains("to create"))
        let metrics = try flaky.ok(["get", "--raw", "/metrics"])
        #expect(metrics.contains("verb=\"fault\""), "faults were injected")

        let broken = try EmulatorProcess(["--faults", "500=1,verbs=list"])
        try broken.ok(["apply", "--server-side", "-f", Self.repo + "/platform/crds.yaml"])
        let failed = try diff(broken, ["dev", "--retries", "2"])
        #expect(failed.status == 2)
        #expect(failed.stderr.contains("InternalError (500)"), "\(failed.stderr)")
    }

    @Test("objects equal to git that kubectl or Helm made are to adopt, not drifted: exit 0, their writers named; apply adopts them with no value written twice")
    func toAdopt() throws {
        for (tool, manager) in [("kubectl apply", "kubectl-client-side-apply"), ("helm", "helm")] {
            let e = try EmulatorProcess()
            try e.ok(["apply", "--server-side", "-f", Self.repo + "/platform/crds.yaml"])
            let rendered = try e.directory.write("dev.yaml", try ProcessRunner.check(TaiTesting.taiGitopsBinary, ["build", Self.repo + "/environments/dev"]))
            if tool == "helm" {
                try e.ok(["apply", "--server-side", "--field-manager", "helm", "-f", rendered])
            } else {
                try e.ok(["apply", "-f", rendered])
            }
            let text = try diff(e, ["dev", "--context", "tai-emulator"])
            #expect(text.status == 0, "\(tool): \(text.stdout.suffix(400))")
            #expect(text.stdout.contains("dev: 0 drifted, 29 to adopt, 0 to create, 0 to prune, 0 in sync"), "\(tool): \(text.stdout.suffix(300))")
            #expect(text.stdout.contains("= to adopt (written by \(manager); equal to git)"), "\(tool)")
            #expect(try diff(e, ["dev", "--context", "tai-emulator", "--adopt-is-drift"]).status == 1)
            let json = try JSON.parse(Array(try diff(e, ["dev", "--context", "tai-emulator", "-o", "json"]).stdout.utf8))
            #expect(json[path: ["summary", "toAdopt"]] == 29 && json[path: ["summary", "drifted"]] == 0)
            #expect(json["objects"]?.listValue?.allSatisfy { $0["verdict"] == "to-adopt" && $0["previousManagers"] == [.string(manager)] } == true)

            // A real change on top of it is still drift.
            try e.ok(["scale", "deploy", "tai-api", "-n", "tai-dev", "--replicas=3"])
            let scaled = try diff(e, ["dev", "--context", "tai-emulator"])
            #expect(scaled.status == 1 && scaled.stdout.contains("dev: 1 drifted, 28 to adopt"), "\(tool): \(scaled.stdout.suffix(300))")
            try e.ok(["scale", "deploy", "tai-api", "-n", "tai-dev", "--replicas=1"])

            let env = ["KUBECONFIG": e.directory.path + "/kubeconfig"]
            let adopted = try ProcessRunner.run(TaiTesting.taiGitopsBinary, ["apply", "dev", "--repo", Self.repo, "--context", "tai-emulator"], environment: env)
            #expect(adopted.status == 0, "\(tool): \(adopted.stdout)\(adopted.stderr)")
            let clean = try diff(e, ["dev", "--context", "tai-emulator"])
            #expect(clean.status == 0 && clean.stdout.contains("dev: 0 drifted, 0 to create, 0 to prune, 29 in sync"), "\(tool): \(clean.stdout.suffix(300))")
            let again = try ProcessRunner.run(TaiTesting.taiGitopsBinary, ["apply", "dev", "--repo", Self.repo, "--context", "tai-emulator"], environment: env)
            #expect(again.stdout.contains("(0 writes"), "\(tool): \(again.stdout)")
        }
    }
}
