import CGit2

/// A libgit2 failure: what tai-gitops was doing, libgit2's code and class, and its message.
public struct GitError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was being done, such as `clone file:///srv/config.git`.
    public var operation: String
    /// libgit2's return code (`GIT_ENOTFOUND` is -3, …).
    public var code: Int32
    /// libgit2's error class (`GIT_ERROR_REFERENCE`, …), 0 when none was set.
    public var errorClass: Int32
    public var message: String

    public init(operation: String, code: Int32, errorClass: Int32 = 0, message: String) {
        self.operation = operation
        self.code = code
        self.errorClass = errorClass
        self.message = message
    }

    /// Whether the thing asked for does not exist (a missing ref, repository or object).
    public var isNotFound: Bool { code == GIT_ENOTFOUND.rawValue }

    public var description: String { "\(operation): \(message)" }

    /// Turns a libgit2 return code into an error, reading libgit2's per-thread last error at
    /// once (before anything else can run on this thread).
    static func check(_ code: Int32, _ operation: @autoclosure () -> String) throws(GitError) {
        guard code < 0 else { return }
        var message = "libgit2 error \(code)"
        var errorClass: Int32 = 0
        if let last = git_error_last() {
            errorClass = last.pointee.klass
            if let text = last.pointee.message { message = String(cString: text) }
        }
        throw GitError(operation: operation(), code: code, errorClass: errorClass, message: message)
    }
}
