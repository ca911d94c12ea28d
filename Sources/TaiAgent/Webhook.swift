import Crypto
import Foundation
public import TaiCore

/// A push notification from a git forge, checked before anything is fetched.
public struct Webhook: Sendable {
    /// The forges whose push webhooks the agent understands.
    public enum Forge: String, Sendable {
        case github, gitlab, gitea
    }

    /// What a verified push says.
    public struct Push: Sendable, Equatable {
        public var forge: Forge
        /// `refs/heads/main` → `main`; tags keep their full ref.
        public var branch: String?
        /// The repository's clone URLs as the payload names them.
        public var repositoryURLs: [String]
        /// The commit pushed (`after`), when the payload has it.
        public var commit: String?
    }

    /// Why a webhook was refused, with the HTTP status to answer.
    public struct Refusal: Error, Sendable, Equatable {
        public var status: Int
        public var message: String
    }

    /// Bodies larger than this are refused with 413 before they are read further.
    public static let maxBodySize = 1 << 20

    /// The shared secret configured on the forge.
    public let secret: [UInt8]

    public init(secret: [UInt8]) { self.secret = secret }

    /// Checks the request's signature (GitHub `X-Hub-Signature-256`, Gitea `X-Gitea-Signature`:
    /// HMAC-SHA256 of the body; GitLab `X-Gitlab-Token`: the secret itself), in constant time,
    /// then reads the push. `headers` are lower-cased names.
    public func verify(headers: [String: String], body: [UInt8]) throws(Refusal) -> Push {
        guard body.count <= Self.maxBodySize else { throw Refusal(status: 413, message: "the body is larger than \(Self.maxBodySize) bytes") }
        let forge: Forge
        if let signature = headers["x-hub-signature-256"] {
            guard signature.hasPrefix("sha256="), let given = Self.hexBytes(signature.dropFirst(7)) else {
                throw Refusal(status: 401, message: "X-Hub-Signature-256 is not sha256=<hex>")
            }
            guard Self.constantTimeEqual(given, hmac(body)) else { throw Refusal(status: 401, message: "the signature does not match the secret") }
            forge = .github
        } else if let signature = headers["x-gitea-signature"] {
            guard let given = Self.hexBytes(Substring(signature)) else { throw Refusal(status: 401, message: "X-Gitea-Signature is not hex") }
            guard Self.constantTimeEqual(given, hmac(body)) else { throw Refusal(status: 401, message: "the signature does not match the secret") }
            forge = .gitea
        } else if let token = headers["x-gitlab-token"] {
            guard Self.constantTimeEqual(Array(token.utf8), secret) else { throw Refusal(status: 401, message: "the token does not match the secret") }
            forge = .gitlab
        } else {
            throw Refusal(status: 401, message: "no signature: expected X-Hub-Signature-256 (GitHub), X-Gitea-Signature (Gitea) or X-Gitlab-Token (GitLab)")
        }
        let payload: Value
        do { payload = try JSON.parse(body) } catch { throw Refusal(status: 400, message: "the body is not JSON: \(error)") }
        guard case .map = payload else { throw Refusal(status: 400, message: "the body is not a JSON object") }
        var urls: [String] = []
        for key in ["clone_url", "ssh_url", "git_url", "html_url", "git_http_url", "git_ssh_url", "url"] {
            for base in [payload["repository"], payload["project"]] {
                if let url = base?[key]?.stringValue { urls.append(url) }
            }
        }
        var branch: String?
        if let ref = payload["ref"]?.stringValue {
            branch = ref.hasPrefix("refs/heads/") ? String(ref.dropFirst("refs/heads/".count)) : ref
        }
        return Push(forge: forge, branch: branch, repositoryURLs: urls, commit: payload["after"]?.stringValue)
    }

    func hmac(_ body: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: secret)))
    }

    /// Compares without stopping at the first difference (the time taken tells nothing about
    /// how much of a guess was right).
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }

    static func hexBytes(_ text: Substring) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(text.count / 2)
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            out.append(byte)
            index = next
        }
        return out
    }

    /// Whether a payload's repository URL names `configured` (scheme, credentials, `.git` and a
    /// trailing slash aside; `git@host:path` equals `ssh://git@host/path`).
    public static func sameRepository(_ payloadURL: String, _ configured: String) -> Bool {
        normalized(payloadURL) == normalized(configured)
    }

    static func normalized(_ url: String) -> String {
        var s = url.lowercased()
        if let range = s.range(of: "://") { s = String(s[range.upperBound...]) }
        if let at = s.firstIndex(of: "@"), !s[..<at].contains("/") { s = String(s[s.index(after: at)...]) }
        if !url.contains("://"), let colon = s.firstIndex(of: ":") { s.replaceSubrange(colon...colon, with: "/") }
        while s.hasSuffix("/") { s.removeLast() }
        if s.hasSuffix(".git") { s.removeLast(4) }
        return s
    }
}
