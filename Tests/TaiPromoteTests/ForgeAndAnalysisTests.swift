import Foundation
import PromotionTestbed
import TaiCore
import TaiTesting
import TaiYAML
import Testing

@testable import TaiPromote

@Suite("Forge pull requests, per API")
struct ForgeClientTests {
    @Test("GitHub, Gitea and GitLab: open, find the open one instead of a second, merge, close — on each API's paths and auth header", arguments: ForgeSettings.Kind.allCases)
    func pullRequests(kind: ForgeSettings.Kind) async throws {
        let repo = try BareConfigRepository()
        defer { repo.dir.remove() }
        for n in 1...2 {
            let commit = try repo.git(["commit-tree", "main^{tree}", "-p", "main", "-m", "step \(n)"])
            try repo.git(["branch", "promote/prod/x-\(n)", commit])
        }
        let forge = try await ForgeEmulator.start(repository: repo.bare, token: "tok")
        let client = ForgeClient(settings: ForgeSettings(kind: kind, url: forge.url, repository: kind == .gitlab ? "tai/config" : "tai/config", token: "tok"))
        let (pr, created) = try await client.open(head: "promote/prod/x-1", base: "main", title: "step 1", body: "why")
        #expect(created && pr.number == 1 && pr.head == "promote/prod/x-1" && pr.base == "main" && pr.state == "open")
        let (same, createdAgain) = try await client.open(head: "promote/prod/x-1", base: "main", title: "step 1", body: "why")
        #expect(!createdAgain && same.number == 1)
        let (second, _) = try await client.open(head: "promote/prod/x-2", base: "main", title: "step 2", body: "")
        #expect(try await client.openPullRequests(headPrefix: "promote/prod/").map(\.number) == [1, 2])
        try await client.merge(1, title: "step 1")
        try await client.close(second.number)
        #expect(try await client.openPullRequests(headPrefix: "promote/").isEmpty)
        #expect(try repo.git(["log", "-1", "--format=%s", "main"]) == "Merge pull request #1 from promote/prod/x-1")

        let expected: [String]
        let auth: String
        switch kind {
        case .github:
            expected = ["GET /repos/tai/config/pulls", "POST /repos/tai/config/pulls", "GET /repos/tai/config/pulls", "GET /repos/tai/config/pulls",
                        "POST /repos/tai/config/pulls", "GET /repos/tai/config/pulls", "PUT /repos/tai/config/pulls/1/merge", "PATCH /repos/tai/config/pulls/2",
                        "GET /repos/tai/config/pulls"]
            auth = "Bearer tok"
        case .gitea:
            expected = ["GET /api/v1/repos/tai/config/pulls", "POST /api/v1/repos/tai/config/pulls", "GET /api/v1/repos/tai/config/pulls",
                        "GET /api/v1/repos/tai/config/pulls", "POST /api/v1/repos/tai/config/pulls", "GET /api/v1/repos/tai/config/pulls",
                        "POST /api/v1/repos/tai/config/pulls/1/merge", "PATCH /api/v1/repos/tai/config/pulls/2", "GET /api/v1/repos/tai/config/pulls"]
            auth = "token tok"
        case .gitlab:
            let p = "/api/v4/projects/tai%2Fconfig/merge_requests"
            expected = ["GET \(p)", "POST \(p)", "GET \(p)", "GET \(p)", "POST \(p)", "GET \(p)", "PUT \(p)/1/merge", "PUT \(p)/2", "GET \(p)"]
            auth = "PRIVATE-TOKEN tok"
        }
        #expect(forge.requests.map { "\($0.method) \($0.path)" } == expected)
        #expect(forge.requests.allSatisfy { $0.authorization == auth })
        await forge.stop()
    }

    @Test("a wrong token: the forge's 401 is an error naming the request, never a silent no-op")
    func badToken() async throws {
        let repo = try BareConfigRepository()
        defer { repo.dir.remove() }
        let forge = try await ForgeEmulator.start(repository: repo.bare, token: "right")
        let client = ForgeClient(settings: ForgeSettings(kind: .github, url: forge.url, repository: "tai/config", token: "wrong"))
        do {
            _ = try await client.open(head: "main", base: "main", title: "t", body: "")
            Issue.record("opened with a wrong token")
        } catch {
            #expect(error.status == 401 && error.description.contains("github GET /repos/tai/config/pulls") && !error.description.contains("wrong"), "\(error)")
        }
        await forge.stop()
    }
}

@Suite("Canary analysis against a real Prometheus", .serialized, .enabled(if: PrometheusServer.isInstalled, "the prometheus package (scripts/bootstrap.sh installs it)"))
struct AnalysisTests {
    static let policy = AnalysisPolicy(window: "5s", maxErrorRate: 0.05, maxLatencyP99Milliseconds: 200)

    @Test("a healthy canary passes; errors or slowness fail with the query, threshold and value; no data, a bad query or no Prometheus is never a pass")
    func verdicts() async throws {
        let exporter = try await IstioMetricsExporter.start(workload: "tai-api-canary", namespace: "tai-prod", successRate: 1, latencyMilliseconds: 40)
        let prometheus = try await PrometheusServer.start(targets: ["127.0.0.1:\(exporter.port)"], scrapeInterval: "1s", port: TaiTesting.freePort())
        defer { prometheus.stop() }
        let analyzer = PrometheusAnalyzer(url: prometheus.url)
        let checks = Self.policy.checks(workload: "tai-api-canary", namespace: "tai-prod")

        // Until Prometheus has two scrapes in the window there is no rate: inconclusive, not a pass.
        let early = await analyzer.evaluate(checks)
        #expect(early.outcome != .pass || early.results.allSatisfy { $0.value != nil })
        var verdict = early
        for _ in 0..<40 where verdict.outcome != .pass {
            try await Task.sleep(for: .milliseconds(250))
            verdict = await analyzer.evaluate(checks)
        }
        #expect(verdict.outcome == .pass, "\(verdict.summary)")
        #expect(verdict.results[0].value == 1 && (25...50).contains(verdict.results[1].value ?? 0), "\(verdict.summary)")

        exporter.set(successRate: 0.6)
        for _ in 0..<40 where verdict.outcome != .fail {
            try await Task.sleep(for: .milliseconds(250))
            verdict = await analyzer.evaluate(checks)
        }
        let failed = try #require(verdict.firstProblem)
        #expect(verdict.outcome == .fail && failed.check.name == "success rate" && failed.check.thresholdText == ">= 0.95" && (failed.value ?? 1) < 0.95)
        #expect(failed.check.query.contains("istio_requests_total{destination_workload=\"tai-api-canary\",destination_workload_namespace=\"tai-prod\""))

        exporter.set(successRate: 1, latencyMilliseconds: 400)
        let latency = checks[1]
        var slow = await analyzer.evaluate([latency])
        for _ in 0..<40 where slow.outcome != .fail {
            try await Task.sleep(for: .milliseconds(250))
            slow = await analyzer.evaluate([latency])
        }
        #expect(slow.outcome == .fail && (slow.results[0].value ?? 0) > 200, "\(slow.summary)")

        let missing = await analyzer.evaluate(Self.policy.checks(workload: "no-such-workload", namespace: "tai-prod"))
        #expect(missing.outcome == .inconclusive && missing.results.allSatisfy { $0.outcome == .inconclusive })
        let bad = await analyzer.evaluate([AnalysisPolicy.Check(name: "broken", query: "sum(rate(", max: 1)])
        #expect(bad.outcome == .inconclusive && bad.results[0].reason?.contains("query error") == true, "\(bad.summary)")
        let unreachable = await PrometheusAnalyzer(url: "http://127.0.0.1:\(TaiTesting.freePort())").evaluate(checks)
        #expect(unreachable.outcome == .inconclusive && unreachable.results[0].reason?.contains("did not answer") == true)
        await exporter.stop()
    }

    @Test("the analysis settings are read with errors naming the field")
    func settings() throws {
        let good = try YAMLValue("""
            spec:
              promotion:
                image: tai-api
                steps: [5, 25, 100]
                analysis: {interval: 30s, checks: 5, window: 2m, maxErrorRate: 0.02, queries: [{name: cpu, query: 'max(x)', max: 2}]}
            """)
        let policy = try #require(try PromotionPolicy.parse(good, file: "s.yaml"))
        #expect(policy.canaryImage == "tai-api-canary" && policy.steps == [5, 25, 100] && policy.analysis.checks == 5 && policy.analysis.interval == .seconds(30))
        #expect(policy.analysis.checks(workload: "w", namespace: "n").map(\.name) == ["success rate", "p99 latency (ms)", "cpu"])
        for (yaml, field) in [
            ("spec: {promotion: {image: a, steps: [50, 10]}}", "spec.promotion.steps[1]"),
            ("spec: {promotion: {image: a, steps: [0]}}", "spec.promotion.steps[0]"),
            ("spec: {promotion: {image: a, analysis: {interval: soon}}}", "spec.promotion.analysis.interval"),
            ("spec: {promotion: {image: a, analysis: {maxErrorRate: 2}}}", "spec.promotion.analysis.maxErrorRate"),
            ("spec: {promotion: {image: a, analysis: {queries: [{query: x}]}}}", "spec.promotion.analysis.queries[0]"),
            ("spec: {promotion: {steps: [10]}}", "spec.promotion.image"),
        ] {
            let value = try YAMLValue(yaml)
            do {
                _ = try PromotionPolicy.parse(value, file: "s.yaml")
                Issue.record("accepted: \(yaml)")
            } catch {
                #expect(error.field == field && error.file == "s.yaml", "\(yaml): \(error)")
            }
        }
    }
}

func YAMLValue(_ text: String) throws -> Value { try YAML.parse(text) }
