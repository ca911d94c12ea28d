import CGit2
import Dispatch
import Foundation

/// libgit2 is initialised once per process, on first use.
let libgit2Initialized: Bool = {
    git_libgit2_init()
    return true
}()

/// A commit's object id, as 40 hex digits.
public struct CommitID: Sendable, Hashable, CustomStringConvertible {
    public let hex: String

    public init(hex: String) { self.hex = hex }

    /// The first 12 digits, as people quote commits.
    public var short: String { String(hex.prefix(12)) }
    public var description: String { hex }
}

/// A git repository opened with libgit2. Owns the `git_repository` handle.
///
/// Not `Sendable`: a libgit2 repository handle must not be used from two threads at once.
/// Open one per task, or use the `async` entry points, which do their work on a thread of
/// their own.
public final class Repository {
    private let handle: OpaquePointer
    /// The repository's directory (the `.git` directory for a repository with a work tree).
    public let path: String

    private init(handle: OpaquePointer) {
        self.handle = handle
        path = git_repository_path(handle).map { String(cString: $0) } ?? ""
    }

    deinit {
        git_repository_free(handle)
    }

    /// The libgit2 handle, for this module's other files.
    var handleForExtensions: OpaquePointer { handle }

    /// Whether the repository has no work tree (as the agent's cache clones do).
    public var isBare: Bool { git_repository_is_bare(handle) == 1 }

    /// Opens the repository at `path` (a work tree, a `.git` directory or a bare repository).
    public static func open(at path: String) throws(GitError) -> Repository {
        _ = libgit2Initialized
        var repo: OpaquePointer?
        try GitError.check(git_repository_open(&repo, path), "open repository \(path)")
        guard let repo else { throw GitError(operation: "open repository \(path)", code: -1, message: "no repository returned") }
        return Repository(handle: repo)
    }

    /// Clones `url` (a `file://` URL or a local path) into `directory`.
    ///
    /// - Parameters:
    ///   - bare: clone without a work tree; files are then read through ``checkout(_:into:)``.
    ///   - branch: the branch to check out (and make HEAD) instead of the remote's default.
    public static func clone(from url: String, to directory: String, bare: Bool = false, branch: String? = nil, credentials: GitCredentials = GitCredentials())
        throws(GitError) -> Repository
    {
        _ = libgit2Initialized
        var options = git_clone_options()
        try GitError.check(git_clone_options_init(&options, UInt32(GIT_CLONE_OPTIONS_VERSION)), "clone \(url)")
        options.bare = bare ? 1 : 0
        options.fetch_opts.proxy_opts.type = GIT_PROXY_AUTO  // http(s)_proxy from the environment or git config
        let payload = CallbackPayload(credentials)
        GitCallbacks.install(&options.fetch_opts.callbacks, payload: Unmanaged.passUnretained(payload).toOpaque())
        defer { withExtendedLifetime(payload) {} }
        var repo: OpaquePointer?
        let code: Int32 =
            if let branch {
                branch.withCString { branchName in
                    options.checkout_branch = branchName
                    return git_clone(&repo, url, directory, &options)
                }
            } else {
                git_clone(&repo, url, directory, &options)
            }
        if code != 0, let problem = payload.hostKeyProblem { throw GitError(operation: "clone \(url)", code: code, message: problem) }
        try GitError.check(code, "clone \(url) into \(directory)")
        guard let repo else { throw GitError(operation: "clone \(url)", code: -1, message: "no repository returned") }
        return Repository(handle: repo)
    }

    /// Clones on a thread of its own, keeping the blocking network and disk work off Swift's
    /// cooperative pool.
    public static func clone(from url: String, to directory: String, bare: Bool = false, branch: String? = nil, credentials: GitCredentials = GitCredentials()) async throws(GitError)
        -> Repository
    {
        let result: Result<UncheckedRepository, GitError> = await Blocking.run {
            do throws(GitError) {
                let repository: Repository = try clone(from: url, to: directory, bare: bare, branch: branch, credentials: credentials)
                return .success(UncheckedRepository(repository))
            } catch {
                return .failure(error)
            }
        }
        return try result.get().repository
    }

    /// Resolves a revision — a branch, tag, `HEAD`, a full or abbreviated commit id, or any
    /// expression `git rev-parse` takes — to the commit it names.
    public func resolve(_ revision: String) throws(GitError) -> CommitID {
        var object: OpaquePointer?
        try GitError.check(git_revparse_single(&object, handle, revision), "resolve revision '\(revision)'")
        defer { git_object_free(object) }
        var commit: OpaquePointer?
        try GitError.check(git_object_peel(&commit, object, GIT_OBJECT_COMMIT), "resolve revision '\(revision)' to a commit")
        defer { git_object_free(commit) }
        guard let id = git_object_id(commit) else {
            throw GitError(operation: "resolve revision '\(revision)'", code: -1, message: "commit has no id")
        }
        return CommitID(hex: Self.hex(id))
    }

    /// Writes the tree of `commit` into `directory` (created if missing), leaving the
    /// repository's own index and work tree alone.
    public func checkout(_ commit: CommitID, into directory: String) throws(GitError) {
        let tree = try tree(of: commit)
        defer { git_tree_free(tree) }

        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw GitError(operation: "create directory \(directory)", code: -1, message: "\(error)")
        }
        var options = git_checkout_options()
        try GitError.check(git_checkout_options_init(&options, UInt32(GIT_CHECKOUT_OPTIONS_VERSION)), "checkout")
        options.checkout_strategy = GIT_CHECKOUT_FORCE.rawValue | GIT_CHECKOUT_DONT_UPDATE_INDEX.rawValue
        let code = directory.withCString { target in
            options.target_directory = target
            return git_checkout_tree(handle, tree, &options)
        }
        try GitError.check(code, "check out commit \(commit.short) into \(directory)")
    }

    /// The commit's message, author and time.
    public func commitInfo(_ commit: CommitID) throws(GitError) -> CommitInfo {
        try withCommit(commit) { object in
            let message = git_commit_message(object).map { String(cString: $0) } ?? ""
            let author = git_commit_author(object)
            let name = author?.pointee.name.map { String(cString: $0) } ?? ""
            let email = author?.pointee.email.map { String(cString: $0) } ?? ""
            let time = Int64(git_commit_time(object))
            return CommitInfo(id: commit, message: message, authorName: name, authorEmail: email, time: time)
        }
    }

    /// Runs `body` with the commit object, looked up here and freed when `body` returns.
    func withCommit<T>(_ commit: CommitID, _ body: (OpaquePointer?) throws(GitError) -> T) throws(GitError) -> T {
        var oid = git_oid()
        try GitError.check(git_oid_fromstr(&oid, commit.hex), "parse commit id \(commit.hex)")
        var object: OpaquePointer?
        try GitError.check(git_commit_lookup(&object, handle, &oid), "look up commit \(commit.short)")
        defer { git_commit_free(object) }
        return try body(object)
    }

    /// The commit's tree; the caller frees it (`git_tree_free`).
    func tree(of commit: CommitID) throws(GitError) -> OpaquePointer? {
        try withCommit(commit) { object throws(GitError) in
            var tree: OpaquePointer?
            try GitError.check(git_commit_tree(&tree, object), "read the tree of commit \(commit.short)")
            return tree
        }
    }

    static func hex(_ id: UnsafePointer<git_oid>) -> String {
        var buffer = [CChar](repeating: 0, count: Int(tai_git_oid_hexsz()) + 1)
        buffer.withUnsafeMutableBufferPointer { b in
            _ = git_oid_tostr(b.baseAddress, b.count, id)
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// What a commit says about itself.
public struct CommitInfo: Sendable, Equatable {
    public var id: CommitID
    public var message: String
    public var authorName: String
    public var authorEmail: String
    /// Seconds since 1970, as git records it.
    public var time: Int64
}

/// Hands a freshly made repository from the worker thread back to the caller. Safe because
/// nothing else holds the handle between the two.
private struct UncheckedRepository: @unchecked Sendable {
    let repository: Repository
    init(_ repository: Repository) { self.repository = repository }
}

/// Runs blocking C work on a Dispatch queue rather than Swift's cooperative pool.
enum Blocking {
    static let queue = DispatchQueue(label: "tai-gitops.git", attributes: .concurrent)

    static func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: work()) }
        }
    }
}
