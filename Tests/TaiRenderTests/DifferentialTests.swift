import Foundation
import Testing
import TaiCore
import TaiRender
import TaiTesting

/// Random base/overlay trees, generated from a seed, rendered by tai-gitops and by the real
/// `kubectl kustomize`: the outputs must be identical, or both must fail.
///
/// `TAI_DIFF_SEEDS` sets how many seeds run (default 200), `TAI_DIFF_FIRST_SEED` where they
/// start; a failing seed is printed with the tree kept on disk to reproduce it.
@Suite("Differential: random trees against kubectl kustomize")
struct DifferentialTests {
    static var seeds: ClosedRange<UInt64> {
        let env = ProcessInfo.processInfo.environment
        let count = UInt64(env["TAI_DIFF_SEEDS"] ?? "") ?? 200
        let first = UInt64(env["TAI_DIFF_FIRST_SEED"] ?? "") ?? 1
        return first...(first + max(count, 1) - 1)
    }

    @Test("random trees render identically")
    func randomTrees() async throws {
        let work = try TemporaryDirectory("tai-diff")
        var failures: [String] = []
        var compared = 0
        var bothFailed = 0
        for seed in Self.seeds {
            let dir = work.path + "/seed-\(seed)"
            var generator = TreeGenerator(seed: seed)
            let target = try generator.write(into: dir)
            let reference = try ProcessRunner.run("kubectl", ["kustomize", target], environment: ["KUBECONFIG": "/dev/null"])
            let ours: Result<String, RenderError> = Result { () throws(RenderError) in try Kustomizer().render(target) }
            switch (reference.status == 0, ours) {
            case (true, .success(let output)) where output == reference.stdout:
                compared += 1
                try? FileManager.default.removeItem(atPath: dir)
            case (false, .failure):
                bothFailed += 1
                try? FileManager.default.removeItem(atPath: dir)
            case (true, .success):
                failures.append("seed \(seed): output differs (tree kept in \(dir))")
            case (true, .failure(let error)):
                failures.append("seed \(seed): tai-gitops failed where kubectl rendered: \(error) (tree kept in \(dir))")
            case (false, .success):
                failures.append("seed \(seed): kubectl failed (\(reference.stderr.prefix(200))) where tai-gitops rendered (tree kept in \(dir))")
            }
        }
        print("differential: seeds \(Self.seeds.lowerBound)–\(Self.seeds.upperBound): \(compared) rendered identically, \(bothFailed) refused by both, \(failures.count) differ")
        #expect(failures.isEmpty, "\(failures.count) of \(Self.seeds.count) seeds differ:\n\(failures.joined(separator: "\n"))")
        #expect(compared > bothFailed, "most trees should render: \(compared) rendered, \(bothFailed) failed in both tools")
        if failures.isEmpty { work.remove() }
    }
}

/// A small deterministic generator (SplitMix64), so a seed always gives the same tree.
struct SeededRandom {
    private var generator: SplitMix64
    init(seed: UInt64) { generator = SplitMix64(seed: seed &* 0x9E37_79B9_7F4A_7C15) }
    mutating func next() -> UInt64 { generator.next() }
    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    mutating func chance(_ percent: Int) -> Bool { int(1...100) <= percent }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }
}

/// Writes a random kustomization tree: a base of workloads, Services, ConfigMaps and custom
/// resources, zero to two overlays and maybe a component, each using a random mix of fields.
struct TreeGenerator {
    var random: SeededRandom
    init(seed: UInt64) { random = SeededRandom(seed: seed) }

    static let words = ["web", "api", "db", "cache", "queue", "auth", "search", "worker", "front", "edge"]
    static let labelValues = ["a", "b", "true", "1", "v2", "yes", "prod", "x-y", "on", "007"]
    static let images = ["nginx", "redis", "busybox", "ghcr.io/acme/app", "registry.local:5000/team/svc"]

    /// Nulls as people write them (after a key): `null`, `~`, or nothing at all.
    static let nulls = [" null", " ~", ""]
    /// Numbers kustomize prints its own way.
    static let numbers = [
        "1.0", "1e3", "2.50", "1.5e-7", "0.000001", "1e21", "1e20", "9007199254740993", "12345678901234567890",
        "-0.0", "0x1F", "0o17", "1_000", "+1", ".5", "100.0", "3.14159", "-1.5e-10", "null", "~", "",
    ]

    /// Annotations (numbers, booleans, nulls, empty values, kustomize's own keys) and local-config marks.
    mutating func metadataExtras() -> String {
        guard random.chance(25) else { return "" }
        var m = "  annotations:\n"
        var used = Set<String>()
        for _ in 0..<random.int(1...3) {
            let key = random.pick([
                "note", "port", "ratio", "flag", "empty", "config.kubernetes.io/index", "internal.config.kubernetes.io/path",
                "kustomize.config.k8s.io/id",
            ])
            guard used.insert(key).inserted else { continue }
            m += "    \(key):\(random.pick([" 8080", " 1.50", " true", " null", "", " ~", " \"x\"", " 1e3"]))\n"
        }
        if random.chance(20) { m += "    config.kubernetes.io/local-config: \(random.pick(["\"true\"", "\"false\"", "\"yes\""]))\n" }
        return m
    }

    /// One JSON 6902 operation on a field a base may or may not have.
    mutating func jsonPatchOperation() -> String {
        let path = random.pick([
            "/spec/replicas", "/metadata/annotations/added", "/metadata/annotations", "/metadata/labels/added",
            "/spec/strategy/type", "/spec/template/spec/containers/0/resources/limits/cpu", "/spec/template/spec/containers/-1/image",
            "/spec/template/spec/containers/-", "/spec/template/spec/containers/5", "/spec/size", "/spec/f0", "/spec/nested/deep",
            "/spec/items/0/name", "/data/key", "/data/new~1key", "/metadata/annotations/config.kubernetes.io~1local-config",
        ])
        let op = random.pick(["add", "add", "replace", "replace", "remove", "copy", "move", "test"])
        var text = "    - op: \(op)\n      path: \(path)\n"
        switch op {
        case "copy", "move":
            text += "      from: \(random.pick(["/metadata/annotations", "/metadata/name", "/spec/replicas", "/spec/size", "/data/key"]))\n"
        case "remove":
            break
        default:
            text += "      value: \(random.pick(["3", "1.0", "\"x\"", "null", "9007199254740993", "{a: 1}", "[1, 2.5]", "true", "\"true\"", "yes"]))\n"
        }
        return text
    }

    mutating func name() -> String { random.pick(Self.words) + (random.chance(30) ? "-\(random.int(1...9))" : "") }

    mutating func container(_ n: String, image: String) -> String {
        var c = "      - name: \(n)\n        image: \(image)\(random.chance(50) ? ":\(random.int(1...3)).\(random.int(0...9))" : "")\n"
        if random.chance(60) {
            c += "        env:\n"
            for i in 0..<random.int(1...3) { c += "        - name: VAR_\(i)\n          value: \"\(random.pick(Self.labelValues))\"\n" }
        }
        if random.chance(50) {
            c += "        ports:\n        - containerPort: \(random.pick([80, 8080, 9090]))\n          name: http\n"
        }
        if random.chance(20) { c += "        args:\(random.pick(Self.nulls))\n" }
        if random.chance(20) { c += "        resources:\n          limits:\n            cpu: \(random.pick(["0.5", "1", "1.0", "250m"]))\n" }
        if random.chance(40) {
            c += "        envFrom:\n        - configMapRef:\n            name: \(random.pick(Self.words))-config\n"
        }
        return c
    }

    mutating func workload(_ kind: String, _ n: String) -> String {
        let group = kind == "Job" ? "batch/v1" : "apps/v1"
        var y = "apiVersion: \(group)\nkind: \(kind)\nmetadata:\n  name: \(n)\n"
        if random.chance(50) { y += "  labels:\n    app: \(n)\n" }
        y += metadataExtras()
        y += "spec:\n"
        if kind != "Job" {
            if random.chance(70) {
                y += "  replicas: \(random.int(1...5))\n"
            } else if random.chance(30) {
                y += "  replicas:\(random.pick(Self.nulls))\n"
            }
            if random.chance(15) { y += "  strategy:\(random.pick(Self.nulls))\n" }
            y += "  selector:\n    matchLabels:\n      app: \(n)\n"
        }
        if kind == "StatefulSet" { y += "  serviceName: \(n)\n" }
        y += "  template:\n    metadata:\n      labels:\n        app: \(n)\n    spec:\n"
        if random.chance(40) { y += "      serviceAccountName: \(random.pick(Self.words))\n" }
        y += "      containers:\n"
        for i in 0..<random.int(1...2) { y += container(i == 0 ? n : "sidecar", image: random.pick(Self.images)) }
        if random.chance(40) {
            y += "      volumes:\n      - name: cfg\n        configMap:\n          name: \(random.pick(Self.words))-config\n"
        }
        if kind == "StatefulSet" && random.chance(50) {
            y += "  volumeClaimTemplates:\n  - metadata:\n      name: data\n    spec:\n      accessModes: [ReadWriteOnce]\n      resources:\n        requests:\n          storage: 1Gi\n"
        }
        return y
    }

    mutating func baseObjects() -> [String] {
        var docs: [String] = []
        var used = Set<String>()
        for _ in 0..<random.int(1...6) {
            let kind = random.pick([
                "Deployment", "Deployment", "StatefulSet", "Service", "ConfigMap", "ServiceAccount", "Widget", "Job", "Role", "RoleBinding",
                "Endpoints", "PriorityClass", "Ingress", "ValidatingWebhookConfiguration", "LimitRange",
            ])
            var n = name()
            if kind == "ConfigMap" { n = random.pick(Self.words) + "-config" }
            if kind == "ServiceAccount" { n = random.pick(Self.words) }
            guard used.insert("\(kind)/\(n)").inserted else { continue }
            switch kind {
            case "Service":
                docs.append("apiVersion: v1\nkind: Service\nmetadata:\n  name: \(n)\nspec:\n  selector:\n    app: \(n)\n  ports:\n  - port: 80\n    targetPort: http\n")
            case "ConfigMap":
                docs.append("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \(n)\n\(metadataExtras())data:\n  key: \"\(random.pick(Self.labelValues))\"\n")
            case "ServiceAccount":
                docs.append("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: \(n)\n")
            case "Widget":
                var w = "apiVersion: \(random.pick(["example.com/v1", "example.com/v2", "other.io/v1"]))\nkind: Widget\nmetadata:\n  name: \(n)\n"
                w += metadataExtras()
                w += "spec:\n  size: \(random.int(1...9))\n  items:\n  - name: a\n  - name: b\n"
                for i in 0..<random.int(0...4) { w += "  f\(i): \(random.pick(Self.numbers))\n" }
                if random.chance(40) { w += "  nested:\n    deep:\(random.pick(Self.nulls))\n    keep: 1\n" }
                docs.append(w)
            case "Endpoints":
                docs.append("apiVersion: v1\nkind: Endpoints\nmetadata:\n  name: \(n)\nsubsets:\n- addresses:\n  - ip: 10.0.0.\(random.int(1...9))\n")
            case "PriorityClass":
                docs.append("apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: \(n)\nvalue: \(random.pick(["1000", "1e3", "1000000000", "0"]))\n")
            case "Ingress":
                docs.append(
                    "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: \(n)\n\(metadataExtras())spec:\n  rules:\n  - host: \(n).example.com\n"
                        + "    http:\n      paths:\n      - path: /\n        pathType: Prefix\n        backend:\n          service:\n            name: \(random.pick(Self.words))\n            port:\n              number: 80\n")
            case "ValidatingWebhookConfiguration":
                docs.append("apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata:\n  name: \(n)\nwebhooks: []\n")
            case "LimitRange":
                docs.append("apiVersion: v1\nkind: LimitRange\nmetadata:\n  name: \(n)\nspec:\n  limits:\n  - type: Container\n    default:\n      cpu: \(random.pick(["0.5", "500m", "1", "1.0"]))\n")
            case "Role":
                docs.append("apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: \(n)\nrules:\n- apiGroups: [\"\"]\n  resources: [configmaps]\n  verbs: [get]\n")
            case "RoleBinding":
                docs.append("apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: \(n)\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: \(random.pick(Self.words))\nsubjects:\n- kind: ServiceAccount\n  name: \(random.pick(Self.words))\n")
            default:
                docs.append(workload(kind, n))
            }
        }
        return docs
    }

    /// Random kustomization fields (the features under test), as YAML lines.
    mutating func fields(targetNames: [String], generatedNames: inout [String], isOverlay: Bool) -> String {
        var k = ""
        if random.chance(40) { k += "namespace: \(random.pick(["prod", "dev", "team-a"]))\n" }
        if random.chance(40) { k += "namePrefix: \(random.pick(["p-", "x-", "team-"]))\n" }
        if random.chance(30) { k += "nameSuffix: \(random.pick(["-s", "-v2"]))\n" }
        if random.chance(35) { k += "commonLabels:\n  \(random.pick(["env", "tier", "app.kubernetes.io/part-of"])): \"\(random.pick(Self.labelValues))\"\n" }
        if random.chance(35) {
            k += "labels:\n- pairs:\n    \(random.pick(["owner", "team"])): \"\(random.pick(Self.labelValues))\"\n"
            if random.chance(50) { k += "  includeSelectors: true\n" } else if random.chance(50) { k += "  includeTemplates: true\n" }
        }
        if random.chance(35) { k += "commonAnnotations:\n  note: \"\(random.pick(Self.labelValues))\"\n" }
        if random.chance(40) {
            k += "images:\n- name: \(random.pick(Self.images))\n"
            switch random.int(0...2) {
            case 0: k += "  newTag: \"\(random.int(1...9)).\(random.int(0...9))\"\n"
            case 1: k += "  newName: mirror.local/\(random.pick(Self.words))\n"
            default: k += "  digest: sha256:\(String(repeating: "ab", count: 32))\n"
            }
        }
        if random.chance(20) {
            switch random.int(0...2) {
            case 0: k += "sortOptions:\n  order: fifo\n"
            case 1: k += "sortOptions:\n  order: legacy\n"
            default:
                k += "sortOptions:\n  order: legacy\n  legacySortOptions:\n    orderFirst: [\(random.pick(["Widget", "Service", "Endpoints"])), ConfigMap]\n"
                k += "    orderLast: [\(random.pick(["Deployment", "Role", "Namespace"]))]\n"
            }
        }
        if random.chance(30), let t = targetNames.first {
            k += "replicas:\n- name: \(t)\n  count: \(random.int(0...7))\n"
        }
        if random.chance(45) {
            let n = random.pick(Self.words) + "-config"
            let merge = isOverlay && generatedNames.contains(n) && random.chance(60)
            k += "configMapGenerator:\n- name: \(n)\n"
            if merge { k += "  behavior: merge\n" }
            k += "  literals:\n  - K\(random.int(1...3))=\(random.pick(Self.labelValues))\n"
            if random.chance(30) { k += "  options:\n    disableNameSuffixHash: true\n" }
            if !merge { generatedNames.append(n) }
        }
        if random.chance(20) {
            k += "secretGenerator:\n- name: \(random.pick(Self.words))-secret\n  literals:\n  - password=\(random.pick(Self.labelValues))\n"
        }
        if random.chance(20), let t = targetNames.first, !generatedNames.isEmpty {
            k += "replacements:\n- source:\n    kind: ConfigMap\n    name: \(random.pick(generatedNames))\n    fieldPath: data.K1\n"
            k += "  targets:\n  - select:\n      kind: Deployment\n      name: \(t)\n    fieldPaths:\n    - metadata.labels.copied\n    options:\n      create: true\n"
        }
        if random.chance(50), let t = targetNames.first {
            k += "patches:\n"
            switch random.int(0...7) {
            case 4:
                k += "- target:\n    kind: \(random.pick(["Deployment", "StatefulSet", "Widget", "ConfigMap"]))\n  patch: |-\n"
                for _ in 0..<random.int(1...3) { k += jsonPatchOperation() }
            case 5:
                k += "- patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata:\n      name: \(t)\n"
                if random.chance(50) { k += "      annotations:\n        patched:\(random.pick([" 1.50", " null", " \"s\"", " 7"]))\n" }
                k += "    spec:\n      minReadySeconds:\(random.pick([" 5", " null", ""]))\n      strategy:\(random.pick([" null", " {}", "\n        type: Recreate"]))\n"
            case 6:
                k += "- target:\n    kind: Widget\n  patch: |-\n    apiVersion: example.com/v1\n    kind: Widget\n    metadata:\n      name: any\n    spec:\n"
                k += "      f0:\(random.pick([" null", " 2.0", " 12345678901234567890", " 1e3"]))\n      nested:\n        added:\(random.pick(Self.nulls))\n        keep: 2\n"
            case 7:
                k += "- target:\n    kind: Deployment\n  patch: |-\n    - op: \(random.pick(["add", "replace"]))\n"
                k += "      path: /spec/template/spec/containers/\(random.pick(["0", "-1", "1", "-"]))/\(random.pick(["image", "resources", "args"]))\n"
                k += "      value: \(random.pick(["x", "{limits: {cpu: 1}}", "[a, b]", "null"]))\n"
            case 0:
                k += "- patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata:\n      name: \(t)\n    spec:\n      template:\n        spec:\n          containers:\n          - name: \(t)\n            env:\n            - name: PATCHED\n              value: \"1\"\n            - name: VAR_0\n              $patch: delete\n"
            case 1:
                k += "- target:\n    kind: Deployment\n  patch: |-\n    - op: add\n      path: /metadata/annotations\n      value:\n        patched: \"yes\"\n"
            case 2:
                k += "- target:\n    kind: Deployment|StatefulSet\n    labelSelector: app\n  patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata:\n      name: any\n    spec:\n      minReadySeconds: \(random.int(1...30))\n"
            default:
                k += "- target:\n    kind: Widget\n  patch: |-\n    apiVersion: example.com/v1\n    kind: Widget\n    metadata:\n      name: any\n    spec:\n      items:\n      - name: c\n"
            }
        }
        return k
    }

    /// Writes the tree and returns the directory to build.
    mutating func write(into dir: String) throws -> String {
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/base", withIntermediateDirectories: true)
        let docs = baseObjects()
        try docs.joined(separator: "---\n").write(toFile: dir + "/base/objects.yaml", atomically: true, encoding: .utf8)
        let deployments = docs.compactMap { doc -> String? in
            guard doc.contains("kind: Deployment\n") else { return nil }
            return doc.split(separator: "\n").first { $0.hasPrefix("  name: ") }.map { String($0.dropFirst(8)) }
        }
        var generated: [String] = []
        let baseFields = fields(targetNames: deployments, generatedNames: &generated, isOverlay: false)
        try ("resources:\n- objects.yaml\n" + baseFields).write(toFile: dir + "/base/kustomization.yaml", atomically: true, encoding: .utf8)
        var target = dir + "/base"
        var parent = "../base"
        for level in 0..<random.int(0...2) {
            let overlay = dir + "/overlay\(level)"
            try fm.createDirectory(atPath: overlay, withIntermediateDirectories: true)
            var k = "resources:\n- \(parent)\n"
            if random.chance(30) {
                let component = dir + "/component\(level)"
                try fm.createDirectory(atPath: component, withIntermediateDirectories: true)
                var componentGenerated = generated
                let componentFields = fields(targetNames: deployments, generatedNames: &componentGenerated, isOverlay: true)
                try ("apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n" + componentFields)
                    .write(toFile: component + "/kustomization.yaml", atomically: true, encoding: .utf8)
                generated = componentGenerated
                k += "components:\n- ../component\(level)\n"
            }
            k += fields(targetNames: deployments, generatedNames: &generated, isOverlay: true)
            try k.write(toFile: overlay + "/kustomization.yaml", atomically: true, encoding: .utf8)
            target = overlay
            parent = "../overlay\(level)"
        }
        if random.chance(25) {
            let file = target + "/kustomization.yaml"
            let k = try String(contentsOfFile: file, encoding: .utf8)
            let options = random.pick(["[originAnnotations]", "[managedByLabel]", "[originAnnotations, managedByLabel]"])
            try (k + "buildMetadata: \(options)\n").write(toFile: file, atomically: true, encoding: .utf8)
        }
        return target
    }
}
