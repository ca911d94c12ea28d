import Foundation
import PromotionTestbed
import TaiCore
import TaiProcess
import TaiTesting
import Testing

/// A promotion on loopback: a bare config repository served by git-daemon (push allowed), the
/// cluster emulator with Istio's CRDs, a forge emulator whose merges send the push webhook, the
/// canary's Istio metrics scraped by a real Prometheus, and the agent binary with --promote.
final class PromotionHarness {
    let dir: TemporaryDirectory
    let emulator: EmulatorProcess
    let daemon: BackgroundProcess
    let gitPort: Int
    let agentPort: Int
    let secret = "promote-webhook"
    var forge: ForgeEmulator!
    var exporter: IstioMetricsExporter!
    var prometheus: PrometheusServer!
    var agent: AgentProcess?

    var bare: String { dir.path + "/config.git" }
    var url: String { "git://127.0.0.1:\(gitPort)/config.git" }
    var work: String { dir.path + "/work" }
    var settingsFile: String { work + "/environments/shop/sync.yaml" }

    /// `autoMerge`: the environment lets promotions merge themselves.
    init(autoMerge: Bool = false) throws {
        let dir = try TemporaryDirectory("tai-promote-e2e")
        self.dir = dir
        emulator = try EmulatorProcess([])
        _ = try emulator.ok(["apply", "-f", TaiTesting.repositoryRoot + "/platform/crds.yaml"])
        let bare = dir.path + "/config.git", work = dir.path + "/work"
        try ProcessRunner.check("git", ["init", "-q", "--bare", "-b", "main", bare])
        try ProcessRunner.check("git", ["-C", bare, "config", "daemon.receivepack", "true"])
        try ProcessRunner.check("git", ["init", "-q", "-b", "main", work])
        for (file, text) in Self.files {
            try dir.write("work/" + file, autoMerge ? text.replacingOccurrences(of: "    steps: [10, 50, 100]\n", with: "    steps: [10, 50, 100]\n    autoMerge: true\n") : text)
        }
        for args in [["add", "-A"], ["commit", "-q", "-m", "the shop environment"], ["push", "-q", bare, "main"]] {
            try ProcessRunner.check("git", ["-C", work] + args, environment: AgentHarness.gitEnv)
        }
        let gitPort = TaiTesting.freePort()
        self.gitPort = gitPort
        agentPort = TaiTesting.freePort()
        let execPath = try ProcessRunner.check("git", ["--exec-path"]).trimmingCharacters(in: .whitespacesAndNewlines)
        daemon = try BackgroundProcess(
            execPath + "/git-daemon",
            ["--reuseaddr", "--export-all", "--enable=receive-pack", "--base-path=" + dir.path, "--listen=127.0.0.1", "--port=\(gitPort)", bare])
        let url = "git://127.0.0.1:\(gitPort)/config.git"
        try waitUntil(timeout: 10, "git-daemon on \(gitPort)") { (try? ProcessRunner.run("git", ["ls-remote", url]))?.status == 0 }
    }

    /// The forge, the canary's metrics and Prometheus.
    func startServices() async throws {
        forge = try await ForgeEmulator.start(repository: bare, token: "forge-token", webhook: ("http://127.0.0.1:\(agentPort)/webhook", secret))
        exporter = try await IstioMetricsExporter.start(workload: "web-canary", namespace: "shop", successRate: 1, latencyMilliseconds: 30)
        prometheus = try await PrometheusServer.start(targets: ["127.0.0.1:\(exporter.port)"], scrapeInterval: "1s", port: TaiTesting.freePort())
    }

    func stopServices() async {
        agent?.stop()
        await forge?.stop()
        await exporter?.stop()
        prometheus?.stop()
        daemon.stop()
    }

    @discardableResult
    func git(_ args: String...) throws -> String {
        try ProcessRunner.check("git", ["-C", work] + args, environment: AgentHarness.gitEnv).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    var forgeArguments: [String] {
        get throws {
            ["--forge", "github", "--forge-url", forge.url, "--forge-repo", "tai/config", "--forge-token-file", try dir.write("forge-token", "forge-token")]
        }
    }

    /// `withForge` false: the agent commits the steps on main itself (where auto-merge is allowed).
    func startAgent(withForge: Bool = true) throws -> AgentProcess {
        let args = [
            "agent", "--config", settingsFile, "--repo", url, "--cache-dir", dir.path + "/agent-cache", "--kubeconfig", emulator.directory.path + "/kubeconfig",
            "--context", "tai-emulator", "--listen", "127.0.0.1:\(agentPort)", "--webhook-secret-file", try dir.write("secret", secret),
            "--debounce-ms", "200", "--log-format", "json", "--identity", "promoter", "--no-leader-elect", "--promote", "--prometheus", prometheus.url,
        ] + (withForge ? try forgeArguments : [])
        let agent = try AgentProcess(arguments: args, port: agentPort, log: dir.path + "/agent.log")
        self.agent = agent
        return agent
    }

    /// `tai-gitops promote|rollback …` against the repository and the forge.
    func cli(_ arguments: [String], withForge: Bool = true) throws -> ProcessResult {
        try ProcessRunner.run(
            TaiTesting.taiGitopsBinary,
            arguments + ["--repo", url, "--cache-dir", dir.path + "/cli-cache", "--settings", "environments/shop/sync.yaml"] + (withForge ? try forgeArguments : []))
    }

    /// The push webhook a forge sends for main's head.
    func announcePush() throws {
        let head = try ProcessRunner.check("git", ["-C", bare, "rev-parse", "main"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let body = #"{"ref":"refs/heads/main","after":"\#(head)"}"#
        let signature = AgentHarness.sign(body, secret: secret)
        _ = try http("POST", "http://127.0.0.1:\(agentPort)/webhook", headers: ["Content-Type": "application/json", "X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=" + signature], body: body)
    }

    func live(_ kind: String, _ name: String) -> Value? { try? emulator.json(["get", kind, name, "-n", "shop", "-o", "json"]) }

    /// The live canary weight and the images of both Deployments.
    var liveState: (canaryWeight: Int?, stable: String?, canary: String?) {
        let routes = live("virtualservice", "web")?[path: ["spec", "http"]]?.listValue?.first?["route"]?.listValue ?? []
        let weight = routes.first { $0[path: ["destination", "subset"]] == "canary" }?["weight"]?.intValue
        func image(_ name: String) -> String? { live("deployment", name)?[path: ["spec", "template", "spec", "containers"]]?.listValue?.first?["image"]?.stringValue }
        return (weight, image("web"), image("web-canary"))
    }

    /// Waits for the forge to hold an open pull request for `head`; returns its number.
    func waitForPullRequest(_ head: String, timeout: Double = 30) throws -> Int {
        var number = 0
        try waitUntil(timeout: timeout, "a pull request for \(head); have \(forge.pullRequests.map { "#\($0.number) \($0.head) \($0.state)" }); agent log: \(agent?.logText().suffix(3000) ?? "")") {
            if let pr = forge.pullRequests.first(where: { $0.head == head && $0.state == "open" }) { number = pr.number }
            return number != 0
        }
        return number
    }

    static let files: [String: String] = [
        "environments/shop/kustomization.yaml": """
            # The shop: a web service with a canary, routed 90/10 by Istio.
            namespace: shop
            resources:
            - namespace.yaml
            - app.yaml
            - istio.yaml
            images:
            - name: web
              newName: registry.local/web
              newTag: v1.0.0   # stable
            - name: web-canary
              newName: registry.local/web
              newTag: v1.0.0   # canary
            patches:
            - path: canary-weights.yaml
              target:
                kind: VirtualService
                name: web

            """,
        "environments/shop/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
        "environments/shop/app.yaml": """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
            spec:
              replicas: 2
              selector:
                matchLabels: {app: web, version: v1}
              template:
                metadata:
                  labels: {app: web, version: v1}
                spec:
                  containers:
                  - name: web
                    image: web
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web-canary
            spec:
              replicas: 1
              selector:
                matchLabels: {app: web, version: canary}
              template:
                metadata:
                  labels: {app: web, version: canary}
                spec:
                  containers:
                  - name: web
                    image: web-canary

            """,
        "environments/shop/istio.yaml": """
            apiVersion: networking.istio.io/v1beta1
            kind: DestinationRule
            metadata:
              name: web
            spec:
              host: web
              subsets:
              - name: stable
                labels: {version: v1}
              - name: canary
                labels: {version: canary}
            ---
            apiVersion: networking.istio.io/v1beta1
            kind: VirtualService
            metadata:
              name: web
            spec:
              hosts: [web]
              http:
              - route:
                - destination: {host: web, subset: stable}
                  weight: 90
                - destination: {host: web, subset: canary}
                  weight: 10

            """,
        "environments/shop/canary-weights.yaml": """
            # Moved by tai-gitops promote and rollback.
            - op: test
              path: /spec/http/0/route/0/destination/subset
              value: stable
            - op: replace
              path: /spec/http/0/route/0/weight
              value: 90
            - op: test
              path: /spec/http/0/route/1/destination/subset
              value: canary
            - op: replace
              path: /spec/http/0/route/1/weight
              value: 10

            """,
        "environments/shop/sync.yaml": """
            apiVersion: tai.io/v1alpha1
            kind: SyncSettings
            metadata:
              name: shop
            spec:
              source:
                path: environments/shop
                revision: main
              interval: 1h
              prune: true
              drift:
                policy: correct
              promotion:
                image: web
                canaryImage: web-canary
                virtualService: web
                destinationRule: web
                steps: [10, 50, 100]
                analysis:
                  interval: 1s
                  checks: 2
                  window: 5s
                  maxErrorRate: 0.05
                  maxLatencyP99Milliseconds: 200

            """,
    ]
}

@Suite(
    "Promotion end to end", .serialized,
    .enabled(if: PrometheusServer.isInstalled, "the prometheus package (scripts/bootstrap.sh installs it)"))
struct PromotionEndToEndTests {
    @Test("promote → PR → merge → synced → analysis passes → next PR … → finish; then a failing canary → rollback PR → merged → stable restored")
    func promotionAndRollback() async throws {
        let h = try PromotionHarness()
        defer { h.dir.remove() }
        try await h.startServices()
        let agent = try h.startAgent()
        defer { agent.stop() }
        try agent.waitReady(timeout: 30)
        #expect(h.liveState.canaryWeight == 10 && h.liveState.canary == "registry.local/web:v1.0.0")

        // The first step, by hand: a pull request.
        let first = try h.cli(["promote", "shop", "--image", "web=v1.1.0", "--push", "--open-pr"])
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(first.stdout.contains("pull request #1 opened"), "\(first.stdout)")
        let status = try h.cli(["promote", "status", "shop", "--no-cluster", "-o", "json"])
        #expect(status.status == 0 && status.stdout.contains("promote/shop/web-v1.1.0-10"), "\(status.stdout)\(status.stderr)")

        let start = ContinuousClock.now
        var stepLatencies: [Double] = []
        var number = 1
        for (weight, next) in [(10, "promote/shop/web-v1.1.0-50"), (50, "promote/shop/web-v1.1.0-100"), (100, "promote/shop/web-v1.1.0-finish")] {
            let merged = ContinuousClock.now
            try h.forge.merge(number)
            try waitUntil(timeout: 15, "step \(weight) live (now \(h.liveState))") { h.liveState.canaryWeight == weight && h.liveState.canary == "registry.local/web:v1.1.0" }
            stepLatencies.append((ContinuousClock.now - merged).inSeconds)
            if weight == 10 {
                // The status page and /status.json show where the promotion stands.
                try waitUntil(timeout: 10, "the promotion on /status.json") { (try? agent.get("/status.json").body)?.contains("\"lastVerdict\"") == true }
                let page = try agent.get("/").body
                #expect(page.contains("<th>promotion</th>") && page.contains("canary 10% on v1.1.0, stable on v1.0.0"), "\(page)")
                // `promote analyze` runs the same checks by hand (read-only: no --act).
                let analyze = try h.cli(["promote", "analyze", "shop", "--prometheus", h.prometheus.url, "--checks", "1", "-o", "json"])
                #expect([0, 3].contains(analyze.status) && analyze.stdout.contains("\"tag\""), "\(analyze.stdout)\(analyze.stderr)")
                #expect(analyze.stdout.contains("success rate") && analyze.stdout.contains("istio_requests_total"), "\(analyze.stdout)")
            }
            // The agent analyzes the live step and, after two passing checks, opens the next one.
            number = try h.waitForPullRequest(next)
        }
        let merged = ContinuousClock.now
        try h.forge.merge(number)
        try waitUntil(timeout: 15, "the finish live (now \(h.liveState))") { h.liveState == (0, "registry.local/web:v1.1.0", "registry.local/web:v1.1.0") }
        stepLatencies.append((ContinuousClock.now - merged).inSeconds)
        let fullRun = (ContinuousClock.now - start).inSeconds
        print(String(format: "promotion: merge → weights live %.2f / %.2f / %.2f / %.2f s (10, 50, 100, finish); full 10 → 50 → 100 → finish run %.1f s with a 1 s analysis interval and 2 checks per step",
                     stepLatencies[0], stepLatencies[1], stepLatencies[2], stepLatencies[3], fullRun))
        // The agent's commits carry the analysis that passed.
        try h.git("pull", "-q", h.url, "main")
        let log = try h.git("log", "--format=%B%n----", "main")
        #expect(log.contains("Promote-Step: 50 (2/3)") && log.contains("Promote-Analysis: pass") && log.contains("Promote-Step: finish"), "\(log)")

        // A failing canary: v1.2.0 at 10 %, its requests start failing, the agent opens the rollback.
        h.exporter.set(successRate: 0.5)  // from now on: the new canary's requests fail (set early, so the window holds failures)
        let second = try h.cli(["promote", "shop", "--image", "web=v1.2.0", "--push", "--open-pr"])
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        let step = try h.waitForPullRequest("promote/shop/web-v1.2.0-10")
        try h.forge.merge(step)
        try waitUntil(timeout: 15, "v1.2.0 at 10 % live") { h.liveState.canary == "registry.local/web:v1.2.0" }
        let rollback = try h.waitForPullRequest("rollback/shop/web-v1.2.0")
        try h.forge.merge(rollback)
        try waitUntil(timeout: 15, "the rollback live (now \(h.liveState))") { h.liveState == (0, "registry.local/web:v1.1.0", "registry.local/web:v1.1.0") }
        try h.git("pull", "-q", h.url, "main")
        let message = try h.git("log", "-1", "--format=%B", "main^2")
        #expect(message.hasPrefix("rollback(shop): web v1.2.0 → v1.1.0"), "\(message)")
        for trailer in ["Promote-Analysis: fail", "Analysis-Check: success rate", "Analysis-Query: sum(rate(istio_requests_total", "Analysis-Threshold: >= 0.95", "Analysis-Value: 0.", "Analysis-Time: 20"] {
            #expect(message.contains(trailer), "missing \(trailer) in \(message)")
        }
        // `promote status` reads git and the cluster, and finds them equal.
        let status2 = try h.cli(["promote", "status", "shop", "--kubeconfig", h.emulator.directory.path + "/kubeconfig", "--context", "tai-emulator"])
        #expect(status2.status == 0, "\(status2.stderr)")
        #expect(status2.stdout.contains("shop: stable on v1.1.0 (no canary in progress)"), "\(status2.stdout)")
        #expect(status2.stdout.contains("weights stable=100 canary=0") && status2.stdout.contains("the cluster runs what git says"), "\(status2.stdout)")
        // No pull request was opened twice, and every request carried the token.
        let heads = h.forge.pullRequests.map(\.head)
        #expect(Set(heads).count == heads.count, "\(heads)")
        #expect(h.forge.requests.allSatisfy { $0.authorization == "Bearer forge-token" })
        await h.stopServices()
    }

    @Test("where the environment allows it and no forge is set, the agent commits each passing step on main itself and syncs it: 10 → finish untouched")
    func autoMergeWithoutForge() async throws {
        let h = try PromotionHarness(autoMerge: true)
        defer { h.dir.remove() }
        try await h.startServices()
        let agent = try h.startAgent(withForge: false)
        defer { agent.stop() }
        try agent.waitReady(timeout: 30)
        let first = try h.cli(["promote", "shop", "--image", "web=v1.1.0", "--push", "--auto-merge", "-o", "json"], withForge: false)
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(first.stdout.contains("\"branch\" : \"main\"") || first.stdout.contains("\"branch\": \"main\""), "\(first.stdout)")
        try h.announcePush()
        try waitUntil(timeout: 30, "the finish, by the agent alone (now \(h.liveState)); log: \(agent.logText().suffix(3000))") {
            h.liveState == (0, "registry.local/web:v1.1.0", "registry.local/web:v1.1.0")
        }
        let subjects = try ProcessRunner.check("git", ["-C", h.bare, "log", "--format=%s", "main"]).split(separator: "\n").map(String.init)
        #expect(subjects.prefix(4) == [
            "promote(shop): web v1.0.0 → v1.1.0, finish", "promote(shop): web v1.0.0 → v1.1.0, canary 100%",
            "promote(shop): web v1.0.0 → v1.1.0, canary 50%", "promote(shop): web v1.0.0 → v1.1.0, canary 10%",
        ], "\(subjects)")
        // The status page shows the promotion as it went (the last action of the agent).
        let page = try agent.get("/").body
        #expect(page.contains("shop"), "\(page.prefix(500))")
        await h.stopServices()
    }
}
