import Foundation
import TaiCore
import Testing

/// `tai-gitops cluster` started on a free port with its own kubeconfig, and the real kubectl
/// (v1.32) pointed at it with its own discovery cache.
public final class EmulatorProcess {
    public let process: BackgroundProcess
    public let directory: TemporaryDirectory
    /// The URL the emulator printed.
    public let url: String

    public init(_ extra: [String] = []) throws {
        directory = try TemporaryDirectory("tai-emulator")
        process = try BackgroundProcess(
            TaiTesting.taiGitopsBinary, ["cluster", "--port", "0", "--write-kubeconfig", directory.path + "/kubeconfig"] + extra)
        let line = process.firstLine()
        url = String(line.split(separator: " ").last ?? "")
    }

    /// Runs kubectl against the emulator, with its own discovery cache.
    @discardableResult
    public func kubectl(_ arguments: [String], stdin: String? = nil) throws -> ProcessResult {
        var args = arguments
        if let stdin {
            let file = try directory.write("stdin-\(UUID().uuidString).yaml", stdin)
            args = args.map { $0 == "-" ? file : $0 }
        }
        return try ProcessRunner.run("kubectl", args, environment: ["KUBECONFIG": directory.path + "/kubeconfig", "KUBECACHEDIR": directory.path + "/cache"])
    }

    /// kubectl that must succeed; returns stdout.
    @discardableResult
    public func ok(_ arguments: [String], stdin: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let result = try kubectl(arguments, stdin: stdin)
        #expect(result.status == 0, "kubectl \(arguments.joined(separator: " ")): \(result.stderr)", sourceLocation: sourceLocation)
        return result.stdout
    }

    public func json(_ arguments: [String]) throws -> Value {
        try JSON.parse(Array(try ok(arguments + ["-o", "json"]).utf8))
    }

    deinit {
        process.stop()
        directory.remove()
    }
}

