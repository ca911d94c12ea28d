import ClusterEmulator
import Foundation
import TaiCore
import TaiHTTP
import TaiTesting
import Testing

/// The emulator on a socket: TLS with a generated CA, token auth, injected faults, /metrics.
@Suite("Emulator transport")
struct TransportTests {
    @Test("HTTPS with a generated CA: a client trusting that CA connects; one without it is refused")
    func tls() async throws {
        let material = try TLSMaterial.generate()
        let server = try await EmulatorServer.start(api: APIServer(cluster: Cluster()), tls: material)
        defer { Task { await server.stop() } }
        #expect(server.url.hasPrefix("https://127.0.0.1:"))
        let trusting = HTTPClient(configuration: HTTPClientConfiguration(tls: TLSOptions(caData: Array(material.caPEM.utf8))))
        let response = try await trusting.execute(HTTPRequest(url: server.url + "/version"))
        #expect(response.status == 200)
        #expect(try JSON.parse(response.body)["minor"] == "32")
        let untrusting = HTTPClient()
        await #expect(throws: HTTPError.self) { try await untrusting.execute(HTTPRequest(url: server.url + "/version")) }
        await server.stop()
    }

    @Test("faults: 500s and 429s with Retry-After as Status objects, dropped connections, added latency")
    func faults() async throws {
        let api = APIServer(cluster: Cluster())
        api.bootstrap()
        let client = HTTPClient()
        var failing = Faults()
        failing.serverError = 1
        let s500 = try await EmulatorServer.start(api: api, faults: failing)
        let r500 = try await client.execute(HTTPRequest(url: s500.url + "/api/v1/namespaces/default/configmaps"))
        #expect(r500.status == 500)
        #expect(try JSON.parse(r500.body)["reason"] == "InternalError")
        let version = try await client.execute(HTTPRequest(url: s500.url + "/version"))
        #expect(version.status == 200, "discovery and version are never faulted")
        await s500.stop()

        var throttled = Faults()
        throttled.tooManyRequests = 1
        throttled.verbs = ["apply"]
        let s429 = try await EmulatorServer.start(api: api, faults: throttled)
        let body = Array(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}"#.utf8)
        let apply = try await client.execute(HTTPRequest(
            method: .patch, url: s429.url + "/api/v1/namespaces/default/configmaps/a?fieldManager=t",
            headers: [("Content-Type", "application/apply-patch+yaml")], body: body))
        #expect(apply.status == 429)
        #expect(apply.headers.contains { $0.name.lowercased() == "retry-after" && $0.value == "1" })
        let list = try await client.execute(HTTPRequest(url: s429.url + "/api/v1/namespaces/default/configmaps"))
        #expect(list.status == 200, "only the listed verbs are faulted")
        await s429.stop()

        var dropping = Faults()
        dropping.drop = 1
        let sDrop = try await EmulatorServer.start(api: api, faults: dropping)
        await #expect(throws: HTTPError.self) { try await client.execute(HTTPRequest(url: sDrop.url + "/api/v1/namespaces")) }
        await sDrop.stop()

        var slow = Faults()
        slow.latencyMilliseconds = 300
        let sSlow = try await EmulatorServer.start(api: api, faults: slow)
        let start = ContinuousClock.now
        let r = try await client.execute(HTTPRequest(url: sSlow.url + "/api/v1/namespaces"))
        #expect(r.status == 200)
        #expect(ContinuousClock.now - start >= .milliseconds(300))
        await sSlow.stop()
        let metrics = try await { () async throws -> String in
            let s = try await EmulatorServer.start(api: api)
            defer { Task { await s.stop() } }
            return try await client.execute(HTTPRequest(url: s.url + "/metrics")).text
        }()
        #expect(metrics.contains(#"apiserver_request_total{verb="fault",resource="",code="429"} 1"#))
        #expect(metrics.contains(#"apiserver_request_total{verb="fault",resource="",code="500"} 1"#))
    }

    @Test("kubectl over HTTPS with a bearer token; a wrong token is Unauthorized")
    func kubectlTLS() throws {
        let e = try EmulatorProcess(["--tls", "--token", "s3cret"])
        #expect(e.url.hasPrefix("https://"))
        #expect(try e.ok(["get", "ns"]).contains("kube-system"))
        let config = e.directory.path + "/kubeconfig"
        let text = try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(of: "token: s3cret", with: "token: wrong")
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let denied = try e.kubectl(["get", "ns"])
        #expect(denied.status == 1)
        #expect(denied.stderr.contains("Unauthorized"))
    }

    @Test("kubectl through injected 429s: client-go honours Retry-After and the command succeeds")
    func kubectlRetries() throws {
        let e = try EmulatorProcess(["--faults", "429=0.5,verbs=list"])
        try e.ok(["create", "configmap", "c", "--from-literal=a=1"])
        var faulted = false
        for _ in 0..<10 where !faulted {
            #expect(try e.ok(["get", "cm"]).contains("c "))
            faulted = try e.ok(["get", "--raw", "/metrics"]).contains(#"verb="fault",resource="",code="429""#)
        }
        #expect(faulted, "some list requests were answered 429 and retried")
    }
}
