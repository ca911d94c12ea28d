/// An error rendering a kustomization, naming the file (and field, line and column where known).
public struct RenderError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file (or directory) at fault.
    public var path: String
    /// The kustomization field involved, such as `resources` or `images[2].newTag`.
    public var field: String?
    public var line: Int?
    public var column: Int?
    public var message: String

    public init(path: String, field: String? = nil, line: Int? = nil, column: Int? = nil, message: String) {
        self.path = path
        self.field = field
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        var place = path
        if let line {
            place += ":\(line)"
            if let column { place += ":\(column)" }
        }
        if let field { return "\(place): field '\(field)': \(message)" }
        return "\(place): \(message)"
    }
}
