import ArgumentParser
import Foundation
import TaiGit
import TaiAgent
import TaiSource

/// Where the config repository comes from: a local checkout, or a git URL fetched into the cache.
struct SourceOptions: ParsableArguments {
    @Option(help: "The config repository: a local directory, or a git URL (https://, ssh://, git@host:path, git://, file://).")
    var repo: String = "."

    @Option(help: "With a git URL: the branch, tag or commit to read.")
    var revision: String = "main"

    @Option(name: .customLong("cache-dir"), help: "With a git URL: where clones and snapshots are kept (default ~/.cache/tai-gitops).")
    var cacheDir: String?

    @OptionGroup var git: GitCredentialOptions

    enum Verification: String, ExpressibleByArgument, CaseIterable {
        case none, head, ancestry
    }

    @Option(name: .customLong("verify-signatures"), help: "With a git URL: none, head (the commit to deploy must be signed by an allowed key) or ancestry (every commit since --trusted-anchor).")
    var verifySignatures: Verification = .none

    @Option(name: .customLong("allowed-signers"), help: "SSH allowed-signers file (as git's gpg.ssh.allowedSignersFile).")
    var allowedSigners: String?

    @Option(help: "OpenPGP keyring (for gpgv) of keys allowed to sign.")
    var keyring: String?

    @Option(name: .customLong("trusted-anchor"), help: "With --verify-signatures ancestry: a trusted commit; commits after it must be signed.")
    var trustedAnchor: String?

    @Option(name: .customLong("provenance-path"), help: "With a git URL: changes under this path (e.g. environments/prod) must arrive through merges the forge signed or that --allowed-merges lists.")
    var provenancePath: String?

    @Option(name: .customLong("forge-signers"), help: "Allowed-signers file of the forge's merge-signing key (for --provenance-path).")
    var forgeSigners: String?

    @Option(name: .customLong("allowed-merges"), help: "A file listing merge commit ids accepted without a forge signature (for --provenance-path).")
    var allowedMerges: String?

    static func isURL(_ repo: String) -> Bool {
        if repo.contains("://") { return true }
        // scp-like `user@host:path` (not a local path that happens to contain a colon).
        guard let at = repo.firstIndex(of: "@"), let colon = repo.firstIndex(of: ":"), at < colon else { return false }
        return !repo.hasPrefix("/") && !repo.hasPrefix(".")
    }

    /// The remote repository with its credentials and trust policy; nil for a local checkout.
    func remoteSource() throws(CLIError) -> RemoteSource? {
        guard Self.isURL(repo) else { return nil }
        let credentials = try git.credentials()
        let policy: SignaturePolicy = switch verifySignatures {
        case .none: .none
        case .head: .head
        case .ancestry: .ancestry(anchor: trustedAnchor)
        }
        if policy != .none && allowedSigners == nil && keyring == nil {
            throw CLIError(message: "--verify-signatures \(verifySignatures.rawValue) needs --allowed-signers FILE (SSH) or --keyring FILE (OpenPGP)")
        }
        var provenance: ProvenancePolicy?
        if let provenancePath {
            var merges: Set<String> = []
            if let allowedMerges {
                guard let text = try? String(contentsOfFile: allowedMerges, encoding: .utf8) else { throw CLIError(message: "--allowed-merges \(allowedMerges) cannot be read") }
                merges = Set(text.split(whereSeparator: \.isWhitespace).map(String.init).filter { !$0.hasPrefix("#") })
            }
            provenance = ProvenancePolicy(path: provenancePath, anchor: trustedAnchor, allowedMerges: merges, verifier: SignatureVerifier(allowedSigners: forgeSigners))
        }
        return RemoteSource(
            url: repo, cache: SourceCache(root: cacheDir ?? SourceCache.defaultRoot), credentials: credentials, policy: policy,
            verifier: SignatureVerifier(allowedSigners: allowedSigners, keyring: keyring), provenance: provenance)
    }

    /// The local directory to read: the checkout itself, or the snapshot of `revision`.
    func resolveRepository() async throws(CLIError) -> String {
        guard let remote = try remoteSource() else { return repo }
        let snapshot: Snapshot
        do {
            snapshot = try await remote.cache.snapshot(
                url: remote.url, revision: revision, credentials: remote.credentials, policy: remote.policy, verifier: remote.verifier,
                provenance: remote.provenance)
        } catch {
            throw CLIError(message: error.message)
        }
        for event in snapshot.events { FileHandle.standardError.write(Data("note: \(event)\n".utf8)) }
        return snapshot.directory
    }
}

/// How to reach a git remote: https user and password or token, CA bundle, ssh key and known hosts.
struct GitCredentialOptions: ParsableArguments {
    @Option(name: .customLong("git-username"), help: "User for https (default: from the URL, else 'git').")
    var gitUsername: String?

    @Option(name: .customLong("git-password-file"), help: "A file holding the https password or token.")
    var gitPasswordFile: String?

    @Option(name: .customLong("git-password-env"), help: "An environment variable holding the https password or token.")
    var gitPasswordEnv: String?

    @Option(name: .customLong("git-ca-file"), help: "A PEM bundle of certificate authorities to trust for https.")
    var gitCAFile: String?

    @Option(name: .customLong("git-ssh-key"), help: "A private key file for ssh remotes.")
    var gitSSHKey: String?

    @Option(name: .customLong("git-ssh-key-passphrase-env"), help: "An environment variable holding the ssh key's passphrase.")
    var gitSSHKeyPassphraseEnv: String?

    @Option(name: .customLong("git-known-hosts"), help: "known_hosts file for ssh remotes (default ~/.ssh/known_hosts).")
    var gitKnownHosts: String?

    @Flag(name: .customLong("git-allow-unknown-host"), help: "Accept an ssh server whose key is not in known_hosts (unsafe).")
    var gitAllowUnknownHost = false

    /// The credentials the options give; a CA bundle is trusted for https from here on.
    func credentials() throws(CLIError) -> GitCredentials {
        var credentials = GitCredentials(
            username: gitUsername, sshKeyFile: gitSSHKey, sshKeyPassphrase: gitSSHKeyPassphraseEnv.flatMap { ProcessInfo.processInfo.environment[$0] },
            knownHostsFile: gitKnownHosts, allowUnknownHosts: gitAllowUnknownHost)
        if let file = gitPasswordFile {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw CLIError(message: "--git-password-file \(file) cannot be read") }
            credentials.password = text.trimmingCharacters(in: .whitespacesAndNewlines)
        } else if let name = gitPasswordEnv {
            guard let value = ProcessInfo.processInfo.environment[name] else { throw CLIError(message: "--git-password-env: $\(name) is not set") }
            credentials.password = value
        }
        if let gitCAFile {
            do { try Repository.trustCertificates(file: gitCAFile) } catch { throw CLIError(message: "\(error)") }
        }
        return credentials
    }
}
