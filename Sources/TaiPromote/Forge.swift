import Foundation
public import TaiCore
public import TaiHTTP

/// A forge's pull request (GitLab: merge request), as the promotion needs it.
public struct PullRequest: Sendable, Equatable {
    public var number: Int
    public var url: String
    public var head: String
    public var base: String
    public var title: String
    public var state: String
    public var merged: Bool

    public init(number: Int, url: String, head: String, base: String, title: String, state: String, merged: Bool = false) {
        self.number = number
        self.url = url
        self.head = head
        self.base = base
        self.title = title
        self.state = state
        self.merged = merged
    }

    public var json: Value {
        .map(["number": .int(number), "url": .string(url), "head": .string(head), "base": .string(base), "title": .string(title), "state": .string(state), "merged": .bool(merged)])
    }
}

/// Where promotion pull requests are opened: GitHub, GitLab or Gitea, through their REST APIs.
public struct ForgeSettings: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case github, gitlab, gitea
    }

    public var kind: Kind
    /// The API's root: `https://api.github.com`, `https://gitlab.example.com`, `https://gitea.example.com`.
    public var url: String
    /// `owner/name` (GitLab: the project's path or numeric id).
    public var repository: String
    public var token: String?

    public init(kind: Kind, url: String? = nil, repository: String, token: String? = nil) {
        self.kind = kind
        self.url = (url ?? (kind == .github ? "https://api.github.com" : "")).trimmingSuffix("/")
        self.repository = repository
        self.token = token
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        var s = self
        while s.hasSuffix(suffix) { s.removeLast(suffix.count) }
        return s
    }

    /// Percent-encoded for one path segment or query value.
    var urlComponentEncoded: String {
        addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")) ?? self
    }
}

/// A forge's answer that was not what the promotion needed: the request and what came back.
public struct ForgeError: Error, CustomStringConvertible, Sendable {
    public var request: String
    public var status: Int?
    public var message: String

    public var description: String {
        "\(request): " + (status.map { "HTTP \($0): " } ?? "") + message
    }
}

/// Opens, finds and merges pull requests. Every request carries the token; none is logged.
public struct ForgeClient: Sendable {
    public var settings: ForgeSettings
    let http: HTTPClient

    public init(settings: ForgeSettings, http: HTTPClient = HTTPClient()) {
        self.settings = settings
        self.http = http
    }

    private var apiRoot: String {
        switch settings.kind {
        case .github: return settings.url + "/repos/" + settings.repository
        case .gitea: return settings.url + "/api/v1/repos/" + settings.repository
        case .gitlab: return settings.url + "/api/v4/projects/" + settings.repository.urlComponentEncoded
        }
    }

    private func call(_ method: HTTPMethod, _ path: String, body: Value? = nil) async throws(ForgeError) -> Value {
        var headers: [(name: String, value: String)] = [("Accept", settings.kind == .github ? "application/vnd.github+json" : "application/json")]
        if let token = settings.token {
            switch settings.kind {
            case .github: headers.append(("Authorization", "Bearer \(token)"))
            case .gitea: headers.append(("Authorization", "token \(token)"))
            case .gitlab: headers.append(("PRIVATE-TOKEN", token))
            }
        }
        if settings.kind == .github { headers.append(("X-GitHub-Api-Version", "2022-11-28")) }
        if body != nil { headers.append(("Content-Type", "application/json")) }
        let fullPath = String((apiRoot + path).dropFirst(settings.url.count))
        let description = "\(settings.kind.rawValue) \(method.rawValue) \(fullPath.split(separator: "?").first.map(String.init) ?? fullPath)"
        let response: HTTPResponse
        do {
            response = try await http.execute(HTTPRequest(method: method, url: apiRoot + path, headers: headers, body: body.map { JSON.serializeBytes($0) }))
        } catch {
            throw ForgeError(request: description, status: nil, message: "\(error)")
        }
        let json = (try? JSON.parse(response.body)) ?? .null
        guard (200..<300).contains(response.status) else {
            let message = json["message"]?.stringValue ?? json["error"]?.stringValue ?? String(response.text.prefix(300))
            throw ForgeError(request: description, status: response.status, message: message)
        }
        return json
    }

    private func pullRequest(_ json: Value) -> PullRequest {
        switch settings.kind {
        case .gitlab:
            return PullRequest(
                number: json["iid"]?.intValue ?? 0, url: json["web_url"]?.stringValue ?? "", head: json["source_branch"]?.stringValue ?? "",
                base: json["target_branch"]?.stringValue ?? "", title: json["title"]?.stringValue ?? "",
                state: json["state"]?.stringValue == "opened" ? "open" : json["state"]?.stringValue ?? "", merged: json["state"]?.stringValue == "merged")
        case .github, .gitea:
            return PullRequest(
                number: json["number"]?.intValue ?? 0, url: json["html_url"]?.stringValue ?? "", head: json[path: ["head", "ref"]]?.stringValue ?? "",
                base: json[path: ["base", "ref"]]?.stringValue ?? "", title: json["title"]?.stringValue ?? "", state: json["state"]?.stringValue ?? "",
                merged: json["merged"]?.boolValue ?? (json["merged_at"].map { $0 != .null } ?? false))
        }
    }

    /// The open pull requests whose head branch starts with `prefix`.
    public func openPullRequests(headPrefix prefix: String) async throws(ForgeError) -> [PullRequest] {
        let path: String
        switch settings.kind {
        case .github: path = "/pulls?state=open&per_page=100"
        case .gitea: path = "/pulls?state=open&limit=50"
        case .gitlab: path = "/merge_requests?state=opened&per_page=100"
        }
        let json = try await call(.get, path)
        return (json.listValue ?? []).map(pullRequest).filter { $0.head.hasPrefix(prefix) }
    }

    /// Opens a pull request from `head` into `base`, unless one is open for `head` already (then
    /// that one is returned, with `created` false).
    public func open(head: String, base: String, title: String, body: String) async throws(ForgeError) -> (pullRequest: PullRequest, created: Bool) {
        if let existing = try await openPullRequests(headPrefix: head).first(where: { $0.head == head }) {
            return (existing, false)
        }
        let json: Value
        switch settings.kind {
        case .github, .gitea:
            json = try await call(.post, "/pulls", body: .map(["title": .string(title), "head": .string(head), "base": .string(base), "body": .string(body)]))
        case .gitlab:
            json = try await call(
                .post, "/merge_requests",
                body: .map(["title": .string(title), "source_branch": .string(head), "target_branch": .string(base), "description": .string(body), "remove_source_branch": .bool(true)]))
        }
        return (pullRequest(json), true)
    }

    /// Merges an open pull request (a merge commit).
    public func merge(_ number: Int, title: String) async throws(ForgeError) {
        switch settings.kind {
        case .github: _ = try await call(.put, "/pulls/\(number)/merge", body: .map(["merge_method": "merge", "commit_title": .string(title)]))
        case .gitea: _ = try await call(.post, "/pulls/\(number)/merge", body: .map(["Do": "merge", "MergeTitleField": .string(title)]))
        case .gitlab: _ = try await call(.put, "/merge_requests/\(number)/merge", body: .map(["merge_commit_message": .string(title)]))
        }
    }

    /// Closes a pull request without merging it (a rollback supersedes a pending step).
    public func close(_ number: Int) async throws(ForgeError) {
        switch settings.kind {
        case .github: _ = try await call(.patch, "/pulls/\(number)", body: .map(["state": "closed"]))
        case .gitea: _ = try await call(.patch, "/pulls/\(number)", body: .map(["state": "closed"]))
        case .gitlab: _ = try await call(.put, "/merge_requests/\(number)", body: .map(["state_event": "close"]))
        }
    }
}
