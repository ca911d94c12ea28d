import Foundation
import TaiHTTPServer
public import Logging
import Prometheus
public import ServiceLifecycle
import Synchronization
import TaiCore
import TaiDiff
import TaiProcess
public import TaiKube

/// How an agent runs: what it syncs, where from, into which clusters, and how it is reached.
public struct AgentConfiguration: Sendable {
    /// The environments this replica syncs (its shard's share).
    public var environments: [SyncSettings]
    public var source: SourceLocation
    /// A client per environment (by name): each environment's cluster context.
    public var clients: [String: KubeClient]
    public var host: String = "0.0.0.0"
    public var port: Int = 8080
    /// The webhook secret; without one, `/webhook` answers 404.
    public var webhookSecret: [UInt8]?
    public var fieldManager: String = "tai-gitops"
    /// Leader election (nil: this replica always leads).
    public var lease: LeaseSettings?
    /// Jitter added to each interval, as a fraction of it.
    public var jitter: Double = 0.1
    /// A change seen in the cluster starts a sync after this quiet period (changes in between are merged).
    public var debounce: Duration = .milliseconds(500)
    /// Retries after a failure back off from this, doubling, up to the environment's interval.
    public var retryBase: Duration = .seconds(2)
    /// Whether to watch the inventory's objects and sync when they change.
    public var watch: Bool = true
    /// A label for this replica (logs, status page, lease holder).
    public var identity: String
    /// Drive canary promotions by analysis (nil: only sync).
    public var promotion: PromotionSettings?

    public struct LeaseSettings: Sendable {
        public var client: KubeClient
        public var namespace: String
        public var name: String
        public var timing: LeaderElector.Timing

        public init(client: KubeClient, namespace: String, name: String, timing: LeaderElector.Timing = .init()) {
            self.client = client
            self.namespace = namespace
            self.name = name
            self.timing = timing
        }
    }

    /// The shard an environment belongs to (`--shard I/N`): FNV-1a of its name, so every replica
    /// and every start agree.
    public static func shard(of environment: String, count: Int) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in environment.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return Int(hash % UInt64(max(count, 1)))
    }

    public init(environments: [SyncSettings], source: SourceLocation, clients: [String: KubeClient], identity: String) {
        self.environments = environments
        self.source = source
        self.clients = clients
        self.identity = identity
    }
}

/// `tai-gitops agent`: the sync loop. A swift-service-lifecycle `Service`: it serves its HTTP
/// endpoints, takes part in leader election, and runs one loop per environment, woken by the
/// interval, by push webhooks and by changes to the inventory's objects; on graceful shutdown it
/// finishes the step in flight, reports what was not applied and releases the lease.
public final class Agent: Service, Sendable {
    public let configuration: AgentConfiguration
    public let board: StatusBoard
    public let registry: PrometheusCollectorRegistry
    let logger: Logger
    let metrics = AgentMetrics()
    let fetcher: SourceFetcher
    let elector: LeaderElector?
    private let triggers: [String: Trigger]
    private let stopping = Atomic<Bool>(false)
    private let boundPort = Mutex<Int?>(nil)

    /// A wake-up channel per environment: the newest reason wins while a sync runs.
    final class Trigger: Sendable {
        let stream: AsyncStream<(EnvironmentSync.Trigger, ContinuousClock.Instant)>
        let continuation: AsyncStream<(EnvironmentSync.Trigger, ContinuousClock.Instant)>.Continuation

        init() {
            (stream, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        }

        func fire(_ reason: EnvironmentSync.Trigger) { continuation.yield((reason, .now)) }
    }

    public init(configuration: AgentConfiguration, registry: PrometheusCollectorRegistry, logger: Logger) {
        self.configuration = configuration
        self.registry = registry
        self.logger = logger
        fetcher = SourceFetcher(location: configuration.source)
        elector = configuration.lease.map {
            LeaderElector(
                client: $0.client, namespace: $0.namespace, name: $0.name, identity: configuration.identity, timing: $0.timing,
                logger: logger, metrics: AgentMetrics())
        }
        board = StatusBoard(
            environments: configuration.environments.map(\.name), identity: configuration.identity, leading: configuration.lease == nil,
            electionSettled: configuration.lease == nil)
        triggers = Dictionary(uniqueKeysWithValues: configuration.environments.map { ($0.name, Trigger()) })
    }

    /// Counts an API answer in `tai_gitops_api_requests_total` (hook for ``KubeClientSettings/onResponse``).
    public static func observeAPIResponse(method: String, status: Int) {
        AgentMetrics.recordAPIResponse(method: method, status: status)
    }

    /// Wakes an environment's loop.
    func fireTrigger(_ environment: String, _ reason: EnvironmentSync.Trigger) { triggers[environment]?.fire(reason) }

    /// Whether graceful shutdown began: syncs stop before their next step.
    var isStopping: Bool { stopping.load(ordering: .relaxed) }

    /// The port the HTTP endpoints listen on, once they do (the one picked when asked for 0).
    public var port: Int? { boundPort.withLock { $0 } }

    public func run() async throws {
        let frontend = try await HTTPFrontend.start(
            host: configuration.host, port: configuration.port, maxBody: Webhook.maxBodySize
        ) { [self] request in await self.handle(request) }
        boundPort.withLock { $0 = frontend.port }
        logger.notice(
            "tai-gitops agent serving on http://\(configuration.host):\(frontend.port) (status page /, /healthz, /readyz, /metrics\(configuration.webhookSecret == nil ? "" : ", /webhook"))",
            metadata: ["environments": .string(configuration.environments.map(\.name).joined(separator: ",")), "replica": .string(configuration.identity)])

        // The promotion analysis loops, one per environment with a promotion policy; they end with the agent.
        var analyses: [Task<Void, Never>] = []
        if let promotion = configuration.promotion {
            for settings in configuration.environments {
                guard let policy = settings.promotion else { continue }
                analyses.append(Task { await self.promotionLoop(settings, policy: policy, promotion: promotion) })
            }
        }
        defer { for task in analyses { task.cancel() } }
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                if let elector {
                    group.addTask {
                        await elector.run { leading in
                            let was = await self.board.leading
                            await self.board.setLeading(leading)
                            if leading && !was { for trigger in self.triggers.values { trigger.fire(.start) } }
                        }
                    }
                }
                for settings in configuration.environments {
                    group.addTask { await self.loop(settings) }
                }
                if configuration.lease == nil {
                    for trigger in triggers.values { trigger.fire(.start) }
                }
                // The loops end once shutdown finishes their triggers; the election then stops too.
                for _ in configuration.environments { await group.next() }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.stopping.store(true, ordering: .sequentiallyConsistent)
            for trigger in self.triggers.values { trigger.continuation.finish() }
        }
        await reportUnfinished()
        await elector?.release()
        await frontend.stop()
        logger.notice("tai-gitops agent stopped")
    }

    /// Environments whose last sync did not apply what it rendered.
    private func reportUnfinished() async {
        for settings in configuration.environments {
            guard let record = await board.record(settings.name) else { continue }
            if let interrupted = record.interrupted {
                logger.notice("not applied at shutdown: \(interrupted)", metadata: ["environment": .string(settings.name)])
            } else if record.result == .failed || record.result == .drifted {
                logger.notice(
                    "at shutdown the cluster differs from revision \(record.revision.map { String($0.prefix(12)) } ?? "?") (\(record.result.rawValue))",
                    metadata: ["environment": .string(settings.name)])
            }
        }
    }

    // MARK: The loop of one environment

    private func loop(_ settings: SyncSettings) async {
        guard let trigger = triggers[settings.name], let client = configuration.clients[settings.name] else { return }
        let sync = EnvironmentSync(
            settings: settings, fetcher: fetcher, client: client, fieldManager: configuration.fieldManager, metrics: metrics, logger: logger)
        var timer: Task<Void, Never>?
        var watcher: Watcher?
        var failures = 0
        var previous = SyncRecord(environment: settings.name)
        defer {
            timer?.cancel()
            watcher?.stop()
        }
        for await (reason, requestedAt) in trigger.stream {
            guard await board.leading else { continue }
            timer?.cancel()
            let record = await sync.run(trigger: reason, requestedAt: requestedAt, previous: previous) { [self] in
                self.isStopping
            }
            await board.update(record)
            await publish(record, previous: previous, client: client, settings: settings)
            Self.returnFreedMemory()
            if record.result != .pending || record.interrupted == nil { previous = record }
            if isStopping { break }

            // Next: the interval with jitter, or a capped, jittered backoff after a failure.
            let delay: Duration
            if record.result == .failed {
                failures += 1
                let backoff = configuration.retryBase * (1 << min(failures - 1, 16))
                delay = jittered(min(backoff, settings.interval), fraction: 0.5)
            } else {
                failures = 0
                delay = jittered(settings.interval, fraction: configuration.jitter)
            }
            let again: EnvironmentSync.Trigger = record.result == .failed ? .retry : .interval
            timer = Task {
                try? await Task.sleep(for: delay)
                if !Task.isCancelled { trigger.fire(again) }
            }
            if configuration.watch, let selector = record.watchSelector, watcher?.kinds != record.watchKinds {
                watcher?.stop()
                watcher = Watcher(
                    client: client, selector: selector, kinds: record.watchKinds, debounce: configuration.debounce, logger: logger
                ) { trigger.fire(.clusterChange) }
            }
        }
    }

    private func jittered(_ duration: Duration, fraction: Double) -> Duration {
        .milliseconds(Int64(duration.inSeconds * 1000 * (1 + Double.random(in: 0...max(fraction, 0)))))
    }

    /// Hands the heap a sync freed back to the system: glibc keeps freed memory in its arenas,
    /// so an idle agent would otherwise stay at the size of its largest sync.
    static func returnFreedMemory() { ProcessMemory.returnFreedMemory() }

    // MARK: Status in the cluster and Events

    /// Writes the environment's status record (a ConfigMap `tai-gitops-status-ENV` in its
    /// inventory namespace) when it changed, and an Event on each object the sync changed.
    private func publish(_ record: SyncRecord, previous: SyncRecord, client: KubeClient, settings: SyncSettings) async {
        guard let namespace = record.inventoryNamespace ?? previous.inventoryNamespace else { return }
        if record.withoutTiming != previous.withoutTiming {
            let status: Value = [
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": [
                    "name": .string(Self.statusName(settings.name)), "namespace": .string(namespace),
                    "labels": ["app.kubernetes.io/managed-by": "tai-gitops", Self.statusLabel: .string(settings.name)],
                ],
                "data": ["status.json": .string(JSON.serializePretty(record.json))],
            ]
            do {
                try await client.applyDiscardingResult(status, fieldManager: configuration.fieldManager + "-status", force: true)
            } catch {
                logger.warning("could not write the status record \(namespace)/\(Self.statusName(settings.name)): \(error)")
            }
        }
        var events = record.changes.map { ($0, "Normal", "tai-gitops \($0.reason.lowercased()) it from revision \(record.revision.map { String($0.prefix(12)) } ?? "?") (environment \(settings.name))") }
        let newlyDrifted = Set(record.drifted.map(\.id)).subtracting(previous.drifted.map(\.id))
        if record.result == .drifted, !newlyDrifted.isEmpty {
            for object in record.drifted where newlyDrifted.contains(object.id) {
                let parts = object.id.split(separator: " ", maxSplits: 1)
                let kind = parts.first.map(String.init) ?? ""
                let rest = parts.count > 1 ? String(parts[1]) : ""
                let nameParts = rest.split(separator: "/", maxSplits: 1).map(String.init)
                let change = SyncRecord.Change(
                    apiVersion: "", kind: kind, namespace: nameParts.count == 2 ? nameParts[0] : nil, name: nameParts.last ?? rest, reason: "Drifted")
                events.append((change, "Warning", "differs from git: " + object.fields.joined(separator: "; ")))
            }
        }
        for (change, type, message) in events.prefix(50) {
            await emitEvent(change, type: type, message: message, namespace: change.namespace ?? namespace, client: client)
        }
    }

    public static let statusLabel = "tai.io/status-of"
    static func statusName(_ environment: String) -> String { "tai-gitops-status-\(environment)" }

    private func emitEvent(_ change: SyncRecord.Change, type: String, message: String, namespace: String, client: KubeClient) async {
        let now = SyncRecord.timestamp(Date())
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        var involved: ValueMap = ["kind": .string(change.kind), "name": .string(change.name)]
        if !change.apiVersion.isEmpty { involved["apiVersion"] = .string(change.apiVersion) }
        if let ns = change.namespace { involved["namespace"] = .string(ns) }
        let event: Value = [
            "apiVersion": "v1", "kind": "Event",
            "metadata": ["name": .string("\(change.name).\(suffix)"), "namespace": .string(namespace)],
            "involvedObject": .map(involved), "reason": .string(change.reason), "message": .string(String(message.prefix(1024))),
            "type": .string(type), "source": ["component": "tai-gitops"], "reportingComponent": "tai-gitops",
            "reportingInstance": .string(configuration.identity), "firstTimestamp": .string(now), "lastTimestamp": .string(now), "count": 1,
        ]
        do { _ = try await client.create(event, fieldManager: configuration.fieldManager) } catch {
            logger.debug("could not record an event: \(error)")
        }
    }

    // MARK: HTTP

    func handle(_ request: FrontendRequest) async -> FrontendResponse {
        switch (request.method, request.path) {
        case ("GET", "/healthz"):
            return .text(200, "ok")
        case ("GET", "/readyz"):
            return await board.isReady ? .text(200, "ready") : .text(503, "not ready: the first sync of every environment has not finished")
        case ("GET", "/metrics"):
            return FrontendResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: registry.emitToBuffer())
        case ("GET", "/status.json"):
            let records = await configuration.environments.asyncMap { await self.board.record($0.name) ?? SyncRecord(environment: $0.name) }
            var list: [Value] = []
            for record in records {
                var json = record.json
                if let progress = await board.promotion(record.environment) { json["promotion"] = progress.json }
                list.append(json)
            }
            let body = JSON.serializePretty(.list(list)) + "\n"
            return FrontendResponse(status: 200, contentType: "application/json", body: Array(body.utf8))
        case ("GET", "/"):
            let records = await configuration.environments.asyncMap { await self.board.record($0.name) ?? SyncRecord(environment: $0.name) }
            let html = StatusPage.render(
                records: records, errors: await board.errors, identity: configuration.identity, leading: await board.leading,
                promotions: await board.promotions.mapValues(\.text))
            return FrontendResponse(status: 200, contentType: "text/html; charset=utf-8", body: Array(html.utf8))
        case ("POST", let path) where path == "/webhook" || path.hasPrefix("/webhook/"):
            let response = handleWebhook(request)
            metrics.recordWebhook(status: response.status)
            return response
        default:
            return .text(404, "not found: \(request.method) \(request.path)")
        }
    }

    private func handleWebhook(_ request: FrontendRequest) -> FrontendResponse {
        guard let secret = configuration.webhookSecret else { return .text(404, "no webhook secret is configured") }
        let push: Webhook.Push
        do {
            push = try Webhook(secret: secret).verify(headers: request.headers, body: request.body)
        } catch {
            logger.warning("webhook refused: \(error.message)", metadata: ["status": .stringConvertible(error.status)])
            return .text(error.status, error.message)
        }
        if request.headers["x-github-event"] == "ping" { return .text(200, "pong") }
        let address = configuration.source.address
        let sameRepository: Bool
        if case .local = configuration.source {
            sameRepository = true
        } else {
            sameRepository = push.repositoryURLs.isEmpty || push.repositoryURLs.contains { Webhook.sameRepository($0, address) }
        }
        guard sameRepository else {
            return .text(202, "accepted; not this agent's repository (\(push.repositoryURLs.first ?? "?")), nothing to sync")
        }
        let matching = configuration.environments.filter { push.branch == nil || push.branch == $0.revision || push.commit == $0.revision }
        for settings in matching { triggers[settings.name]?.fire(.webhook) }
        logger.info(
            "webhook: push to \(push.branch ?? "?") (\(push.forge.rawValue)); syncing \(matching.isEmpty ? "nothing" : matching.map(\.name).joined(separator: ", "))")
        return .text(202, "accepted; syncing: \(matching.map(\.name).joined(separator: ", "))")
    }
}

extension Array {
    fileprivate func asyncMap<T>(_ transform: (Element) async -> T) async -> [T] {
        var out: [T] = []
        out.reserveCapacity(count)
        for element in self { out.append(await transform(element)) }
        return out
    }
}
