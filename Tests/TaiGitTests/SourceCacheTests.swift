import Foundation
import TaiGit
import TaiSource
import TaiTesting
import Testing

/// The source cache against real git remotes: file:// and git:// (a `git daemon` the test starts).
@Suite("Source cache", .serialized)
struct SourceCacheTests {
    /// A repository made with the git command line, and helpers to change it.
    struct Origin {
        let dir: TemporaryDirectory
        var path: String { dir.path + "/origin" }
        static let env = ["GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"]

        init() throws {
            dir = try TemporaryDirectory("tai-source")
            try ProcessRunner.check("git", ["init", "-q", "-b", "main", path])
            try commit("environments/dev/kustomization.yaml", "resources: [cm.yaml]\n", message: "init")
            try commit("environments/dev/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  v: \"1\"\n", message: "cm")
        }

        @discardableResult
        func git(_ args: String...) throws -> String {
            try ProcessRunner.check("git", args, in: path, environment: Self.env).trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func commit(_ file: String, _ content: String, message: String) throws {
            _ = try dir.write("origin/" + file, content)
            try git("add", "-A")
            try git("commit", "-q", "-m", message)
        }
    }

    @Test("a clone, then polls that fetch only what is new; snapshots are immutable and shared by commit")
    func incremental() throws {
        let origin = try Origin()
        defer { origin.dir.remove() }
        let cache = SourceCache(root: origin.dir.path + "/cache")
        let url = "file://" + origin.path
        let first = try cache.snapshotBlocking(url: url, revision: "main")
        #expect(first.commit.hex == (try origin.git("rev-parse", "HEAD")))
        #expect(FileManager.default.fileExists(atPath: first.directory + "/environments/dev/cm.yaml"))
        let idle = try cache.snapshotBlocking(url: url, revision: "main")
        #expect(idle.fetched?.receivedObjects == 0, "a poll with nothing new transfers no object")
        #expect(idle.directory == first.directory)
        try origin.commit("environments/dev/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  v: \"2\"\n", message: "v2")
        let next = try cache.snapshotBlocking(url: url, revision: "main")
        #expect(next.commit != first.commit)
        let received = next.fetched?.receivedObjects ?? -1
        #expect(received > 0 && received <= 5, "only the new commit's objects: \(received)")
        #expect(try String(contentsOfFile: next.directory + "/environments/dev/cm.yaml", encoding: .utf8).contains("\"2\""))
        #expect(try String(contentsOfFile: first.directory + "/environments/dev/cm.yaml", encoding: .utf8).contains("\"1\""), "old snapshots stay as they were")
    }

    @Test("a snapshot derived from the previous one equals a fresh checkout (changed, added, deleted, nested files)")
    func derivedSnapshots() throws {
        let origin = try Origin()
        defer { origin.dir.remove() }
        let url = "file://" + origin.path
        let cache = SourceCache(root: origin.dir.path + "/cache")
        _ = try cache.snapshotBlocking(url: url, revision: "main")
        try origin.commit("environments/prod/deep/a.yaml", "a: 1\n", message: "add nested")
        _ = try cache.snapshotBlocking(url: url, revision: "main")
        try origin.git("rm", "-q", "environments/dev/cm.yaml")
        try origin.commit("environments/dev/kustomization.yaml", "resources: []\n", message: "change and delete")
        try origin.git("rm", "-q", "-r", "environments/prod")
        try origin.git("commit", "-q", "-m", "delete a directory")
        let derived = try cache.snapshotBlocking(url: url, revision: "main")
        let fresh = try SourceCache(root: origin.dir.path + "/fresh").snapshotBlocking(url: url, revision: "main")
        func listing(_ dir: String) -> [String] {
            (FileManager.default.enumerator(atPath: dir)?.allObjects as? [String] ?? []).sorted().map { path in
                let content = (try? String(contentsOfFile: dir + "/" + path, encoding: .utf8)) ?? "<dir>"
                return path + ":" + content
            }
        }
        #expect(listing(derived.directory) == listing(fresh.directory))
        #expect(!FileManager.default.fileExists(atPath: derived.directory + "/environments/prod"))
    }

    @Test("pinning a tag or a commit; an unknown revision is an error naming it")
    func pinning() throws {
        let origin = try Origin()
        defer { origin.dir.remove() }
        try origin.git("tag", "v1")
        let tagged = try origin.git("rev-parse", "v1")
        try origin.commit("README", "later\n", message: "later")
        let cache = SourceCache(root: origin.dir.path + "/cache")
        let url = "file://" + origin.path
        #expect(try cache.snapshotBlocking(url: url, revision: "v1").commit.hex == tagged)
        #expect(try cache.snapshotBlocking(url: url, revision: tagged).commit.hex == tagged)
        #expect(try cache.snapshotBlocking(url: url, revision: String(tagged.prefix(10))).commit.hex == tagged)
        do {
            _ = try cache.snapshotBlocking(url: url, revision: "no-such-branch")
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("revision 'no-such-branch'"))
        }
    }

    @Test("a force-pushed branch is followed, and said")
    func forcePush() throws {
        let origin = try Origin()
        defer { origin.dir.remove() }
        let cache = SourceCache(root: origin.dir.path + "/cache")
        let url = "file://" + origin.path
        let before = try cache.snapshotBlocking(url: url, revision: "main")
        try origin.git("reset", "-q", "--hard", "HEAD~1")
        try origin.commit("environments/dev/other.yaml", "a: b\n", message: "rewritten")
        let after = try cache.snapshotBlocking(url: url, revision: "main")
        #expect(after.commit.hex == (try origin.git("rev-parse", "HEAD")))
        #expect(after.commit != before.commit)
        #expect(after.events.contains { $0.contains("force-pushed") }, "\(after.events)")
    }

    @Test("a corrupt cache is cloned again")
    func corruptCache() throws {
        let origin = try Origin()
        defer { origin.dir.remove() }
        let cache = SourceCache(root: origin.dir.path + "/cache")
        let url = "file://" + origin.path
        _ = try cache.snapshotBlocking(url: url, revision: "main")
        let repos = try FileManager.default.contentsOfDirectory(atPath: cache.root + "/repos")
        let repo = cache.root + "/repos/" + (repos.first ?? "")
        try FileManager.default.removeItem(atPath: repo + "/objects")
        try "garbage".write(toFile: repo + "/HEAD", atomically: true, encoding: .utf8)
        try origin.commit("README", "x\n", message: "x")
        let healed = try cache.snapshotBlocking(url: url, revision: "main")
        #expect(healed.commit.hex == (try origin.git("rev-parse", "HEAD")))
        #expect(healed.events.contains { $0.contains("cloning again") }, "\(healed.events)")
    }

    @Test("git:// through git daemon; when the daemon is down the last good snapshot is used and the failure said")
    func gitDaemonAndOutage() throws {
        let origin = try Origin()
        defer { origin.dir.remove() }
        try origin.git("config", "daemon.uploadpack", "true")
        let port = TaiTesting.freePort()
        // git-daemon itself (not `git daemon`, whose child would outlive a kill of the parent).
        let execPath = try ProcessRunner.check("git", ["--exec-path"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let daemon = try BackgroundProcess(execPath + "/git-daemon", ["--reuseaddr", "--export-all", "--base-path=" + origin.dir.path, "--listen=127.0.0.1", "--port=\(port)", origin.dir.path])
        let url = "git://127.0.0.1:\(port)/origin"
        let cache = SourceCache(root: origin.dir.path + "/cache")
        var first: Snapshot?
        for _ in 0..<50 where first == nil {
            first = try? cache.snapshotBlocking(url: url, revision: "main")
            if first == nil { Thread.sleep(forTimeInterval: 0.1) }
        }
        let snapshot = try #require(first, "git daemon did not serve")
        #expect(FileManager.default.fileExists(atPath: snapshot.directory + "/environments/dev/kustomization.yaml"))
        daemon.stop()
        let offline = try cache.snapshotBlocking(url: url, revision: "main")
        #expect(offline.directory == snapshot.directory)
        #expect(offline.events.contains { $0.contains("fetching \(url) failed") && $0.contains("last good snapshot") }, "\(offline.events)")
        let fresh = SourceCache(root: origin.dir.path + "/other-cache")
        #expect(throws: SourceError.self) { try fresh.snapshotBlocking(url: url, revision: "main") }
    }

    @Test("signatures: an allowed SSH key's head is rendered; unsigned or stranger-signed heads are refused; ancestry checks every commit since the anchor")
    func signatures() throws {
        let origin = try Origin()
        defer { origin.dir.remove() }
        let keys = origin.dir.path + "/keys"
        try FileManager.default.createDirectory(atPath: keys, withIntermediateDirectories: true)
        for name in ["signer", "stranger"] {
            try ProcessRunner.check("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", keys + "/" + name])
        }
        let publicKey = try String(contentsOfFile: keys + "/signer.pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        let allowed = try origin.dir.write("allowed_signers", "deploy@example.com \(publicKey)\n")
        func signedCommit(_ key: String, _ message: String) throws {
            _ = try origin.dir.write("origin/README", message + "\n")
            try origin.git("add", "-A")
            try origin.git("-c", "gpg.format=ssh", "-c", "user.signingkey=\(keys)/\(key)", "commit", "-q", "-S", "-m", message)
        }
        let anchor = try origin.git("rev-parse", "HEAD")
        try signedCommit("signer", "signed by the deploy key")
        let cache = SourceCache(root: origin.dir.path + "/cache")
        let url = "file://" + origin.path
        let verifier = SignatureVerifier(allowedSigners: allowed)
        let good = try cache.snapshotBlocking(url: url, revision: "main", policy: .head, verifier: verifier)
        #expect(good.commit.hex == (try origin.git("rev-parse", "HEAD")))
        _ = try cache.snapshotBlocking(url: url, revision: "main", policy: .ancestry(anchor: anchor), verifier: verifier)
        do {
            _ = try cache.snapshotBlocking(url: url, revision: "main", policy: .ancestry(anchor: nil), verifier: verifier)
            Issue.record("the unsigned commits before the anchor must be refused without an anchor")
        } catch {
            #expect(error.message.contains("is not signed"))
        }

        try origin.commit("environments/dev/extra.yaml", "a: b\n", message: "unsigned")
        let unsigned = try origin.git("rev-parse", "--short=12", "HEAD")
        do {
            _ = try cache.snapshotBlocking(url: url, revision: "main", policy: .head, verifier: verifier)
            Issue.record("an unsigned head must be refused")
        } catch {
            #expect(error.message.contains("commit \(unsigned.prefix(12)) is refused: it is not signed"), "\(error.message)")
        }
        try signedCommit("stranger", "signed by someone else")
        do {
            _ = try cache.snapshotBlocking(url: url, revision: "main", policy: .head, verifier: verifier)
            Issue.record("a stranger's signature must be refused")
        } catch {
            #expect(error.message.contains("its SSH key is not in"), "\(error.message)")
        }
        try signedCommit("signer", "signed again by the deploy key")
        _ = try cache.snapshotBlocking(url: url, revision: "main", policy: .head, verifier: verifier)
        do {
            _ = try cache.snapshotBlocking(url: url, revision: "main", policy: .ancestry(anchor: anchor), verifier: verifier)
            Issue.record("ancestry must find the unsigned and the stranger's commits")
        } catch {
            #expect(error.message.contains("is refused"), "\(error.message)")
        }
        let cli = try ProcessRunner.run(
            TaiTesting.taiGitopsBinary,
            ["build", "environments/dev", "--repo", url, "--cache-dir", origin.dir.path + "/cache", "--verify-signatures", "ancestry", "--trusted-anchor", anchor, "--allowed-signers", allowed])
        #expect(cli.status == 1)
        #expect(cli.stderr.contains("is refused"), "\(cli.stderr)")
    }

    @Test("OpenPGP: a head signed by a key of the keyring is rendered; another key's signature is refused")
    func openPGP() throws {
        let origin = try Origin()
        defer { origin.dir.remove() }
        let home = origin.dir.path + "/gnupg"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let env = ["GNUPGHOME": home]
        for who in ["Forge <forge@example.com>", "Mallory <mallory@example.com>"] {
            try ProcessRunner.check("gpg", ["--batch", "--passphrase", "", "--quick-gen-key", who, "ed25519", "sign", "1d"], environment: env)
        }
        let keyring = origin.dir.path + "/forge.gpg"
        let exported = try ProcessRunner.run("gpg", ["--export", "--output", keyring, "forge@example.com"], environment: env)
        #expect(exported.status == 0)
        func signed(_ who: String, _ message: String) throws {
            _ = try origin.dir.write("origin/README", message + "\n")
            try origin.git("add", "-A")
            try ProcessRunner.check("git", ["-c", "user.signingkey=" + who, "commit", "-q", "-S", "-m", message], in: origin.path, environment: Origin.env.merging(env) { $1 })
        }
        try signed("forge@example.com", "signed by the forge")
        let cache = SourceCache(root: origin.dir.path + "/cache")
        let url = "file://" + origin.path
        let verifier = SignatureVerifier(keyring: keyring)
        _ = try cache.snapshotBlocking(url: url, revision: "main", policy: .head, verifier: verifier)
        try signed("mallory@example.com", "signed by someone else")
        do {
            _ = try cache.snapshotBlocking(url: url, revision: "main", policy: .head, verifier: verifier)
            Issue.record("a signature by a key outside the keyring must be refused")
        } catch {
            #expect(error.message.contains("OpenPGP signature does not verify"), "\(error.message)")
        }
    }

    @Test("provenance: an environment changes only through merges the forge signed or that are on the allowed list")
    func provenance() throws {
        let origin = try Origin()
        defer { origin.dir.remove() }
        let forgeKey = origin.dir.path + "/forge"
        try ProcessRunner.check("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "forge", "-f", forgeKey])
        let publicKey = try String(contentsOfFile: forgeKey + ".pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        let forge = try origin.dir.write("forge_signers", "forge@example.com \(publicKey)\n")
        let anchor = try origin.git("rev-parse", "HEAD")
        // A reviewed change: a branch merged with a merge commit the forge signs.
        try origin.git("checkout", "-q", "-b", "feature")
        try origin.commit("environments/dev/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  v: \"reviewed\"\n", message: "change dev")
        try origin.git("checkout", "-q", "main")
        try origin.git("-c", "gpg.format=ssh", "-c", "user.signingkey=" + forgeKey, "merge", "-q", "--no-ff", "-S", "-m", "Merge pull request #1", "feature")
        // A change outside the environment, committed directly: allowed.
        try origin.commit("README", "docs\n", message: "docs")
        let cache = SourceCache(root: origin.dir.path + "/cache")
        let url = "file://" + origin.path
        let policy = ProvenancePolicy(path: "environments/dev", anchor: anchor, verifier: SignatureVerifier(allowedSigners: forge))
        _ = try cache.snapshotBlocking(url: url, revision: "main", provenance: policy)

        // A direct commit to the environment is refused.
        try origin.commit("environments/dev/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  v: \"direct\"\n", message: "direct change")
        let direct = String(try origin.git("rev-parse", "HEAD").prefix(12))
        do {
            _ = try cache.snapshotBlocking(url: url, revision: "main", provenance: policy)
            Issue.record("a direct change must be refused")
        } catch {
            #expect(error.message.contains("provenance: commit \(direct) changes environments/dev/ directly"), "\(error.message)")
        }
        // An unsigned merge is refused unless it is on the allowed list.
        try origin.git("reset", "-q", "--hard", "HEAD~1")
        try origin.git("checkout", "-q", "-b", "feature2")
        try origin.commit("environments/dev/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  v: \"two\"\n", message: "change dev again")
        try origin.git("checkout", "-q", "main")
        try origin.git("merge", "-q", "--no-ff", "-m", "Merge pull request #2", "feature2")
        let merge = try origin.git("rev-parse", "HEAD")
        #expect(throws: SourceError.self) { try cache.snapshotBlocking(url: url, revision: "main", provenance: policy) }
        var listed = policy
        listed.allowedMerges = [merge]
        #expect(try cache.snapshotBlocking(url: url, revision: "main", provenance: listed).commit.hex == merge)
    }

    @Test("tai-gitops build --repo URL renders a revision of a remote repository")
    func buildFromURL() throws {
        let origin = try Origin()
        defer { origin.dir.remove() }
        let output = try ProcessRunner.check(
            TaiTesting.taiGitopsBinary,
            ["build", "environments/dev", "--repo", "file://" + origin.path, "--revision", "main", "--cache-dir", origin.dir.path + "/cache"])
        #expect(output.contains("name: c"))
        let missing = try ProcessRunner.run(
            TaiTesting.taiGitopsBinary, ["build", "environments/dev", "--repo", "file://" + origin.path + "-nope", "--cache-dir", origin.dir.path + "/cache"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("cloning file://"))
    }
}

@Suite("Source cache over smart HTTP", .serialized)
struct SourceCacheHTTPTests {
    @Test("https through a proxy named by https_proxy: tai-gitops build --repo tunnels through it")
    func proxy() throws {
        let origin = try SourceCacheTests.Origin()
        defer { origin.dir.remove() }
        let server = try GitHTTPServer(repositories: ["origin.git": origin.path + "/.git"])
        defer { server.stop() }
        let log = origin.dir.path + "/proxy.log"
        let proxy = try BackgroundProcess("python3", [TaiTesting.repositoryRoot + "/Tests/TaiGitTests/Fixtures/connect_proxy.py", log])
        defer { proxy.stop() }
        let proxyPort = proxy.firstLine()
        // Only the child gets the proxy: other tests in this process talk to loopback directly.
        let result = try ProcessRunner.run(
            TaiTesting.taiGitopsBinary,
            ["build", "environments/dev", "--repo", server.url("origin.git"), "--cache-dir", origin.dir.path + "/cache",
             "--git-username", server.username, "--git-password-env", "TAI_TEST_GIT_PASSWORD", "--git-ca-file", server.caFile],
            environment: ["https_proxy": "http://127.0.0.1:\(proxyPort)", "HTTPS_PROXY": "http://127.0.0.1:\(proxyPort)", "no_proxy": "", "NO_PROXY": "",
                          "TAI_TEST_GIT_PASSWORD": server.password])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("name: c"))
        let tunnelled = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(tunnelled.hasPrefix("CONNECT ") && tunnelled.contains(":\(server.port) HTTP/1.1"), "the proxy saw: \(tunnelled)")
    }

    @Test("https through nginx and git http-backend: basic auth, a test CA, incremental fetch; a wrong password is refused")
    func https() throws {
        let origin = try SourceCacheTests.Origin()
        defer { origin.dir.remove() }
        let server = try GitHTTPServer(repositories: ["origin.git": origin.path + "/.git"])
        defer { server.stop() }
        try Repository.trustCertificates(file: server.caFile)
        let cache = SourceCache(root: origin.dir.path + "/cache")
        let credentials = GitCredentials(username: server.username, password: server.password)
        let first = try cache.snapshotBlocking(url: server.url("origin.git"), revision: "main", credentials: credentials)
        #expect(FileManager.default.fileExists(atPath: first.directory + "/environments/dev/cm.yaml"))
        try origin.commit("environments/dev/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  v: \"3\"\n", message: "v3")
        let next = try cache.snapshotBlocking(url: server.url("origin.git"), revision: "main", credentials: credentials)
        #expect(next.commit.hex == (try origin.git("rev-parse", "HEAD")))
        #expect((next.fetched?.receivedObjects ?? 99) <= 5)
        let other = SourceCache(root: origin.dir.path + "/cache-2")
        do {
            _ = try other.snapshotBlocking(url: server.url("origin.git"), revision: "main", credentials: GitCredentials(username: server.username, password: "wrong"))
            Issue.record("a wrong password must be refused")
        } catch {
            #expect(error.message.contains("cloning https://localhost"), "\(error.message)")
        }
    }
}

@Suite("Source cache over ssh", .serialized)
struct SourceCacheSSHTests {
    @Test("ssh with a key and known_hosts; an unknown host key is refused unless explicitly allowed; a wrong key is refused")
    func ssh() throws {
        let origin = try SourceCacheTests.Origin()
        defer { origin.dir.remove() }
        // Keys are made before sshd runs: a process started while it runs is not reaped by Foundation here.
        let stranger = origin.dir.path + "/stranger"
        try ProcessRunner.check("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", stranger])
        let server = try GitSSHServer()
        defer { server.stop() }
        let url = server.url(origin.path)
        let good = GitCredentials(sshKeyFile: server.clientKey, knownHostsFile: server.knownHosts)
        let snapshot = try SourceCache(root: origin.dir.path + "/cache").snapshotBlocking(url: url, revision: "main", credentials: good)
        #expect(FileManager.default.fileExists(atPath: snapshot.directory + "/environments/dev/cm.yaml"))

        let emptyKnownHosts = try origin.dir.write("empty_known_hosts", "")
        do {
            _ = try SourceCache(root: origin.dir.path + "/cache-2").snapshotBlocking(
                url: url, revision: "main", credentials: GitCredentials(sshKeyFile: server.clientKey, knownHostsFile: emptyKnownHosts))
            Issue.record("an unknown host key must be refused")
        } catch {
            #expect(error.message.contains("unknown host"), "\(error.message)")
        }
        let allowed = try SourceCache(root: origin.dir.path + "/cache-3").snapshotBlocking(
            url: url, revision: "main", credentials: GitCredentials(sshKeyFile: server.clientKey, knownHostsFile: emptyKnownHosts, allowUnknownHosts: true))
        #expect(allowed.commit == snapshot.commit)

        #expect(throws: SourceError.self) {
            try SourceCache(root: origin.dir.path + "/cache-4").snapshotBlocking(
                url: url, revision: "main", credentials: GitCredentials(sshKeyFile: stranger, knownHostsFile: server.knownHosts))
        }
    }

    @Test("scp-style git@host:path URLs reach sshd on port 22", .enabled(if: GitSSHServer.canListen(on: 22), "port 22 is taken or not ours to bind"))
    func scpStyle() throws {
        let origin = try SourceCacheTests.Origin()
        defer { origin.dir.remove() }
        let server = try GitSSHServer(port: 22)
        defer { server.stop() }
        let credentials = GitCredentials(sshKeyFile: server.clientKey, knownHostsFile: server.knownHosts)
        let snapshot = try SourceCache(root: origin.dir.path + "/cache").snapshotBlocking(url: server.scpURL(origin.path), revision: "main", credentials: credentials)
        #expect(FileManager.default.fileExists(atPath: snapshot.directory + "/environments/dev/cm.yaml"))
        #expect(snapshot.commit.hex == (try origin.git("rev-parse", "HEAD")))
    }

    @Test("ssh with a passphrase-protected key: the right passphrase clones, a wrong or missing one is refused")
    func passphrase() throws {
        let origin = try SourceCacheTests.Origin()
        defer { origin.dir.remove() }
        let key = origin.dir.path + "/locked"
        try ProcessRunner.check("ssh-keygen", ["-q", "-t", "ed25519", "-N", "open sesame", "-f", key])
        let server = try GitSSHServer()
        defer { server.stop() }
        // sshd reads authorized_keys at each login: the locked key is allowed from now on.
        let authorized = server.directory.path + "/authorized_keys"
        let existing = try String(contentsOfFile: authorized, encoding: .utf8)
        try (existing + (try String(contentsOfFile: key + ".pub", encoding: .utf8))).write(toFile: authorized, atomically: true, encoding: .utf8)
        let url = server.url(origin.path)

        let snapshot = try SourceCache(root: origin.dir.path + "/cache").snapshotBlocking(
            url: url, revision: "main", credentials: GitCredentials(sshKeyFile: key, sshKeyPassphrase: "open sesame", knownHostsFile: server.knownHosts))
        #expect(FileManager.default.fileExists(atPath: snapshot.directory + "/environments/dev/cm.yaml"))
        for (index, wrong) in ["wrong", nil].enumerated() {
            do {
                _ = try SourceCache(root: origin.dir.path + "/cache-\(index)").snapshotBlocking(
                    url: url, revision: "main", credentials: GitCredentials(sshKeyFile: key, sshKeyPassphrase: wrong, knownHostsFile: server.knownHosts))
                Issue.record("passphrase \(wrong ?? "none") must be refused")
            } catch {
                let hint = wrong == nil ? "protected by a passphrase and none was given" : "is the passphrase right for the key"
                #expect(error.message.contains(hint), "\(error.message)")
            }
        }
    }
}
