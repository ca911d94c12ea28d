import CGit2
import Foundation

/// A file to write (or, with nil content, delete) in a new commit.
public struct FileChange: Sendable, Equatable {
    public var path: String
    public var content: [UInt8]?

    public init(path: String, content: [UInt8]?) {
        self.path = path
        self.content = content
    }
}

/// Who wrote and who committed.
public struct Identity: Sendable, Equatable {
    public var name: String
    public var email: String

    public init(name: String, email: String) {
        self.name = name
        self.email = email
    }
}

/// Why a push was refused by the remote (a non-fast-forward most often).
public struct PushRejected: Error, Sendable, CustomStringConvertible {
    public var reference: String
    public var reason: String
    public var description: String { "the remote refused \(reference): \(reason)" }
}

/// The credentials payload, plus the references the remote refused.
final class PushPayload: CallbackPayload {
    var rejections: [(String, String)] = []
}

extension Repository {
    /// Creates a commit on top of `parent` that writes `changes` (no work tree or index is
    /// touched); `sign`, when given, returns an armored signature of the commit's content.
    public func commit(
        changes: [FileChange], parent: CommitID, message: String, author: Identity, committer: Identity,
        sign: ((String) throws -> String)? = nil
    ) throws(GitError) -> CommitID {
        try withCommit(parent) { parentCommit throws(GitError) -> CommitID in
            var parentTree: OpaquePointer?
            try GitError.check(git_commit_tree(&parentTree, parentCommit), "read the tree of \(parent.short)")
            defer { git_tree_free(parentTree) }

            var index: OpaquePointer?
            try GitError.check(git_index_new(&index), "create an index")
            defer { git_index_free(index) }
            try GitError.check(git_index_read_tree(index, parentTree), "read \(parent.short) into an index")
            for change in changes {
                if let content = change.content {
                    var blob = git_oid()
                    let written = content.withUnsafeBytes { bytes in git_blob_create_from_buffer(&blob, handleForExtensions, bytes.baseAddress, bytes.count) }
                    try GitError.check(written, "write the content of \(change.path)")
                    var entry = git_index_entry()
                    entry.mode = 0o100644
                    entry.id = blob
                    let code = change.path.withCString { path -> Int32 in
                        entry.path = path
                        return git_index_add(index, &entry)
                    }
                    try GitError.check(code, "write \(change.path)")
                } else {
                    try GitError.check(git_index_remove_bypath(index, change.path), "delete \(change.path)")
                }
            }
            var treeOID = git_oid()
            try GitError.check(git_index_write_tree_to(&treeOID, index, handleForExtensions), "write the new tree")
            var tree: OpaquePointer?
            try GitError.check(git_tree_lookup(&tree, handleForExtensions, &treeOID), "look up the new tree")
            defer { git_tree_free(tree) }

            var authorSig: UnsafeMutablePointer<git_signature>?
            var committerSig: UnsafeMutablePointer<git_signature>?
            try GitError.check(git_signature_now(&authorSig, author.name, author.email), "author identity")
            defer { git_signature_free(authorSig) }
            try GitError.check(git_signature_now(&committerSig, committer.name, committer.email), "committer identity")
            defer { git_signature_free(committerSig) }

            var parents: [OpaquePointer?] = [parentCommit]
            var out = git_oid()
            guard let sign else {
                let code = parents.withUnsafeMutableBufferPointer { buffer in
                    git_commit_create(&out, handleForExtensions, nil, authorSig, committerSig, "UTF-8", message, tree, 1, buffer.baseAddress)
                }
                try GitError.check(code, "create the commit")
                return CommitID(hex: Self.hex(&out))
            }
            var buffer = git_buf()
            defer { git_buf_dispose(&buffer) }
            let code = parents.withUnsafeMutableBufferPointer { list in
                git_commit_create_buffer(&buffer, handleForExtensions, authorSig, committerSig, "UTF-8", message, tree, 1, list.baseAddress)
            }
            try GitError.check(code, "prepare the commit")
            let content = buffer.ptr.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: buffer.size), as: UTF8.self) } ?? ""
            let signature: String
            do { signature = try sign(content) } catch { throw GitError(operation: "sign the commit", code: -1, message: "\(error)") }
            try GitError.check(git_commit_create_with_signature(&out, handleForExtensions, content, signature, "gpgsig"), "create the signed commit")
            return CommitID(hex: Self.hex(&out))
        }
    }

    /// Points a reference at a commit (creating or moving it).
    public func setReference(_ name: String, to commit: CommitID) throws(GitError) {
        var oid = git_oid()
        try GitError.check(git_oid_fromstr(&oid, commit.hex), "parse \(commit.hex)")
        var reference: OpaquePointer?
        try GitError.check(git_reference_create(&reference, handleForExtensions, name, &oid, 1, "tai-gitops"), "set \(name)")
        git_reference_free(reference)
    }

    /// Pushes `refspecs` to `origin`; a refused update throws ``PushRejected``.
    public func push(refspecs: [String], credentials: GitCredentials = GitCredentials(), remoteName: String = "origin") throws -> Void {
        var remote: OpaquePointer?
        try GitError.check(git_remote_lookup(&remote, handleForExtensions, remoteName), "find remote \(remoteName)")
        defer { git_remote_free(remote) }
        var options = git_push_options()
        try GitError.check(git_push_options_init(&options, UInt32(GIT_PUSH_OPTIONS_VERSION)), "push")
        options.proxy_opts.type = GIT_PROXY_AUTO
        let payload = PushPayload(credentials)
        let opaque = Unmanaged.passUnretained(payload).toOpaque()
        GitCallbacks.install(&options.callbacks, payload: opaque)
        options.callbacks.push_update_reference = { refname, status, payload in
            guard let payload, let status else { return 0 }
            let push = Unmanaged<PushPayload>.fromOpaque(payload).takeUnretainedValue()
            push.rejections.append((refname.map { String(cString: $0) } ?? "", String(cString: status)))
            return 0
        }
        let cStrings: [UnsafeMutablePointer<CChar>?] = refspecs.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        var pointers = cStrings
        let code = pointers.withUnsafeMutableBufferPointer { buffer in
            var array = git_strarray(strings: buffer.baseAddress, count: buffer.count)
            return git_remote_push(remote, &array, &options)
        }
        withExtendedLifetime(payload) {}
        if let (reference, reason) = payload.rejections.first { throw PushRejected(reference: reference, reason: reason) }
        if code == GIT_ENONFASTFORWARD.rawValue {
            throw PushRejected(reference: refspecs.first ?? "", reason: "non-fast-forward")
        }
        try GitError.check(code, "push to \(remoteName)")
    }
}

extension Repository {
    /// The names of the references that start with `prefix` (`refs/remotes/origin/promote/`), sorted.
    public func referenceNames(prefix: String) throws(GitError) -> [String] {
        var names = git_strarray()
        try GitError.check(git_reference_list(&names, handleForExtensions), "list references")
        defer { git_strarray_dispose(&names) }
        var out: [String] = []
        for i in 0..<names.count {
            if let name = names.strings[i].map({ String(cString: $0) }), name.hasPrefix(prefix) { out.append(name) }
        }
        return out.sorted()
    }
}
