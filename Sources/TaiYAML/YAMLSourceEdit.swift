import CYAML
import TaiCore

/// Where a scalar value sits in a YAML text, so that it can be replaced without touching the rest
/// of the file: comments, key order, indentation and the other values stay byte for byte.
public struct YAMLScalarLocation: Sendable, Equatable {
    /// How the scalar is written.
    public enum Style: Sendable, Equatable {
        case plain, singleQuoted, doubleQuoted, literal, folded
    }

    /// The 0-based document of the stream.
    public var document: Int
    /// Map keys and list positions from the document's root.
    public var path: [YAMLPathStep]
    /// The scalar's text as written (quotes included), as UTF-8 byte offsets.
    public var range: Range<Int>
    public var style: Style
    /// The scalar's value (after unquoting).
    public var text: String
    /// 1-based line of the scalar.
    public var line: Int
}

/// One replacement of a scalar value: the document, the path to it and its new value.
public struct YAMLScalarEdit: Sendable {
    public var document: Int
    public var path: [YAMLPathStep]
    /// The new value: a string, a number or a boolean.
    public var value: Value

    public init(document: Int = 0, path: [YAMLPathStep], value: Value) {
        self.document = document
        self.path = path
        self.value = value
    }
}

extension YAML {
    /// Every scalar value of a stream (map keys left out) with its place in the text.
    public static func scalarLocations(_ text: String, file: String? = nil) throws(YAMLError) -> [YAMLScalarLocation] {
        let bytes = Array(text.utf8)
        let walker = LibYAMLLocator(input: bytes, file: file)
        return try walker.locate()
    }

    /// Replaces scalar values in place: only the replaced values' text changes. A plain scalar stays
    /// plain when its new text reads back as the same value (else it is double-quoted); a quoted one
    /// keeps its quotes.
    ///
    /// - Throws: ``YAMLError`` naming the file and the path of an edit that names no scalar (a
    ///   missing key, or a map or list where a value was expected).
    public static func replacingScalars(in text: String, _ edits: [YAMLScalarEdit], file: String? = nil) throws(YAMLError) -> String {
        let locations = try scalarLocations(text, file: file)
        var replacements: [(range: Range<Int>, text: String)] = []
        for edit in edits {
            guard let location = locations.first(where: { $0.document == edit.document && $0.path == edit.path }) else {
                throw YAMLError(file: file, line: 0, column: 0, message: "no scalar at \(pathText(edit.path)) to replace")
            }
            replacements.append((location.range, scalarText(edit.value, style: location.style)))
        }
        var bytes = Array(text.utf8)
        for replacement in replacements.sorted(by: { $0.range.lowerBound > $1.range.lowerBound }) {
            bytes.replaceSubrange(replacement.range, with: Array(replacement.text.utf8))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A path as `images[1].newTag`.
    public static func pathText(_ path: [YAMLPathStep]) -> String {
        var out = ""
        for step in path {
            switch step {
            case .key(let key): out += out.isEmpty ? key : "." + key
            case .index(let index): out += "[\(index)]"
            }
        }
        return out.isEmpty ? "the document" : out
    }

    /// The text of a scalar written in `style` (block styles are written double-quoted).
    static func scalarText(_ value: Value, style: YAMLScalarLocation.Style) -> String {
        let string: String
        switch value {
        case .string(let s): string = s
        case .int(let i): return style == .plain ? String(i) : quoted(String(i), style: style)
        case .bool(let b): return style == .plain ? String(b) : quoted(String(b), style: style)
        default: string = emit(value).trimmingCharacters(in: .newlines)
        }
        switch style {
        case .plain:
            // Plain only when it reads back as this string (not `1.10`, `true`, `~`, `a: b`…).
            if !string.isEmpty, ScalarResolver.resolvePlain(string) == .string(string),
                string.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || "0123456789.-_/+@".unicodeScalars.contains($0) }),
                !"-.".contains(string.first!)
            {
                return string
            }
            return quoted(string, style: .doubleQuoted)
        default:
            return quoted(string, style: style)
        }
    }

    private static func quoted(_ string: String, style: YAMLScalarLocation.Style) -> String {
        if style == .singleQuoted { return "'" + string.replacingOccurrences(of: "'", with: "''") + "'" }
        var out = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += "\\x" + String(scalar.value, radix: 16).leftPadded(to: 2) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

/// Walks libyaml's events and records where each scalar value is written.
final class LibYAMLLocator {
    private let bytes: [UInt8]
    private let file: String?
    /// Byte offset of each line's start.
    private let lineStarts: [Int]

    init(input: [UInt8], file: String?) {
        bytes = input
        self.file = file
        var starts = [0]
        for (i, b) in input.enumerated() where b == 0x0A { starts.append(i + 1) }
        lineStarts = starts
    }

    /// The byte offset of a libyaml mark (its line and column count characters).
    private func offset(line: Int, column: Int) -> Int {
        guard line < lineStarts.count else { return bytes.count }
        var i = lineStarts[line]
        var characters = 0
        while characters < column, i < bytes.count {
            let b = bytes[i]
            i += b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4
            characters += 1
        }
        return min(i, bytes.count)
    }

    private enum Frame {
        case mapping(path: [YAMLPathStep], key: String?)
        case sequence(path: [YAMLPathStep], index: Int)
    }

    func locate() throws(YAMLError) -> [YAMLScalarLocation] {
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        let input = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(bytes.count, 1))
        _ = input.initialize(from: bytes)
        yaml_parser_initialize(parser)
        yaml_parser_set_input_string(parser, input.baseAddress, bytes.count)
        defer {
            yaml_parser_delete(parser)
            parser.deallocate()
            input.deallocate()
        }
        var out: [YAMLScalarLocation] = []
        var stack: [Frame] = []
        var document = -1
        var event = yaml_event_t()

        /// The path of the node that comes next, and whether it is a map key.
        func nextPath() -> (path: [YAMLPathStep], isKey: Bool) {
            switch stack.last {
            case .mapping(let path, let key)?: return key.map { (path + [.key($0)], false) } ?? (path, true)
            case .sequence(let path, let index)?: return (path + [.index(index)], false)
            case nil: return ([], false)
            }
        }
        /// Moves past a finished value node.
        func advance() {
            switch stack.last {
            case .mapping(let path, .some)?: stack[stack.count - 1] = .mapping(path: path, key: nil)
            case .sequence(let path, let index)?: stack[stack.count - 1] = .sequence(path: path, index: index + 1)
            default: break
            }
        }
        while true {
            guard yaml_parser_parse(parser, &event) != 0 else {
                let p = parser.pointee
                let message = p.problem.map { String(cString: $0) } ?? "invalid YAML"
                throw YAMLError(file: file, line: Int(p.problem_mark.line) + 1, column: Int(p.problem_mark.column) + 1, message: message)
            }
            defer { yaml_event_delete(&event) }
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return out
            case YAML_DOCUMENT_START_EVENT:
                document += 1
                stack = []
            case YAML_SCALAR_EVENT:
                let scalar = event.data.scalar
                let value = scalar.value.map { String(decoding: UnsafeBufferPointer(start: $0, count: scalar.length), as: UTF8.self) } ?? ""
                let (path, isKey) = nextPath()
                if isKey {
                    if case .mapping(let p, _)? = stack.last { stack[stack.count - 1] = .mapping(path: p, key: value) }
                    continue
                }
                let start = offset(line: Int(event.start_mark.line), column: Int(event.start_mark.column))
                let end = offset(line: Int(event.end_mark.line), column: Int(event.end_mark.column))
                let style: YAMLScalarLocation.Style
                switch scalar.style {
                case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
                case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
                case YAML_LITERAL_SCALAR_STYLE: style = .literal
                case YAML_FOLDED_SCALAR_STYLE: style = .folded
                default: style = .plain
                }
                out.append(YAMLScalarLocation(
                    document: document, path: path, range: start..<max(start, end), style: style, text: value, line: Int(event.start_mark.line) + 1))
                advance()
            case YAML_ALIAS_EVENT:
                let (_, isKey) = nextPath()
                if isKey, case .mapping(let p, _)? = stack.last { stack[stack.count - 1] = .mapping(path: p, key: "*alias") } else { advance() }
            case YAML_MAPPING_START_EVENT:
                stack.append(.mapping(path: nextPath().path, key: nil))
            case YAML_SEQUENCE_START_EVENT:
                stack.append(.sequence(path: nextPath().path, index: 0))
            case YAML_MAPPING_END_EVENT, YAML_SEQUENCE_END_EVENT:
                stack.removeLast()
                advance()
            default:
                break
            }
        }
    }
}
