import Foundation
import TaiProcess
import TaiTesting
import Testing

/// Child processes through posix_spawn: what they get, what comes back.
@Suite("Child processes")
struct ChildProcessTests {
    @Test("output and error captured apart; exit codes and signals")
    func statuses() throws {
        let result = try ChildProcess.run("sh", ["-c", "echo out; echo err >&2; exit 3"])
        #expect(result.status == 3)
        #expect(result.outputText == "out\n")
        #expect(result.errorText == "err\n")
        #expect(try ChildProcess.run("sh", ["-c", "kill -TERM $$"]).status == 128 + SIGTERM)
        #expect(try ChildProcess.run("/bin/true", []).status == 0)
    }

    @Test("a program that cannot be started is an error naming it")
    func missing() {
        #expect(throws: SpawnError.self) { try ChildProcess.run("/nonexistent/tool", []) }
        do {
            _ = try ChildProcess.run("no-such-program-anywhere", [])
            Issue.record("started a program that does not exist")
        } catch {
            #expect(error.description.contains("no-such-program-anywhere could not be started"))
        }
    }

    @Test("environment, working directory and standard input from a file")
    func inputs() throws {
        let dir = try TemporaryDirectory("tai-child")
        defer { dir.remove() }
        let input = try dir.write("in.txt", "from the file\n")
        let result = try ChildProcess.run(
            "sh", ["-c", "pwd; echo \"$GREETING\"; cat"], environment: ["GREETING": "hello", "PATH": "/usr/bin:/bin"], directory: dir.path, input: input)
        let resolved = URL(fileURLWithPath: dir.path).resolvingSymlinksInPath().path
        #expect(result.outputText == "\(resolved)\nhello\nfrom the file\n")
        #expect(try ChildProcess.run("cat", []).outputText.isEmpty, "standard input defaults to /dev/null")
    }

    @Test("megabytes on both streams at once never block")
    func chatty() throws {
        let result = try ChildProcess.run("sh", ["-c", "head -c 3000000 /dev/zero; head -c 2000000 /dev/zero >&2; head -c 1000000 /dev/zero"])
        #expect(result.standardOutput.count == 4_000_000)
        #expect(result.standardError.count == 2_000_000)
    }

    @Test("the child holds no descriptor of ours, blocks no signal, and dies of SIGPIPE")
    func clean() throws {
        let dir = try TemporaryDirectory("tai-child-fds")
        defer { dir.remove() }
        let held = open(dir.path + "/held", O_CREAT | O_WRONLY, 0o600)  // not close-on-exec
        defer { close(held) }
        let fds = try ChildProcess.run("sh", ["-c", "ls /proc/$$/fd"]).outputText.split(separator: "\n").sorted()
        #expect(fds == ["0", "1", "2"])
        let mask = try ChildProcess.run("grep", ["SigBlk", "/proc/self/status"]).outputText
        #expect(mask.trimmingCharacters(in: .whitespacesAndNewlines) == "SigBlk:\t0000000000000000")
        // With SIGPIPE ignored (as the Swift runtime has it), `yes` would complain of a broken pipe.
        let piped = try ChildProcess.run("sh", ["-c", "yes | head -1 >/dev/null"])
        #expect(piped.status == 0)
        #expect(piped.errorText.isEmpty)
    }

    @Test("a background child: first line, signal, wait")
    func background() throws {
        let child = try ChildProcess("sh", ["-c", "echo ready; exec sleep 30"], error: .discard)
        #expect(child.readLine() == "ready")
        #expect(child.isRunning)
        child.signal(SIGKILL)
        #expect(child.wait() == 128 + SIGKILL)
        #expect(!child.isRunning)
    }
}
