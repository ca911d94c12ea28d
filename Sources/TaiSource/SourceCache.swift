import Crypto
import Foundation
import TaiCore
import TaiGit

/// A revision of the config repository, checked out once into an immutable snapshot.
public struct Snapshot: Sendable {
    public var url: String
    public var revision: String
    public var commit: CommitID
    /// The snapshot's directory (content-addressed by commit): the renderer reads from here.
    public var directory: String
    /// What the fetch transferred (nil when the cache was used without a fetch).
    public var fetched: FetchStats?
    /// Things worth telling: a re-clone of a corrupt cache, a force push followed, a remote that
    /// could not be reached (then `directory` is the last good snapshot).
    public var events: [String]
}

/// Why a revision could not be had.
public struct SourceError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}

/// The agent's view of config repositories: a persistent bare clone per URL, fetched
/// incrementally; each revision's tree checked out once into `snapshots/<commit>`.
public struct SourceCache: Sendable {
    public let root: String

    public init(root: String) { self.root = root }

    /// The default cache: `$XDG_CACHE_HOME/tai-gitops` or `~/.cache/tai-gitops`.
    public static var defaultRoot: String {
        let env = ProcessInfo.processInfo.environment
        return (env["XDG_CACHE_HOME"] ?? ((env["HOME"] ?? NSTemporaryDirectory()) + "/.cache")) + "/tai-gitops"
    }

    func repositoryDirectory(_ url: String) -> String {
        let digest = SHA256.hash(data: Data(url.utf8)).map { String(format: "%02x", $0) }.joined()
        return root + "/repos/" + digest.prefix(16) + ".git"
    }

    /// Brings the cache up to date for `url` and returns the snapshot of `revision` (a branch, a
    /// tag or a commit id). When the remote cannot be reached, the last good snapshot of that
    /// revision is returned with the failure among its events; without one, the failure is thrown.
    public func snapshot(
        url: String, revision: String, credentials: GitCredentials = GitCredentials(), policy: SignaturePolicy = .none,
        verifier: SignatureVerifier = SignatureVerifier(), provenance: ProvenancePolicy? = nil
    ) async throws(SourceError) -> Snapshot {
        let result: Result<Snapshot, SourceError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                do throws(SourceError) {
                    continuation.resume(returning: .success(try snapshotBlocking(url: url, revision: revision, credentials: credentials, policy: policy, verifier: verifier, provenance: provenance)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    static let refspecs = ["+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"]

    public func snapshotBlocking(
        url: String, revision: String, credentials: GitCredentials = GitCredentials(), policy: SignaturePolicy = .none,
        verifier: SignatureVerifier = SignatureVerifier(), provenance: ProvenancePolicy? = nil
    ) throws(SourceError) -> Snapshot {
        var events: [String] = []
        let repoDir = repositoryDirectory(url)
        let fm = FileManager.default
        do { try fm.createDirectory(atPath: root + "/repos", withIntermediateDirectories: true) } catch {
            throw SourceError(message: "cache \(root): \(error)")
        }
        let key = "\(url)#\(revision)"
        let previous = lastGood()[key]

        var repository: Repository?
        var stats: FetchStats?
        var fetchError: String?
        if fm.fileExists(atPath: repoDir) {
            do {
                let repo = try Repository.open(at: repoDir)
                _ = try? repo.resolve("HEAD")
                repository = repo
            } catch {
                events.append("the cache \(repoDir) was unreadable (\(error.message)); cloning again")
                try? fm.removeItem(atPath: repoDir)
            }
        }
        if let repo = repository {
            do {
                stats = try repo.fetch(refspecs: Self.refspecs, credentials: credentials)
            } catch {
                if Self.isCorruption(error) {
                    events.append("the cache \(repoDir) is corrupt (\(error.message)); cloning again")
                    repository = nil
                    try? fm.removeItem(atPath: repoDir)
                } else {
                    fetchError = "fetching \(url) failed: \(error.message)" + Self.authHint(error, credentials)
                }
            }
        }
        if repository == nil {
            let partial = repoDir + ".partial-\(UUID().uuidString.prefix(8))"
            do {
                let cloned = try Repository.clone(from: url, to: partial, bare: true, credentials: credentials)
                _ = try cloned.fetch(refspecs: Self.refspecs, credentials: credentials)
                try fm.moveItem(atPath: partial, toPath: repoDir)
                repository = try Repository.open(at: repoDir)
            } catch let error as GitError {
                try? fm.removeItem(atPath: partial)
                fetchError = "cloning \(url) failed: \(error.message)" + Self.authHint(error, credentials)
            } catch {
                try? fm.removeItem(atPath: partial)
                fetchError = "cloning \(url) failed: \(error)"
            }
        }
        if let fetchError {
            // The remote is down: serve the last good snapshot, say why.
            if let previous, fm.fileExists(atPath: snapshotDirectory(previous)) {
                events.append("\(fetchError); using the last good snapshot \(previous.prefix(12))")
                return Snapshot(url: url, revision: revision, commit: CommitID(hex: previous), directory: snapshotDirectory(previous), fetched: nil, events: events)
            }
            throw SourceError(message: fetchError)
        }
        guard let repository else { throw SourceError(message: "no repository for \(url)") }
        let commit: CommitID
        do {
            commit = try Self.resolve(revision, in: repository)
        } catch {
            throw SourceError(message: "\(url): revision '\(revision)' is neither a branch, a tag nor a commit there (\(error.message))")
        }
        // An unsigned or badly signed revision is never rendered.
        if let problem = verifier.check(policy, head: commit, in: repository) {
            throw SourceError(message: "\(url) at \(revision): \(problem)")
        }
        if let provenance, let problem = provenance.problem(head: commit, in: repository) {
            throw SourceError(message: "\(url) at \(revision): provenance: \(problem)")
        }
        if let previous, previous != commit.hex, (try? repository.isDescendant(commit, of: CommitID(hex: previous))) == false {
            events.append("\(revision) was force-pushed: \(previous.prefix(12)) is not an ancestor of \(commit.short); following the new head")
        }
        let directory = snapshotDirectory(commit.hex)
        if !fm.fileExists(atPath: directory) {
            let partial = directory + ".partial-\(UUID().uuidString.prefix(8))"
            do {
                // From the previous snapshot of this revision when there is one: only what changed is written.
                if let previous, previous != commit.hex, fm.fileExists(atPath: snapshotDirectory(previous)),
                    (try? Self.derive(partial, from: snapshotDirectory(previous), previous: CommitID(hex: previous), commit: commit, repository: repository)) != nil
                {
                    // done
                } else {
                    try? fm.removeItem(atPath: partial)
                    try repository.checkout(commit, into: partial)
                }
                try? fm.createDirectory(atPath: root + "/snapshots", withIntermediateDirectories: true)
                try fm.moveItem(atPath: partial, toPath: directory)
            } catch let error as GitError {
                try? fm.removeItem(atPath: partial)
                throw SourceError(message: "checking out \(commit.short): \(error.message)")
            } catch {
                try? fm.removeItem(atPath: partial)
                if !fm.fileExists(atPath: directory) { throw SourceError(message: "snapshot \(directory): \(error)") }
            }
        }
        recordGood(key, commit.hex)
        return Snapshot(url: url, revision: revision, commit: commit, directory: directory, fetched: stats, events: events)
    }

    /// Builds a snapshot from an earlier one: every file hard-linked (snapshots are never written
    /// to), then each path that differs between the two commits removed and, if it still exists,
    /// written afresh (a new file, so the earlier snapshot keeps its content).
    static func derive(_ target: String, from source: String, previous: CommitID, commit: CommitID, repository: Repository) throws {
        let fm = FileManager.default
        // `cp -al` links a whole tree in one process (fast); the loop below is the fallback.
        if SignatureVerifier.run("cp", ["-al", source, target], stdin: nil).status == 0 {
            try applyChanges(target, previous: previous, commit: commit, repository: repository)
            return
        }
        try? fm.removeItem(atPath: target)
        try fm.createDirectory(atPath: target, withIntermediateDirectories: true)
        guard let walker = fm.enumerator(atPath: source) else { throw SourceError(message: "cannot read \(source)") }
        while let relative = walker.nextObject() as? String {
            let from = source + "/" + relative, to = target + "/" + relative
            let type = (try fm.attributesOfItem(atPath: from))[.type] as? FileAttributeType
            switch type {
            case .typeDirectory?: try fm.createDirectory(atPath: to, withIntermediateDirectories: true)
            case .typeSymbolicLink?: try fm.createSymbolicLink(atPath: to, withDestinationPath: fm.destinationOfSymbolicLink(atPath: from))
            default: try fm.linkItem(atPath: from, toPath: to)
            }
        }
        try applyChanges(target, previous: previous, commit: commit, repository: repository)
    }

    /// Rewrites, in a linked copy, the paths that differ between two commits.
    static func applyChanges(_ target: String, previous: CommitID, commit: CommitID, repository: Repository) throws {
        let fm = FileManager.default
        for path in try repository.changedPaths(from: previous, to: commit) {
            let file = target + "/" + path
            try? fm.removeItem(atPath: file)
            if let content = try repository.fileContent(path, at: commit) {
                try fm.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                guard fm.createFile(atPath: file, contents: Data(content)) else { throw SourceError(message: "cannot write \(file)") }
            } else {
                // A deleted file: drop directories it leaves empty, as a checkout would not make them.
                var dir = (file as NSString).deletingLastPathComponent
                while dir.count > target.count, (try? fm.contentsOfDirectory(atPath: dir))?.isEmpty == true {
                    try? fm.removeItem(atPath: dir)
                    dir = (dir as NSString).deletingLastPathComponent
                }
            }
        }
    }

    static func resolve(_ revision: String, in repository: Repository) throws(GitError) -> CommitID {
        for candidate in ["refs/remotes/origin/\(revision)", "refs/tags/\(revision)", revision] {
            if let commit = try? repository.resolve(candidate) { return commit }
        }
        return try repository.resolve(revision)
    }

    /// A hint for the commonest ssh authentication failures.
    static func authHint(_ error: GitError, _ credentials: GitCredentials) -> String {
        guard error.code == -16 else { return "" }
        if let key = credentials.sshKeyFile {
            if isEncryptedKey(key) == true {
                if (credentials.sshKeyPassphrase ?? "").isEmpty {
                    return " (authentication failed: the key \(key) is protected by a passphrase and none was given — --git-ssh-key-passphrase-env names the variable that holds it)"
                }
                return " (authentication failed: is the passphrase right for the key \(key), and the key authorized on the server?)"
            }
            return " (authentication failed: is the key authorized on the server? libssh2 signs RSA keys with ssh-rsa/SHA-1, which OpenSSH 8.8+ refuses — prefer an ed25519 key)"
        }
        return " (authentication failed: check the user and password or token)"
    }

    /// Whether a private key file is encrypted with a passphrase: an OpenSSH key whose cipher is not
    /// `none`, or a PEM key marked ENCRYPTED. Nil when the file cannot be read as either.
    static func isEncryptedKey(_ path: String) -> Bool? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let begin = "-----BEGIN OPENSSH PRIVATE KEY-----", end = "-----END OPENSSH PRIVATE KEY-----"
        guard let start = text.range(of: begin), let stop = text.range(of: end) else {
            return text.contains("-----BEGIN") ? text.contains("ENCRYPTED") : nil
        }
        let body = text[start.upperBound..<stop.lowerBound].filter { !$0.isWhitespace }
        guard let data = Data(base64Encoded: String(body)) else { return nil }
        // "openssh-key-v1\0", then the cipher name as a length-prefixed string.
        let bytes = [UInt8](data)
        let magic = Array("openssh-key-v1".utf8) + [0]
        guard bytes.count >= magic.count + 4, Array(bytes[0..<magic.count]) == magic else { return nil }
        let lengthBytes = bytes[magic.count..<magic.count + 4]
        let length = lengthBytes.reduce(0) { $0 << 8 | Int($1) }
        guard bytes.count >= magic.count + 4 + length else { return nil }
        let cipher = String(decoding: bytes[(magic.count + 4)..<(magic.count + 4 + length)], as: UTF8.self)
        return cipher != "none"
    }

    static func isCorruption(_ error: GitError) -> Bool {
        let m = error.message.lowercased()
        return m.contains("corrupt") || m.contains("invalid") || m.contains("failed to parse") || m.contains("object not found")
            || m.contains("missing") || m.contains("bad") || m.contains("short read")
    }

    func snapshotDirectory(_ commit: String) -> String { root + "/snapshots/" + commit }

    private var statePath: String { root + "/last-good.json" }

    func lastGood() -> [String: String] {
        guard let data = FileManager.default.contents(atPath: statePath), let value = try? JSON.parse([UInt8](data)) else { return [:] }
        var out: [String: String] = [:]
        for (k, v) in value.mapValue ?? [:] { if let s = v.stringValue { out[k] = s } }
        return out
    }

    func recordGood(_ key: String, _ commit: String) {
        var state = lastGood()
        guard state[key] != commit else { return }
        state[key] = commit
        var map = ValueMap()
        for k in state.keys.sorted() { map[k] = .string(state[k] ?? "") }
        let tmp = statePath + ".tmp"
        FileManager.default.createFile(atPath: tmp, contents: Data(JSON.serializePretty(.map(map)).utf8))
        _ = try? FileManager.default.replaceItemAt(URL(fileURLWithPath: statePath), withItemAt: URL(fileURLWithPath: tmp))
        if !FileManager.default.fileExists(atPath: statePath) { try? FileManager.default.moveItem(atPath: tmp, toPath: statePath) }
    }
}
