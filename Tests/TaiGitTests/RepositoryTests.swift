import Foundation
import Testing
import TaiGit
import TaiTesting

/// The libgit2 wrapper against repositories made with the real `git` command.
@Suite("Git repository")
struct RepositoryTests {
    /// A repository with two commits on `main`, a tag on the first, and a `feature` branch.
    struct Fixture {
        let dir: TemporaryDirectory
        let origin: String
        let firstCommit: String
        let secondCommit: String
        let featureCommit: String

        init() throws {
            let dir = try TemporaryDirectory("tai-git")
            let origin = dir.path + "/origin"
            let env = [
                "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com", "GIT_COMMITTER_NAME": "Test",
                "GIT_COMMITTER_EMAIL": "test@example.com", "GIT_CONFIG_NOSYSTEM": "1", "HOME": dir.path,
            ]
            func git(_ args: String...) throws -> String {
                try ProcessRunner.check("git", args, in: origin, environment: env).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            try FileManager.default.createDirectory(atPath: origin, withIntermediateDirectories: true)
            _ = try git("init", "-q", "-b", "main")
            try dir.write("origin/environments/dev/kustomization.yaml", "namespace: tai-dev\n")
            try dir.write("origin/README.md", "first\n")
            _ = try git("add", "-A")
            _ = try git("commit", "-q", "-m", "first commit")
            let first = try git("rev-parse", "HEAD")
            _ = try git("tag", "-a", "v1.0.0", "-m", "release 1.0.0")
            try dir.write("origin/README.md", "second\n")
            try dir.write("origin/base/deployment.yaml", "kind: Deployment\n")
            _ = try git("add", "-A")
            _ = try git("commit", "-q", "-m", "second commit")
            let second = try git("rev-parse", "HEAD")
            _ = try git("checkout", "-q", "-b", "feature")
            try dir.write("origin/feature.txt", "feature\n")
            _ = try git("add", "-A")
            _ = try git("commit", "-q", "-m", "feature work")
            let feature = try git("rev-parse", "HEAD")
            _ = try git("checkout", "-q", "main")
            self.dir = dir
            self.origin = origin
            self.firstCommit = first
            self.secondCommit = second
            self.featureCommit = feature
        }
    }

    @Test("clone from a file:// URL and resolve branches, tags and ids")
    func cloneFileURL() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let repo = try Repository.clone(from: "file://" + f.origin, to: f.dir.path + "/clone", bare: true)
        #expect(repo.isBare)
        #expect(try repo.resolve("HEAD").hex == f.secondCommit)
        #expect(try repo.resolve("main").hex == f.secondCommit)
        #expect(try repo.resolve("origin/feature").hex == f.featureCommit)  // remote branches stay remote
        #expect(try repo.resolve("v1.0.0").hex == f.firstCommit)  // annotated tag, peeled to its commit
        #expect(try repo.resolve(String(f.firstCommit.prefix(10))).hex == f.firstCommit)
        #expect(try repo.resolve("main~1").hex == f.firstCommit)
        let info = try repo.commitInfo(CommitID(hex: f.secondCommit))
        #expect(info.message == "second commit\n")
        #expect(info.authorEmail == "test@example.com")
    }

    @Test("clone from a local path with a work tree, choosing the branch")
    func cloneLocalPath() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let target = f.dir.path + "/work"
        let repo = try Repository.clone(from: f.origin, to: target, branch: "feature")
        #expect(!repo.isBare)
        #expect(try repo.resolve("HEAD").hex == f.featureCommit)
        #expect(FileManager.default.fileExists(atPath: target + "/feature.txt"))
        let reopened = try Repository.open(at: target)
        #expect(try reopened.resolve("HEAD").hex == f.featureCommit)
    }

    @Test("check out a commit's tree into a separate directory")
    func checkoutIntoDirectory() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let repo = try Repository.clone(from: "file://" + f.origin, to: f.dir.path + "/cache", bare: true)
        let first = f.dir.path + "/snapshots/first"
        try repo.checkout(repo.resolve("v1.0.0"), into: first)
        #expect(try String(contentsOfFile: first + "/README.md", encoding: .utf8) == "first\n")
        #expect(try String(contentsOfFile: first + "/environments/dev/kustomization.yaml", encoding: .utf8) == "namespace: tai-dev\n")
        #expect(!FileManager.default.fileExists(atPath: first + "/base/deployment.yaml"))
        let second = f.dir.path + "/snapshots/second"
        try repo.checkout(repo.resolve("main"), into: second)
        #expect(try String(contentsOfFile: second + "/README.md", encoding: .utf8) == "second\n")
        #expect(FileManager.default.fileExists(atPath: second + "/base/deployment.yaml"))
    }

    @Test("async clone runs off the cooperative pool")
    func asyncClone() async throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let repo = try await Repository.clone(from: "file://" + f.origin, to: f.dir.path + "/async", bare: true)
        #expect(try repo.resolve("main").hex == f.secondCommit)
    }

    @Test("errors name the operation and say what libgit2 said")
    func errors() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        let repo = try Repository.open(at: f.origin)
        #expect {
            _ = try repo.resolve("no-such-branch")
        } throws: { error in
            guard let error = error as? GitError else { return false }
            return error.isNotFound && error.description.contains("resolve revision 'no-such-branch'")
        }
        #expect {
            _ = try Repository.open(at: f.dir.path + "/nothing-here")
        } throws: { error in
            (error as? GitError)?.description.contains("open repository") == true
        }
        #expect {
            _ = try Repository.clone(from: "file://" + f.dir.path + "/missing.git", to: f.dir.path + "/x")
        } throws: { error in
            (error as? GitError)?.operation.contains("clone") == true
        }
    }
}
