import Crypto
import Foundation
import TaiCore

/// Options of generated ConfigMaps and Secrets (`generatorOptions`, or an entry's `options`).
struct GeneratorOptions: Sendable {
    var labels: [(key: String, value: String)] = []
    var annotations: [(key: String, value: String)] = []
    var disableNameSuffixHash = false
    var immutable = false

    /// kustomize's merge: the kustomization-wide options override an entry's own.
    func overridden(by global: GeneratorOptions?) -> GeneratorOptions {
        guard let global else { return self }
        var merged = self
        for (key, value) in global.labels {
            merged.labels.removeAll { $0.key == key }
            merged.labels.append((key, value))
        }
        for (key, value) in global.annotations {
            merged.annotations.removeAll { $0.key == key }
            merged.annotations.append((key, value))
        }
        merged.disableNameSuffixHash = merged.disableNameSuffixHash || global.disableNameSuffixHash
        merged.immutable = merged.immutable || global.immutable
        return merged
    }
}

/// How a generated object meets one of the same name from a base.
enum GeneratorBehavior: String, Sendable {
    case create, merge, replace
}

/// A `configMapGenerator` or `secretGenerator` entry.
struct GeneratorArgs: Sendable {
    enum Kind: String, Sendable {
        case configMap = "ConfigMap"
        case secret = "Secret"
    }

    var kind: Kind
    var field: String
    var name: String
    var namespace: String?
    var behavior: GeneratorBehavior
    /// The behavior as written (`unspecified` when the entry has none).
    var behaviorNote: String = "unspecified"
    var literals: [String]
    var files: [String]
    var envs: [String]
    var type: String?
    var options: GeneratorOptions?
}

/// Makes ConfigMaps and Secrets from literals, files and env files, as kustomize's generators do.
struct Generator {
    let fileSystem: any RenderFileSystem
    let kustomization: Kustomization

    func generate(_ args: GeneratorArgs) throws(RenderError) -> Resource {
        let file = kustomization.file
        var data: [(key: String, value: String)] = []
        var binaryData: [(key: String, value: String)] = []
        func add(_ key: String, _ value: String, binary: Bool = false, field: String) throws(RenderError) {
            guard !key.isEmpty else { throw RenderError(path: file, field: field, message: "a key must not be empty") }
            if data.contains(where: { $0.key == key }) || binaryData.contains(where: { $0.key == key }) {
                throw RenderError(
                    path: file, field: field,
                    message: "\(args.kind.rawValue.lowercased()) \(args.name) already has a key \"\(key)\"")
            }
            if binary { binaryData.append((key, value)) } else { data.append((key, value)) }
        }

        for (i, env) in args.envs.enumerated() {
            let field = "\(args.field).envs[\(i)]"
            let bytes = try read(env, field: field)
            for (key, value) in try parseEnvFile(bytes, path: env, field: field) {
                try add(key, value, field: field)
            }
        }
        for (i, literal) in args.literals.enumerated() {
            let field = "\(args.field).literals[\(i)]"
            guard let eq = literal.firstIndex(of: "="), eq != literal.startIndex else {
                throw RenderError(path: file, field: field, message: "invalid literal source '\(literal)', expected key=value")
            }
            try add(String(literal[..<eq]), Self.removeQuotes(String(literal[literal.index(after: eq)...])), field: field)
        }
        for (i, source) in args.files.enumerated() {
            let field = "\(args.field).files[\(i)]"
            var key = Path.normalize(source).split(separator: "/").last.map(String.init) ?? source
            var path = source
            if let eq = source.firstIndex(of: "=") {
                key = String(source[..<eq])
                path = String(source[source.index(after: eq)...])
                guard !key.isEmpty, !path.isEmpty else {
                    throw RenderError(path: file, field: field, message: "invalid file source '\(source)', expected key=path")
                }
            }
            let bytes = try read(path, field: field)
            if let text = String(validating: bytes, as: UTF8.self) {
                try add(key, text, field: field)
            } else {
                try add(key, NameHash.base64Lines(bytes), binary: true, field: field)
            }
        }

        var metadata: ValueMap = ["name": .string(args.name)]
        if let namespace = args.namespace, !namespace.isEmpty { metadata["namespace"] = .string(namespace) }
        let options = (args.options ?? GeneratorOptions()).overridden(by: kustomization.generatorOptions)
        if !options.labels.isEmpty { metadata["labels"] = .map(ValueMap(options.labels.map { ($0.key, Value.string($0.value)) }, uniquingKeysWith: { $1 })) }
        if !options.annotations.isEmpty {
            metadata["annotations"] = .map(ValueMap(options.annotations.map { ($0.key, Value.string($0.value)) }, uniquingKeysWith: { $1 }))
        }
        var object: ValueMap = ["apiVersion": "v1", "kind": .string(args.kind.rawValue), "metadata": .map(metadata)]
        switch args.kind {
        case .configMap:
            if !data.isEmpty { object["data"] = .map(ValueMap(data.map { ($0.key, Value.string($0.value)) }, uniquingKeysWith: { $1 })) }
            if !binaryData.isEmpty {
                object["binaryData"] = .map(ValueMap(binaryData.map { ($0.key, Value.string($0.value)) }, uniquingKeysWith: { $1 }))
            }
        case .secret:
            object["type"] = .string(args.type ?? "Opaque")
            let all = data.map { ($0.key, NameHash.base64Lines(Array($0.value.utf8))) } + binaryData.map { ($0.key, $0.value) }
            if !all.isEmpty { object["data"] = .map(ValueMap(all.map { ($0.0, Value.string($0.1)) }, uniquingKeysWith: { $1 })) }
        }
        if options.immutable { object["immutable"] = true }
        var resource = Resource(object: .map(object), origin: file)
        resource.needsHashSuffix = !options.disableNameSuffixHash
        resource.behavior = args.behavior
        resource.generatorBehaviorNote = args.behaviorNote
        return resource
    }

    private func read(_ relative: String, field: String) throws(RenderError) -> [UInt8] {
        try fileSystem.read(relative, namedBy: kustomization, field: field).bytes
    }

    /// `KEY=VALUE` lines; blank lines and `#` comments skipped; a bare `KEY` reads the environment.
    private func parseEnvFile(_ bytes: [UInt8], path: String, field: String) throws(RenderError) -> [(String, String)] {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw RenderError(path: Path.join(kustomization.directory, path), message: "env file is not valid UTF-8")
        }
        var out: [(String, String)] = []
        // Lines as Go's bufio.ScanLines cuts them: at "\n", dropping a "\r" before it (in Swift
        // "\r\n" is one Character, so split on both).
        for (n, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .enumerated()
        {
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            if n == 0, line.hasPrefix("\u{FEFF}") { line = line.dropFirst() }
            line = line.drop { $0.isWhitespace }
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0])
            // kustomize takes any key as written, and skips a line with none.
            if key.isEmpty { continue }
            let value = parts.count == 2 ? String(parts[1]) : (ProcessInfo.processInfo.environment[key] ?? "")
            out.append((key, value))
        }
        return out
    }

    static func removeQuotes(_ value: String) -> String {
        guard value.count > 1, let first = value.first, let last = value.last, first == last, first == "'" || first == "\"" else {
            return value
        }
        return String(value.dropFirst().dropLast())
    }
}

/// kustomize's content hash for generated names: SHA-256 of a JSON encoding of the object's
/// kind, data (and type for Secrets) — Go's encoding: sorted keys, HTML characters escaped — the
/// first ten hex digits with 0, 1, 3, a and e swapped for letters that cannot spell words.
///
/// kustomize means to hash the name too, but looks it up as a single field called
/// `metadata/name`, finds nothing and hashes an empty string; so does this. A missing `data` is
/// hashed as an empty string, not an empty map, for the same reason.
enum NameHash {
    static func suffix(for object: Value) -> String {
        func field(_ key: String) -> Value {
            switch object[key] {
            case nil: return .string("")
            case .map(let m)?: return .map(m)
            case let other?: return other
            }
        }
        var fields: [(String, Value)] = [("kind", object["kind"] ?? .null), ("name", .string("")), ("data", field("data"))]
        if object["kind"] == "Secret" {
            fields.append(("type", field("type")))
            if case .map(let stringData)? = object["stringData"] { fields.append(("stringData", .map(stringData))) }
        } else if case .map(let binary)? = object["binaryData"] {
            fields.append(("binaryData", .map(binary)))
        }
        let encoded = JSON.serializeGoStyle(.map(ValueMap(fields, uniquingKeysWith: { $1 })))
        let digest = SHA256.hash(data: Array(encoded.utf8))
        let hex = digest.map { String(format: "%02x", $0) }.joined()
        return String(
            hex.prefix(10).map { c -> Character in
                switch c {
                case "0": "g"
                case "1": "h"
                case "3": "k"
                case "a": "m"
                case "e": "t"
                default: c
                }
            })
    }

    /// Base64 as kustomize writes Secret data and ConfigMap binaryData: in lines of 70
    /// characters, each ending in a line break once there is more than one.
    static func base64Lines(_ bytes: [UInt8]) -> String {
        let encoded = Data(bytes).base64EncodedString()
        let lineLength = 70
        guard encoded.count >= lineLength else { return encoded }
        var out = ""
        var line = Substring(encoded)
        while !line.isEmpty {
            out += line.prefix(lineLength) + "\n"
            line = line.dropFirst(lineLength)
        }
        return out
    }
}
