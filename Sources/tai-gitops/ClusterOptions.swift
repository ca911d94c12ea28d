import ArgumentParser
import Foundation
import TaiCore
import TaiAgent
import TaiDiff
import TaiKube
import TaiPromote
import TaiRender
import TaiYAML

/// Cluster selection, as kubectl does it.
struct ClusterOptions: ParsableArguments {
    @Option(help: "Path to the kubeconfig (default: $KUBECONFIG, several files merged, else ~/.kube/config).")
    var kubeconfig: String?

    @Option(help: "The kubeconfig context to use (default: the environment's sync settings, else the current context).")
    var context: String?

    @Option(name: [.short, .customLong("namespace")], help: "Namespace for objects that name none (default: the context's).")
    var namespace: String?

    @Option(help: "Requests per second to the API server (client-side rate limit).")
    var qps: Double = 1000

    @Option(help: "Burst allowed above --qps.")
    var burst: Int = 2000

    @Option(help: "Requests in flight at once (LISTs, applies within a stage).")
    var parallel: Int = 16

    @Option(help: "Retries of a request after a 429, 5xx or connection failure (capped, jittered backoff).")
    var retries: Int = 8

    /// Resolves the cluster: the kubeconfig, else (in a pod) the service account.
    func clusterConfig(preferredContext: String?) throws(KubeError) -> ClusterConfig {
        let env = ProcessInfo.processInfo.environment
        let paths = Kubeconfig.paths(explicit: kubeconfig, environment: env)
        let anyExists = paths.contains { FileManager.default.fileExists(atPath: $0) }
        if !anyExists, kubeconfig == nil, env["KUBERNETES_SERVICE_HOST"] != nil {
            return try Kubeconfig.inCluster(environment: env)
        }
        if let context { return try Kubeconfig.load(paths: paths, context: context, namespace: namespace) }
        if let preferredContext {
            do {
                return try Kubeconfig.load(paths: paths, context: preferredContext, namespace: namespace)
            } catch {
                let config = try Kubeconfig.load(paths: paths, context: nil, namespace: namespace)
                FileHandle.standardError.write(Data("note: the sync settings name context \"\(preferredContext)\", which the kubeconfig does not define; using its current context (\(config.origin))\n".utf8))
                return config
            }
        }
        return try Kubeconfig.load(paths: paths, context: nil, namespace: namespace)
    }

    var clientSettings: KubeClientSettings { KubeClientSettings(qps: qps, burst: burst, maxRetries: max(retries, 0), maxParallel: parallel) }
}

/// An environment of the config repo (`prod` → `environments/prod`) or a kustomization folder.
struct EnvironmentTarget {
    var name: String
    var directory: String
    var settings: Value?
    var settingsFile: String?

    init(_ argument: String, repo: String) throws(CLIError) {
        var isDirectory: ObjCBool = false
        if argument.contains("/") || (FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) && isDirectory.boolValue && argument != ".") {
            directory = argument
            name = URL(fileURLWithPath: argument).standardizedFileURL.lastPathComponent
        } else {
            directory = repo + "/environments/" + argument
            name = argument
            guard FileManager.default.fileExists(atPath: directory) else {
                let known = (try? FileManager.default.contentsOfDirectory(atPath: repo + "/environments").sorted()) ?? []
                throw CLIError(message: "no environment \"\(argument)\": \(directory) does not exist" + (known.isEmpty ? "" : " (environments: \(known.joined(separator: ", ")))"))
            }
        }
        let file = directory + "/sync.yaml"
        if let text = try? String(contentsOfFile: file, encoding: .utf8) {
            do { settings = try YAML.parse(text, file: file) } catch { throw CLIError(message: "\(error)") }
            settingsFile = file
        }
    }

    /// The rendered objects.
    func render() throws(CLIError) -> [Value] {
        do {
            return try Kustomizer(onWarning: { FileHandle.standardError.write(Data("# Warning: \($0)\n".utf8)) }).build(directory).map(\.object)
        } catch {
            throw CLIError(message: "\(error)")
        }
    }

    var context: String? { settings?[path: ["spec", "cluster", "context"]]?.stringValue }

    func ignoreRules() throws(CLIError) -> [IgnoreRule] {
        guard let settings, let settingsFile else { return [] }
        do { return try IgnoreRule.parse(settings, file: settingsFile) } catch { throw CLIError(message: "\(error)") }
    }
}

/// What diff and apply are pointed at: an environment of a repository, and a cluster.
struct EnvironmentArguments: ParsableArguments {
    @Argument(help: "An environment name (environments/NAME of --repo) or a kustomization directory.")
    var environment: String

    @OptionGroup var source: SourceOptions

    @OptionGroup var cluster: ClusterOptions

    func prepare() async throws(CLIError) -> PreparedEnvironment {
        try await PreparedEnvironment.prepare(environment, repo: try await source.resolveRepository(), cluster: cluster)
    }
}

/// `-o text|json`.
enum TextOrJSON: String, ExpressibleByArgument, CaseIterable {
    case text
    case json
}

/// An environment rendered and a client for its cluster: what diff and apply start from.
struct PreparedEnvironment {
    var target: EnvironmentTarget
    var objects: [Value]
    var rules: [IgnoreRule]
    var client: KubeClient
    var inventory: Inventory

    /// Renders the environment while the cluster's discovery runs.
    static func prepare(_ environment: String, repo: String, cluster: ClusterOptions) async throws(CLIError) -> PreparedEnvironment {
        let target = try EnvironmentTarget(environment, repo: repo)
        let rules = try target.ignoreRules()
        let config: ClusterConfig
        do { config = try cluster.clusterConfig(preferredContext: target.context) } catch { throw CLIError(message: error.description) }
        let client = KubeClient(config: config, settings: cluster.clientSettings)
        let discovery = Task { try? await client.discover() }
        // The list semantics diff needs take a few milliseconds to load: on another core, meanwhile.
        Task.detached(priority: .userInitiated) { _ = KubeSchema.builtin }
        var objects: [Value]
        do {
            objects = try target.render()
        } catch {
            // Never leave a request running while the process exits with the error.
            await discovery.value
            throw error
        }
        await discovery.value
        let rendered = RenderedEnvironment.labelled(name: target.name, objects: objects, fallbackNamespace: config.namespace)
        objects = []
        return PreparedEnvironment(target: target, objects: rendered.objects, rules: rules, client: client, inventory: rendered.inventory)
    }
}

/// Runs a command body; a failure before any result (bad input, unreachable cluster) is printed
/// as `error: …` and exits 2.
func exitingTwoOnError(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as CLIError {
        throw fail(error.message, code: 2)
    } catch let error as KubeError {
        throw fail(error.description, code: 2)
    } catch let error as DiffError {
        throw fail(error.description, code: 2)
    } catch let error as PromoteError {
        throw fail(error.description, code: 2)
    }
}

/// Ends the process once its output is written, without freeing the rendered and live objects on
/// the way out: tens of thousands of small allocations whose release took a tenth of a large diff.
func exitWithoutTeardown(_ code: Int32) -> Never {
    fflush(nil)  // every C stream
    exit(code)
}

/// Prints a message to stderr and exits with `code`.
func fail(_ message: String, code: Int32) -> ExitCode {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    return ExitCode(code)
}
