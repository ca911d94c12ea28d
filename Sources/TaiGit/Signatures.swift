import CGit2
import Foundation

/// A commit's signature and the bytes it signs.
public struct CommitSignature: Sendable, Equatable {
    /// The armored signature (`-----BEGIN SSH SIGNATURE-----` or `-----BEGIN PGP SIGNATURE-----`).
    public var signature: String
    /// The commit object without its signature header: what was signed.
    public var signedData: String
}

extension Repository {
    /// The commit's `gpgsig` signature, or nil for an unsigned commit.
    public func signature(of commit: CommitID) throws(GitError) -> CommitSignature? {
        var oid = git_oid()
        try GitError.check(git_oid_fromstr(&oid, commit.hex), "parse commit id \(commit.hex)")
        var signature = git_buf()
        var signed = git_buf()
        defer {
            git_buf_dispose(&signature)
            git_buf_dispose(&signed)
        }
        let code = git_commit_extract_signature(&signature, &signed, handleForExtensions, &oid, nil)
        if code == GIT_ENOTFOUND.rawValue { return nil }
        try GitError.check(code, "read the signature of \(commit.short)")
        func text(_ buffer: git_buf) -> String {
            guard let ptr = buffer.ptr else { return "" }
            return String(decoding: UnsafeRawBufferPointer(start: ptr, count: buffer.size), as: UTF8.self)
        }
        return CommitSignature(signature: text(signature), signedData: text(signed))
    }

    /// The commits reachable from `head` but not from `anchor` (newest first): what came since.
    public func commits(since anchor: CommitID?, to head: CommitID) throws(GitError) -> [CommitID] {
        try walk(since: anchor, to: head, firstParent: false)
    }
}

extension Repository {
    /// The first-parent history from `head` back to (not including) `anchor`, newest first.
    public func firstParentCommits(since anchor: CommitID?, to head: CommitID) throws(GitError) -> [CommitID] {
        try walk(since: anchor, to: head, firstParent: true)
    }

    private func walk(since anchor: CommitID?, to head: CommitID, firstParent: Bool) throws(GitError) -> [CommitID] {
        var walk: OpaquePointer?
        try GitError.check(git_revwalk_new(&walk, handleForExtensions), "walk history")
        defer { git_revwalk_free(walk) }
        if firstParent { try GitError.check(git_revwalk_simplify_first_parent(walk), "first-parent walk") }
        var headOID = git_oid()
        try GitError.check(git_oid_fromstr(&headOID, head.hex), "parse \(head.hex)")
        try GitError.check(git_revwalk_push(walk, &headOID), "walk from \(head.short)")
        if let anchor {
            var anchorOID = git_oid()
            try GitError.check(git_oid_fromstr(&anchorOID, anchor.hex), "parse \(anchor.hex)")
            try GitError.check(git_revwalk_hide(walk, &anchorOID), "walk to \(anchor.short)")
        }
        var out: [CommitID] = []
        var next = git_oid()
        while git_revwalk_next(&next, walk) == 0 { out.append(CommitID(hex: Self.hex(&next))) }
        return out
    }

    /// How many parents a commit has (2 or more for a merge).
    public func parentCount(_ commit: CommitID) throws(GitError) -> Int {
        try withCommit(commit) { Int(git_commit_parentcount($0)) }
    }

    /// The paths that differ between two commits' trees (`from` nil: every file of `to`).
    public func changedPaths(from: CommitID?, to: CommitID) throws(GitError) -> [String] {
        let newTree = try tree(of: to)
        defer { git_tree_free(newTree) }
        let oldTree = try from.map { c throws(GitError) in try tree(of: c) } ?? nil
        defer { git_tree_free(oldTree) }
        var diff: OpaquePointer?
        try GitError.check(git_diff_tree_to_tree(&diff, handleForExtensions, oldTree, newTree, nil), "diff \(from?.short ?? "nothing") and \(to.short)")
        defer { git_diff_free(diff) }
        var paths: [String] = []
        for i in 0..<git_diff_num_deltas(diff) {
            guard let delta = git_diff_get_delta(diff, i) else { continue }
            if let path = delta.pointee.old_file.path { paths.append(String(cString: path)) }
            if let path = delta.pointee.new_file.path, paths.last != String(cString: path) { paths.append(String(cString: path)) }
        }
        return paths
    }

    /// A file's content at a commit, or nil when the commit has no such file.
    public func fileContent(_ path: String, at commit: CommitID) throws(GitError) -> [UInt8]? {
        let tree = try tree(of: commit)
        defer { git_tree_free(tree) }
        var entry: OpaquePointer?
        let found = git_tree_entry_bypath(&entry, tree, path)
        if found == GIT_ENOTFOUND.rawValue { return nil }
        try GitError.check(found, "find \(path) in \(commit.short)")
        defer { git_tree_entry_free(entry) }
        guard git_tree_entry_type(entry) == GIT_OBJECT_BLOB else { return nil }
        var blob: OpaquePointer?
        try GitError.check(git_blob_lookup(&blob, handleForExtensions, git_tree_entry_id(entry)), "read \(path)")
        defer { git_blob_free(blob) }
        let size = Int(git_blob_rawsize(blob))
        guard size > 0, let raw = git_blob_rawcontent(blob) else { return [] }
        return Array(UnsafeRawBufferPointer(start: raw, count: size))
    }

    /// The paths a commit changes relative to its first parent (all its files for a root commit).
    public func changedPaths(_ commit: CommitID) throws(GitError) -> [String] {
        let parent = try withCommit(commit) { object in
            git_commit_parentcount(object) > 0 ? git_commit_parent_id(object, 0).map { CommitID(hex: Self.hex($0)) } : nil
        }
        return try changedPaths(from: parent, to: commit)
    }
}
