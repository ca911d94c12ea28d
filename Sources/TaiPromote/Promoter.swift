import Foundation
public import TaiCore
public import TaiGit
public import TaiSource
import TaiYAML

/// What to promote: an environment, a step and the tag.
public struct PromotionRequest: Sendable {
    public var environment: String
    public var action: PromotionAction
    /// The tag to promote (a rollback takes the canary's).
    public var tag: String?
    /// The image the command names (`--image tai-api=TAG`); must be the environment's promoted image.
    public var image: String?
    /// The sync settings file in the repository (default `environments/ENV/sync.yaml`).
    public var settingsFile: String?
    /// The analysis that led here, recorded in the message and trailers.
    public var analysis: AnalysisVerdict?

    public init(
        environment: String, action: PromotionAction, tag: String? = nil, image: String? = nil, settingsFile: String? = nil, analysis: AnalysisVerdict? = nil
    ) {
        self.environment = environment
        self.action = action
        self.tag = tag
        self.image = image
        self.settingsFile = settingsFile
        self.analysis = analysis
    }
}

/// What a promotion did.
public struct PromotionOutcome: Sendable {
    public var change: PromotionChange
    public var commit: CommitID?
    /// The branch the commit is on (the base branch for a direct commit).
    public var branch: String
    /// The commit was already on the branch: nothing new was committed.
    public var alreadyPublished: Bool
    public var pullRequest: PullRequest?
    public var createdPullRequest: Bool
    public var merged: Bool
    /// Pull requests closed because this change supersedes them (a rollback).
    public var closed: [PullRequest]
    public var events: [String]

    public var json: Value {
        var out: ValueMap = [
            "environment": .string(change.environment), "image": .string(change.image), "step": .string(change.stepText),
            "from": .string(change.from.summary), "to": .string(change.to.summary), "tag": .string(change.tag), "weights": .string(change.weightsText),
            "branch": .string(branch), "alreadyPublished": .bool(alreadyPublished), "merged": .bool(merged),
            "files": .list(change.files.keys.sorted().map { .string($0) }),
        ]
        if let commit { out["commit"] = .string(commit.hex) }
        if let pullRequest {
            var pr = pullRequest.json
            pr["created"] = .bool(createdPullRequest)
            out["pullRequest"] = pr
        }
        if !closed.isEmpty { out["closed"] = .list(closed.map(\.json)) }
        return .map(out)
    }
}

/// How a promotion is published.
public struct PublishMode: Sendable, Equatable {
    /// Commit on the step's branch (else, with `autoMerge` and no forge, directly on the base branch).
    public var openPullRequest: Bool
    public var autoMerge: Bool

    public init(openPullRequest: Bool = false, autoMerge: Bool = false) {
        self.openPullRequest = openPullRequest
        self.autoMerge = autoMerge
    }
}

/// Plans a promotion on the repository's base branch, commits it on its own branch with
/// structured trailers, pushes it (rebasing and retrying when the branch moved) and opens,
/// reuses or merges its pull request.
public struct Promoter: Sendable {
    public var cache: SourceCache
    /// The repository read and written (a remote URL, or `file://` of a checkout).
    public var url: String
    public var base: String
    public var credentials: GitCredentials
    public var author: Identity
    public var signingKey: String?
    public var forge: ForgeClient?
    /// Called after a commit and before its push (tests race pushes with it).
    public var beforePush: (@Sendable (_ attempt: Int) -> Void)?
    /// A local checkout to commit in instead of pushing to `url` (which is then its `file://` URL).
    public var checkout: String?
    /// Policies given by the caller (the agent's --config files), by environment: used instead of
    /// reading the environment's sync.yaml from the repository.
    public var policies: [String: (policy: PromotionPolicy, path: String)] = [:]

    public init(
        cache: SourceCache, url: String, base: String = "main", credentials: GitCredentials = GitCredentials(),
        author: Identity = Identity(name: "tai-gitops", email: "tai-gitops@localhost"), signingKey: String? = nil, forge: ForgeClient? = nil
    ) {
        self.cache = cache
        self.url = url
        self.base = base
        self.credentials = credentials
        self.author = author
        self.signingKey = signingKey
        self.forge = forge
    }

    /// The environment's policy and editor on a snapshot of `revision` (default: the base branch).
    public func editor(environment: String, settingsFile: String? = nil, revision: String? = nil) throws(PromoteError) -> (editor: CanaryEditor, snapshot: Snapshot) {
        let snapshot: Snapshot
        do { snapshot = try cache.snapshotBlocking(url: url, revision: revision ?? base, credentials: credentials) } catch {
            throw PromoteError(message: "reading \(revision ?? base) of \(url): \(error)")
        }
        if let given = policies[environment] {
            return (CanaryEditor(policy: given.policy, environment: environment, root: snapshot.directory, path: given.path), snapshot)
        }
        let file = settingsFile ?? "environments/\(environment)/sync.yaml"
        guard let data = FileManager.default.contents(atPath: snapshot.directory + "/" + file) else {
            throw PromoteError(file: file, message: "not found at \(revision ?? base) (the environment's sync settings; --settings names another)")
        }
        let settings: Value
        do { settings = try YAML.parse(String(decoding: data, as: UTF8.self), file: file) } catch { throw PromoteError(file: file, message: "\(error)") }
        guard let policy = try PromotionPolicy.parse(settings, file: file) else {
            throw PromoteError(file: file, field: "spec.promotion", message: "environment \(environment) has no promotion policy")
        }
        let path = settings[path: ["spec", "source", "path"]]?.stringValue ?? "environments/\(environment)"
        return (CanaryEditor(policy: policy, environment: environment, root: snapshot.directory, path: path), snapshot)
    }

    /// Plans and checks the change on the base branch; writes nothing.
    public func plan(_ request: PromotionRequest) throws(PromoteError) -> PromotionChange {
        try planned(request).change
    }

    /// The environment's editor on the base branch and the change the request asks for.
    private func planned(_ request: PromotionRequest) throws(PromoteError) -> (editor: CanaryEditor, change: PromotionChange) {
        let (editor, _) = try editor(environment: request.environment, settingsFile: request.settingsFile)
        if let image = request.image, image != editor.policy.image {
            throw PromoteError(
                message: "environment \(request.environment) promotes \(editor.policy.image) (spec.promotion.image), not \(image)")
        }
        return (editor, try editor.plan(request.action, tag: request.tag))
    }

    /// The commit message: subject, explanation, the analysis, then trailers.
    public static func message(_ change: PromotionChange, analysis: AnalysisVerdict?) -> (message: String, trailers: [(key: String, value: String)]) {
        var body = change.title + "\n\n" + change.explanation + "\n"
        if let analysis {
            body += "\nAnalysis \(analysis.outcome.rawValue):\n" + analysis.results.map { "- \($0.text)\n  query: \($0.check.query)" }.joined(separator: "\n") + "\n"
        }
        var trailers: [(key: String, value: String)] = [
            ("Promote-Environment", change.environment), ("Promote-Image", change.image),
            ("Promote-From", change.kind == .rollback ? change.tag : change.from.stableTag),
            ("Promote-To", change.kind == .rollback ? change.from.stableTag : change.tag),
            ("Promote-Step", change.stepText), ("Promote-Weights", change.weightsText),
            ("Promote-Analysis", analysis.map { $0.outcome.rawValue } ?? "not run"),
        ]
        if let problem = analysis?.firstProblem {
            trailers += [
                ("Analysis-Check", problem.check.name), ("Analysis-Query", problem.check.query), ("Analysis-Threshold", problem.check.thresholdText),
                ("Analysis-Value", problem.value.map { String($0) } ?? "none"), ("Analysis-Time", CheckResult.timestamp(problem.time)),
            ]
        }
        return (body, trailers)
    }

    /// The head of `branch` where promotions are written: the checkout's branch, else the remote's
    /// (as the last fetch saw it); nil when there is none.
    func existingHead(of branch: String) -> CommitID? {
        if let checkout {
            return try? Repository.open(at: checkout).resolve("refs/heads/" + branch)
        }
        return (try? cache.branches(url: url, prefix: branch, base: base))?.first { $0.name == branch }?.commit
    }

    /// Plans, commits, pushes and (per `mode`) opens and merges the pull request.
    public func promote(_ request: PromotionRequest, mode: PublishMode) async throws(PromoteError) -> PromotionOutcome {
        let (editor, change) = try planned(request)
        if mode.autoMerge && !editor.policy.autoMerge {
            throw PromoteError(
                file: request.settingsFile ?? "environments/\(request.environment)/sync.yaml", field: "spec.promotion.autoMerge",
                message: "environment \(request.environment) does not allow merging promotions automatically; merge the pull request, or set autoMerge: true")
        }
        if mode.openPullRequest && forge == nil {
            throw PromoteError(message: "--open-pr needs a forge (--forge github|gitlab|gitea, --forge-repo, a token)")
        }
        let direct = mode.autoMerge && !mode.openPullRequest
        let branch = direct ? base : change.branch
        var events: [String] = []
        var closed: [PullRequest] = []

        // One open pull request per environment and image: the same step's is reused; another
        // step's makes this one wait (a rollback closes them: it supersedes every pending step).
        if let forge, mode.openPullRequest {
            let prefix = PromotionChange.branchPrefix(environment: change.environment, image: change.image)
            let open: [PullRequest]
            do { open = try await forge.openPullRequests(headPrefix: prefix) } catch { throw PromoteError(message: "\(error)") }
            for pr in open where pr.head != branch {
                if change.kind == .rollback {
                    do { try await forge.close(pr.number) } catch { throw PromoteError(message: "\(error)") }
                    closed.append(pr)
                    events.append("closed #\(pr.number) (\(pr.head)): superseded by the rollback")
                } else {
                    throw PromoteError(
                        message: "\(change.environment): \(change.image) step \(change.stepText) waits for pull request #\(pr.number) (\(pr.head)) to be merged or closed: one open promotion per environment and image")
                }
            }
        }

        // Already on its branch (a command run twice): no second commit.
        var commit: CommitID?
        var already = false
        if !direct, let head = existingHead(of: branch) {
            if let existing = try? cache.snapshotBlocking(url: url, revision: head.hex, credentials: credentials),
                (try? CanaryEditor(policy: editor.policy, environment: editor.environment, root: existing.directory, path: editor.path).state()) == change.to
            {
                commit = head
                already = true
            }
        }
        if !already {
            let (message, trailers) = Self.message(change, analysis: request.analysis)
            let edits = change.edits
            var publish = PublishRequest(
                url: url, base: base, branch: branch,
                changes: { read in
                    try ValueEdit.apply(edits, read: read).sorted { $0.key < $1.key }.map { FileChange(path: $0.key, content: $0.value) }
                },
                message: message, trailers: trailers, author: author, signingKey: signingKey, credentials: credentials, maxAttempts: 5)
            publish.beforePush = beforePush
            do {
                let published: Published
                if let checkout { published = try publish.commit(inCheckout: checkout) } else { published = try cache.publish(publish) }
                commit = published.commit
                events += published.events
            } catch {
                throw PromoteError(message: error.message)
            }
        }

        var pullRequest: PullRequest?
        var created = false
        var merged = direct
        if let forge, mode.openPullRequest {
            let (message, _) = Self.message(change, analysis: request.analysis)
            let body = message.split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false).dropFirst(2).joined()
                + "\n\n---\nOpened by `tai-gitops \(change.kind == .rollback ? "rollback" : "promote")`; merging it is what rolls it out."
            do {
                (pullRequest, created) = try await forge.open(head: branch, base: base, title: change.title, body: body)
                if mode.autoMerge, let pr = pullRequest {
                    try await forge.merge(pr.number, title: change.title)
                    merged = true
                }
            } catch {
                throw PromoteError(message: "\(error)")
            }
        }
        return PromotionOutcome(
            change: change, commit: commit, branch: branch, alreadyPublished: already, pullRequest: pullRequest, createdPullRequest: created,
            merged: merged, closed: closed, events: events)
    }
}

extension Promoter {
    /// The checks of an environment's canary step (for the namespace its objects render into),
    /// with the policy, the canary's state and the revision they were read at.
    public func checks(environment: String, settingsFile: String? = nil) throws(PromoteError) -> (
        checks: [AnalysisPolicy.Check], policy: PromotionPolicy, state: CanaryState, namespace: String, revision: CommitID
    ) {
        let (editor, snapshot) = try editor(environment: environment, settingsFile: settingsFile)
        let objects = try editor.render()
        let namespace = objects.first { $0["kind"] == "Namespace" }?.name
            ?? objects.first { $0["kind"] == "Deployment" && $0.name == editor.policy.canaryDeployment }?[path: ["metadata", "namespace"]]?.stringValue
            ?? "default"
        let state = try editor.state(rendered: objects)
        return (editor.policy.analysis.checks(workload: editor.policy.canaryDeployment, namespace: namespace), editor.policy, state, namespace, snapshot.commit)
    }

    /// Acts on an analysis of the canary in progress (`state`, as the checks were read with): a
    /// pass promotes to the next step (or the finish), a failure rolls back; an inconclusive one
    /// does nothing (nil). The step is planned again on the base branch's head, so a canary that
    /// moved since is refused rather than stepped twice.
    public func act(
        on verdict: AnalysisVerdict, state: CanaryState, environment: String, settingsFile: String? = nil, mode: PublishMode
    ) async throws(PromoteError) -> PromotionOutcome? {
        guard state.inProgress else { throw PromoteError(message: "\(environment): no canary in progress (\(state.summary))") }
        switch verdict.outcome {
        case .pass:
            return try await promote(PromotionRequest(environment: environment, action: .next, tag: state.canaryTag, settingsFile: settingsFile, analysis: verdict), mode: mode)
        case .fail:
            return try await promote(PromotionRequest(environment: environment, action: .rollback, settingsFile: settingsFile, analysis: verdict), mode: mode)
        case .inconclusive:
            return nil
        }
    }
}
