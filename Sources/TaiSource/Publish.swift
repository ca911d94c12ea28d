import Foundation
import TaiGit

/// A change to publish as a commit on a branch of the config repository (a promotion step).
public struct PublishRequest: Sendable {
    public var url: String
    /// The branch the change starts from when `branch` does not exist yet.
    public var base: String
    public var branch: String
    /// The files to change, computed from the tree the commit will sit on (called again when a
    /// rejected push is retried on a newer tree). An error thrown here — the newer tree no longer
    /// takes the change — ends the publish with that error.
    public var changes: @Sendable (_ read: (String) -> [UInt8]?) throws -> [FileChange]
    public var message: String
    /// `Key: value` trailers appended to the message (`Promoted-By`, `Canary-Step`…).
    public var trailers: [(key: String, value: String)]
    public var author: Identity
    public var committer: Identity
    /// An SSH private key to sign the commit with (`ssh-keygen -Y sign`), if any.
    public var signingKey: String?
    public var credentials: GitCredentials
    public var maxAttempts: Int
    /// Called after the commit is made and before it is pushed (tests use it to race a push).
    public var beforePush: (@Sendable (_ attempt: Int) -> Void)?

    public init(
        url: String, base: String, branch: String, changes: @escaping @Sendable (_ read: (String) -> [UInt8]?) throws -> [FileChange], message: String,
        trailers: [(key: String, value: String)] = [], author: Identity, committer: Identity? = nil, signingKey: String? = nil,
        credentials: GitCredentials = GitCredentials(), maxAttempts: Int = 3, beforePush: (@Sendable (_ attempt: Int) -> Void)? = nil
    ) {
        self.url = url
        self.base = base
        self.branch = branch
        self.changes = changes
        self.message = message
        self.trailers = trailers
        self.author = author
        self.committer = committer ?? author
        self.signingKey = signingKey
        self.credentials = credentials
        self.maxAttempts = maxAttempts
        self.beforePush = beforePush
    }
}

extension PublishRequest {
    /// The message with its trailers as the commit carries it.
    public var fullMessage: String {
        var message = message.trimmingCharacters(in: .whitespacesAndNewlines) + "\n"
        if !trailers.isEmpty { message += "\n" + trailers.map { "\($0.key): \($0.value)" }.joined(separator: "\n") + "\n" }
        return message
    }

    /// Commits the change on `branch` of a local checkout's repository, without pushing and
    /// without touching its work tree or index. `branch` may not be the one checked out.
    public func commit(inCheckout checkout: String) throws(SourceError) -> Published {
        do {
            let repository = try Repository.open(at: checkout)
            if let head = try? String(contentsOfFile: checkout + "/.git/HEAD", encoding: .utf8), head.trimmingCharacters(in: .whitespacesAndNewlines) == "ref: refs/heads/\(branch)" {
                throw SourceError(message: "\(branch) is checked out in \(checkout): commit on it with git, or publish with --push")
            }
            let parent = try (try? repository.resolve("refs/heads/\(branch)")) ?? repository.resolve("refs/heads/\(base)")
            let changes: [FileChange]
            do {
                changes = try self.changes { path in try? repository.fileContent(path, at: parent) }
            } catch {
                throw SourceError(message: "\(branch) at \(parent.hex.prefix(12)): \(error)")
            }
            let key = signingKey
            let commit = try repository.commit(
                changes: changes, parent: parent, message: fullMessage, author: author, committer: committer,
                sign: key.map { key in { content in try SourceCache.sshSign(content, key: key) } })
            try repository.setReference("refs/heads/\(branch)", to: commit)
            return Published(commit: commit, branch: branch, attempts: 1, events: [])
        } catch let error as SourceError {
            throw error
        } catch let error as GitError {
            throw SourceError(message: "committing on \(branch) in \(checkout): \(error.message)")
        } catch {
            throw SourceError(message: "committing on \(branch) in \(checkout): \(error)")
        }
    }
}

public struct Published: Sendable {
    public var commit: CommitID
    public var branch: String
    public var attempts: Int
    public var events: [String]
}

extension SourceCache {
    /// Commits the change on `branch` (from `base` when the branch is new) and pushes it; a push
    /// refused because the branch moved is retried on the new head, up to `maxAttempts`.
    public func publish(_ request: PublishRequest) throws(SourceError) -> Published {
        var events: [String] = []
        for attempt in 1...max(request.maxAttempts, 1) {
            // Fetch, and find what the commit sits on: the branch if it exists, else the base.
            let baseSnapshot = try snapshotBlocking(url: request.url, revision: request.base, credentials: request.credentials)
            let repository: Repository
            do { repository = try Repository.open(at: repositoryDirectory(request.url)) } catch { throw SourceError(message: "cache for \(request.url): \(error.message)") }
            var parent = baseSnapshot.commit
            if let head = try? repository.resolve("refs/remotes/origin/\(request.branch)") { parent = head }
            let tree = parent == baseSnapshot.commit ? baseSnapshot : try snapshotBlocking(url: request.url, revision: parent.hex, credentials: request.credentials)
            let changes: [FileChange]
            do {
                changes = try request.changes { path in FileManager.default.contents(atPath: tree.directory + "/" + path).map { [UInt8]($0) } }
            } catch {
                throw SourceError(message: "\(request.branch) at \(parent.hex.prefix(12)): \(error)")
            }
            let message = request.fullMessage
            let commit: CommitID
            do {
                let key = request.signingKey
                commit = try repository.commit(
                    changes: changes, parent: parent, message: message, author: request.author, committer: request.committer,
                    sign: key.map { key in { content in try Self.sshSign(content, key: key) } })
                // Kept under a namespace of its own: a local branch in the cache would be taken for
                // the remote's by a later look-up of the same name if this push never lands.
                try repository.setReference(Self.publishReference(request.branch), to: commit)
            } catch {
                throw SourceError(message: "committing on \(request.branch): \(error.message)")
            }
            request.beforePush?(attempt)
            do {
                try repository.push(refspecs: ["\(Self.publishReference(request.branch)):refs/heads/\(request.branch)"], credentials: request.credentials)
                return Published(commit: commit, branch: request.branch, attempts: attempt, events: events)
            } catch let rejected as PushRejected {
                events.append("attempt \(attempt): \(rejected); fetching and committing again on the new head")
            } catch let error as GitError {
                throw SourceError(message: "pushing \(request.branch) to \(request.url): \(error.message)")
            } catch {
                throw SourceError(message: "pushing \(request.branch) to \(request.url): \(error)")
            }
        }
        throw SourceError(message: "pushing \(request.branch) to \(request.url) was refused \(request.maxAttempts) times: \(events.last ?? "")")
    }

    /// Where a commit waits in the cache for its push to `branch`.
    static func publishReference(_ branch: String) -> String { "refs/tai-gitops/publish/" + branch }

    struct SigningFailed: Error, CustomStringConvertible { var description: String }

    /// An SSH signature in git's namespace, as `git commit -S` with `gpg.format=ssh` makes it.
    static func sshSign(_ content: String, key: String) throws -> String {
        let dir = NSTemporaryDirectory() + "tai-sign-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/commit"
        FileManager.default.createFile(atPath: file, contents: Data(content.utf8))
        let result = SignatureVerifier.run("ssh-keygen", ["-Y", "sign", "-f", key, "-n", "git", file], stdin: nil)
        guard result.status == 0, let signature = try? String(contentsOfFile: file + ".sig", encoding: .utf8) else {
            throw SigningFailed(description: "ssh-keygen -Y sign failed: \(result.err.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return signature
    }
}

extension SourceCache {
    /// The branches of `url` (as last fetched) whose names start with `prefix`, with their heads and
    /// whether each is merged into `base` already.
    public func branches(url: String, prefix: String, base: String) throws(SourceError) -> [(name: String, commit: CommitID, merged: Bool)] {
        do {
            let repository = try Repository.open(at: repositoryDirectory(url))
            let baseCommit = try Self.resolve(base, in: repository)
            let remotePrefix = "refs/remotes/origin/"
            var out: [(name: String, commit: CommitID, merged: Bool)] = []
            for name in try repository.referenceNames(prefix: remotePrefix + prefix) {
                let commit = try repository.resolve(name)
                let merged = commit == baseCommit ? true : try repository.isDescendant(baseCommit, of: commit)
                out.append((String(name.dropFirst(remotePrefix.count)), commit, merged))
            }
            return out
        } catch {
            throw SourceError(message: "branches of \(url): \(error.message)")
        }
    }
}
