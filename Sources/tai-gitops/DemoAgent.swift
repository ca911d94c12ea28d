import ClusterEmulator
import Crypto
import Foundation
import Logging
import Prometheus
import ServiceLifecycle
import TaiAgent
import TaiCore
import TaiHTTP
import TaiKube
import TaiProcess
import TaiSource

/// The demo's last act: the agent running the loop against the embedded cluster, reading the
/// repository from a git server on loopback.
extension DemoCommand {
    struct LoopFigures {
        var webhookToApplied: Double
        var editToHealed: Double
        var page: String
    }

    func agentLoop(api: APIServer, client: KubeClient, out: DemoOutput) async throws -> LoopFigures {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("tai-demo-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: work) }
        let origin = work + "/config"
        let gitEnvironment = ProcessInfo.processInfo.environment.merging(
            ["GIT_AUTHOR_NAME": "demo", "GIT_AUTHOR_EMAIL": "demo@example.com", "GIT_COMMITTER_NAME": "demo", "GIT_COMMITTER_EMAIL": "demo@example.com"]
        ) { $1 }
        func git(_ args: String...) throws -> String {
            let result = try ChildProcess.run("git", ["-C", origin] + args, environment: gitEnvironment)
            guard result.status == 0 else { throw CLIError(message: "git \(args.joined(separator: " ")): \(result.errorText)") }
            return result.outputText.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        try FileManager.default.createDirectory(atPath: origin, withIntermediateDirectories: true)
        for folder in ["base", "overlays", "environments", "platform"] {
            try FileManager.default.copyItem(atPath: repo + "/" + folder, toPath: origin + "/" + folder)
        }
        _ = try git("init", "-q", "-b", "main")
        _ = try git("config", "daemon.uploadpack", "true")
        _ = try git("add", "-A")
        _ = try git("commit", "-q", "-m", "TAI configuration")

        // A git server on loopback.
        let server = try await DemoGitServer.start(base: work, repository: origin)
        defer { server.stop() }
        let url = server.url + "/config"

        // The agent, syncing dev from the git server (drift policy correct, interval 1h: only
        // webhooks and cluster changes wake it here).
        var settings = try SyncSettings.load(repo + "/environments/dev/sync.yaml")
        settings.interval = .seconds(3600)
        let secret = "demo-webhook-secret"
        let demoAgent = try await DemoAgent.start(settings: settings, url: url, cache: work + "/cache", client: client, secret: secret)
        defer { demoAgent.running.cancel() }
        let (agent, group, running) = (demoAgent.agent, demoAgent.group, demoAgent.running)
        let page = "http://127.0.0.1:\(agent.port ?? 0)/"
        out.line("  $ tai-gitops agent --config environments/dev/sync.yaml --repo \(url) --webhook-secret-file …")
        out.line("  serving the status page at \(page) (also /metrics, /readyz, /webhook)")
        out.line("  dev: \(await agent.board.record("dev")?.result.rawValue ?? "?") at \(String((await agent.board.record("dev")?.revision ?? "").prefix(12)))")

        // A commit, announced by a signed webhook.
        let kustomization = origin + "/environments/dev/kustomization.yaml"
        let text = try String(contentsOfFile: kustomization, encoding: .utf8)
        guard let range = text.range(of: "newName: ghcr.io/tai/tai-api\n  newTag: v1.1.0") else { throw CLIError(message: "environments/dev: tai-api v1.1.0 not found") }
        try text.replacingCharacters(in: range, with: "newName: ghcr.io/tai/tai-api\n  newTag: v1.1.1").write(toFile: kustomization, atomically: true, encoding: .utf8)
        _ = try git("commit", "-q", "-am", "dev: tai-api v1.1.1")
        let commit = try git("rev-parse", "HEAD")
        out.line("  $ git commit -am 'dev: tai-api v1.1.1' && git push   (\(commit.prefix(12)))")
        let body = Array(#"{"ref":"refs/heads/main","after":"\#(commit)","repository":{"clone_url":"\#(url)"}}"#.utf8)
        let signature = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8))).map { String(format: "%02x", $0) }.joined()
        let sent = ContinuousClock.now
        let answer = try await HTTPClient().execute(
            HTTPRequest(
                method: .post, url: page + "webhook",
                headers: [("Content-Type", "application/json"), ("X-GitHub-Event", "push"), ("X-Hub-Signature-256", "sha256=" + signature)], body: body))
        out.line("  the forge's push webhook → \(answer.status) \(String(decoding: answer.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))")
        let deployments = try await client.resource(apiVersion: "apps/v1", kind: "Deployment")
        func image() async -> String? {
            try? await client.get(deployments, namespace: "tai-dev", name: "tai-api")?[path: ["spec", "template", "spec", "containers"]]?.listValue?.first?["image"]?.stringValue
        }
        while await image() != "ghcr.io/tai/tai-api:v1.1.1" {
            guard ContinuousClock.now - sent < .seconds(10) else { throw CLIError(message: "the pushed commit was not applied within 10 s") }
            try await Task.sleep(for: .milliseconds(20))
        }
        let applied = (ContinuousClock.now - sent).inSeconds
        out.line("  applied \(String(format: "%.2f", applied)) s after the webhook: tai-api runs ghcr.io/tai/tai-api:v1.1.1")

        // A manual scale, healed (dev's drift policy is correct).
        out.line("  $ kubectl scale deployment tai-api -n tai-dev --replicas=4")
        let edited = ContinuousClock.now
        _ = api.handle(
            APIRequest(
                method: "PATCH", uri: "/apis/apps/v1/namespaces/tai-dev/deployments/tai-api/scale",
                headers: ["content-type": "application/merge-patch+json", "user-agent": "kubectl/v1.32.4 (linux/amd64)"],
                body: JSON.serializeBytes(["spec": ["replicas": 4]])))
        func replicas() async -> Int? { try? await client.get(deployments, namespace: "tai-dev", name: "tai-api")?[path: ["spec", "replicas"]]?.intValue }
        try await Task.sleep(for: .milliseconds(20))
        while await replicas() != 1 {
            guard ContinuousClock.now - edited < .seconds(10) else { throw CLIError(message: "the manual scale was not healed within 10 s") }
            try await Task.sleep(for: .milliseconds(20))
        }
        let healed = (ContinuousClock.now - edited).inSeconds
        out.line("  healed \(String(format: "%.2f", healed)) s later: tai-api is back at 1 replica (the watch saw the change)")
        if let record = await agent.board.record("dev") {
            out.line("  status: dev \(record.result.rawValue) at \(String((record.appliedRevision ?? "").prefix(12))); last apply \(record.configured) configured")
        }
        await group.triggerGracefulShutdown()
        try? await running.value
        out.line("  the agent stopped gracefully (SIGTERM does the same in a pod)")
        return LoopFigures(webhookToApplied: applied, editToHealed: healed, page: page)
    }

}

/// `git daemon` on a free loopback port, serving one repository of `base` (pushes allowed with `allowPush`).
struct DemoGitServer {
    let process: ChildProcess
    /// `git://127.0.0.1:PORT`; a repository's URL is this plus `/` and its path below `base`.
    let url: String

    static func start(base: String, repository: String, allowPush: Bool = false) async throws -> DemoGitServer {
        let execPath = try ChildProcess.run("git", ["--exec-path"]).outputText.trimmingCharacters(in: .whitespacesAndNewlines)
        let name = String(repository.dropFirst(base.count))
        for _ in 0..<20 {
            let port = Int.random(in: 20_000..<30_000)
            let started = try ChildProcess(
                execPath + "/git-daemon",
                ["--reuseaddr", "--export-all", "--base-path=" + base, "--listen=127.0.0.1", "--port=\(port)"] + (allowPush ? ["--enable=receive-pack"] : []) + [repository],
                output: .discard, error: .discard)
            let url = "git://127.0.0.1:\(port)"
            for _ in 0..<40 {
                if (try? ChildProcess.run("git", ["ls-remote", url + name]))?.status == 0 { return DemoGitServer(process: started, url: url) }
                try await Task.sleep(for: .milliseconds(50))
            }
            started.signal(SIGKILL)
            _ = started.wait()
        }
        throw CLIError(message: "could not start git-daemon on loopback")
    }

    func stop() {
        process.signal(SIGKILL)
        _ = process.wait()
    }
}

/// The agent run in-process by the demo: one environment from a git URL, a webhook secret,
/// quiet logs, listening on a free loopback port; returned once ready.
struct DemoAgent {
    let agent: Agent
    let group: ServiceGroup
    let running: Task<Void, any Error>

    static func start(
        settings: SyncSettings, url: String, cache: String, client: KubeClient, secret: String, promotion: PromotionSettings? = nil
    ) async throws -> DemoAgent {
        let quiet = Logger(label: "tai-gitops.demo") { _ in SwiftLogNoOpLogHandler() }
        var configuration = AgentConfiguration(
            environments: [settings], source: .remote(RemoteSource(url: url, cache: SourceCache(root: cache))), clients: [settings.name: client],
            identity: "demo")
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.webhookSecret = Array(secret.utf8)
        configuration.debounce = .milliseconds(200)
        configuration.promotion = promotion
        let agent = Agent(configuration: configuration, registry: PrometheusCollectorRegistry(), logger: quiet)
        let group = ServiceGroup(services: [agent], logger: quiet)
        let running = Task { try await group.run() }
        while !(await agent.board.isReady) { try await Task.sleep(for: .milliseconds(50)) }
        return DemoAgent(agent: agent, group: group, running: running)
    }
}
