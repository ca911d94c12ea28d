import ArgumentParser
import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import TaiAgent
import TaiKube
import TaiPromote

/// `tai-gitops agent`: the in-cluster sync loop.
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Keep the cluster equal to git, in a loop: interval, push webhooks, self-heal, leader election, status page.",
        discussion: """
            Each --config names an environment's sync settings (environments/ENV/sync.yaml; a directory means every */sync.yaml below it). Per environment the agent fetches the repository (one fetch per revision, shared), verifies it (--verify-signatures), renders it, compares it with the cluster and applies what differs, pruning when the settings say so. It syncs every spec.interval (with jitter), at once on a signed push webhook (POST /webhook: GitHub X-Hub-Signature-256, Gitea X-Gitea-Signature, GitLab X-Gitlab-Token), and within a second of a change to an object it applied (a watch per kind). A change made in the cluster while git stood still is corrected under spec.drift.policy: correct and only reported under report. A failing environment backs off (capped, jittered) without holding up the others, keeps the last applied revision and never prunes.

            Replicas elect a leader through a coordination.k8s.io/v1 Lease (on by default in a pod); --shard i/n splits the environments across replicas, each shard with its own Lease. SIGTERM finishes the step in flight, reports what was not applied, releases the Lease and exits.

            Served on --listen: / (status page), /status.json, /healthz, /readyz (ready once every environment's first sync finished or failed), /metrics (Prometheus), /webhook. Logs are JSON lines in a pod and text on a terminal (--log-format).

            Examples:
              tai-gitops agent --config environments/prod/sync.yaml --repo https://git.example.com/tai/config.git --webhook-secret-env WEBHOOK_SECRET
              tai-gitops agent --config environments --repo . --kubeconfig /tmp/kubeconfig --listen 127.0.0.1:8080
              tai-gitops agent --config /etc/tai-gitops/sync.yaml --shard 0/2
              tai-gitops agent --config environments --repo https://github.com/tai/config.git --promote --prometheus http://prometheus:9090 --forge github --forge-repo tai/config --forge-token-env GITHUB_TOKEN
            """
    )

    @Option(name: .customLong("config"), help: "A sync settings file, or a directory of */sync.yaml (repeatable).")
    var configs: [String] = []

    @OptionGroup var source: SourceOptions

    @OptionGroup var cluster: ClusterOptions

    @Option(help: "Where the HTTP endpoints listen (HOST:PORT; port 0 picks a free one).")
    var listen: String = "0.0.0.0:8080"

    @Option(name: .customLong("webhook-secret-file"), help: "A file holding the push webhook's shared secret.")
    var webhookSecretFile: String?

    @Option(name: .customLong("webhook-secret-env"), help: "An environment variable holding the push webhook's shared secret (unset: webhooks off).")
    var webhookSecretEnv: String?

    @Option(name: .customLong("field-manager"), help: "The field manager the agent applies as.")
    var fieldManager: String = "tai-gitops"

    @Flag(inversion: .prefixedNo, help: "Elect a leader through a Lease (default: on in a pod, off elsewhere).")
    var leaderElect: Bool?

    @Option(name: .customLong("lease-namespace"), help: "The Lease's namespace (default: the pod's, else the kubeconfig's).")
    var leaseNamespace: String?

    @Option(name: .customLong("lease-name"), help: "The Lease's name (a shard adds -shard-I-of-N).")
    var leaseName: String = "tai-gitops"

    @Option(name: .customLong("lease-duration"), help: "Seconds a lease holds without renewal.")
    var leaseDuration: Int = 15

    @Option(name: .customLong("renew-deadline"), help: "Seconds a leader keeps trying to renew before it steps down.")
    var renewDeadline: Int = 10

    @Option(name: .customLong("retry-period"), help: "Seconds between attempts to acquire or renew.")
    var retryPeriod: Double = 2

    @Option(help: "This replica's name (default: host name and process id).")
    var identity: String?

    @Option(help: "Sync only shard I of N of the environments (by a hash of their names), e.g. 0/2.")
    var shard: String?

    @Flag(name: .customLong("no-watch"), help: "Do not watch applied objects (changes are then seen at the next interval).")
    var noWatch = false

    @Option(name: .customLong("debounce-ms"), help: "Quiet period after a cluster change before a sync starts.")
    var debounceMilliseconds: Int = 500

    enum LogFormat: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Option(name: .customLong("log-format"), help: "text or json (default: json in a pod, text elsewhere).")
    var logFormat: LogFormat?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Flag(help: "Drive canary promotions (spec.promotion): analyze each live step against Prometheus, then commit the next step or the rollback.")
    var promote = false

    @Option(help: "With --promote: the Prometheus server of environments whose analysis names none.")
    var prometheus: String?

    @OptionGroup var forge: ForgeOptions

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        let inPod = env["KUBERNETES_SERVICE_HOST"] != nil
        let level = Logger.Level(rawValue: logLevel) ?? .info
        let json = (logFormat ?? (inPod ? .json : .text)) == .json
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "tai-gitops.agent")
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        let configuration: AgentConfiguration
        do {
            configuration = try await makeConfiguration(inPod: inPod)
        } catch let error as CLIError {
            throw fail(error.message, code: 2)
        } catch let error as AgentError {
            throw fail(error.description, code: 2)
        }
        let agent = Agent(configuration: configuration, registry: registry, logger: logger)
        let group = ServiceGroup(services: [agent], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }

    /// Reads and checks everything before the agent starts: an unknown environment file, path
    /// or context stops it here, with the reason.
    private func makeConfiguration(inPod: Bool) async throws -> AgentConfiguration {
        guard !configs.isEmpty else { throw CLIError(message: "--config is required: a sync settings file (environments/ENV/sync.yaml) or a directory of them") }
        var settings: [SyncSettings] = []
        for path in configs {
            for file in try Self.settingsFiles(path) { settings.append(try SyncSettings.load(file)) }
        }
        var seen = Set<String>()
        for s in settings where !seen.insert(s.name).inserted {
            throw CLIError(message: "environment \(s.name) is configured twice (\(settings.filter { $0.name == s.name }.map(\.file).joined(separator: ", ")))")
        }
        if let shard {
            let parts = shard.split(separator: "/").compactMap { Int($0) }
            guard parts.count == 2, parts[1] > 0, (0..<parts[1]).contains(parts[0]) else {
                throw CLIError(message: "--shard \(shard): expected I/N with 0 ≤ I < N, e.g. 0/2")
            }
            settings = settings.filter { AgentConfiguration.shard(of: $0.name, count: parts[1]) == parts[0] }
        }
        // The source, and every environment's path in it.
        let location: SourceLocation
        if let remote = try source.remoteSource() {
            location = .remote(remote)
            let fetcher = SourceFetcher(location: location)
            for revision in Set(settings.map(\.revision)) {
                guard let fetched = try? await fetcher.fetch(revision: revision, notBefore: .now) else { continue }  // checked again at each sync
                for s in settings where s.revision == revision && !FileManager.default.fileExists(atPath: fetched.directory + "/" + s.path) {
                    throw CLIError(message: "\(s.file): field 'spec.source.path': \(s.path) does not exist at \(revision) of \(remote.url)")
                }
            }
        } else {
            location = .local(directory: source.repo)
            for s in settings where !FileManager.default.fileExists(atPath: source.repo + "/" + s.path) {
                throw CLIError(message: "\(s.file): field 'spec.source.path': \(source.repo)/\(s.path) does not exist")
            }
        }
        // A client per environment: its context (in a pod, the pod's own cluster).
        var clients: [String: KubeClient] = [:]
        var byContext: [String: KubeClient] = [:]
        var clientSettings = cluster.clientSettings
        clientSettings.onResponse = { method, status in Agent.observeAPIResponse(method: method, status: status) }
        let env = ProcessInfo.processInfo.environment
        let hasKubeconfig = Kubeconfig.paths(explicit: cluster.kubeconfig, environment: env).contains { FileManager.default.fileExists(atPath: $0) }
        for s in settings {
            let context = cluster.context ?? (hasKubeconfig ? s.context : nil)
            if let client = byContext[context ?? ""] {
                clients[s.name] = client
                continue
            }
            let config: ClusterConfig
            do {
                if !hasKubeconfig && cluster.kubeconfig == nil && env["KUBERNETES_SERVICE_HOST"] != nil {
                    config = try Kubeconfig.inCluster(environment: env)
                } else {
                    config = try Kubeconfig.load(paths: Kubeconfig.paths(explicit: cluster.kubeconfig, environment: env), context: context, namespace: cluster.namespace)
                }
            } catch {
                throw CLIError(message: "\(s.file): field 'spec.cluster.context': \(error.description)")
            }
            let client = KubeClient(config: config, settings: clientSettings)
            byContext[context ?? ""] = client
            clients[s.name] = client
        }
        let identity = self.identity ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())"
        var configuration = AgentConfiguration(environments: settings, source: location, clients: clients, identity: identity)
        let (host, port) = try Self.hostAndPort(listen)
        configuration.host = host
        configuration.port = port
        configuration.fieldManager = fieldManager
        configuration.watch = !noWatch
        configuration.debounce = .milliseconds(debounceMilliseconds)
        if let file = webhookSecretFile {
            guard let data = FileManager.default.contents(atPath: file) else { throw CLIError(message: "--webhook-secret-file \(file) cannot be read") }
            configuration.webhookSecret = Array(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).utf8)
        } else if let name = webhookSecretEnv {
            // In a pod the Secret is optional: without it the agent polls and heals, webhooks off.
            if let value = env[name], !value.isEmpty {
                configuration.webhookSecret = Array(value.utf8)
            } else {
                FileHandle.standardError.write(Data("note: --webhook-secret-env: $\(name) is not set; /webhook is off (syncs run on the interval and on cluster changes)\n".utf8))
            }
        }
        if promote {
            // Refused at start, saying which, rather than an analysis loop that can never act.
            guard case .remote = location else {
                throw CLIError(message: "--promote commits to the repository: give it as a git URL (--repo URL), not a checkout")
            }
            let promoted = settings.filter { $0.promotion != nil }
            if promoted.isEmpty {
                FileHandle.standardError.write(Data("note: --promote: no environment has spec.promotion; nothing to promote\n".utf8))
            }
            for environment in promoted where environment.promotion?.analysis.prometheus == nil && prometheus == nil {
                throw CLIError(message: "\(environment.file): field 'spec.promotion.analysis.prometheus': --promote needs a Prometheus for \(environment.name) (or --prometheus URL)")
            }
            configuration.promotion = PromotionSettings(prometheus: prometheus, forge: try forge.client())
        }
        if leaderElect ?? inPod, let client = clients.values.first ?? byContext.values.first {
            let podNamespace = (try? String(contentsOfFile: "/var/run/secrets/kubernetes.io/serviceaccount/namespace", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            var name = leaseName
            if let shard { name += "-shard-" + shard.replacingOccurrences(of: "/", with: "-of-") }
            configuration.lease = AgentConfiguration.LeaseSettings(
                client: client, namespace: leaseNamespace ?? podNamespace ?? client.config.namespace, name: name,
                timing: LeaderElector.Timing(
                    leaseDuration: .seconds(leaseDuration), renewDeadline: .seconds(renewDeadline), retryPeriod: .milliseconds(Int64(retryPeriod * 1000))))
        }
        return configuration
    }

    static func settingsFiles(_ path: String) throws(CLIError) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CLIError(message: "--config \(path): no such file or directory")
        }
        guard isDirectory.boolValue else { return [path] }
        let found = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
            .map { path + "/" + $0 + "/sync.yaml" }.filter { FileManager.default.fileExists(atPath: $0) }
        guard !found.isEmpty else { throw CLIError(message: "--config \(path): no */sync.yaml in this directory") }
        return found
    }

    static func hostAndPort(_ text: String) throws(CLIError) -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw CLIError(message: "--listen \(text): expected HOST:PORT, e.g. 0.0.0.0:8080")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }
}
