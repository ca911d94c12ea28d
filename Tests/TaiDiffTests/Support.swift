import ClusterEmulator
import Foundation
import TaiCore
import TaiDiff
import TaiKube
import TaiRender
import TaiTesting
import TaiYAML

/// An emulator on loopback and a client of it.
final class Harness: @unchecked Sendable {
    let api: APIServer
    let server: EmulatorServer
    let client: KubeClient

    private init(api: APIServer, server: EmulatorServer, client: KubeClient) {
        self.api = api
        self.server = server
        self.client = client
    }

    static func start(
        faults: Faults = Faults(), settings: KubeClientSettings = KubeClientSettings(), controllers: ControllerSettings = ControllerSettings()
    ) async throws -> Harness {
        let api = APIServer(cluster: Cluster(), controllers: controllers)
        api.bootstrap()
        let server = try await EmulatorServer.start(api: api, faults: faults)
        let client = KubeClient(config: ClusterConfig(server: server.url), settings: settings)
        return Harness(api: api, server: server, client: client)
    }

    func stop() async { await server.stop() }

    /// Applies objects as a manager, directly on the API (not through the faulted socket).
    @discardableResult
    func apply(_ objects: [Value], manager: String = "tai-gitops", force: Bool = true) throws -> [Value] {
        try objects.map { object in
            let r = api.handle(APIRequest(
                method: "PATCH", uri: path(object) + "?fieldManager=\(manager)&force=\(force)",
                headers: ["content-type": "application/apply-patch+yaml"], body: Array(JSON.serialize(object).utf8)))
            guard case .body(let status, _, _, let body) = r, status < 300 else {
                if case .body(_, _, _, let body) = r { throw TestFailure("apply \(path(object)) failed: \(String(decoding: body, as: UTF8.self))") }
                throw TestFailure("apply failed")
            }
            return try JSON.parse(body)
        }
    }

    /// Any request on the API, as a given client program (its User-Agent names the manager).
    @discardableResult
    func request(_ method: String, _ uri: String, _ body: Value? = nil, contentType: String = "application/merge-patch+json", agent: String = "kubectl/v1.32.4") throws -> Value {
        let r = api.handle(APIRequest(method: method, uri: uri, headers: ["content-type": contentType, "user-agent": agent], body: body.map { Array(JSON.serialize($0).utf8) } ?? []))
        guard case .body(let status, _, _, let data) = r else { return .null }
        guard status < 300 else { throw TestFailure("\(method) \(uri): \(status) \(String(decoding: data, as: UTF8.self))") }
        return try JSON.parse(data)
    }

    func path(_ object: Value) -> String {
        let apiVersion = object["apiVersion"]?.stringValue ?? "v1"
        let kind = object["kind"]?.stringValue ?? ""
        let type = api.cluster.resourceTypes.first { $0.apiVersion == apiVersion && $0.kind == kind }
        let plural = type?.plural ?? Self.customPlural(kind)
        let namespaced = type?.namespaced ?? true
        let prefix = apiVersion.contains("/") ? "/apis/\(apiVersion)" : "/api/\(apiVersion)"
        let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
        if !namespaced { return "\(prefix)/\(plural)/\(name)" }
        return "\(prefix)/namespaces/\(object[path: ["metadata", "namespace"]]?.stringValue ?? "default")/\(plural)/\(name)"
    }

    static func customPlural(_ kind: String) -> String {
        let lower = kind.lowercased()
        return lower.hasSuffix("y") ? String(lower.dropLast()) + "ies" : lower + "s"
    }

    /// The platform CRDs and a rendered environment of this repository.
    static func platformCRDs() throws -> [Value] {
        try YAML.parseDocuments(String(contentsOfFile: TaiTesting.repositoryRoot + "/platform/crds.yaml", encoding: .utf8)).map(\.value).filter { !$0.isNull }
    }

    static func environment(_ name: String) throws -> [Value] {
        try Kustomizer().build(TaiTesting.repositoryRoot + "/environments/" + name).map(\.object)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
