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
        var walk: OpaquePointer?
        try GitError.check(git_revwalk_new(&walk, handleForExtensions), "walk history")
        defer { git_revwalk_free(walk) }
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
        while git_revwalk_next(&next, walk) == 0 {
            out.append(CommitID(hex: Self.hex(&next)))
        }
        return out
    }
}
