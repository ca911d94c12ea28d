import Foundation
import TaiHTTP
import TaiProcess

/// A real Prometheus server (Debian's `prometheus`) on loopback, scraping the given targets every
/// `scrapeInterval`, with its data in a scratch directory removed on ``stop()``.
public final class PrometheusServer: Sendable {
    public let url: String
    private let process: ChildProcess
    private let directory: String

    private init(url: String, process: ChildProcess, directory: String) {
        self.url = url
        self.process = process
        self.directory = directory
    }

    /// Whether the `prometheus` binary is installed (`scripts/bootstrap.sh` installs it).
    public static var isInstalled: Bool { (try? ChildProcess.run("prometheus", ["--version"]))?.status == 0 }

    /// Starts Prometheus and waits until it answers ready.
    public static func start(targets: [String], scrapeInterval: String = "1s", port: Int) async throws -> PrometheusServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tai-prometheus-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true)
        let config = """
            global:
              scrape_interval: \(scrapeInterval)
              evaluation_interval: \(scrapeInterval)
            scrape_configs:
            - job_name: canary
              static_configs:
              - targets: [\(targets.map { "'\($0)'" }.joined(separator: ", "))]

            """
        try config.write(toFile: directory + "/prometheus.yml", atomically: true, encoding: .utf8)
        let process = try ChildProcess(
            "prometheus",
            ["--config.file=" + directory + "/prometheus.yml", "--storage.tsdb.path=" + directory + "/data", "--web.listen-address=127.0.0.1:\(port)",
             "--log.level=warn"],
            output: .discard, error: .discard)
        let server = PrometheusServer(url: "http://127.0.0.1:\(port)", process: process, directory: directory)
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if (try? HTTPClient().executeBlocking(HTTPRequest(url: server.url + "/-/ready", timeout: .seconds(1))))?.status == 200 { return server }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        server.stop()
        throw PrometheusServerError(message: "prometheus did not become ready on port \(port) within 30 s")
    }

    public func stop() {
        process.signal(SIGTERM)
        _ = process.wait()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

public struct PrometheusServerError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
