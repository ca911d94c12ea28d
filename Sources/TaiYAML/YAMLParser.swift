import CYAML
import Dispatch
import Foundation
import Synchronization
import TaiCore

/// One YAML document of a stream and the line it starts on.
public struct YAMLDocument: Sendable, Equatable {
    public var value: Value
    /// 1-based line of the document's first node (of its `---` marker when it is empty).
    public var line: Int
    /// Plain scalars written with no text at all (`key:`), which read as `null` like `null` and
    /// `~` do but which kustomize's strategic merge drops where `null` is kept: their paths.
    public var emptyNulls: [[YAMLPathStep]] = []
    /// The text of the plain scalars under `metadata.annotations` that are not strings
    /// (`port: 8080`, `ratio: 1.50`, `a: null`), by annotation key: kustomize prints annotations
    /// as strings made from that text (`"8080"`, `"1.50"`, `"null"`, `""` for an empty one).
    public var annotationTexts: [String: String] = [:]

    public init(value: Value, line: Int) {
        self.value = value
        self.line = line
    }
}

/// One step of a path into a parsed document: a map key or a list position.
public enum YAMLPathStep: Sendable, Equatable {
    case key(String)
    case index(Int)
}

/// Which YAML version's rules give unquoted scalars their types.
public enum ScalarRules: Sendable {
    /// YAML 1.2 as go-yaml v3 reads it (kustomize's resources and kustomizations).
    case yaml12
    /// YAML 1.1 as go-yaml v2 reads it (kustomize's JSON 6902 patches written in YAML).
    case yaml11
}

/// Reading and writing YAML through libyaml.
public enum YAML {
    /// Parses every document of a YAML stream.
    ///
    /// - Parameters:
    ///   - bytes: the stream, UTF-8 (or UTF-16 with a byte order mark, as libyaml allows).
    ///   - file: the path to name in errors.
    /// - Throws: ``YAMLError`` with the file, line and column of the first problem.
    ///   - parallel: a large stream of several documents is cut at its `---` lines and the pieces
    ///     parsed on several threads; the result is the same (any error is reported by a plain
    ///     parse of the whole stream, so it is the same too).
    public static func parseDocuments(
        _ bytes: [UInt8], file: String? = nil, rules: ScalarRules = .yaml12, parallel: Bool = true
    ) throws(YAMLError) -> [YAMLDocument] {
        if parallel, bytes.count >= parallelThreshold, let documents = parseInPieces(bytes, file: file, rules: rules) {
            return documents
        }
        let parser = LibYAMLParser(input: bytes[...], file: file, rules: rules)
        return try parser.parseStream()
    }

    /// Below this size a stream is parsed on one thread: handing pieces out costs more than it saves.
    static let parallelThreshold = 64 * 1024

    /// Parses the pieces of a stream cut at document-start lines concurrently; nil when the
    /// stream cannot be cut safely or a piece fails (the caller then parses it whole).
    private static func parseInPieces(_ bytes: [UInt8], file: String?, rules: ScalarRules) -> [YAMLDocument]? {
        let pieces = max(1, min(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 8))
        guard pieces > 1, let cuts = documentCuts(bytes, pieces: pieces), !cuts.isEmpty else { return nil }
        let bounds = [0] + cuts.map(\.offset) + [bytes.count]
        let lineOffsets = [0] + cuts.map(\.line)
        let results = Mutex([[YAMLDocument]?](repeating: nil, count: bounds.count - 1))
        DispatchQueue.concurrentPerform(iterations: bounds.count - 1) { index in
            var documents = try? LibYAMLParser(input: bytes[bounds[index]..<bounds[index + 1]], file: file, rules: rules).parseStream()
            if documents != nil {
                for i in documents!.indices { documents![i].line += lineOffsets[index] }
            }
            results.withLock { $0[index] = documents }
        }
        var all: [YAMLDocument] = []
        for piece in results.withLock({ $0 }) {
            guard let piece else { return nil }
            all += piece
        }
        return all
    }

    /// Where to cut a stream into about `pieces` parts: at lines that are a `---` document marker
    /// (`---` at the start of a line, then a space, tab, line break or the end), each with the
    /// number of lines before it. Nil for streams a cut could change: UTF-16 ones, ones with
    /// directives (`%YAML`, `%TAG`), which belong to the document after them, and ones with line
    /// breaks other than LF and CR LF.
    static func documentCuts(_ bytes: [UInt8], pieces: Int) -> [(offset: Int, line: Int)]? {
        if bytes.count >= 2, (bytes[0] == 0xFE && bytes[1] == 0xFF) || (bytes[0] == 0xFF && bytes[1] == 0xFE) { return nil }
        let dash = UInt8(ascii: "-")
        var cuts: [(offset: Int, line: Int)] = []
        var nextTarget = bytes.count / pieces
        var line = 0
        var lineStart = true
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if lineStart {
                if byte == UInt8(ascii: "%") { return nil }
                if i >= nextTarget, i > 0, byte == dash, i + 2 < bytes.count, bytes[i + 1] == dash, bytes[i + 2] == dash,
                    i + 3 == bytes.count || [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i + 3])
                {
                    cuts.append((i, line))
                    nextTarget = i + bytes.count / pieces
                }
            }
            // libyaml also breaks lines at a lone CR, NEL, LS and PS; lines would be counted apart.
            if byte == 0x0D, i + 1 == bytes.count || bytes[i + 1] != 0x0A { return nil }
            if byte == 0xC2, i + 1 < bytes.count, bytes[i + 1] == 0x85 { return nil }
            if byte == 0xE2, i + 2 < bytes.count, bytes[i + 1] == 0x80, bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9 { return nil }
            lineStart = byte == 0x0A
            if lineStart { line += 1 }
            i += 1
        }
        return cuts
    }

    /// Parses every document of a YAML stream given as text.
    public static func parseDocuments(_ text: String, file: String? = nil) throws(YAMLError) -> [YAMLDocument] {
        try parseDocuments(Array(text.utf8), file: file)
    }

    /// Parses a stream that holds a single document (an empty stream gives `null`).
    public static func parse(_ text: String, file: String? = nil) throws(YAMLError) -> Value {
        let documents = try parseDocuments(text, file: file)
        guard documents.count <= 1 else {
            throw YAMLError(
                file: file, line: documents[1].line, column: 1,
                message: "expected a single YAML document, found \(documents.count)")
        }
        return documents.first?.value ?? .null
    }
}

/// Owns one libyaml parser and the input it reads; builds ``Value`` trees from its events.
///
/// Not `Sendable`: one parse runs on one thread from start to end.
final class LibYAMLParser {
    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private let input: UnsafeMutableBufferPointer<UInt8>
    private let file: String?
    private let rules: ScalarRules

    init(input bytes: ArraySlice<UInt8>, file: String?, rules: ScalarRules = .yaml12) {
        self.file = file
        self.rules = rules
        input = .allocate(capacity: max(bytes.count, 1))
        _ = input.initialize(from: bytes)
        parser = .allocate(capacity: 1)
        yaml_parser_initialize(parser)
        yaml_parser_set_input_string(parser, input.baseAddress, bytes.count)
    }

    deinit {
        yaml_parser_delete(parser)
        parser.deallocate()
        input.deallocate()
    }

    /// A sequence or mapping being read. A class, so that adding to the innermost one changes it
    /// in place (an enum payload taken out of the stack and put back copied the map per key).
    private final class Frame {
        let isMapping: Bool
        var items: [Value] = []
        var map = ValueMap()
        var key: String?
        var keyIsMerge = false
        var keyLine = 0
        var keyColumn = 0
        var merges: [ValueMap] = []
        var anchor: String?
        var size = 1

        init(isMapping: Bool, anchor: String?) {
            self.isMapping = isMapping
            self.anchor = anchor
        }
    }

    /// Deeper nesting than this is refused (no Kubernetes object comes close).
    static let maxDepth = 512
    /// Adds node counts, saturating just above the limit so a bomb cannot overflow them.
    private static func add(_ a: Int, _ b: Int) -> Int { min(a + b, maxExpandedNodes + 1) }

    /// A document may not expand to more nodes than this once aliases are followed: an alias
    /// bomb ("billion laughs") is refused instead of eating memory and time downstream.
    static let maxExpandedNodes = 4_000_000

    private func error(_ message: String, line: Int, column: Int) -> YAMLError {
        YAMLError(file: file, line: line, column: column, message: message)
    }

    private func parserError() -> YAMLError {
        let p = parser.pointee
        var message = p.problem.map { String(cString: $0) } ?? "invalid YAML"
        if let context = p.context {
            message = "\(String(cString: context)): \(message)"
        }
        if p.error == YAML_READER_ERROR {
            // Reader errors (bad encoding) carry a byte offset rather than a mark.
            var line = 1
            var column = 1
            let end = min(Int(p.problem_offset), input.count)
            var i = 0
            while i < end {
                if input[i] == UInt8(ascii: "\n") {
                    line += 1
                    column = 1
                } else if input[i] & 0xC0 != 0x80 {
                    column += 1
                }
                i += 1
            }
            var detail = message
            if p.problem_value >= 0 { detail += String(format: " (byte 0x%02X)", p.problem_value) }
            return error(detail + "; the file is not valid UTF-8", line: line, column: column)
        }
        return error(message, line: Int(p.problem_mark.line) + 1, column: Int(p.problem_mark.column) + 1)
    }

    func parseStream() throws(YAMLError) -> [YAMLDocument] {
        var documents: [YAMLDocument] = []
        var stack: [Frame] = []
        var anchors: [String: (value: Value, size: Int)] = [:]
        var root: Value?
        var documentStartLine = 1
        var documentLine: Int?
        var emptyNulls: [[YAMLPathStep]] = []
        var annotationTexts: [String: String] = [:]
        var event = yaml_event_t()

        /// Where the next value of the innermost collection goes.
        func currentPath() -> [YAMLPathStep] {
            stack.map { frame in frame.isMapping ? .key(frame.key ?? "") : .index(frame.items.count) }
        }

        func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
            guard let pointer else { return nil }
            return String(cString: pointer)
        }

        /// Hands a finished node to its parent (or makes it the document root).
        func complete(_ value: Value, size: Int, keyText: String?, line: Int, column: Int) throws(YAMLError) {
            guard let top = stack.last else {
                guard size <= Self.maxExpandedNodes else {
                    throw self.error(
                        "the document expands to \(size) nodes through aliases (more than \(Self.maxExpandedNodes)); refusing it",
                        line: line, column: column)
                }
                root = value
                return
            }
            guard top.isMapping else {
                top.items.append(value)
                top.size = Self.add(top.size, size)
                return
            }
            top.size = Self.add(top.size, size)
            if let key = top.key {
                if top.keyIsMerge {
                    switch value {
                    case .map(let merged): top.merges.append(merged)
                    case .list(let list):
                        for item in list {
                            guard case .map(let merged) = item else {
                                throw self.error("merge key '<<' takes a map or a list of maps", line: line, column: column)
                            }
                            top.merges.append(merged)
                        }
                    default:
                        throw self.error("merge key '<<' takes a map or a list of maps", line: line, column: column)
                    }
                } else if top.map[key] != nil {
                    throw self.error("mapping key \"\(key)\" already defined", line: top.keyLine, column: top.keyColumn)
                } else {
                    top.map[key] = value
                }
                top.key = nil
                top.keyIsMerge = false
            } else {
                guard let keyText else {
                    throw self.error("a map key must be a scalar, found a \(value.typeName)", line: line, column: column)
                }
                top.key = keyText
                top.keyIsMerge = false
                top.keyLine = line
                top.keyColumn = column
            }
        }

        while true {
            guard yaml_parser_parse(parser, &event) != 0 else { throw parserError() }
            defer { yaml_event_delete(&event) }
            let line = Int(event.start_mark.line) + 1
            let column = Int(event.start_mark.column) + 1

            switch event.type {
            case YAML_SCALAR_EVENT, YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT, YAML_ALIAS_EVENT:
                if documentLine == nil { documentLine = line }
            default:
                break
            }
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return documents
            case YAML_DOCUMENT_START_EVENT:
                root = nil
                anchors.removeAll()
                emptyNulls.removeAll()
                annotationTexts.removeAll()
                documentStartLine = line
                documentLine = nil
            case YAML_DOCUMENT_END_EVENT:
                var document = YAMLDocument(value: root ?? .null, line: documentLine ?? documentStartLine)
                document.emptyNulls = emptyNulls
                document.annotationTexts = annotationTexts
                documents.append(document)
            case YAML_ALIAS_EVENT:
                let name = string(event.data.alias.anchor) ?? ""
                guard let anchored = anchors[name] else {
                    throw error("unknown anchor '\(name)' referenced", line: line, column: column)
                }
                guard anchored.size <= Self.maxExpandedNodes else {
                    throw error("alias '\(name)' expands to too many nodes; refusing the document", line: line, column: column)
                }
                try complete(anchored.value, size: anchored.size, keyText: nil, line: line, column: column)
            case YAML_SCALAR_EVENT:
                let scalar = event.data.scalar
                let text = String(
                    decoding: UnsafeBufferPointer(start: scalar.value, count: Int(scalar.length)), as: UTF8.self)
                let value = try resolve(
                    text, tag: string(scalar.tag), plain: scalar.style == YAML_PLAIN_SCALAR_STYLE,
                    line: line, column: column)
                if let anchor = string(scalar.anchor) { anchors[anchor] = (value, 1) }
                if scalar.style == YAML_PLAIN_SCALAR_STYLE, scalar.tag == nil, let top = stack.last, !top.isMapping || top.key != nil {
                    if text.isEmpty { emptyNulls.append(currentPath()) }
                    if stack.count == 3, stack[0].key == "metadata", stack[1].key == "annotations", let key = top.key, value.stringValue == nil {
                        annotationTexts[key] = text
                    }
                }
                // A plain `<<` key is YAML's merge key.
                if let top = stack.last, top.isMapping, top.key == nil, scalar.style == YAML_PLAIN_SCALAR_STYLE,
                    text == "<<", scalar.tag == nil
                {
                    top.key = "<<"
                    top.keyIsMerge = true
                    top.keyLine = line
                    top.keyColumn = column
                } else {
                    try complete(value, size: 1, keyText: text, line: line, column: column)
                }
            case YAML_SEQUENCE_START_EVENT:
                guard stack.count < Self.maxDepth else {
                    throw error("nesting deeper than \(Self.maxDepth) levels", line: line, column: column)
                }
                stack.append(Frame(isMapping: false, anchor: string(event.data.sequence_start.anchor)))
            case YAML_SEQUENCE_END_EVENT:
                guard let frame = stack.popLast(), !frame.isMapping else {
                    throw error("unbalanced sequence", line: line, column: column)
                }
                let value = Value.list(frame.items)
                if let anchor = frame.anchor { anchors[anchor] = (value, frame.size) }
                try complete(value, size: frame.size, keyText: nil, line: line, column: column)
            case YAML_MAPPING_START_EVENT:
                guard stack.count < Self.maxDepth else {
                    throw error("nesting deeper than \(Self.maxDepth) levels", line: line, column: column)
                }
                stack.append(Frame(isMapping: true, anchor: string(event.data.mapping_start.anchor)))
            case YAML_MAPPING_END_EVENT:
                guard let frame = stack.popLast(), frame.isMapping else {
                    throw error("unbalanced mapping", line: line, column: column)
                }
                for merged in frame.merges {
                    for (key, value) in merged where frame.map[key] == nil { frame.map[key] = value }
                }
                let value = Value.map(frame.map)
                if let anchor = frame.anchor { anchors[anchor] = (value, frame.size) }
                try complete(value, size: frame.size, keyText: nil, line: line, column: column)
            default:
                break
            }
        }
    }

    private func resolve(_ text: String, tag: String?, plain: Bool, line: Int, column: Int) throws(YAMLError) -> Value {
        let core = "tag:yaml.org,2002:"
        guard let tag, tag != "!" else {
            guard plain && tag == nil else { return .string(text) }
            return rules == .yaml11 ? ScalarResolver.resolvePlainYAML11(text) : ScalarResolver.resolvePlain(text)
        }
        guard tag.hasPrefix(core) else {
            // A local tag (`!Ref`): kustomize keeps the scalar's text.
            return plain ? ScalarResolver.resolvePlain(text) : .string(text)
        }
        switch tag.dropFirst(core.count) {
        case "str":
            return .string(text)
        case "int":
            let resolved = ScalarResolver.resolvePlain(text)
            guard case .int = resolved else {
                throw error("cannot read '\(text)' as !!int", line: line, column: column)
            }
            return resolved
        case "float":
            switch ScalarResolver.resolvePlain(text) {
            case .int(let i): return .double(Double(i))
            case .uint(let u): return .double(Double(u))
            case .double(let d): return .double(d)
            default: throw error("cannot read '\(text)' as !!float", line: line, column: column)
            }
        case "bool":
            let resolved = ScalarResolver.resolvePlain(text)
            guard case .bool = resolved else {
                throw error("cannot read '\(text)' as !!bool", line: line, column: column)
            }
            return resolved
        case "null":
            return .null
        case "binary":
            let compact = text.filter { !$0.isWhitespace }
            guard let data = Data(base64Encoded: compact) else {
                throw error("!!binary value is not valid base64", line: line, column: column)
            }
            return .string(String(decoding: data, as: UTF8.self))
        case "timestamp":
            return .string(Timestamp.rfc3339(fromYAML: text) ?? text)
        default:
            return plain ? ScalarResolver.resolvePlain(text) : .string(text)
        }
    }
}
