import Foundation
import PromotionTestbed
import TaiCore
import TaiGit
import TaiSource
import TaiTesting
import Testing

@testable import TaiPromote

/// A bare repository holding this repository's TAI config, and a clone to look at it with.
struct BareConfigRepository {
    let dir: TemporaryDirectory
    static let gitEnv = ["GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"]

    var bare: String { dir.path + "/config.git" }
    var url: String { "file://" + bare }

    init() throws {
        dir = try TemporaryDirectory("tai-promote-repo")
        try ProcessRunner.check("git", ["init", "-q", "--bare", "-b", "main", bare])
        let work = dir.path + "/seed"
        try ProcessRunner.check("git", ["init", "-q", "-b", "main", work])
        for top in ["base", "overlays", "environments"] {
            try ProcessRunner.check("cp", ["-R", TaiTesting.repositoryRoot + "/" + top, work + "/" + top])
        }
        // Staging may merge its own promotions (for the direct-commit tests).
        let sync = work + "/environments/staging/sync.yaml"
        let text = try String(contentsOfFile: sync, encoding: .utf8)
        try text.replacingOccurrences(of: "    steps: [10, 50, 100]\n", with: "    steps: [10, 50, 100]\n    autoMerge: true\n").write(toFile: sync, atomically: true, encoding: .utf8)
        try git(["add", "-A"], in: work)
        try git(["commit", "-q", "-m", "TAI config"], in: work)
        try git(["push", "-q", bare, "main"], in: work)
    }

    @discardableResult
    func git(_ arguments: [String], in directory: String? = nil) throws -> String {
        try ProcessRunner.check("git", ["-C", directory ?? bare] + arguments, environment: Self.gitEnv).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A file at a revision of the bare repository.
    func show(_ revision: String, _ file: String) throws -> String { try git(["show", "\(revision):\(file)"]) }

    func promoter(forge: ForgeClient? = nil) -> Promoter {
        Promoter(cache: SourceCache(root: dir.path + "/cache-\(UUID().uuidString.prefix(6))"), url: url, forge: forge)
    }
}

@Suite("Promotion commits, pushes and pull requests", .serialized)
struct PromoterTests {
    @Test("a step is one commit on its branch with structured trailers; a second run commits nothing and opens no second pull request")
    func stepWithPullRequest() async throws {
        let repo = try BareConfigRepository()
        defer { repo.dir.remove() }
        let forge = try await ForgeEmulator.start(repository: repo.bare, token: "t0ken")
        let client = ForgeClient(settings: ForgeSettings(kind: .github, url: forge.url, repository: "tai/config", token: "t0ken"))
        let promoter = repo.promoter(forge: client)
        let request = PromotionRequest(environment: "prod", action: .next, tag: "v1.1.0", image: "tai-api")
        let first = try await promoter.promote(request, mode: PublishMode(openPullRequest: true))
        #expect(first.branch == "promote/prod/tai-api-v1.1.0-10" && first.createdPullRequest && first.pullRequest?.number == 1)
        let message = try repo.git(["log", "-1", "--format=%B", first.branch])
        #expect(message.hasPrefix("promote(prod): tai-api v1.0.0 → v1.1.0, canary 10%"))
        for trailer in ["Promote-Environment: prod", "Promote-Image: tai-api", "Promote-From: v1.0.0", "Promote-To: v1.1.0", "Promote-Step: 10 (1/3)", "Promote-Weights: stable=90,canary=10", "Promote-Analysis: not run"] {
            #expect(message.contains("\n" + trailer), "missing trailer \(trailer) in:\n\(message)")
        }
        #expect(try repo.git(["diff", "--stat", "main", first.branch]).contains("environments/prod/kustomization.yaml | 2 +-"))
        // Again: the same branch, the same pull request, no new commit, no second POST.
        let again = try await promoter.promote(request, mode: PublishMode(openPullRequest: true))
        #expect(again.alreadyPublished && !again.createdPullRequest && again.pullRequest?.number == 1 && again.commit == first.commit)
        #expect(forge.requests.filter { $0.method == "POST" }.count == 1)
        #expect(forge.requests.allSatisfy { $0.authorization == "Bearer t0ken" })
        // A later step waits for the open one (one open pull request per environment and image).
        let later = PromotionRequest(environment: "prod", action: .step(50), tag: "v1.1.0", image: "tai-api")
        await #expect(throws: PromoteError.self) { try await promoter.promote(later, mode: PublishMode(openPullRequest: true)) }
        // Merged, the next step goes from main.
        try forge.merge(1)
        let second = try await promoter.promote(PromotionRequest(environment: "prod", action: .next, tag: "v1.1.0"), mode: PublishMode(openPullRequest: true))
        #expect(second.branch == "promote/prod/tai-api-v1.1.0-50" && second.pullRequest?.number == 2)
        // A rollback supersedes the pending step: its pull request is closed.
        let back = try await promoter.promote(PromotionRequest(environment: "prod", action: .rollback), mode: PublishMode(openPullRequest: true))
        #expect(back.branch == "rollback/prod/tai-api-v1.1.0" && back.closed.map(\.number) == [2])
        #expect(forge.pullRequests.first { $0.number == 2 }?.state == "closed")
        await forge.stop()
    }

    @Test("an image the environment does not promote, or auto-merge where it is not allowed, is refused and nothing is written")
    func refusals() async throws {
        let repo = try BareConfigRepository()
        defer { repo.dir.remove() }
        let promoter = repo.promoter()
        let before = try repo.git(["for-each-ref", "--format=%(refname) %(objectname)"])
        await #expect(throws: PromoteError.self) {
            try await promoter.promote(PromotionRequest(environment: "prod", action: .next, tag: "v1.1.0", image: "tai-worker"), mode: PublishMode())
        }
        do {
            _ = try await promoter.promote(PromotionRequest(environment: "prod", action: .next, tag: "v1.2.0"), mode: PublishMode(autoMerge: true))
            Issue.record("auto-merge into prod was accepted")
        } catch {
            #expect(error.field == "spec.promotion.autoMerge" && error.description.contains("environments/prod/sync.yaml"))
        }
        #expect(try repo.git(["for-each-ref", "--format=%(refname) %(objectname)"]) == before)
    }

    @Test("two promotions at once on the base branch: the refused push is rebased and retried, both commits land")
    func concurrent() async throws {
        let repo = try BareConfigRepository()
        defer { repo.dir.remove() }
        // Staging allows auto-merge: without a forge its steps are committed on main directly.
        // Prod's step is pushed between staging's commit and its push.
        var staging = repo.promoter()
        let prod = repo.promoter()
        let raced = RaceOnce {
            let prodOnMain = PromotionRequest(environment: "prod", action: .next, tag: "v2.0.0")
            // prod does not allow auto-merge: its commit goes straight onto main through a plain publish.
            let change = try prod.plan(prodOnMain)
            _ = try prod.cache.publish(PublishRequest(
                url: repo.url, base: "main", branch: "main",
                changes: { read in try ValueEdit.apply(change.edits, read: read).map { FileChange(path: $0.key, content: $0.value) } },
                message: change.title, author: Identity(name: "other", email: "o@x")))
        }
        staging.beforePush = { attempt in if attempt == 1 { raced.run() } }
        let outcome = try await staging.promote(PromotionRequest(environment: "staging", action: .next, tag: "v1.2.0"), mode: PublishMode(autoMerge: true))
        #expect(raced.error == nil, "\(raced.error.map { "\($0)" } ?? "")")
        #expect(outcome.branch == "main" && outcome.merged)
        let log = try repo.git(["log", "--format=%s", "main"]).split(separator: "\n").map(String.init)
        #expect(log.prefix(2) == ["promote(staging): tai-api v1.1.0 → v1.2.0, canary 10%", "promote(prod): tai-api v1.0.0 → v2.0.0, canary 10%"], "\(log)")
        #expect(try repo.show("main", "environments/prod/kustomization.yaml").contains("newTag: v2.0.0"))
        #expect(try repo.show("main", "environments/staging/kustomization.yaml").contains("newTag: v1.2.0"))
        #expect(outcome.events.contains { $0.contains("attempt 1") })
    }

    @Test("the same value moved by another promotion meanwhile: the retry refuses instead of overwriting")
    func conflicting() async throws {
        let repo = try BareConfigRepository()
        defer { repo.dir.remove() }
        var first = repo.promoter()
        let other = repo.promoter()
        let raced = RaceOnce {
            _ = try other.cache.publish(PublishRequest(
                url: repo.url, base: "main", branch: "main",
                changes: { read in
                    let change = try other.plan(PromotionRequest(environment: "staging", action: .next, tag: "v9.9.9"))
                    return try ValueEdit.apply(change.edits, read: read).map { FileChange(path: $0.key, content: $0.value) }
                },
                message: "someone else", author: Identity(name: "other", email: "o@x")))
        }
        first.beforePush = { attempt in if attempt == 1 { raced.run() } }
        do {
            _ = try await first.promote(PromotionRequest(environment: "staging", action: .next, tag: "v1.2.0"), mode: PublishMode(autoMerge: true))
            Issue.record("the second promotion overwrote the first")
        } catch {
            #expect(error.description.contains("another change moved it"), "\(error)")
        }
        #expect(try repo.show("main", "environments/staging/kustomization.yaml").contains("newTag: v9.9.9"))
    }
}

/// Runs a closure once, from a push hook, keeping its error.
final class RaceOnce: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    private(set) var error: (any Error)?
    let body: () throws -> Void

    init(_ body: @escaping () throws -> Void) { self.body = body }

    func run() {
        lock.lock()
        defer { lock.unlock() }
        guard !done else { return }
        done = true
        do { try body() } catch { self.error = error }
    }
}
