import Foundation
import Testing
import TaiHTTP
import TaiTesting

/// The libcurl wrapper against a real HTTP(S) server on loopback, started and stopped here.
@Suite("HTTP client", .serialized)
struct HTTPClientTests {
    static let server = TaiTesting.repositoryRoot + "/Tests/TaiHTTPTests/Fixtures/http_server.py"

    /// Starts the test server; returns it and its base URL.
    static func startServer(_ arguments: [String] = [], scheme: String = "http") throws -> (BackgroundProcess, String) {
        let process = try BackgroundProcess("python3", [server] + arguments)
        let port = process.firstLine()
        guard Int(port) != nil else {
            process.stop()
            throw CommandFailed(command: "python3 http_server.py", result: ProcessResult(status: -1, stdout: port, stderr: ""))
        }
        return (process, "\(scheme)://127.0.0.1:\(port)")
    }

    func json(_ response: HTTPResponse) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    @Test("every method with headers and body")
    func methods() async throws {
        let (server, base) = try Self.startServer()
        defer { server.stop() }
        let client = HTTPClient()
        for method in [HTTPMethod.get, .post, .put, .patch, .delete] {
            let body: [UInt8]? = method == .get ? nil : Array("{\"m\":\"\(method.rawValue)\"}".utf8)
            let response = try await client.execute(
                HTTPRequest(method: method, url: base + "/echo?x=1", headers: [("X-Custom", "yes"), ("Content-Type", "application/json")], body: body))
            #expect(response.status == 200)
            let echo = try json(response)
            #expect(echo["method"] as? String == method.rawValue)
            #expect(echo["path"] as? String == "/echo?x=1")
            #expect((echo["headers"] as? [String: String])?["X-Custom"] == "yes")
            #expect(echo["body"] as? String == (body.map { String(decoding: $0, as: UTF8.self) } ?? ""))
            #expect(response.header("x-test-server") == "tai")
            #expect(response.header("Content-Type") == "application/json")
        }
        let head = try await client.execute(HTTPRequest(method: .head, url: base + "/echo"))
        #expect(head.status == 200 && head.body.isEmpty)
    }

    @Test("HTTP error statuses are responses, not errors")
    func statuses() async throws {
        let (server, base) = try Self.startServer()
        defer { server.stop() }
        let client = HTTPClient()
        for status in [201, 404, 409, 429, 500] {
            let response = try await client.execute(HTTPRequest(url: base + "/status/\(status)"))
            #expect(response.status == status)
        }
    }

    @Test("connections are reused across requests")
    func reuse() async throws {
        let (server, base) = try Self.startServer()
        defer { server.stop() }
        let client = HTTPClient()
        var ports = Set<Int>()
        for _ in 0..<5 {
            let echo = try json(try await client.execute(HTTPRequest(url: base + "/echo")))
            ports.insert(try #require(echo["client_port"] as? Int))
        }
        #expect(ports.count == 1, "five sequential requests should share one connection, used \(ports.count)")
        #expect(client.idleConnectionCount == 1)
    }

    @Test("parallel requests each get a connection; large bodies arrive whole")
    func parallel() async throws {
        let (server, base) = try Self.startServer()
        defer { server.stop() }
        let client = HTTPClient()
        let sizes = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 1...8 {
                group.addTask { try await client.execute(HTTPRequest(url: base + "/big?n=\(i * 100_000)")).body.count }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }.sorted()
        }
        #expect(sizes == (1...8).map { $0 * 100_000 })
    }

    @Test("slow requests run in parallel, not one per core")
    func inFlight() async throws {
        let (server, base) = try Self.startServer()
        defer { server.stop() }
        let client = HTTPClient()
        let count = 12
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<count { group.addTask { _ = try await client.execute(HTTPRequest(url: base + "/inflight?ms=500")) } }
            try await group.waitForAll()
        }
        let most = try json(try await client.execute(HTTPRequest(url: base + "/inflight?ms=0")))["max"] as? Int
        #expect(most == count, "all \(count) requests should have been at the server together")
    }

    @Test("a request that times out holds up none of those in flight beside it")
    func timeoutIsolated() async throws {
        let (server, base) = try Self.startServer()
        defer { server.stop() }
        let client = HTTPClient()
        let start = ContinuousClock.now
        // Measured against the slow request's own end (its timeout), not the wall clock: the other
        // test suites running beside this one can slow everything down, but not reorder this.
        let (fastDone, slowDone) = try await withThrowingTaskGroup(of: (fast: Duration?, slow: Duration?).self) { group in
            group.addTask {
                do {
                    _ = try await client.execute(HTTPRequest(url: base + "/slow?ms=3000", timeout: .milliseconds(1500)))
                    Issue.record("the slow request should time out")
                } catch let error as HTTPError {
                    #expect(error.kind == .timedOut)
                }
                return (nil, ContinuousClock.now - start)
            }
            for _ in 0..<6 {
                group.addTask {
                    _ = try await client.execute(HTTPRequest(url: base + "/echo"))
                    return (ContinuousClock.now - start, nil)
                }
            }
            var latest = Duration.zero
            var slow = Duration.zero
            for try await done in group {
                if let fast = done.fast { latest = max(latest, fast) }
                if let s = done.slow { slow = s }
            }
            return (latest, slow)
        }
        #expect(slowDone >= .milliseconds(1500), "the slow request ended at its timeout, \(slowDone)")
        #expect(fastDone < slowDone, "quick requests finished after \(fastDone), behind the slow one (which ended at \(slowDone))")
    }

    @Test("timeouts and refused connections are typed errors")
    func failures() async throws {
        let (server, base) = try Self.startServer()
        let client = HTTPClient()
        await #expect {
            _ = try await client.execute(HTTPRequest(url: base + "/slow?ms=3000", timeout: .milliseconds(200)))
        } throws: { error in
            (error as? HTTPError)?.kind == .timedOut
        }
        server.stop()
        await #expect {
            _ = try await client.execute(HTTPRequest(url: base + "/echo"))
        } throws: { error in
            guard let error = error as? HTTPError else { return false }
            return error.kind == .couldNotConnect && error.description.hasPrefix("GET \(base)/echo")
        }
    }

    // MARK: TLS

    /// A CA, a server certificate for 127.0.0.1 signed by it, and a client certificate.
    struct PKI {
        let dir: TemporaryDirectory
        var caCert: String { dir.path + "/ca.crt" }
        var serverCert: String { dir.path + "/server.crt" }
        var serverKey: String { dir.path + "/server.key" }
        var clientCert: String { dir.path + "/client.crt" }
        var clientKey: String { dir.path + "/client.key" }

        init() throws {
            dir = try TemporaryDirectory("tai-pki")
            func openssl(_ args: String...) throws { try ProcessRunner.check("openssl", args, in: dir.path) }
            try openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=tai-test-ca")
            try dir.write("server.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
            try openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
            try openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "server.ext")
            try openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=tai-gitops-client")
            try openssl("x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "client.crt", "-days", "2")
        }

        func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }
    }

    @Test("HTTPS: CA by file or by data, insecure mode, and an untrusted server refused")
    func tls() async throws {
        let pki = try PKI()
        defer { pki.dir.remove() }
        let (server, base) = try Self.startServer(["--cert", pki.serverCert, "--key", pki.serverKey], scheme: "https")
        defer { server.stop() }

        let byFile = HTTPClient(configuration: HTTPClientConfiguration(tls: TLSOptions(caFile: pki.caCert)))
        #expect(try await byFile.execute(HTTPRequest(url: base + "/echo")).status == 200)
        let byData = HTTPClient(configuration: HTTPClientConfiguration(tls: TLSOptions(caData: try pki.bytes(pki.caCert))))
        #expect(try await byData.execute(HTTPRequest(url: base + "/echo")).status == 200)
        let insecure = HTTPClient(configuration: HTTPClientConfiguration(tls: TLSOptions(insecureSkipVerify: true)))
        #expect(try await insecure.execute(HTTPRequest(url: base + "/echo")).status == 200)

        let untrusting = HTTPClient(configuration: HTTPClientConfiguration(tls: TLSOptions(caFile: pki.clientCert)))
        await #expect {
            _ = try await untrusting.execute(HTTPRequest(url: base + "/echo"))
        } throws: { error in
            (error as? HTTPError)?.kind == .tls
        }
    }

    @Test("HTTPS with a client certificate, from files and from data")
    func mutualTLS() async throws {
        let pki = try PKI()
        defer { pki.dir.remove() }
        let (server, base) = try Self.startServer(
            ["--cert", pki.serverCert, "--key", pki.serverKey, "--client-ca", pki.caCert], scheme: "https")
        defer { server.stop() }

        let files = HTTPClient(
            configuration: HTTPClientConfiguration(
                tls: TLSOptions(caFile: pki.caCert, clientCertificateFile: pki.clientCert, clientKeyFile: pki.clientKey)))
        let echo = try json(try await files.execute(HTTPRequest(url: base + "/echo")))
        #expect((echo["client_cert"] as? [String: String])?["commonName"] == "tai-gitops-client")

        let data = HTTPClient(
            configuration: HTTPClientConfiguration(
                tls: TLSOptions(
                    caData: try pki.bytes(pki.caCert), clientCertificateData: try pki.bytes(pki.clientCert),
                    clientKeyData: try pki.bytes(pki.clientKey))))
        let echo2 = try json(try await data.execute(HTTPRequest(url: base + "/echo")))
        #expect((echo2["client_cert"] as? [String: String])?["commonName"] == "tai-gitops-client")

        let anonymous = HTTPClient(configuration: HTTPClientConfiguration(tls: TLSOptions(caFile: pki.caCert)))
        await #expect(throws: HTTPError.self) {
            _ = try await anonymous.execute(HTTPRequest(url: base + "/echo"))
        }
    }
}
