import Foundation
import Metrics
public import TaiGit
public import TaiSource

/// Where the agent reads the config repository from.
public enum SourceLocation: Sendable {
    /// A checkout on disk, read as it is (its HEAD names the revision).
    case local(directory: String)
    /// A git URL, fetched with libgit2 into the cache; each revision is an immutable snapshot.
    case remote(RemoteSource)

    /// Whether revisions come as immutable snapshots (a remote), rather than a checkout that may change.
    public var isSnapshot: Bool {
        if case .remote = self { return true }
        return false
    }

    /// The URL or directory, for matching webhooks and for messages.
    public var address: String {
        switch self {
        case .local(let directory): directory
        case .remote(let remote): remote.url
        }
    }
}

/// A remote config repository and how to fetch and trust it.
public struct RemoteSource: Sendable {
    public var url: String
    public var cache: SourceCache
    public var credentials: GitCredentials
    public var policy: SignaturePolicy
    public var verifier: SignatureVerifier
    public var provenance: ProvenancePolicy?

    public init(
        url: String, cache: SourceCache, credentials: GitCredentials = GitCredentials(), policy: SignaturePolicy = .none,
        verifier: SignatureVerifier = SignatureVerifier(), provenance: ProvenancePolicy? = nil
    ) {
        self.url = url
        self.cache = cache
        self.credentials = credentials
        self.policy = policy
        self.verifier = verifier
        self.provenance = provenance
    }
}

/// A revision ready to render: its directory and commit, and what the fetch had to say.
public struct FetchedRevision: Sendable {
    public var directory: String
    public var commit: String
    /// A re-clone, a force push followed, a remote that could not be reached (the last good snapshot is served then).
    public var events: [String]
    public var seconds: Double
    /// The remote could not be reached: `directory` is the last good snapshot.
    public var stale: Bool
}

/// Fetches each (repository, revision) once for every environment that asks at about the same
/// time: a request joins a fetch that started after the request's trigger, so environments
/// reading one branch share one fetch, and nothing newer than the trigger is missed.
public actor SourceFetcher {
    public let location: SourceLocation
    private var inFlight: [String: (started: ContinuousClock.Instant, task: Task<FetchedRevision, any Error>)] = [:]
    private var last: [String: (started: ContinuousClock.Instant, result: FetchedRevision)] = [:]
    /// How many fetches ran (for tests and the benchmark).
    public private(set) var fetches = 0

    public init(location: SourceLocation) { self.location = location }

    /// The revision as it stands at or after `notBefore`.
    public func fetch(revision: String, notBefore: ContinuousClock.Instant) async throws -> FetchedRevision {
        if let done = last[revision], done.started >= notBefore { return done.result }
        if let running = inFlight[revision], running.started >= notBefore { return try await running.task.value }
        let started = ContinuousClock.now
        let location = self.location
        let task = Task { try await Self.fetchNow(location, revision: revision) }
        inFlight[revision] = (started, task)
        fetches += 1
        Counter(label: "tai_gitops_fetches_total").increment()
        defer { if inFlight[revision]?.started == started { inFlight[revision] = nil } }
        let result = try await task.value
        if (last[revision]?.started).map({ $0 < started }) ?? true { last[revision] = (started, result) }
        return result
    }

    private static func fetchNow(_ location: SourceLocation, revision: String) async throws -> FetchedRevision {
        let start = ContinuousClock.now
        switch location {
        case .local(let directory):
            let commit = (try? Repository.open(at: directory).resolve("HEAD").hex) ?? "local"
            return FetchedRevision(directory: directory, commit: commit, events: [], seconds: 0, stale: false)
        case .remote(let remote):
            let snapshot = try await remote.cache.snapshot(
                url: remote.url, revision: revision, credentials: remote.credentials, policy: remote.policy, verifier: remote.verifier,
                provenance: remote.provenance)
            let elapsed = ContinuousClock.now - start
            let stale = snapshot.events.contains { $0.contains("using the last good snapshot") }
            return FetchedRevision(
                directory: snapshot.directory, commit: snapshot.commit.hex, events: snapshot.events,
                seconds: elapsed.inSeconds, stale: stale)
        }
    }
}
