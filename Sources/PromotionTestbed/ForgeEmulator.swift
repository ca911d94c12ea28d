import Crypto
import Foundation
import Synchronization
import TaiCore
import TaiHTTP
import TaiHTTPServer
import TaiProcess

/// A forge on loopback for tests and the demo: the pull-request endpoints of GitHub's, Gitea's and
/// GitLab's REST APIs (as their documentation specifies them) over a real bare git repository.
/// Merging runs `git merge --no-ff` and pushes, then sends the push webhook a forge sends. Every
/// request is recorded.
///
/// Served paths (any owner/name or project id):
/// - GitHub: `GET|POST /repos/O/R/pulls`, `PATCH /repos/O/R/pulls/N`, `PUT /repos/O/R/pulls/N/merge`
/// - Gitea: the same under `/api/v1`, with `POST …/pulls/N/merge`
/// - GitLab: `GET|POST /api/v4/projects/P/merge_requests`, `PUT …/merge_requests/N`, `PUT …/merge_requests/N/merge`
public final class ForgeEmulator: Sendable {
    /// One request as it arrived.
    public struct Recorded: Sendable {
        public var method: String
        public var path: String
        public var authorization: String?
        public var body: Value
    }

    struct Pull: Sendable {
        var number: Int
        var title: String
        var body: String
        var head: String
        var base: String
        var state: String  // open, closed
        var merged: Bool
    }

    struct State: Sendable {
        var pulls: [Pull] = []
        var requests: [Recorded] = []
        var failMerges = false
    }

    /// The bare repository behind the forge.
    public let repository: String
    /// The token requests must carry (nil: any).
    public let token: String?
    private let state = Mutex(State())
    private let webhookTarget: Mutex<(url: String, secret: String)?>

    /// Where merges are announced: a push webhook (GitHub's format, signed with the secret).
    public var webhook: (url: String, secret: String)? {
        get { webhookTarget.withLock { $0 } }
        set { webhookTarget.withLock { $0 = newValue } }
    }
    private let server: HTTPFrontend
    private let work: String

    public var url: String { "http://127.0.0.1:\(server.port)" }

    private init(repository: String, token: String?, webhook: (url: String, secret: String)?, server: HTTPFrontend, work: String) {
        self.repository = repository
        self.token = token
        webhookTarget = Mutex(webhook)
        self.server = server
        self.work = work
    }

    /// Starts the forge on a free loopback port.
    public static func start(repository: String, token: String? = nil, webhook: (url: String, secret: String)? = nil) async throws -> ForgeEmulator {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("tai-forge-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let box = Mutex<ForgeEmulator?>(nil)
        let server = try await HTTPFrontend.start(host: "127.0.0.1", port: 0, maxBody: 1 << 20) { request in
            guard let forge = box.withLock({ $0 }) else { return .text(503, "starting") }
            return forge.handle(request)
        }
        let forge = ForgeEmulator(repository: repository, token: token, webhook: webhook, server: server, work: work)
        box.withLock { $0 = forge }
        return forge
    }

    public func stop() async {
        await server.stop()
        try? FileManager.default.removeItem(atPath: work)
    }

    /// Every request so far.
    public var requests: [Recorded] { state.withLock { $0.requests } }

    /// The pull requests so far: number, head, base, state, merged.
    public var pullRequests: [(number: Int, head: String, base: String, state: String, merged: Bool, title: String)] {
        state.withLock { $0.pulls.map { ($0.number, $0.head, $0.base, $0.state, $0.merged, $0.title) } }
    }

    /// Merges a pull request as a person pressing the button would (the push webhook follows).
    @discardableResult
    public func merge(_ number: Int) throws -> String {
        guard let pull = state.withLock({ s in s.pulls.first { $0.number == number && $0.state == "open" } }) else {
            throw ForgeEmulatorError(message: "no open pull request #\(number)")
        }
        let commit = try gitMerge(pull)
        state.withLock { s in
            if let i = s.pulls.firstIndex(where: { $0.number == number }) {
                s.pulls[i].state = "closed"
                s.pulls[i].merged = true
            }
        }
        announce(branch: pull.base, commit: commit)
        return commit
    }

    private func git(_ arguments: [String], in directory: String) throws -> String {
        let environment = ProcessInfo.processInfo.environment.merging([
            "GIT_AUTHOR_NAME": "forge", "GIT_AUTHOR_EMAIL": "forge@localhost", "GIT_COMMITTER_NAME": "forge", "GIT_COMMITTER_EMAIL": "forge@localhost",
        ]) { $1 }
        let result = try ChildProcess.run("git", ["-C", directory] + arguments, environment: environment)
        guard result.status == 0 else { throw ForgeEmulatorError(message: "git \(arguments.joined(separator: " ")): \(result.errorText)") }
        return result.outputText.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `git merge --no-ff` of the head into the base in a scratch clone, pushed back.
    private func gitMerge(_ pull: Pull) throws -> String {
        let clone = work + "/merge-\(pull.number)-\(UUID().uuidString.prefix(6))"
        defer { try? FileManager.default.removeItem(atPath: clone) }
        _ = try git(["clone", "-q", "-b", pull.base, repository, clone], in: work)
        _ = try git(["fetch", "-q", "origin", pull.head], in: clone)
        _ = try git(["merge", "-q", "--no-ff", "-m", "Merge pull request #\(pull.number) from \(pull.head)\n\n\(pull.title)", "FETCH_HEAD"], in: clone)
        _ = try git(["push", "-q", "origin", pull.base], in: clone)
        return try git(["rev-parse", "HEAD"], in: clone)
    }

    /// Sends the push webhook of a merge (GitHub's format, `X-Hub-Signature-256`).
    private func announce(branch: String, commit: String) {
        guard let webhook else { return }
        let body = Array(#"{"ref":"refs/heads/\#(branch)","after":"\#(commit)"}"#.utf8)
        let signature = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(webhook.secret.utf8))).map { String(format: "%02x", $0) }.joined()
        _ = try? HTTPClient().executeBlocking(HTTPRequest(
            method: .post, url: webhook.url,
            headers: [("Content-Type", "application/json"), ("X-GitHub-Event", "push"), ("X-Hub-Signature-256", "sha256=\(signature)")], body: body,
            timeout: .seconds(5)))
    }

    private func json(_ status: Int, _ value: Value) -> FrontendResponse {
        FrontendResponse(status: status, contentType: "application/json", body: JSON.serializeBytes(value))
    }

    private func representation(_ pull: Pull, gitlab: Bool) -> Value {
        if gitlab {
            return .map([
                "iid": .int(pull.number), "web_url": .string("\(url)/merge_requests/\(pull.number)"), "source_branch": .string(pull.head),
                "target_branch": .string(pull.base), "title": .string(pull.title), "description": .string(pull.body),
                "state": .string(pull.merged ? "merged" : pull.state == "open" ? "opened" : "closed"),
            ])
        }
        return .map([
            "number": .int(pull.number), "html_url": .string("\(url)/pulls/\(pull.number)"), "head": .map(["ref": .string(pull.head)]),
            "base": .map(["ref": .string(pull.base)]), "title": .string(pull.title), "body": .string(pull.body), "state": .string(pull.state),
            "merged": .bool(pull.merged),
        ])
    }

    func handle(_ request: FrontendRequest) -> FrontendResponse {
        let body = (try? JSON.parse(request.body)) ?? .null
        let authorization = request.headers["authorization"] ?? request.headers["private-token"].map { "PRIVATE-TOKEN \($0)" }
        state.withLock { $0.requests.append(Recorded(method: request.method, path: request.path, authorization: authorization, body: body)) }
        if let token, authorization.map({ $0.hasSuffix(" " + token) }) != true {
            return json(401, ["message": "Bad credentials"])
        }
        let segments = request.path.split(separator: "/").map(String.init)
        // Where the pulls collection starts: /repos/O/R (GitHub), /api/v1/repos/O/R (Gitea), /api/v4/projects/P (GitLab).
        let gitlab = segments.starts(with: ["api", "v4", "projects"])
        let rest: ArraySlice<String>
        if segments.starts(with: ["repos"]), segments.count >= 4 { rest = segments[3...] }
        else if segments.starts(with: ["api", "v1", "repos"]), segments.count >= 6 { rest = segments[5...] }
        else if gitlab, segments.count >= 5 { rest = segments[4...] }
        else { return json(404, ["message": "Not Found"]) }
        let collection = gitlab ? "merge_requests" : "pulls"
        guard rest.first == collection else { return json(404, ["message": "Not Found"]) }
        let tail = Array(rest.dropFirst())
        switch (request.method, tail.count) {
        case ("GET", 0):
            let wanted = request.query.contains("state=all") ? nil : "open"
            let pulls = state.withLock { $0.pulls }.filter { wanted == nil || $0.state == wanted }
            return json(200, .list(pulls.map { representation($0, gitlab: gitlab) }))
        case ("POST", 0):
            let head = (gitlab ? body["source_branch"] : body["head"])?.stringValue ?? ""
            let base = (gitlab ? body["target_branch"] : body["base"])?.stringValue ?? ""
            guard !head.isEmpty, !base.isEmpty, let title = body["title"]?.stringValue else {
                return json(422, ["message": "Validation Failed: title, head and base are required"])
            }
            guard (try? git(["rev-parse", "--verify", "refs/heads/" + head], in: repository)) != nil else {
                return json(422, ["message": .string("Validation Failed: head branch \(head) does not exist")])
            }
            let created: Pull? = state.withLock { s in
                if s.pulls.contains(where: { $0.head == head && $0.base == base && $0.state == "open" }) { return nil }
                let pull = Pull(
                    number: s.pulls.count + 1, title: title, body: ((gitlab ? body["description"] : body["body"])?.stringValue) ?? "", head: head,
                    base: base, state: "open", merged: false)
                s.pulls.append(pull)
                return pull
            }
            guard let created else { return json(422, ["message": .string("Validation Failed: A pull request already exists for \(head).")]) }
            return json(201, representation(created, gitlab: gitlab))
        case ("PATCH", 1), ("PUT", 1):
            guard let number = Int(tail[0]) else { return json(404, ["message": "Not Found"]) }
            let close = body["state"] == "closed" || body["state_event"] == "close"
            let pull: Pull? = state.withLock { s in
                guard let i = s.pulls.firstIndex(where: { $0.number == number }) else { return nil }
                if close && !s.pulls[i].merged { s.pulls[i].state = "closed" }
                return s.pulls[i]
            }
            guard let pull else { return json(404, ["message": "Not Found"]) }
            return json(200, representation(pull, gitlab: gitlab))
        case ("PUT", 2), ("POST", 2):
            guard tail[1] == "merge", let number = Int(tail[0]) else { return json(404, ["message": "Not Found"]) }
            guard state.withLock({ s in s.pulls.contains { $0.number == number && $0.state == "open" } }) else {
                return json(405, ["message": "Pull Request is not mergeable"])
            }
            do {
                let sha = try merge(number)
                return json(200, ["sha": .string(sha), "merged": true, "message": "Pull Request successfully merged"])
            } catch {
                return json(409, ["message": .string("\(error)")])
            }
        default:
            return json(404, ["message": "Not Found"])
        }
    }
}

/// A forge emulator failure.
public struct ForgeEmulatorError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
