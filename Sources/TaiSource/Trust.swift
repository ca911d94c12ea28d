import Foundation
import TaiGit
import TaiProcess

/// Which commits must be signed before a revision is rendered.
public enum SignaturePolicy: Sendable, Equatable {
    case none
    /// The commit to deploy must be signed by an allowed key.
    case head
    /// Every commit since `anchor` (a trusted commit) must be; without an anchor, every commit.
    case ancestry(anchor: String?)
}

/// Verifies commit signatures: SSH signatures against an allowed-signers file (as `git` does,
/// with `ssh-keygen -Y verify`), OpenPGP signatures against a keyring (with `gpgv`).
public struct SignatureVerifier: Sendable {
    public var allowedSigners: String?
    public var keyring: String?

    public init(allowedSigners: String? = nil, keyring: String? = nil) {
        self.allowedSigners = allowedSigners
        self.keyring = keyring
    }

    /// Nil when the commit is signed by an allowed key, else why not.
    public func problem(with commit: CommitID, in repository: Repository) -> String? {
        let signature: CommitSignature?
        do { signature = try repository.signature(of: commit) } catch { return "its signature cannot be read: \(error.message)" }
        guard let signature else { return "it is not signed" }
        let dir = NSTemporaryDirectory() + "tai-verify-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sigFile = dir + "/sig", dataFile = dir + "/data"
        FileManager.default.createFile(atPath: sigFile, contents: Data(signature.signature.utf8))
        FileManager.default.createFile(atPath: dataFile, contents: Data(signature.signedData.utf8))
        if signature.signature.contains("BEGIN SSH SIGNATURE") {
            guard let allowedSigners else { return "it has an SSH signature and no allowed-signers file was given" }
            let principals = Self.run("ssh-keygen", ["-Y", "find-principals", "-f", allowedSigners, "-s", sigFile], stdin: nil)
            let principal = principals.out.split(separator: "\n").first.map(String.init) ?? ""
            guard principals.status == 0, !principal.isEmpty else { return "its SSH key is not in \(allowedSigners)" }
            let verify = Self.run("ssh-keygen", ["-Y", "verify", "-f", allowedSigners, "-I", principal, "-n", "git", "-s", sigFile], stdin: dataFile)
            return verify.status == 0 ? nil : "its SSH signature does not verify: \(verify.err.trimmingCharacters(in: .whitespacesAndNewlines))"
        }
        if signature.signature.contains("BEGIN PGP SIGNATURE") {
            guard let keyring else { return "it has an OpenPGP signature and no keyring was given" }
            let verify = Self.run("gpgv", ["--keyring", keyring, sigFile, dataFile], stdin: nil)
            return verify.status == 0 ? nil : "its OpenPGP signature does not verify against \(keyring): \(verify.err.split(separator: "\n").last.map(String.init) ?? "")"
        }
        return "its signature is of an unknown kind"
    }

    /// Applies a policy to the revision about to be rendered.
    public func check(_ policy: SignaturePolicy, head: CommitID, in repository: Repository) -> String? {
        switch policy {
        case .none:
            return nil
        case .head:
            return problem(with: head, in: repository).map { "commit \(head.short) is refused: \($0)" }
        case .ancestry(let anchor):
            let commits: [CommitID]
            do { commits = try repository.commits(since: anchor.map { try repository.resolve($0) }, to: head) } catch {
                return "the history of \(head.short) cannot be walked: \(error)"
            }
            for commit in commits {
                if let problem = problem(with: commit, in: repository) {
                    return "commit \(commit.short) (between \(anchor.map { String($0.prefix(12)) } ?? "the root") and \(head.short)) is refused: \(problem)"
                }
            }
            return nil
        }
    }

    static func run(_ program: String, _ args: [String], stdin: String?) -> (status: Int32, out: String, err: String) {
        do {
            let result = try ChildProcess.run(program, args, input: stdin)
            return (result.status, result.outputText, result.errorText)
        } catch {
            return (127, "", error.description)
        }
    }
}

/// Changes to an environment's files must arrive through a merge commit of an approved pull
/// request: on the first-parent history since a trusted anchor, every commit that touches
/// `path` must be a merge that the forge signed (an allowed key) or that is on an allowed list.
public struct ProvenancePolicy: Sendable {
    /// The environment's directory, e.g. `environments/prod/`.
    public var path: String
    public var anchor: String?
    /// Merge commits accepted without a signature (full ids).
    public var allowedMerges: Set<String>
    public var verifier: SignatureVerifier

    public init(path: String, anchor: String? = nil, allowedMerges: Set<String> = [], verifier: SignatureVerifier = SignatureVerifier()) {
        self.path = path.hasSuffix("/") ? path : path + "/"
        self.anchor = anchor
        self.allowedMerges = allowedMerges
        self.verifier = verifier
    }

    /// Nil when every change to `path` since the anchor came through an accepted merge; else why not.
    public func problem(head: CommitID, in repository: Repository) -> String? {
        let commits: [CommitID]
        do { commits = try repository.firstParentCommits(since: anchor.map { try repository.resolve($0) }, to: head) } catch {
            return "the history of \(head.short) cannot be walked: \(error)"
        }
        for commit in commits {
            let touches: Bool
            do { touches = try repository.changedPaths(commit).contains { $0.hasPrefix(path) } } catch { return "\(commit.short): \(error)" }
            guard touches else { continue }
            let parents = (try? repository.parentCount(commit)) ?? 0
            guard parents >= 2 else {
                return "commit \(commit.short) changes \(path) directly, not through the merge of a pull request"
            }
            if allowedMerges.contains(commit.hex) { continue }
            if let problem = verifier.problem(with: commit, in: repository) {
                return "merge \(commit.short) changes \(path) but is neither signed by the forge (\(problem)) nor on the allowed list"
            }
        }
        return nil
    }
}
