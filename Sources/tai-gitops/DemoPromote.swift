import Foundation
import Logging
import Prometheus
import PromotionTestbed
import ServiceLifecycle
import TaiAgent
import TaiCore
import TaiGit
import TaiKube
import TaiProcess
import TaiPromote
import TaiSource

/// The demo's promotion act: prod's canary taken 10 → 50 → 100 → finish through pull requests the
/// agent opens after passing analysis, then a failing canary rolled back by the agent — on a git
/// server, a forge emulator and a real Prometheus, all on loopback.
extension DemoCommand {
    struct PromotionFigures {
        var stepLatencies: [Double]
        var fullRun: Double
        var failedCheck: String
    }

    func promotion(client: KubeClient, out: DemoOutput) async throws -> PromotionFigures? {
        guard PrometheusServer.isInstalled else {
            out.line("  prometheus is not installed (scripts/bootstrap.sh installs it): the promotion act is skipped")
            return nil
        }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("tai-demo-promote-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: work) }
        let bare = work + "/config.git", seed = work + "/seed"
        let gitEnvironment = ProcessInfo.processInfo.environment.merging(
            ["GIT_AUTHOR_NAME": "demo", "GIT_AUTHOR_EMAIL": "demo@example.com", "GIT_COMMITTER_NAME": "demo", "GIT_COMMITTER_EMAIL": "demo@example.com"]
        ) { $1 }
        func git(_ args: [String]) throws {
            let result = try ChildProcess.run("git", args, environment: gitEnvironment)
            guard result.status == 0 else { throw CLIError(message: "git \(args.joined(separator: " ")): \(result.errorText)") }
        }
        try FileManager.default.createDirectory(atPath: seed, withIntermediateDirectories: true)
        for folder in ["base", "overlays", "environments", "platform"] {
            try FileManager.default.copyItem(atPath: repo + "/" + folder, toPath: seed + "/" + folder)
        }
        try git(["init", "-q", "--bare", "-b", "main", bare])
        try git(["-C", seed, "init", "-q", "-b", "main"])
        try git(["-C", seed, "add", "-A"])
        try git(["-C", seed, "commit", "-q", "-m", "TAI configuration"])
        try git(["-C", seed, "push", "-q", bare, "main"])
        let server = try await DemoGitServer.start(base: work, repository: bare, allowPush: true)
        defer { server.stop() }
        let url = server.url + "/config.git"

        // The canary's traffic as Istio reports it, scraped every second by Prometheus.
        let exporter = try await IstioMetricsExporter.start(workload: "tai-api-canary", namespace: "tai-prod", successRate: 1, latencyMilliseconds: 40)
        var prometheus: PrometheusServer?
        for _ in 0..<5 where prometheus == nil {
            prometheus = try? await PrometheusServer.start(targets: ["127.0.0.1:\(exporter.port)"], scrapeInterval: "1s", port: Int.random(in: 30_000..<40_000))
        }
        guard let prometheus else { throw CLIError(message: "prometheus did not start on loopback") }
        defer { prometheus.stop() }
        let forge = try await ForgeEmulator.start(repository: bare, token: "demo-token")
        let forgeClient = ForgeClient(settings: ForgeSettings(kind: .github, url: forge.url, repository: "tai/config", token: "demo-token"))
        out.line("  a git server at \(url), a GitHub-style forge at \(forge.url), Prometheus at \(prometheus.url) scraping the canary's Istio metrics")

        // The agent, syncing prod and driving its promotion (analysis every second, 2 passing checks a step).
        var settings = try SyncSettings.load(repo + "/environments/prod/sync.yaml")
        settings.interval = .seconds(3600)
        settings.promotion?.analysis.interval = .seconds(1)
        settings.promotion?.analysis.checks = 2
        settings.promotion?.analysis.window = "5s"
        let secret = "demo-promote-secret"
        let demoAgent = try await DemoAgent.start(
            settings: settings, url: url, cache: work + "/agent-cache", client: client, secret: secret,
            promotion: PromotionSettings(prometheus: prometheus.url, forge: forgeClient))
        defer { demoAgent.running.cancel() }
        let (agent, group, running) = (demoAgent.agent, demoAgent.group, demoAgent.running)
        forge.webhook = ("http://127.0.0.1:\(agent.port ?? 0)/webhook", secret)
        out.line("  $ tai-gitops agent --config environments/prod/sync.yaml --repo \(url) --promote --prometheus \(prometheus.url) --forge github …")

        guard let policy = settings.promotion else { throw CLIError(message: "environments/prod/sync.yaml has no spec.promotion") }
        func live() async -> LiveCanary? { try? await LiveCanary.read(client: client, namespace: "tai-prod", policy: policy) }
        func waitFor(_ what: String, _ condition: (LiveCanary) -> Bool) async throws -> (seconds: Double, live: LiveCanary) {
            let start = ContinuousClock.now
            while true {
                if let l = await live(), condition(l) { return ((ContinuousClock.now - start).inSeconds, l) }
                guard ContinuousClock.now - start < .seconds(30) else { throw CLIError(message: "demo: \(what) did not happen within 30 s") }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        func waitForPullRequest(_ head: String) async throws -> (number: Int, title: String) {
            let start = ContinuousClock.now
            while true {
                if let pr = forge.pullRequests.first(where: { $0.head == head && $0.state == "open" }) { return (pr.number, pr.title) }
                guard ContinuousClock.now - start < .seconds(30) else { throw CLIError(message: "demo: no pull request for \(head) within 30 s") }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        func weightsText(_ l: LiveCanary) -> String { l.weights.map { "\($0.subset) \($0.weight)" }.joined(separator: " / ") }

        let promoter = Promoter(cache: SourceCache(root: work + "/cli-cache"), url: url, forge: forgeClient)
        let first = try await promoter.promote(PromotionRequest(environment: "prod", action: .next, tag: "v1.1.0", image: "tai-api"), mode: PublishMode(openPullRequest: true))
        out.line("  $ tai-gitops promote prod --image tai-api=v1.1.0 --push --open-pr --forge github --forge-repo tai/config")
        out.line("    \(first.change.title) — pull request #\(first.pullRequest?.number ?? 0) (\(first.branch))")

        let runStart = ContinuousClock.now
        var latencies: [Double] = []
        var pr = (number: first.pullRequest?.number ?? 1, title: first.change.title)
        for (weight, next) in [(10, "promote/prod/tai-api-v1.1.0-50"), (50, "promote/prod/tai-api-v1.1.0-100"), (100, "promote/prod/tai-api-v1.1.0-finish")] {
            try forge.merge(pr.number)
            let (seconds, now) = try await waitFor("canary \(weight) %") { $0.weight(of: "canary") == weight && $0.canary?.image == "ghcr.io/tai/tai-api:v1.1.0" }
            latencies.append(seconds)
            out.line("  merged #\(pr.number) → the forge's webhook → applied \(String(format: "%.2f", seconds)) s later: tai-vs \(weightsText(now))")
            pr = try await waitForPullRequest(next)
            let verdict = await agent.board.promotion("prod")?.lastVerdict ?? "passed"
            out.line("    the agent's analysis \(verdict) → it opened #\(pr.number): \(pr.title)")
        }
        try forge.merge(pr.number)
        let (finished, final) = try await waitFor("the finish") { $0.weight(of: "canary") == 0 && $0.stable?.image == "ghcr.io/tai/tai-api:v1.1.0" }
        latencies.append(finished)
        let fullRun = (ContinuousClock.now - runStart).inSeconds
        out.line("  merged #\(pr.number) → applied \(String(format: "%.2f", finished)) s later: tai-api runs v1.1.0 as the stable image, tai-vs \(weightsText(final))")

        // A canary that fails its analysis is rolled back in git.
        exporter.set(successRate: 0.6)  // the build v1.2.0 will fail 40 % of its requests
        let bad = try await promoter.promote(PromotionRequest(environment: "prod", action: .next, tag: "v1.2.0", image: "tai-api"), mode: PublishMode(openPullRequest: true))
        out.line("  $ tai-gitops promote prod --image tai-api=v1.2.0 --push --open-pr …   → #\(bad.pullRequest?.number ?? 0); merged")
        try forge.merge(bad.pullRequest?.number ?? 0)
        _ = try await waitFor("v1.2.0 at 10 %") { $0.canary?.image == "ghcr.io/tai/tai-api:v1.2.0" }
        out.line("  v1.2.0 takes 10 % of the traffic; 40 % of its requests now fail")
        let rollback = try await waitForPullRequest("rollback/prod/tai-api-v1.2.0")
        let failed = await agent.board.promotion("prod")?.lastVerdict ?? "failed"
        out.line("    the agent's analysis \(failed)")
        out.line("    → it opened #\(rollback.number): \(rollback.title) (the failed query, threshold, value and time in its trailers)")
        try forge.merge(rollback.number)
        let (restored, back) = try await waitFor("the rollback") { $0.canary?.image == "ghcr.io/tai/tai-api:v1.1.0" && $0.weight(of: "canary") == 0 }
        out.line("  merged #\(rollback.number) → applied \(String(format: "%.2f", restored)) s later: the canary is back on v1.1.0, tai-vs \(weightsText(back))")

        await group.triggerGracefulShutdown()
        try? await running.value
        await forge.stop()
        await exporter.stop()
        return PromotionFigures(stepLatencies: latencies, fullRun: fullRun, failedCheck: failed)
    }
}
