import ArgumentParser
import ClusterEmulator
import Dispatch
import Foundation

/// `tai-gitops cluster`: serves the Kubernetes API emulator until SIGINT/SIGTERM.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Serve an in-process Kubernetes API (v1.32) for tests, demos and offline previews.",
        discussion: """
            Serves discovery, OpenAPI, get/list/watch, create, update, merge/JSON/strategic patches, server-side apply (managedFields, conflicts, force), delete, and the status and scale subresources for the built-in kinds and any CRD applied to it, with kube-apiserver's defaulting. The real kubectl works against it.

            The kubeconfig written with --write-kubeconfig works for kubectl and tai-gitops. With --state FILE the cluster starts from the objects in FILE (YAML, as saved) and writes its objects back to FILE when it stops.

            Faults for testing retries: --faults '429=0.1,500=0.05,503=0.05,drop=0.02,latency=20ms,verbs=apply+patch' (rates are fractions of requests).

            Rollouts for testing health checks: --rollout-delay 2 makes Deployments and StatefulSets report ready 2 s after each change; --stuck-image 'registry/app:bad*' makes rollouts of matching images never ready (Deployments then report ProgressDeadlineExceeded after spec.progressDeadlineSeconds).

            Examples:
              tai-gitops cluster --port 0 --write-kubeconfig /tmp/kubeconfig &
              KUBECONFIG=/tmp/kubeconfig kubectl get ns
              tai-gitops cluster --port 6443 --state snapshot.yaml --write-kubeconfig ~/.kube/tai-preview
            """
    )

    @Option(help: "Port to listen on (0 picks a free one; the kubeconfig and stdout say which).")
    var port: Int = 6443

    @Option(help: "Address to listen on.")
    var address: String = "127.0.0.1"

    @Option(name: .customLong("write-kubeconfig"), help: "Write a kubeconfig for this cluster to FILE.")
    var kubeconfig: String?

    @Option(help: "Require this bearer token on every request.")
    var token: String?

    @Option(help: "Start from the objects in FILE and save them back to it on exit.")
    var state: String?

    @Option(help: "Inject faults: 429=RATE,500=RATE,503=RATE,drop=RATE,latency=MSms,verbs=V1+V2.")
    var faults: String?

    @Option(name: .customLong("rollout-delay"), help: "Seconds a Deployment/StatefulSet rollout takes before it reports ready.")
    var rolloutDelay: Double = 0

    @Option(name: .customLong("stuck-image"), help: "An image (or prefix ending in *) whose rollouts never become ready; repeatable.")
    var stuckImages: [String] = []

    @Option(name: .customLong("only-namespaces"), help: "Allow requests to these namespaces only (comma-separated); others are 403, as for a namespace-scoped service account.")
    var onlyNamespaces: String?

    @Flag(help: "Serve HTTPS with a CA generated for this run (written into the kubeconfig).")
    var tls = false

    @Option(name: .customLong("client-ca"), help: "With --tls: client certificates signed by this CA (PEM file) authenticate requests.")
    var clientCA: String?

    func run() async throws {
        let faultSpec: Faults
        do { faultSpec = try faults.map { spec throws(APIError) in try Faults(spec: spec) } ?? Faults() } catch { throw ValidationError(error.message) }
        var api = APIServer(cluster: Cluster(), token: token, controllers: ControllerSettings(rolloutDelay: rolloutDelay, stuckImages: stuckImages))
        api.bootstrap()
        if let onlyNamespaces { api.allowedNamespaces = Set(onlyNamespaces.split(separator: ",").map(String.init)) }
        if let state, FileManager.default.fileExists(atPath: state) {
            let text = try String(contentsOfFile: state, encoding: .utf8)
            let count = try api.load(yaml: text, file: state)
            FileHandle.standardError.write(Data("loaded \(count) objects from \(state)\n".utf8))
        }
        var material = tls ? try TLSMaterial.generate(hosts: Array(Set(["127.0.0.1", "::1", "localhost", address]))) : nil
        if let clientCA {
            guard tls else { throw ValidationError("--client-ca needs --tls") }
            material?.clientCAPEM = try String(contentsOfFile: clientCA, encoding: .utf8)
        }
        let server = try await EmulatorServer.start(api: api, host: address, port: port, faults: faultSpec, tls: material)
        if let kubeconfig {
            try Self.kubeconfig(server: server.url, token: token, caPEM: material?.caPEM)
                .write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        }
        FileHandle.standardOutput.write(Data("serving Kubernetes API v1.32 at \(server.url)\n".utf8))

        let (signals, continuation) = AsyncStream<Int32>.makeStream()
        var sources: [any DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { continuation.yield(sig) }
            source.resume()
            sources.append(source)
        }
        for await _ in signals { break }
        sources.forEach { $0.cancel() }
        if let state {
            try api.saveYAML().write(toFile: state, atomically: true, encoding: .utf8)
            FileHandle.standardError.write(Data("saved the cluster's objects to \(state)\n".utf8))
        }
        await server.stop()
    }

    static func kubeconfig(server: String, token: String?, caPEM: String?) -> String {
        var user = "  user: {}\n"
        if let token { user = "  user:\n    token: \(token)\n" }
        let ca = caPEM.map { "\n    certificate-authority-data: \(Data($0.utf8).base64EncodedString())" } ?? ""
        return """
            apiVersion: v1
            kind: Config
            clusters:
            - name: tai-emulator
              cluster:
                server: \(server)\(ca)
            contexts:
            - name: tai-emulator
              context:
                cluster: tai-emulator
                user: tai-emulator
                namespace: default
            current-context: tai-emulator
            users:
            - name: tai-emulator
            \(user)
            """
    }
}
