import Crypto
import Foundation
import TaiCore
import TaiProcess
import TaiTesting
import Testing

/// A config repository served by `git-daemon`, the cluster emulator, and `tai-gitops agent`
/// processes pointed at both — all on loopback, all stopped when the harness goes.
final class AgentHarness {
    let dir: TemporaryDirectory
    let emulator: EmulatorProcess
    private(set) var daemon: BackgroundProcess?
    let gitPort: Int
    let secret = "s3cret-webhook"
    static let gitEnv = ["GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"]

    var origin: String { dir.path + "/origin" }
    var url: String { "git://127.0.0.1:\(gitPort)/origin" }

    /// `replicas`: the demo Deployment's replicas in git; `emulatorArguments`: e.g. faults.
    init(emulatorArguments: [String] = []) throws {
        dir = try TemporaryDirectory("tai-agent")
        emulator = try EmulatorProcess(emulatorArguments)
        gitPort = TaiTesting.freePort()
        try ProcessRunner.check("git", ["init", "-q", "-b", "main", origin])
        try git("config", "daemon.uploadpack", "true")
        try write("environments/demo/kustomization.yaml", "namespace: agent-demo\nresources: [namespace.yaml, config.yaml, web.yaml]\n")
        try write("environments/demo/namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: agent-demo\n")
        try setConfig("1")
        try write(
            "environments/demo/web.yaml",
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
            spec:
              replicas: 2
              selector:
                matchLabels: {app: web}
              template:
                metadata:
                  labels: {app: web}
                spec:
                  containers:
                  - name: web
                    image: nginx:1.27

            """)
        try commit("the demo environment")
        try startDaemon()
    }

    func startDaemon() throws {
        let execPath = try ProcessRunner.check("git", ["--exec-path"]).trimmingCharacters(in: .whitespacesAndNewlines)
        daemon = try BackgroundProcess(
            execPath + "/git-daemon", ["--reuseaddr", "--export-all", "--base-path=" + dir.path, "--listen=127.0.0.1", "--port=\(gitPort)", origin])
        try waitUntil(timeout: 5, "git daemon serving") {
            (try? ProcessRunner.run("git", ["ls-remote", url]))?.status == 0
        }
    }

    func stopDaemon() {
        daemon?.stop()
        daemon = nil
    }

    @discardableResult
    func git(_ args: String...) throws -> String {
        try ProcessRunner.check("git", args, in: origin, environment: Self.gitEnv).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func write(_ file: String, _ content: String) throws { _ = try dir.write("origin/" + file, content) }

    func setConfig(_ value: String) throws {
        try write("environments/demo/config.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  v: \"\(value)\"\n")
    }

    @discardableResult
    func commit(_ message: String) throws -> String {
        try git("add", "-A")
        try git("commit", "-q", "-m", message)
        return try git("rev-parse", "HEAD")
    }

    /// The sync settings file for the demo environment (kept outside the repository).
    func settings(policy: String, interval: String = "1h", prune: Bool = true) throws -> String {
        try dir.write(
            "sync-\(policy).yaml",
            """
            apiVersion: tai.io/v1alpha1
            kind: SyncSettings
            metadata:
              name: demo
            spec:
              source:
                path: environments/demo
                revision: main
              interval: \(interval)
              prune: \(prune)
              drift:
                policy: \(policy)

            """)
    }

    /// Starts an agent; its log (JSON lines) goes to `log`.
    func agent(
        name: String, policy: String = "correct", leaderElection: Bool = false, fieldManager: String? = nil, extra: [String] = []
    ) throws -> AgentProcess {
        let port = TaiTesting.freePort()
        let secretFile = try dir.write("webhook-secret", secret)
        var args = [
            "agent", "--config", try settings(policy: policy), "--repo", url, "--cache-dir", dir.path + "/cache-" + name,
            "--kubeconfig", emulator.directory.path + "/kubeconfig", "--context", "tai-emulator", "--listen", "127.0.0.1:\(port)",
            "--webhook-secret-file", secretFile, "--debounce-ms", "200", "--log-format", "json", "--identity", name,
            "--field-manager", fieldManager ?? "tai-gitops",
        ]
        if leaderElection {
            args += ["--leader-elect", "--lease-namespace", "default", "--lease-duration", "3", "--renew-deadline", "2", "--retry-period", "0.5"]
        } else {
            args += ["--no-leader-elect"]
        }
        return try AgentProcess(arguments: args + extra, port: port, log: dir.path + "/agent-\(name).log")
    }

    /// A push event as GitHub sends it, signed with the secret (or not).
    func githubPush(commit: String, signature: String? = nil) -> (headers: [String: String], body: String) {
        let body = #"{"ref":"refs/heads/main","after":"\#(commit)","repository":{"clone_url":"\#(url)"}}"#
        return (["X-Hub-Signature-256": signature ?? "sha256=" + Self.sign(body, secret: secret), "X-GitHub-Event": "push", "Content-Type": "application/json"], body)
    }

    /// GitHub's signature of a webhook body: HMAC-SHA256 with the shared secret, in hex.
    static func sign(_ body: String, secret: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Array(body.utf8), using: SymmetricKey(data: Array(secret.utf8))).map { String(format: "%02x", $0) }.joined()
    }

    /// The live object as JSON (nil when missing).
    func live(_ kind: String, _ name: String) -> Value? {
        guard let result = try? emulator.kubectl(["get", kind, name, "-n", "agent-demo", "-o", "json"]), result.status == 0 else { return nil }
        return try? JSON.parse(Array(result.stdout.utf8))
    }

    /// Successful writes the emulator counted for a field manager.
    func writes(by manager: String) throws -> Int {
        let (_, body) = try http("GET", emulator.url + "/metrics")
        for line in body.split(separator: "\n") where line.hasPrefix("apiserver_writes_total{field_manager=\"\(manager)\"}") {
            return Int(line.split(separator: " ").last ?? "") ?? 0
        }
        return 0
    }
}

/// One `tai-gitops agent` process.
final class AgentProcess {
    let process: ChildProcess
    let port: Int
    let log: String

    init(arguments: [String], port: Int, log: String) throws {
        self.port = port
        self.log = log
        // Standard error into the log file, the agent itself in place of the shell (so signals reach it).
        process = try ChildProcess(
            "/bin/sh", ["-c", "exec \"$0\" \"$@\" 2>>\"\(log)\"", TaiTesting.taiGitopsBinary] + arguments, output: .discard, error: .discard)
    }

    var base: String { "http://127.0.0.1:\(port)" }

    func get(_ path: String) throws -> (status: Int, body: String) { try http("GET", base + path) }

    func post(_ path: String, headers: [String: String], body: String) throws -> (status: Int, body: String) {
        try http("POST", base + path, headers: headers, body: body)
    }

    /// The environment's record from /status.json.
    func record() throws -> Value? {
        let (status, body) = try get("/status.json")
        guard status == 200 else { return nil }
        return try JSON.parse(Array(body.utf8)).listValue?.first
    }

    func waitReady(timeout: Double = 20) throws {
        try waitUntil(timeout: timeout, "agent ready (log: \(logText()))") { (try? self.get("/readyz"))?.status == 200 }
    }

    func metric(_ prefix: String) -> Double? {
        guard let (_, body) = try? get("/metrics") else { return nil }
        for line in body.split(separator: "\n") where line.hasPrefix(prefix) {
            return Double(line.split(separator: " ").last ?? "")
        }
        return nil
    }

    func logText() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    func stop(_ signal: Int32 = SIGKILL) {
        if process.isRunning {
            process.signal(signal)
            _ = process.wait()
        }
    }

    deinit { stop() }
}

/// An HTTP request through curl: the status and the body.
func http(_ method: String, _ url: String, headers: [String: String] = [:], body: String? = nil) throws -> (status: Int, body: String) {
    var args = ["-s", "-m", "10", "-X", method, "-o", "-", "-w", "\n%{http_code}"]
    for (name, value) in headers { args += ["-H", "\(name): \(value)"] }
    var bodyFile: String?
    if let body {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tai-body-\(UUID().uuidString)").path
        try body.write(toFile: file, atomically: true, encoding: .utf8)
        args += ["--data-binary", "@" + file]
        bodyFile = file
    }
    defer { if let bodyFile { try? FileManager.default.removeItem(atPath: bodyFile) } }
    let result = try ProcessRunner.run("curl", args + [url])
    var lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
    let status = Int(lines.popLast() ?? "") ?? 0
    return (status, lines.joined(separator: "\n"))
}

struct Timeout: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Polls `condition` every 50 ms until it holds; returns how long that took.
@discardableResult
func waitUntil(timeout: Double, _ what: @autoclosure () -> String, _ condition: () throws -> Bool) throws -> Double {
    let start = Date()
    while Date().timeIntervalSince(start) < timeout {
        if (try? condition()) == true { return Date().timeIntervalSince(start) }
        Thread.sleep(forTimeInterval: 0.05)
    }
    throw Timeout(what: what())
}
