import CSpawn
import Glibc
import Synchronization

/// A program that could not be started.
public struct SpawnError: Error, Sendable, CustomStringConvertible {
    public var program: String
    public var errno: Int32

    public var description: String { "\(program) could not be started: \(String(cString: strerror(errno)))" }
}

/// How a finished program ended, and what it printed.
public struct ProcessOutput: Sendable {
    /// The exit code, or 128 + the signal number for a program killed by a signal (as shells say).
    public var status: Int32
    public var standardOutput: [UInt8]
    public var standardError: [UInt8]

    public var outputText: String { String(decoding: standardOutput, as: UTF8.self) }
    public var errorText: String { String(decoding: standardError, as: UTF8.self) }
}

/// A child process started with glibc's `posix_spawn`.
///
/// Foundation's `Process` crashes now and then on Linux with Swift 6.3.1 (an over-read while it
/// lists `/proc/self/fd`, swiftlang/swift-corelibs-foundation#5472), which a sync agent that runs
/// `ssh-keygen` for every revision cannot afford. The child gets standard input from a file or
/// `/dev/null`, standard output and error as pipes (or `/dev/null`, or ours), no other open file
/// descriptor of ours, no blocked signals, and default dispositions for the usual signals.
public final class ChildProcess: Sendable {
    /// Where a standard stream of the child goes.
    public enum Stream: Sendable {
        /// A pipe the parent reads (``finish()``, ``readLine()``).
        case capture
        /// `/dev/null`.
        case discard
        /// The parent's own stream.
        case inherit
    }

    public let pid: pid_t
    private let state: Mutex<State>

    private struct State {
        var output: Int32?
        var error: Int32?
        var exitStatus: Int32?
    }

    /// Starts `program` (looked up on `PATH` unless it contains a `/`).
    ///
    /// - Parameters:
    ///   - environment: the child's whole environment; nil inherits ours.
    ///   - directory: the child's working directory; nil keeps ours.
    ///   - input: a file to read standard input from; nil reads `/dev/null`.
    public init(
        _ program: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil, input: String? = nil,
        output: Stream = .capture, error: Stream = .capture
    ) throws(SpawnError) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }

        var parentEnds: [Int32] = []
        var childEnds: [Int32] = []
        func closeAll() { for fd in parentEnds + childEnds { close(fd) } }
        func route(_ stream: Stream, to target: Int32) throws(SpawnError) -> Int32? {
            switch stream {
            case .inherit:
                return nil
            case .discard:
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0)
                return nil
            case .capture:
                var fds: [Int32] = [-1, -1]
                guard pipe2(&fds, O_CLOEXEC) == 0 else {
                    closeAll()
                    throw SpawnError(program: program, errno: Glibc.errno)
                }
                parentEnds.append(fds[0])
                childEnds.append(fds[1])
                posix_spawn_file_actions_adddup2(&actions, fds[1], target)
                return fds[0]
            }
        }
        posix_spawn_file_actions_addopen(&actions, 0, input ?? "/dev/null", O_RDONLY, 0)
        let outputEnd = try route(output, to: 1)
        let errorEnd = try route(error, to: 2)
        // Everything else of ours stays out of the child (sockets, other children's pipes).
        posix_spawn_file_actions_addclosefrom_np(&actions, 3)
        if let directory { posix_spawn_file_actions_addchdir_np(&actions, directory) }

        // A child started from a Dispatch thread would inherit its blocked signals, and the
        // Swift runtime ignores SIGPIPE: undo both.
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv: [UnsafeMutablePointer<CChar>?] = ([program] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let envp: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { for pointer in envp ?? [] { free(pointer) } }

        var pid: pid_t = 0
        let usePath = !program.contains("/")
        let result: Int32 = argv.withUnsafeBufferPointer { args in
            guard let args = args.baseAddress else { return EINVAL }
            func spawn(_ env: UnsafePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
                guard let env else { return EINVAL }
                return usePath
                    ? posix_spawnp(&pid, program, &actions, &attributes, args, env)
                    : posix_spawn(&pid, program, &actions, &attributes, args, env)
            }
            guard let envp else { return spawn(UnsafePointer(environ)) }
            return envp.withUnsafeBufferPointer { spawn($0.baseAddress) }
        }
        for fd in childEnds { close(fd) }
        guard result == 0 else {
            for fd in parentEnds { close(fd) }
            throw SpawnError(program: program, errno: result)
        }
        self.pid = pid
        state = Mutex(State(output: outputEnd, error: errorEnd))
    }

    /// Runs a program to completion and returns what it printed.
    public static func run(
        _ program: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil, input: String? = nil
    ) throws(SpawnError) -> ProcessOutput {
        try ChildProcess(program, arguments, environment: environment, directory: directory, input: input).finish()
    }

    /// Reads the captured streams to their ends (both at once, so a chatty child never blocks on
    /// a full pipe), then waits for the child to exit.
    public func finish() -> ProcessOutput {
        let (output, error) = state.withLock { state in
            defer { state.output = nil; state.error = nil }
            return (state.output, state.error)
        }
        var collected: [Int32: [UInt8]] = [:]
        var open = [output, error].compactMap { $0 }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !open.isEmpty {
            var polls = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            guard poll(&polls, nfds_t(polls.count), -1) >= 0 || Glibc.errno == EINTR else { break }
            for entry in polls where entry.revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    collected[entry.fd, default: []].append(contentsOf: buffer[0..<count])
                } else if count == 0 || (Glibc.errno != EINTR && Glibc.errno != EAGAIN) {
                    close(entry.fd)
                    open.removeAll { $0 == entry.fd }
                }
            }
        }
        let status = wait()
        return ProcessOutput(
            status: status, standardOutput: output.flatMap { collected[$0] } ?? [], standardError: error.flatMap { collected[$0] } ?? [])
    }

    /// Reads standard output up to the end of its first line (servers print their port there).
    public func readLine() -> String {
        guard let fd = state.withLock({ $0.output }) else { return "" }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let count = read(fd, &byte, 1)
            if count < 0 && Glibc.errno == EINTR { continue }
            if count <= 0 || byte == UInt8(ascii: "\n") { break }
            line.append(byte)
        }
        return String(decoding: line, as: UTF8.self)
    }

    /// Sends a signal (nothing once the child has been waited for).
    public func signal(_ signal: Int32) {
        state.withLock { state in
            if state.exitStatus == nil { _ = kill(pid, signal) }
        }
    }

    /// Whether the child has not exited yet.
    public var isRunning: Bool {
        state.withLock { state in
            guard state.exitStatus == nil else { return false }
            var raw: Int32 = 0
            let result = waitpid(pid, &raw, WNOHANG)
            if result == pid { state.exitStatus = Self.decode(raw) }
            return result == 0
        }
    }

    /// Waits for the child to exit and returns its status (see ``ProcessOutput/status``).
    @discardableResult
    public func wait() -> Int32 {
        if let status = state.withLock({ $0.exitStatus }) { return status }
        var raw: Int32 = 0
        var result: pid_t
        repeat { result = waitpid(pid, &raw, 0) } while result < 0 && Glibc.errno == EINTR
        return state.withLock { state in
            if state.exitStatus == nil { state.exitStatus = result == pid ? Self.decode(raw) : -1 }
            return state.exitStatus ?? -1
        }
    }

    private static func decode(_ raw: Int32) -> Int32 {
        raw & 0x7F == 0 ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F)
    }

    deinit {
        state.withLock { state in
            for fd in [state.output, state.error].compactMap({ $0 }) { close(fd) }
        }
    }
}
