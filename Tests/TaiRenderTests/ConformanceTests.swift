import Foundation
import Testing
import TaiRender
import TaiTesting

/// One case of the conformance suite: a small tree of files written inline, in the style of
/// kustomize's own test harness, and what kustomize v5.5.0 printed for it.
///
/// Case files (`Conformance/*.cases`) hold many cases:
///
///     ==== case-name [target=overlay]
///     -- base/kustomization.yaml --
///     resources: [d.yaml]
///     -- @expected --
///     (kubectl kustomize's output, recorded by scripts/record-conformance.py)
///
/// A case kustomize refuses has `-- @error --` (kustomize's message) instead of `@expected`.
struct ConformanceCase: Sendable, CustomTestStringConvertible {
    var file: String
    var name: String
    var target: String
    var files: [(path: String, contents: String)]
    var expected: String?
    var error: String?

    var testDescription: String { name }

    static let directory = TaiTesting.repositoryRoot + "/Tests/TaiRenderTests/Conformance"

    static func loadAll() -> [ConformanceCase] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".cases") }.sorted()
        return names.flatMap { name in
            parse((try? String(contentsOfFile: directory + "/" + name, encoding: .utf8)) ?? "", file: name)
        }
    }

    /// Splits a case file; the format is line based, so YAML inside needs no escaping.
    static func parse(_ text: String, file: String) -> [ConformanceCase] {
        var cases: [ConformanceCase] = []
        var current: ConformanceCase?
        var section: String?
        var lines: [Substring] = []
        func flushSection() {
            guard let name = section, current != nil else { return }
            let body = lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
            switch name {
            case "@expected": current?.expected = body
            case "@error": current?.error = body
            default: current?.files.append((name, body))
            }
            section = nil
            lines = []
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("==== ") {
                flushSection()
                if let c = current { cases.append(c) }
                let words = line.dropFirst(5).split(separator: " ")
                var target = "."
                for word in words.dropFirst() where word.hasPrefix("target=") { target = String(word.dropFirst(7)) }
                current = ConformanceCase(file: file, name: String(words.first ?? ""), target: target, files: [])
            } else if line.hasPrefix("-- "), line.hasSuffix(" --"), line.count > 6 {
                flushSection()
                section = String(line.dropFirst(3).dropLast(3))
            } else if section != nil {
                lines.append(line)
            }
        }
        flushSection()
        if let c = current { cases.append(c) }
        // Trailing blank lines separate cases in the file; they are not part of the last section.
        return cases.map { c in
            var c = c
            c.files = c.files.map { ($0.path, trimTrailingBlankLines($0.contents)) }
            c.expected = c.expected.map(trimTrailingBlankLines)
            c.error = c.error.map(trimTrailingBlankLines)
            return c
        }
    }

    static func trimTrailingBlankLines(_ s: String) -> String {
        var s = Substring(s)
        while s.hasSuffix("\n\n") { s = s.dropLast() }
        return String(s)
    }
}

/// The conformance suite: every case renders as `kubectl kustomize` renders it, byte for byte, or
/// fails where kustomize fails. The reference runs here for each case, not only when recorded.
@Suite("Render conformance")
struct ConformanceTests {
    static let cases = ConformanceCase.loadAll()

    @Test("matches kubectl kustomize", arguments: cases)
    func conformance(_ c: ConformanceCase) throws {
        let root = "/case"
        let fs = InMemoryFileSystem(files: Dictionary(c.files.map { (root + "/" + $0.path, $0.contents) }, uniquingKeysWith: { a, _ in a }))
        let ours = Result { () throws(RenderError) in try Kustomizer(fileSystem: fs).render(Path.join(root, c.target)) }

        let work = try TemporaryDirectory("tai-conf")
        defer { work.remove() }
        for file in c.files { _ = try work.write(file.path, file.contents) }
        let reference = try ProcessRunner.run("kubectl", ["kustomize", work.path + "/" + c.target], environment: ["KUBECONFIG": "/dev/null"])

        if let expected = c.expected {
            #expect(reference.status == 0 && reference.stdout == expected, "\(c.file): \(c.name): recording is stale; run scripts/record-conformance.py")
            switch ours {
            case .success(let output): #expect(output == expected, "\(c.file): \(c.name) differs from kubectl kustomize")
            case .failure(let error): Issue.record("\(c.file): \(c.name): kustomize renders it, we failed: \(error)")
            }
        } else if c.error != nil {
            #expect(reference.status != 0, "\(c.file): \(c.name): kustomize now renders it; re-record")
            if case .success(let output) = ours {
                Issue.record("\(c.file): \(c.name): kustomize fails, we rendered:\n\(output)")
            }
        } else {
            Issue.record("\(c.file): \(c.name) has no recording; run scripts/record-conformance.py")
        }
    }

    @Test("the suite (these cases and the golden scenarios) has at least 150 cases, each named once")
    func size() {
        #expect(Self.cases.count + GoldenTests.scenarios.count >= 150)
        let names = Self.cases.map(\.name)
        #expect(Set(names).count == names.count, "duplicate case names")
    }
}
