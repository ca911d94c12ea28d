import Crypto
import Foundation
import TaiAgent
import TaiCore
import Testing

@Suite("Webhook verification")
struct WebhookTests {
    let secret = Array("It's a Secret to Everybody".utf8)
    let body = Array(#"{"ref":"refs/heads/main","after":"abc123","repository":{"clone_url":"https://git.example.com/tai/config.git"}}"#.utf8)

    func hmacHex(_ body: [UInt8], _ key: [UInt8]) -> String {
        HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: key)).map { String(format: "%02x", $0) }.joined()
    }

    @Test("GitHub's documented example signature verifies")
    func githubDocumentedExample() throws {
        // From GitHub's "Validating webhook deliveries": secret "It's a Secret to Everybody", payload "Hello, World!".
        let expected = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        #expect(hmacHex(Array("Hello, World!".utf8), secret) == expected)
    }

    @Test("GitHub, Gitea and GitLab pushes verify and name the branch, commit and repository")
    func forges() throws {
        let webhook = Webhook(secret: secret)
        let github = try webhook.verify(headers: ["x-hub-signature-256": "sha256=" + hmacHex(body, secret)], body: body)
        #expect(github.forge == .github && github.branch == "main" && github.commit == "abc123")
        #expect(github.repositoryURLs == ["https://git.example.com/tai/config.git"])
        let gitea = try webhook.verify(headers: ["x-gitea-signature": hmacHex(body, secret)], body: body)
        #expect(gitea.forge == .gitea)
        let gitlab = try webhook.verify(headers: ["x-gitlab-token": String(decoding: secret, as: UTF8.self)], body: body)
        #expect(gitlab.forge == .gitlab)
    }

    @Test("wrong, missing or malformed signatures are 401; a body that is not JSON is 400; a large one 413")
    func refusals() {
        let webhook = Webhook(secret: secret)
        func status(_ headers: [String: String], _ body: [UInt8]? = nil) -> Int {
            do {
                _ = try webhook.verify(headers: headers, body: body ?? self.body)
                return 200
            } catch { return error.status }
        }
        #expect(status([:]) == 401)
        #expect(status(["x-hub-signature-256": "sha256=" + hmacHex(body, Array("other".utf8))]) == 401)
        #expect(status(["x-hub-signature-256": "sha1=abcd"]) == 401)
        #expect(status(["x-hub-signature-256": "sha256=zz"]) == 401)
        #expect(status(["x-gitea-signature": hmacHex(body + [32], secret)]) == 401)
        #expect(status(["x-gitlab-token": "wrong"]) == 401)
        let notJSON = Array("nope".utf8)
        #expect(status(["x-hub-signature-256": "sha256=" + hmacHex(notJSON, secret)], notJSON) == 400)
        #expect(status(["x-gitlab-token": String(decoding: secret, as: UTF8.self)], [UInt8](repeating: 32, count: Webhook.maxBodySize + 1)) == 413)
    }

    @Test("repository URLs match across schemes, credentials, .git and scp-style addresses")
    func sameRepository() {
        #expect(Webhook.sameRepository("https://git.example.com/tai/config.git", "https://deploy@git.example.com/tai/config"))
        #expect(Webhook.sameRepository("git@git.example.com:tai/config.git", "ssh://git@git.example.com/tai/config.git"))
        #expect(!Webhook.sameRepository("https://git.example.com/tai/other.git", "https://git.example.com/tai/config.git"))
    }
}

@Suite("Sync settings")
struct SyncSettingsTests {
    func parse(_ text: String) throws -> SyncSettings {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tai-sync-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/sync.yaml"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return try SyncSettings.load(file)
    }

    @Test("the repository's own environments parse, with their intervals, policies and ignore rules")
    func repositoryEnvironments() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let prod = try SyncSettings.load(root + "/environments/prod/sync.yaml")
        #expect(prod.name == "prod" && prod.path == "environments/prod" && prod.revision == "main")
        #expect(prod.interval == .seconds(300) && prod.prune && prod.drift == .report && prod.context == "prod")
        #expect(prod.ignore.count == 2)
        let dev = try SyncSettings.load(root + "/environments/dev/sync.yaml")
        #expect(dev.drift == .correct && dev.interval == .seconds(60))
    }

    @Test("durations as Go writes them")
    func durations() {
        #expect(SyncSettings.parseDuration("30s") == .seconds(30))
        #expect(SyncSettings.parseDuration("1h30m") == .seconds(5400))
        #expect(SyncSettings.parseDuration("250ms") == .milliseconds(250))
        #expect(SyncSettings.parseDuration("1.5m") == .seconds(90))
        #expect(SyncSettings.parseDuration("5") == nil)
        #expect(SyncSettings.parseDuration("5 minutes") == nil)
    }

    @Test("mistakes name the file and the field")
    func errors() throws {
        func message(_ text: String) -> String {
            do {
                _ = try parse(text)
                return ""
            } catch { return "\(error)" }
        }
        let head = "apiVersion: tai.io/v1alpha1\nkind: SyncSettings\nmetadata:\n  name: x\n"
        #expect(message(head + "spec:\n  interval: soon\n").contains("field 'spec.interval'"))
        #expect(message(head + "spec:\n  drift:\n    policy: maybe\n").contains("field 'spec.drift.policy'"))
        #expect(message(head + "spec:\n  prune: yes please\n").contains("field 'spec.prune'"))
        #expect(message("kind: Kustomization\n").contains("field 'kind'"))
        #expect(message("apiVersion: tai.io/v1alpha1\nkind: SyncSettings\n").contains("field 'metadata.name'"))
        let defaults = try parse(head)
        #expect(defaults.path == "environments/x" && defaults.revision == "main" && defaults.interval == .seconds(300) && defaults.drift == .report && !defaults.prune)
    }
}

@Suite("Shards")
struct ShardTests {
    @Test("every environment belongs to exactly one shard, the same on every call, spread over the shards")
    func shards() {
        let names = (0..<300).map { "env-\($0)" } + ["dev", "staging", "prod"]
        for count in [1, 2, 3, 5] {
            var sizes = [Int](repeating: 0, count: count)
            for name in names {
                let shard = AgentConfiguration.shard(of: name, count: count)
                #expect((0..<count).contains(shard))
                #expect(AgentConfiguration.shard(of: name, count: count) == shard)
                sizes[shard] += 1
            }
            #expect(sizes.allSatisfy { $0 > names.count / count / 2 }, "\(count) shards: \(sizes)")
        }
    }
}
