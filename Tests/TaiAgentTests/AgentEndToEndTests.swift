import Foundation
import TaiCore
import TaiTesting
import Testing

/// `tai-gitops agent` end to end: a real git server (git-daemon), the cluster emulator and the
/// agent binary, all on loopback.
@Suite("Agent end to end", .serialized)
struct AgentEndToEndTests {
    @Test("a signed push webhook is applied within 2 s; bad, missing, malformed or oversized webhooks change nothing")
    func webhook() throws {
        let h = try AgentHarness()
        let agent = try h.agent(name: "a")
        try agent.waitReady()
        #expect(h.live("configmap", "settings")?[path: ["data", "v"]] == "1")
        #expect(try agent.get("/healthz").status == 200)

        try h.setConfig("2")
        let commit = try h.commit("v2")
        let fetchesBefore = agent.metric("tai_gitops_fetches_total") ?? 0
        // Refused before anything is fetched.
        let bad = h.githubPush(commit: commit, signature: "sha256=" + String(repeating: "0", count: 64))
        #expect(try agent.post("/webhook", headers: bad.headers, body: bad.body).status == 401)
        #expect(try agent.post("/webhook", headers: ["Content-Type": "application/json"], body: "{}").status == 401)
        #expect(try agent.post("/webhook", headers: ["X-Gitlab-Token": h.secret], body: "not json").status == 400)
        #expect(try agent.post("/webhook", headers: ["X-Gitlab-Token": h.secret], body: String(repeating: "x", count: 1 << 21)).status == 413)
        Thread.sleep(forTimeInterval: 0.3)
        #expect(agent.metric("tai_gitops_fetches_total") ?? 0 == fetchesBefore)
        #expect(h.live("configmap", "settings")?[path: ["data", "v"]] == "1")

        let push = h.githubPush(commit: commit)
        let started = Date()
        #expect(try agent.post("/webhook", headers: push.headers, body: push.body).status == 202)
        let seconds = try waitUntil(timeout: 2, "the commit applied") { h.live("configmap", "settings")?[path: ["data", "v"]] == "2" }
        print("webhook: commit to applied in \(String(format: "%.2f", seconds)) s (\(String(format: "%.2f", Date().timeIntervalSince(started))) s with the check)")
        try waitUntil(timeout: 5, "status Synced at the commit") { try agent.record()?["appliedRevision"]?.stringValue == commit }

        // The log is JSON lines, each with the environment and revision once they are known.
        let lines = agent.logText().split(separator: "\n").compactMap { try? JSON.parse(String($0)) }
        #expect(!lines.isEmpty)
        #expect(lines.contains { $0["environment"] == "demo" && $0["revision"]?.stringValue == String(commit.prefix(12)) && $0["message"] == "applied" })
        #expect(!agent.logText().contains(h.secret), "the webhook secret must never be logged")

        // The status page and `tai-gitops status` show it.
        let page = try agent.get("/")
        #expect(page.status == 200 && page.body.contains("demo") && page.body.contains(String(commit.prefix(12))))
        let status = try ProcessRunner.run(
            TaiTesting.taiGitopsBinary, ["status", "demo", "--kubeconfig", h.emulator.directory.path + "/kubeconfig", "-o", "json"])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains(commit))
    }

    @Test("a manual edit is healed under drift.policy correct, and only reported under report")
    func selfHeal() throws {
        let h = try AgentHarness()
        let correcting = try h.agent(name: "correct", policy: "correct")
        try correcting.waitReady()
        _ = try h.emulator.ok(["scale", "deployment", "web", "-n", "agent-demo", "--replicas=5"])
        let healed = try waitUntil(timeout: 2, "the scale healed") { h.live("deployment", "web")?[path: ["spec", "replicas"]] == 2 }
        print("self-heal: manual scale healed in \(String(format: "%.2f", healed)) s")
        correcting.stop(SIGTERM)

        let reporting = try h.agent(name: "report", policy: "report")
        try reporting.waitReady()
        _ = try h.emulator.ok(["scale", "deployment", "web", "-n", "agent-demo", "--replicas=4"])
        try waitUntil(timeout: 3, "the drift reported") { try reporting.record()?["result"] == "Drifted" }
        Thread.sleep(forTimeInterval: 0.5)
        #expect(h.live("deployment", "web")?[path: ["spec", "replicas"]] == 4, "report must not correct")
        let drifted = try #require(try reporting.record()?["drifted"]?.listValue?.first)
        #expect(drifted["id"]?.stringValue?.contains("web") == true)
        #expect(drifted["fields"]?.listValue?.contains { $0.stringValue?.contains("spec.replicas: 4 → 2") == true && $0.stringValue?.contains("kubectl") == true } == true, "\(drifted)")
        let status = try ProcessRunner.run(TaiTesting.taiGitopsBinary, ["status", "--kubeconfig", h.emulator.directory.path + "/kubeconfig"])
        #expect(status.status == 1)
        #expect(status.stdout.contains("demo: Drifted") && status.stdout.contains("spec.replicas"), "\(status.stdout)")
        #expect(try reporting.get("/readyz").status == 200)
    }

    @Test("two replicas: only the leader writes; when it is killed the other takes over within the lease duration")
    func leaderElection() throws {
        let h = try AgentHarness()
        let a = try h.agent(name: "a", leaderElection: true, fieldManager: "agent-a")
        try a.waitReady()
        try waitUntil(timeout: 5, "a leads") { a.metric("tai_gitops_leader{") == 1 }
        let b = try h.agent(name: "b", leaderElection: true, fieldManager: "agent-b")
        try b.waitReady()
        #expect(b.metric("tai_gitops_leader{") == 0)
        try h.setConfig("2")
        let second = try h.commit("v2")
        let push = h.githubPush(commit: second)
        for agent in [a, b] { _ = try agent.post("/webhook", headers: push.headers, body: push.body) }
        try waitUntil(timeout: 3, "v2 applied") { h.live("configmap", "settings")?[path: ["data", "v"]] == "2" }
        Thread.sleep(forTimeInterval: 0.5)
        #expect(try h.writes(by: "agent-a") > 0)
        #expect(try h.writes(by: "agent-b") == 0, "the standby must not write")

        a.stop(SIGKILL)
        let takeover = try waitUntil(timeout: 6, "b takes over") { b.metric("tai_gitops_leader{") == 1 }
        print("leader election: the standby took over \(String(format: "%.2f", takeover)) s after the leader was killed (lease duration 3 s)")
        #expect(takeover < 3 + 1.5)
        try h.setConfig("3")
        let third = try h.commit("v3")
        let push3 = h.githubPush(commit: third)
        _ = try b.post("/webhook", headers: push3.headers, body: push3.body)
        try waitUntil(timeout: 3, "v3 applied by the new leader") { h.live("configmap", "settings")?[path: ["data", "v"]] == "3" }
        #expect(try h.writes(by: "agent-b") > 0)
    }

    @Test("a leader stopped with SIGTERM releases its lease: the standby takes over at once, not after the lease expires")
    func leaseReleasedOnShutdown() throws {
        let h = try AgentHarness()
        let a = try h.agent(name: "a", leaderElection: true, fieldManager: "agent-a", extra: ["--lease-duration", "30"])
        try a.waitReady()
        try waitUntil(timeout: 5, "a leads") { a.metric("tai_gitops_leader{") == 1 }
        let b = try h.agent(name: "b", leaderElection: true, fieldManager: "agent-b", extra: ["--lease-duration", "30"])
        try b.waitReady()
        a.stop(SIGTERM)
        let takeover = try waitUntil(timeout: 5, "b takes over") { b.metric("tai_gitops_leader{") == 1 }
        print("leader election: takeover \(String(format: "%.2f", takeover)) s after the leader's SIGTERM (lease duration 30 s)")
        #expect(a.logText().contains("released the lease"))
    }

    @Test("git server down: the status shows the error and the last revision stays applied")
    func gitServerDown() throws {
        let h = try AgentHarness()
        let agent = try h.agent(name: "a")
        try agent.waitReady()
        let first = try #require(try agent.record()?["appliedRevision"]?.stringValue)
        h.stopDaemon()
        try h.setConfig("2")
        let commit = try h.commit("v2 while the server is down")
        let push = h.githubPush(commit: commit)
        #expect(try agent.post("/webhook", headers: push.headers, body: push.body).status == 202)
        try waitUntil(timeout: 5, "the fetch failure in the status") { try agent.record()?["message"]?.stringValue?.contains("last good snapshot") == true }
        #expect(try agent.record()?["revision"]?.stringValue == first)
        #expect(h.live("configmap", "settings")?[path: ["data", "v"]] == "1")
        #expect((agent.metric("tai_gitops_fetch_errors_total") ?? 0) >= 1)
        #expect(try agent.get("/").body.contains("last good snapshot"))
        // Back up: the next push is applied.
        try h.startDaemon()
        _ = try agent.post("/webhook", headers: push.headers, body: push.body)
        try waitUntil(timeout: 5, "v2 applied once the server is back") { h.live("configmap", "settings")?[path: ["data", "v"]] == "2" }
    }

    @Test("a commit that does not render is reported in status and metrics and changes nothing; the fix is applied")
    func renderFailure() throws {
        let h = try AgentHarness()
        let agent = try h.agent(name: "a")
        try agent.waitReady()
        try h.write("environments/demo/kustomization.yaml", "namespace: agent-demo\nresources: [namespace.yaml, config.yaml, web.yaml, missing.yaml]\n")
        try h.setConfig("broken")
        let broken = try h.commit("broken")
        let push = h.githubPush(commit: broken)
        #expect(try agent.post("/webhook", headers: push.headers, body: push.body).status == 202)
        try waitUntil(timeout: 5, "the render failure reported") { try agent.record()?["result"] == "Failed" }
        let record = try #require(try agent.record())
        #expect(record["message"]?.stringValue?.contains("render") == true && record["message"]?.stringValue?.contains("missing.yaml") == true, "\(record)")
        #expect(record["revision"]?.stringValue == broken && record["appliedRevision"]?.stringValue != broken)
        #expect(h.live("configmap", "settings")?[path: ["data", "v"]] == "1", "the cluster keeps the last applied revision")
        #expect(agent.metric("tai_gitops_sync_failing{") == 1)
        try h.write("environments/demo/kustomization.yaml", "namespace: agent-demo\nresources: [namespace.yaml, config.yaml, web.yaml]\n")
        let fixed = try h.commit("fixed")
        let push2 = h.githubPush(commit: fixed)
        _ = try agent.post("/webhook", headers: push2.headers, body: push2.body)
        try waitUntil(timeout: 5, "the fix applied") { h.live("configmap", "settings")?[path: ["data", "v"]] == "broken" }
        #expect(try agent.record()?["result"] == "Synced")
    }

    @Test("with 20% of API requests failing the loop still converges, nothing lost")
    func apiFaults() throws {
        let h = try AgentHarness(emulatorArguments: ["--faults", "500=0.1,429=0.05,drop=0.05"])
        let agent = try h.agent(name: "a")
        try agent.waitReady(timeout: 30)
        try waitUntil(timeout: 30, "synced through the faults") { try agent.record()?["result"] == "Synced" }
        // kubectl meets the same faults: each check is retried until one read gets through.
        try waitUntil(timeout: 10, "the ConfigMap there") { h.live("configmap", "settings")?[path: ["data", "v"]] == "1" }
        try waitUntil(timeout: 10, "the Deployment there") { h.live("deployment", "web")?[path: ["spec", "replicas"]] == 2 }
        // The faults were met (and retried): answers with 429, 500 or none at all are counted. A first sync
        // makes few resource requests, so it may meet none; further commits are pushed until one has, and
        // each of them must arrive.
        func faultedRequests() throws -> (count: Double, lines: [Substring]) {
            let metrics = try agent.get("/metrics").body.split(separator: "\n").filter { $0.hasPrefix("tai_gitops_api_requests_total") }
            let faulted = metrics.filter { $0.contains("code=\"500\"") || $0.contains("code=\"429\"") || $0.contains("code=\"error\"") }
            return (faulted.reduce(0) { $0 + (Double($1.split(separator: " ").last ?? "") ?? 0) }, metrics)
        }
        var round = 0
        while try faultedRequests().count == 0 && round < 15 {
            round += 1
            try h.setConfig("round-\(round)")
            let push = h.githubPush(commit: try h.commit("round \(round)"))
            _ = try agent.post("/webhook", headers: push.headers, body: push.body)
            try waitUntil(timeout: 20, "round \(round) applied through the faults") {
                h.live("configmap", "settings")?[path: ["data", "v"]] == .string("round-\(round)")
            }
        }
        let met = try faultedRequests()
        #expect(met.count > 0, "\(met.lines)")
    }

    @Test("SIGTERM during an apply: the agent stops within its grace period, and the next start finishes the job")
    func sigtermMidApply() throws {
        let h = try AgentHarness(emulatorArguments: ["--faults", "latency=400ms,verbs=apply"])
        let agent = try h.agent(name: "a")
        try waitUntil(timeout: 10, "the first apply under way") { h.live("namespace", "agent-demo") != nil || agent.logText().contains("applied") }
        let start = Date()
        agent.process.signal(SIGTERM)
        let status = agent.process.wait()
        print("SIGTERM: the agent stopped \(String(format: "%.2f", Date().timeIntervalSince(start))) s after the signal (exit \(status))")
        #expect(Date().timeIntervalSince(start) < 10)
        #expect(agent.logText().contains("tai-gitops agent stopped"))
        let again = try h.agent(name: "a2")
        try again.waitReady(timeout: 30)
        try waitUntil(timeout: 10, "synced after the restart") { try again.record()?["result"] == "Synced" }
        #expect(h.live("deployment", "web") != nil && h.live("configmap", "settings") != nil)
    }

    @Test("a configuration naming a missing path or context is refused at start, saying which")
    func badConfiguration() throws {
        let h = try AgentHarness()
        let missingPath = try h.dir.write(
            "bad-path.yaml",
            "apiVersion: tai.io/v1alpha1\nkind: SyncSettings\nmetadata:\n  name: nope\nspec:\n  source:\n    path: environments/nope\n")
        func start(_ config: String) throws -> ProcessResult {
            try ProcessRunner.run(
                TaiTesting.taiGitopsBinary,
                ["agent", "--config", config, "--repo", h.url, "--cache-dir", h.dir.path + "/cache", "--kubeconfig", h.emulator.directory.path + "/kubeconfig", "--listen", "127.0.0.1:0"])
        }
        let run = try start(missingPath)
        #expect(run.status == 2)
        #expect(run.stderr.contains("bad-path.yaml") && run.stderr.contains("spec.source.path") && run.stderr.contains("environments/nope"), "\(run.stderr)")
        let badContext = try h.dir.write(
            "bad-context.yaml",
            "apiVersion: tai.io/v1alpha1\nkind: SyncSettings\nmetadata:\n  name: demo\nspec:\n  cluster:\n    context: nowhere\n  source:\n    path: environments/demo\n")
        let run2 = try start(badContext)
        #expect(run2.status == 2)
        #expect(run2.stderr.contains("nowhere") && run2.stderr.contains("spec.cluster.context"), "\(run2.stderr)")
        let badPolicy = try h.dir.write(
            "bad-policy.yaml", "apiVersion: tai.io/v1alpha1\nkind: SyncSettings\nmetadata:\n  name: demo\nspec:\n  drift:\n    policy: sometimes\n")
        let run3 = try ProcessRunner.run(TaiTesting.taiGitopsBinary, ["agent", "--config", badPolicy, "--repo", h.origin])
        #expect(run3.status == 2 && run3.stderr.contains("spec.drift.policy"), "\(run3.stderr)")
        // --promote: an environment with a promotion policy but no Prometheus, or a checkout as the source.
        let promoted = try h.dir.write(
            "promoted.yaml",
            "apiVersion: tai.io/v1alpha1\nkind: SyncSettings\nmetadata:\n  name: demo\nspec:\n  source:\n    path: environments/demo\n  promotion:\n    image: web\n")
        let run4 = try ProcessRunner.run(TaiTesting.taiGitopsBinary, ["agent", "--config", promoted, "--repo", h.url, "--cache-dir", h.dir.path + "/cache", "--kubeconfig", h.emulator.directory.path + "/kubeconfig", "--promote"])
        #expect(run4.status == 2 && run4.stderr.contains("promoted.yaml") && run4.stderr.contains("spec.promotion.analysis.prometheus"), "\(run4.stderr)")
        let run5 = try ProcessRunner.run(TaiTesting.taiGitopsBinary, ["agent", "--config", promoted, "--repo", h.origin, "--kubeconfig", h.emulator.directory.path + "/kubeconfig", "--promote", "--prometheus", "http://127.0.0.1:1"])
        #expect(run5.status == 2 && run5.stderr.contains("--repo URL"), "\(run5.stderr)")
        let run6 = try ProcessRunner.run(
            TaiTesting.taiGitopsBinary,
            ["agent", "--config", promoted, "--repo", h.url, "--kubeconfig", h.emulator.directory.path + "/kubeconfig", "--promote", "--prometheus", "http://127.0.0.1:1", "--forge", "github", "--forge-repo", "a/b", "--forge-token-env", "TAI_NO_SUCH_TOKEN"])
        #expect(run6.status == 2 && run6.stderr.contains("no API token"), "\(run6.stderr)")
    }

    @Test("the status page renders in headless Chromium without JavaScript: environments, revision, drift with attribution, not blank")
    func statusPageInChromium() throws {
        let chromium = ["chromium", "chromium-browser"].first { (try? ProcessRunner.run("which", [$0]))?.status == 0 }
        let browser = try #require(chromium, "headless Chromium is needed (scripts/bootstrap.sh installs Debian's chromium)")
        let h = try AgentHarness()
        let agent = try h.agent(name: "page", policy: "report")
        try agent.waitReady()
        _ = try h.emulator.ok(["scale", "deployment", "web", "-n", "agent-demo", "--replicas=3"])
        try waitUntil(timeout: 3, "the drift reported") { try agent.record()?["result"] == "Drifted" }
        let screenshot = h.dir.path + "/status.png"
        let common = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-javascript", "--no-first-run", "--user-data-dir=" + h.dir.path + "/chromium"]
        let dom = try ProcessRunner.run(browser, common + ["--dump-dom", agent.base + "/"])
        #expect(dom.status == 0, "\(dom.stderr.suffix(500))")
        #expect(dom.stdout.contains("demo") && dom.stdout.contains("Drifted") && dom.stdout.contains("spec.replicas: 3 → 2"), "\(dom.stdout.prefix(2000))")
        #expect(dom.stdout.contains("http-equiv=\"refresh\""))
        let shot = try ProcessRunner.run(browser, common + ["--screenshot=" + screenshot, "--window-size=1200,800", "--hide-scrollbars", agent.base + "/"])
        #expect(shot.status == 0, "\(shot.stderr.suffix(500))")
        let stats = try JSON.parse(try ProcessRunner.check("python3", [TaiTesting.repositoryRoot + "/scripts/png-stats.py", screenshot]))
        #expect(stats["width"] == 1200 && stats["height"] == 800, "\(stats)")
        #expect((stats["colors"]?.intValue ?? 0) > 20, "a page of text and badges has many colours: \(stats)")
        #expect((stats["inked"]?.numberValue ?? 0) > 0.02, "more than a blank page: \(stats)")
    }
}
