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

    /// Appends `item` (block YAML of one list element, written as at column 0, starting with
    /// `- `) to the top-level block list `key` of the stream's first document, indented as that
    /// list's elements are and placed after its last one; a missing key is added at the end of the
    /// document as a new list. Nothing else of the text changes.
    ///
    /// - Throws: ``YAMLError`` when `key` holds something other than a block list (a flow list
    ///   `[…]`, a map or a scalar), or when the stream has more than one document.
    public static func appendingListItem(in text: String, key: String, item: String, file: String? = nil) throws(YAMLError) -> String {
        let bytes = Array(text.utf8)
        let walker = LibYAMLLocator(input: bytes, file: file)
        let locations = try walker.locate()
        guard !locations.contains(where: { $0.document > 0 }) && !walker.collections.contains(where: { $0.document > 0 }) else {
            throw YAMLError(file: file, line: 0, column: 0, message: "cannot add to `\(key)`: the file holds several YAML documents")
        }
        let body = item.hasSuffix("\n") ? item : item + "\n"
        guard let list = walker.collections.first(where: { $0.document == 0 && $0.path == [.key(key)] }) else {
            if walker.keys.contains(where: { $0.document == 0 && $0.path == [.key(key)] }) || locations.contains(where: { $0.path == [.key(key)] }) {
                throw YAMLError(file: file, line: 0, column: 0, message: "`\(key)` is not a list; cannot add an entry to it")
            }
            var out = text
            if !out.isEmpty && !out.hasSuffix("\n") { out += "\n" }
            return out + key + ":\n" + body
        }
        guard list.isSequence, !list.isFlow else {
            throw YAMLError(
                file: file, line: list.line, column: 0,
                message: "`\(key)` is \(list.isSequence ? "a flow list ([…])" : "not a list"); write it as a block list (one `- ` entry per line) to have an entry added")
        }
        // After the last line any of its values reaches.
        let inside = locations.filter { $0.document == 0 && $0.path.first == .key(key) }.map(\.range.upperBound)
            + walker.collections.filter { $0.document == 0 && $0.path.count > 1 && $0.path.first == .key(key) }.map(\.end)
        var cut = inside.max() ?? list.end
        if cut > 0 && bytes[cut - 1] != 0x0A {
            while cut < bytes.count && bytes[cut] != 0x0A { cut += 1 }
            cut = min(cut + 1, bytes.count)
        }
        // A block scalar's end mark lies past the blank and comment lines that follow it: step
        // back over those (a comment indented no deeper than the list belongs to what follows).
        while cut > 0 {
            var lineStart = cut - 1
            while lineStart > 0 && bytes[lineStart - 1] != 0x0A { lineStart -= 1 }
            let line = bytes[lineStart..<cut]
            let indentation = line.prefix { $0 == 0x20 }.count
            let rest = line.dropFirst(indentation).filter { $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }
            guard rest.isEmpty || (rest.first == UInt8(ascii: "#") && indentation <= list.column) else { break }
            cut = lineStart
        }
        let indent = String(repeating: " ", count: list.column)
        var insertion = body.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { $0.isEmpty ? "" : indent + $0 }.joined(separator: "\n") + "\n"
        if cut == bytes.count && !(bytes.last.map { $0 == 0x0A } ?? true) { insertion = "\n" + insertion }
        var out = bytes
        out.insert(contentsOf: Array(insertion.utf8), at: cut)
        return String(decoding: out, as: UTF8.self)
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
                let first = string.first, !"-.".contains(first)
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

/// Walks libyaml's events and records where each scalar value is written (and, for edits that
/// add to the text, each map key and each list or map).
final class LibYAMLLocator {
    struct Collection {
        var document: Int
        var path: [YAMLPathStep]
        var isSequence: Bool
        var isFlow: Bool
        /// Byte offsets of its start and end marks; the 0-based column of its start; its 1-based line.
        var start: Int
        var end: Int
        var column: Int
        var line: Int
    }

    private(set) var keys: [YAMLScalarLocation] = []
    private(set) var collections: [Collection] = []
    private var open: [Int] = []
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
                let start = offset(line: Int(event.start_mark.line), column: Int(event.start_mark.column))
                let end = offset(line: Int(event.end_mark.line), column: Int(event.end_mark.column))
                if isKey {
                    if case .mapping(let p, _)? = stack.last {
                        stack[stack.count - 1] = .mapping(path: p, key: value)
                        keys.append(YAMLScalarLocation(
                            document: document, path: p + [.key(value)], range: start..<max(start, end), style: .plain, text: value, line: Int(event.start_mark.line) + 1))
                    }
                    continue
                }
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
            case YAML_MAPPING_START_EVENT, YAML_SEQUENCE_START_EVENT:
                let isSequence = event.type == YAML_SEQUENCE_START_EVENT
                let path = nextPath().path
                let isFlow = isSequence ? event.data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE : event.data.mapping_start.style == YAML_FLOW_MAPPING_STYLE
                let start = offset(line: Int(event.start_mark.line), column: Int(event.start_mark.column))
                open.append(collections.count)
                collections.append(Collection(
                    document: document, path: path, isSequence: isSequence, isFlow: isFlow, start: start, end: start,
                    column: Int(event.start_mark.column), line: Int(event.start_mark.line) + 1))
                stack.append(isSequence ? .sequence(path: path, index: 0) : .mapping(path: path, key: nil))
            case YAML_MAPPING_END_EVENT, YAML_SEQUENCE_END_EVENT:
                if let index = open.popLast() {
                    collections[index].end = offset(line: Int(event.end_mark.line), column: Int(event.end_mark.column))
                }
                stack.removeLast()
                advance()
            default:
                break
            }
        }
    }
}
