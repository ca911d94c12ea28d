/// An error reading or writing YAML, with the place it happened.
///
/// `line` and `column` are 1-based; `file` is the path given to the parser, when there was one.
public struct YAMLError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String?
    public var line: Int
    public var column: Int
    public var message: String

    public init(file: String? = nil, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        "\(file ?? "<input>"):\(line):\(column): \(message)"
    }
}
