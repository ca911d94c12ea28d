import Foundation
import TaiGit
import TaiSource
import TaiTesting
import Testing

/// Promotion writes: a branch from a base, a commit with trailers (optionally SSH-signed), a push;
/// a push refused because the branch moved is redone on the new head.
@Suite("Publishing commits", .serialized)
struct PublishTests {
    static let bot = Identity(name: "tai-gitops", email: "tai-gitops@example.com")

    /// A bare remote holding the Origin's history.
    static func bareRemote(_ origin: SourceCacheTests.Origin) throws -> String {
        let bare = origin.dir.path + "/remote.git"
        try ProcessRunner.check("git", ["clone", "-q", "--bare", origin.path, bare])
        return bare
    }

    static func bumpImage(_ tag: String) -> @Sendable ((String) -> [UInt8]?) -> [FileChange] {
        { read in
            let old = read("environments/dev/cm.yaml").map { String(decoding: $0, as: UTF8.self) } ?? ""
            return [FileChange(path: "environments/dev/cm.yaml", content: Array((old + "# image \(tag)\n").utf8)),
                    FileChange(path: "environments/dev/promotion.txt", content: Array("\(tag)\n".utf8))]
        }
    }

    @Test("a new branch from main with the change and trailers, pushed; the base branch is untouched")
    func publish() throws {
        let origin = try SourceCacheTests.Origin()
        defer { origin.dir.remove() }
        let remote = try Self.bareRemote(origin)
        let cache = SourceCache(root: origin.dir.path + "/cache")
        let result = try cache.publish(PublishRequest(
            url: "file://" + remote, base: "main", branch: "promote/tai-api-v1.1.0", changes: Self.bumpImage("v1.1.0"),
            message: "Promote tai-api to v1.1.0 (canary 10%)", trailers: [("Promoted-By", "tai-gitops"), ("Canary-Step", "10")], author: Self.bot))
        #expect(result.attempts == 1)
        func git(_ args: String...) throws -> String { try ProcessRunner.check("git", ["--git-dir", remote] + args).trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect(try git("rev-parse", "promote/tai-api-v1.1.0") == result.commit.hex)
        #expect(try git("show", "promote/tai-api-v1.1.0:environments/dev/promotion.txt") == "v1.1.0")
        let message = try git("log", "-1", "--format=%B", "promote/tai-api-v1.1.0")
        #expect(message.hasPrefix("Promote tai-api to v1.1.0 (canary 10%)"))
        #expect(message.contains("Promoted-By: tai-gitops\nCanary-Step: 10"))
        #expect(try git("log", "-1", "--format=%an <%ae>", "promote/tai-api-v1.1.0") == "tai-gitops <tai-gitops@example.com>")
        #expect(try git("rev-parse", "main") == (try origin.git("rev-parse", "HEAD")), "main is untouched")
        #expect(try git("rev-parse", "promote/tai-api-v1.1.0^") == (try git("rev-parse", "main")))
    }

    @Test("a push refused because the branch moved is redone on the new head")
    func retryAfterRace() throws {
        let origin = try SourceCacheTests.Origin()
        defer { origin.dir.remove() }
        let remote = try Self.bareRemote(origin)
        let cache = SourceCache(root: origin.dir.path + "/cache")
        _ = try cache.publish(PublishRequest(url: "file://" + remote, base: "main", branch: "promote/x", changes: Self.bumpImage("v1"), message: "first", author: Self.bot))
        // Someone else pushes to the branch between our fetch and our push.
        let other = origin.dir.path + "/other"
        try ProcessRunner.check("git", ["clone", "-q", "-b", "promote/x", remote, other])
        let race: @Sendable (Int) -> Void = { attempt in
            guard attempt == 1 else { return }
            _ = try? ProcessRunner.check("sh", ["-c", "echo racer > racer.txt && git add racer.txt && git -c user.name=r -c user.email=r@x commit -qm racer && git push -q origin promote/x"], in: other)
        }
        let second = try cache.publish(PublishRequest(
            url: "file://" + remote, base: "main", branch: "promote/x", changes: Self.bumpImage("v2"), message: "second", author: Self.bot, beforePush: race))
        #expect(second.attempts == 2, "\(second.events)")
        #expect(second.events.first?.contains("refused") == true)
        func git(_ args: String...) throws -> String { try ProcessRunner.check("git", ["--git-dir", remote] + args).trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect(try git("log", "--format=%s", "promote/x") == "second\nracer\nfirst\ncm\ninit")
        #expect(try git("show", "promote/x:environments/dev/promotion.txt") == "v2")
    }

    @Test("a signed promotion commit verifies against the allowed signers")
    func signed() throws {
        let origin = try SourceCacheTests.Origin()
        defer { origin.dir.remove() }
        let remote = try Self.bareRemote(origin)
        let key = origin.dir.path + "/bot"
        try ProcessRunner.check("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "bot", "-f", key])
        let publicKey = try String(contentsOfFile: key + ".pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        let allowed = try origin.dir.write("allowed", "tai-gitops@example.com \(publicKey)\n")
        let cache = SourceCache(root: origin.dir.path + "/cache")
        let result = try cache.publish(PublishRequest(
            url: "file://" + remote, base: "main", branch: "promote/signed", changes: Self.bumpImage("v3"), message: "signed", author: Self.bot, signingKey: key))
        let verified = try ProcessRunner.run("git", ["--git-dir", remote, "-c", "gpg.ssh.allowedSignersFile=" + allowed, "verify-commit", result.commit.hex])
        #expect(verified.status == 0, "\(verified.stderr)")
        let snapshot = try cache.snapshotBlocking(url: "file://" + remote, revision: "promote/signed", policy: .head, verifier: SignatureVerifier(allowedSigners: allowed))
        #expect(snapshot.commit == result.commit)
    }
}

extension PublishTests {
    @Test("a push that never lands leaves no branch in the cache for a later look-up to mistake for the remote's")
    func failedPushLeavesNoBranch() throws {
        let origin = try SourceCacheTests.Origin()
        defer { origin.dir.remove() }
        let remote = try Self.bareRemote(origin)
        // A git daemon that serves fetches but refuses pushes (receive-pack is off).
        let port = TaiTesting.freePort()
        let execPath = try ProcessRunner.check("git", ["--exec-path"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let daemon = try BackgroundProcess(execPath + "/git-daemon", ["--reuseaddr", "--export-all", "--base-path=" + origin.dir.path, "--listen=127.0.0.1", "--port=\(port)", remote])
        defer { daemon.stop() }
        let url = "git://127.0.0.1:\(port)/remote.git"
        let cache = SourceCache(root: origin.dir.path + "/cache")
        var served = false
        for _ in 0..<50 where !served {
            served = (try? cache.snapshotBlocking(url: url, revision: "main")) != nil
            if !served { Thread.sleep(forTimeInterval: 0.1) }
        }
        #expect(served, "git daemon did not serve")
        #expect(throws: SourceError.self) {
            try cache.publish(PublishRequest(url: url, base: "main", branch: "promote/y", changes: Self.bumpImage("v9"), message: "m", author: Self.bot))
        }
        #expect(throws: SourceError.self, "the unpushed commit is not served as the remote's promote/y") {
            try cache.snapshotBlocking(url: url, revision: "promote/y")
        }
    }
}
