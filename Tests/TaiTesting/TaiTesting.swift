import Foundation
import TaiProcess

/// Helpers shared by the test targets: temporary directories, running processes, paths.
public enum TaiTesting {
    /// The repository root (found from this file's location).
    public static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The directory the build products (the `tai-gitops` binary) live in.
    public static var productsDirectory: String {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = executable.deletingLastPathComponent()
        // Inside an .xctest bundle on macOS the binary sits a few levels down.
        while dir.path != "/" && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("tai-gitops").path) {
            let parent = dir.deletingLastPathComponent()
            if parent == dir { break }
            dir = parent
        }
        return dir.path
    }

    /// A loopback port for a server the test starts: below Linux's ephemeral range (32768–60999),
    /// where outgoing connections take their ports, and free when asked.
    public static func freePort() -> Int {
        for _ in 0..<100 {
            let port = Int.random(in: 20000..<32768)
            if canListen(on: port) { return port }
        }
        return Int.random(in: 20000..<32768)
    }

    /// Whether this process can bind a loopback TCP port now (nothing listens on it, and it is
    /// ours to bind).
    public static func canListen(on port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return bound == 0
    }

    /// Path of the built `tai-gitops` executable.
    public static var taiGitopsBinary: String { productsDirectory + "/tai-gitops" }

    /// The shared real desired/live pairs (`../shared/fixtures/live-objects`, or
    /// `$TAI_SHARED_FIXTURES`), when this machine has them.
    public static let sharedFixturesDirectory: String? = {
        let candidates = [
            ProcessInfo.processInfo.environment["TAI_SHARED_FIXTURES"],
            repositoryRoot + "/../shared/fixtures/live-objects",
            "/work/shared/fixtures/live-objects",
        ].compactMap { $0 }
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/02-deploy-nginx-defaults") }
    }()
}

/// A directory that exists for the life of the value's owner; removed by ``remove()``.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(_ prefix: String = "tai-test") throws {
        let base = FileManager.default.temporaryDirectory.path
        let path = "\(base)/\(prefix)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        self.path = path
    }

    /// Writes a file below the directory, creating folders on the way; returns its path.
    @discardableResult
    public func write(_ relative: String, _ contents: String) throws -> String {
        try write(relative, bytes: Array(contents.utf8))
    }

    @discardableResult
    public func write(_ relative: String, bytes: [UInt8]) throws -> String {
        let full = path + "/" + relative
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: full))
        return full
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// What a finished process left behind.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

public enum ProcessRunner {
    /// Runs a program to completion (looked up on PATH when not a path).
    @discardableResult
    public static func run(
        _ program: String, _ arguments: [String], in directory: String? = nil, environment: [String: String] = [:]
    ) throws -> ProcessResult {
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        let result = try ChildProcess.run(program, arguments, environment: env, directory: directory)
        return ProcessResult(status: result.status, stdout: result.outputText, stderr: result.errorText)
    }

    /// Runs a program and fails unless it exits 0.
    @discardableResult
    public static func check(
        _ program: String, _ arguments: [String], in directory: String? = nil, environment: [String: String] = [:]
    ) throws -> String {
        let result = try run(program, arguments, in: directory, environment: environment)
        guard result.status == 0 else {
            throw CommandFailed(command: ([program] + arguments).joined(separator: " "), result: result)
        }
        return result.stdout
    }
}

public struct CommandFailed: Error, CustomStringConvertible {
    public var command: String
    public var result: ProcessResult

    public init(command: String, result: ProcessResult) {
        self.command = command
        self.result = result
    }

    public var description: String { "`\(command)` exited \(result.status): \(result.stderr)" }
}

/// A long-running child process (a test server) that is stopped when the test ends.
public final class BackgroundProcess: Sendable {
    public let process: ChildProcess

    /// Starts the program (standard error is the test's own).
    public init(_ program: String, _ arguments: [String], in directory: String? = nil) throws {
        process = try ChildProcess(program, arguments, directory: directory, output: .capture, error: .inherit)
    }

    /// Reads the child's first line of standard output (servers print their port there).
    public func firstLine() -> String { process.readLine() }

    /// Stops the child with SIGKILL and waits for it.
    public func stop() {
        if process.isRunning {
            process.signal(SIGKILL)
            process.wait()
        }
    }

    deinit { stop() }
}

/// A smart-HTTP git server on loopback: nginx (TLS from a test CA, basic auth) in front of
/// `git http-backend` through fcgiwrap, serving the repositories in `root/repos`.
public final class GitHTTPServer: @unchecked Sendable {
    public let directory: TemporaryDirectory
    public let port: Int
    public let caFile: String
    public let username = "tai"
    public let password = "s3cret-token"
    private var processes: [BackgroundProcess] = []

    /// `repositories`: name → path of a repository to serve (as `https://127.0.0.1:PORT/NAME`).
    public init(repositories: [String: String]) throws {
        directory = try TemporaryDirectory("tai-git-http")
        let dir = directory.path
        func openssl(_ args: String...) throws { try ProcessRunner.check("openssl", args, in: dir) }
        try openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=tai-git-test-ca")
        _ = try directory.write("server.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        try openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
        try openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "server.ext")
        caFile = dir + "/ca.crt"
        let hash = try ProcessRunner.check("openssl", ["passwd", "-apr1", password]).trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try directory.write("htpasswd", "\(username):\(hash)\n")
        try FileManager.default.createDirectory(atPath: dir + "/repos", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/tmp", withIntermediateDirectories: true)
        for (name, path) in repositories {
            try FileManager.default.createSymbolicLink(atPath: dir + "/repos/" + name, withDestinationPath: path)
        }
        port = TaiTesting.freePort()
        let execPath = try ProcessRunner.check("git", ["--exec-path"]).trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try directory.write("nginx.conf", """
            daemon off;
            master_process off;
            user root root;
            worker_processes 1;
            pid \(dir)/nginx.pid;
            error_log \(dir)/error.log;
            events {}
            http {
              access_log off;
              client_body_temp_path \(dir)/tmp/body;
              fastcgi_temp_path \(dir)/tmp/fastcgi;
              proxy_temp_path \(dir)/tmp/proxy;
              uwsgi_temp_path \(dir)/tmp/uwsgi;
              scgi_temp_path \(dir)/tmp/scgi;
              server {
                listen 127.0.0.1:\(port) ssl;
                ssl_certificate \(dir)/server.crt;
                ssl_certificate_key \(dir)/server.key;
                location / {
                  auth_basic "git";
                  auth_basic_user_file \(dir)/htpasswd;
                  client_max_body_size 0;
                  fastcgi_pass unix:\(dir)/fcgi.sock;
                  include /etc/nginx/fastcgi_params;
                  fastcgi_param SCRIPT_FILENAME \(execPath)/git-http-backend;
                  fastcgi_param GIT_PROJECT_ROOT \(dir)/repos;
                  fastcgi_param GIT_HTTP_EXPORT_ALL "";
                  fastcgi_param PATH_INFO $uri;
                  fastcgi_param REMOTE_USER $remote_user;
                }
              }
            }
            """)
        processes.append(try BackgroundProcess("fcgiwrap", ["-s", "unix:\(dir)/fcgi.sock"]))
        processes.append(try BackgroundProcess("nginx", ["-c", dir + "/nginx.conf", "-p", dir]))
        // Wait until nginx answers.
        for _ in 0..<100 {
            let probe = try ProcessRunner.run("openssl", ["s_client", "-connect", "127.0.0.1:\(port)", "-brief"], environment: [:])
            if probe.status == 0 || probe.stderr.contains("CONNECTION ESTABLISHED") { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// By host name: libgit2 built with mbedTLS does not match IP addresses in certificates.
    public func url(_ name: String) -> String { "https://localhost:\(port)/\(name)" }

    public func stop() {
        for process in processes.reversed() { process.stop() }
        processes = []
        if let pid = try? String(contentsOfFile: directory.path + "/nginx.pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), let n = Int32(pid) {
            kill(n, SIGKILL)
        }
    }

    deinit {
        stop()
        directory.remove()
    }
}

/// An ssh git server on loopback: the system's sshd with its own host key and an authorized
/// client key; repositories are reached as `ssh://USER@127.0.0.1:PORT/ABSOLUTE/PATH`.
public final class GitSSHServer: @unchecked Sendable {
    public let directory: TemporaryDirectory
    public let port: Int
    /// The client's private key (ed25519) and a known_hosts file holding the server's key.
    public let clientKey: String
    public let knownHosts: String
    public let user: String
    private var process: BackgroundProcess?

    /// - Parameter port: the port to listen on (default: a free high port). Port 22 lets scp-style
    ///   URLs (`user@host:path`, which cannot name a port) reach it.
    public init(port requestedPort: Int? = nil) throws {
        directory = try TemporaryDirectory("tai-git-ssh")
        let dir = directory.path
        try ProcessRunner.check("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", dir + "/host_key"])
        // ed25519: libssh2 1.10 signs RSA keys with ssh-rsa (SHA-1), which OpenSSH 8.8+ refuses.
        try ProcessRunner.check("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", dir + "/client_key"])
        clientKey = dir + "/client_key"
        try FileManager.default.copyItem(atPath: dir + "/client_key.pub", toPath: dir + "/authorized_keys")
        user = ProcessInfo.processInfo.environment["USER"] ?? "root"
        port = requestedPort ?? TaiTesting.freePort()
        let hostKey = try String(contentsOfFile: dir + "/host_key.pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        knownHosts = try directory.write("known_hosts", (port == 22 ? "127.0.0.1" : "[127.0.0.1]:\(port)") + " \(hostKey)\n")
        try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        _ = try directory.write("sshd_config", """
            Port \(port)
            ListenAddress 127.0.0.1
            HostKey \(dir)/host_key
            AuthorizedKeysFile \(dir)/authorized_keys
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PubkeyAuthentication yes
            PermitRootLogin prohibit-password
            StrictModes no
            UsePAM no
            PidFile \(dir)/sshd.pid
            """)
        process = try BackgroundProcess("/usr/sbin/sshd", ["-D", "-e", "-f", dir + "/sshd_config"])
        // sshd writes its pid file once it listens.
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: dir + "/sshd.pid") {
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    public func url(_ path: String) -> String { "ssh://\(user)@127.0.0.1:\(port)\(path)" }

    /// The scp-style spelling, `user@127.0.0.1:/path` (port 22 only).
    public func scpURL(_ path: String) -> String { "\(user)@127.0.0.1:\(path)" }

    /// Whether nothing listens on a local TCP port (and this process may bind it).
    public static func canListen(on port: Int) -> Bool { TaiTesting.canListen(on: port) }

    public func stop() {
        process?.stop()
        process = nil
    }

    deinit {
        stop()
        directory.remove()
    }
}
