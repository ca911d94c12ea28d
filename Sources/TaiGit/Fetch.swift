import CGit2
import Foundation

/// How to authenticate to a remote.
public struct GitCredentials: Sendable, Equatable {
    /// For https: a user and a password or token.
    public var username: String?
    public var password: String?
    /// For ssh: a private key file (and its passphrase).
    public var sshKeyFile: String?
    public var sshKeyPassphrase: String?
    /// For ssh: the known_hosts file the server's key must be in (default ~/.ssh/known_hosts),
    /// unless unknown hosts are explicitly allowed.
    public var knownHostsFile: String?
    public var allowUnknownHosts: Bool

    public init(
        username: String? = nil, password: String? = nil, sshKeyFile: String? = nil, sshKeyPassphrase: String? = nil,
        knownHostsFile: String? = nil, allowUnknownHosts: Bool = false
    ) {
        self.username = username
        self.password = password
        self.sshKeyFile = sshKeyFile
        self.sshKeyPassphrase = sshKeyPassphrase
        self.knownHostsFile = knownHostsFile
        self.allowUnknownHosts = allowUnknownHosts
    }
}

/// What a fetch transferred.
public struct FetchStats: Sendable, Equatable {
    public var receivedObjects: Int
    public var receivedBytes: Int
    public var totalObjects: Int
}

/// Handed to libgit2's callbacks through their payload pointer.
class CallbackPayload {
    let credentials: GitCredentials
    var attempts = 0
    /// Why an SSH host key was refused, for the error message.
    var hostKeyProblem: String?
    init(_ credentials: GitCredentials) { self.credentials = credentials }

    /// Whether `key` (the raw host key) is listed for `host` (and port) in the known_hosts file.
    func knows(host: String, port: Int?, key: [UInt8]) -> Bool {
        let file = credentials.knownHostsFile ?? ((ProcessInfo.processInfo.environment["HOME"] ?? "") + "/.ssh/known_hosts")
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            hostKeyProblem = "host key of \(host) cannot be checked: \(file) cannot be read"
            return false
        }
        // libgit2 reports the host without its port: `host` and `[host]:PORT` entries both count.
        let names = port.map { $0 == 22 ? [host] : ["[\(host)]:\($0)"] } ?? [host]
        func matches(_ entry: String) -> Bool { names.contains(entry) || (port == nil && entry.hasPrefix("[\(host)]:")) }
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 3 else { continue }
            let hosts = fields[0].split(separator: ",").map(String.init)
            guard hosts.contains(where: matches) else { continue }
            if let blob = Data(base64Encoded: String(fields[2])), [UInt8](blob) == key { return true }
        }
        hostKeyProblem = "the host key of \(names[0]) is not in \(file) (unknown host; allow it explicitly or add its key)"
        return false
    }
}

enum GitCallbacks {
    /// `host` or `host:port` as libgit2 reports it.
    static func splitHost(_ text: String) -> (String, Int?) {
        if let colon = text.lastIndex(of: ":"), !text.contains("]"), let port = Int(text[text.index(after: colon)...]) {
            return (String(text[..<colon]), port)
        }
        return (text, nil)
    }

    /// Fills `callbacks` with a credentials callback reading `payload`.
    static func install(_ callbacks: inout git_remote_callbacks, payload: UnsafeMutableRawPointer) {
        callbacks.payload = payload
        callbacks.certificate_check = { cert, valid, host, payload in
            guard tai_git_cert_is_ssh(cert) != 0 else { return GIT_PASSTHROUGH.rawValue }  // TLS: libgit2 checks it
            guard let payload else { return -1 }
            let state = Unmanaged<CallbackPayload>.fromOpaque(payload).takeUnretainedValue()
            if state.credentials.allowUnknownHosts { return 0 }
            var length = 0
            guard let raw = tai_git_cert_ssh_raw(cert, &length) else {
                state.hostKeyProblem = "the server did not present a raw host key to check"
                return GIT_ECERTIFICATE.rawValue
            }
            let key = Array(UnsafeBufferPointer(start: raw, count: length))
            let hostText = host.map { String(cString: $0) } ?? ""
            let (name, port) = Self.splitHost(hostText)
            _ = valid
            return state.knows(host: name, port: port, key: key) ? 0 : GIT_ECERTIFICATE.rawValue
        }
        callbacks.credentials = { out, _, usernameFromURL, allowedTypes, payload in
            guard let out, let payload else { return -1 }
            let state = Unmanaged<CallbackPayload>.fromOpaque(payload).takeUnretainedValue()
            state.attempts += 1
            // libgit2 asks again after a rejected credential: stop instead of looping.
            guard state.attempts <= 2 else { return GIT_EAUTH.rawValue }
            let credentials = state.credentials
            let user = credentials.username ?? usernameFromURL.map { String(cString: $0) } ?? "git"
            if allowedTypes & GIT_CREDENTIAL_USERNAME.rawValue != 0 {
                return git_credential_username_new(out, user)
            }
            if allowedTypes & GIT_CREDENTIAL_SSH_KEY.rawValue != 0, let key = credentials.sshKeyFile {
                let publicKey = FileManager.default.fileExists(atPath: key + ".pub") ? key + ".pub" : nil
                return git_credential_ssh_key_new(out, user, publicKey, key, credentials.sshKeyPassphrase)
            }
            if allowedTypes & GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue != 0, let password = credentials.password {
                return git_credential_userpass_plaintext_new(out, user, password)
            }
            return GIT_PASSTHROUGH.rawValue
        }
    }
}

extension Repository {
    /// Trusts a CA bundle (PEM file) for https remotes, for the whole process.
    public static func trustCertificates(file: String) throws(GitError) {
        _ = libgit2Initialized
        try GitError.check(tai_git_opts_set_ssl_cert_locations(file, nil), "trust certificates in \(file)")
    }

    /// Fetches `refspecs` from the remote `origin`, with forced updates as the refspecs say;
    /// returns what was transferred.
    public func fetch(refspecs: [String], credentials: GitCredentials = GitCredentials(), remoteName: String = "origin") throws(GitError) -> FetchStats {
        var remote: OpaquePointer?
        try GitError.check(git_remote_lookup(&remote, handleForExtensions, remoteName), "find remote \(remoteName)")
        defer { git_remote_free(remote) }
        var options = git_fetch_options()
        try GitError.check(git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION)), "fetch")
        options.prune = GIT_FETCH_PRUNE
        options.proxy_opts.type = GIT_PROXY_AUTO  // http(s)_proxy from the environment or git config
        let payload = CallbackPayload(credentials)
        let opaque = Unmanaged.passUnretained(payload).toOpaque()
        GitCallbacks.install(&options.callbacks, payload: opaque)
        let cStrings: [UnsafeMutablePointer<CChar>?] = refspecs.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        var pointers = cStrings
        let code = pointers.withUnsafeMutableBufferPointer { buffer in
            var array = git_strarray(strings: buffer.baseAddress, count: buffer.count)
            return git_remote_fetch(remote, &array, &options, "tai-gitops fetch")
        }
        withExtendedLifetime(payload) {}
        if code != 0, let problem = payload.hostKeyProblem { throw GitError(operation: "fetch from \(remoteName)", code: code, message: problem) }
        try GitError.check(code, "fetch from \(remoteName)")
        guard let stats = git_remote_stats(remote) else { return FetchStats(receivedObjects: 0, receivedBytes: 0, totalObjects: 0) }
        return FetchStats(receivedObjects: Int(stats.pointee.received_objects), receivedBytes: Int(stats.pointee.received_bytes), totalObjects: Int(stats.pointee.total_objects))
    }

    /// Whether `descendant` has `ancestor` in its history (false after a force push rewrote it).
    public func isDescendant(_ descendant: CommitID, of ancestor: CommitID) throws(GitError) -> Bool {
        if descendant == ancestor { return true }
        var a = git_oid()
        var b = git_oid()
        try GitError.check(git_oid_fromstr(&a, descendant.hex), "parse \(descendant.hex)")
        try GitError.check(git_oid_fromstr(&b, ancestor.hex), "parse \(ancestor.hex)")
        let result = git_graph_descendant_of(handleForExtensions, &a, &b)
        if result < 0 { try GitError.check(result, "compare \(descendant.short) with \(ancestor.short)") }
        return result == 1
    }
}
