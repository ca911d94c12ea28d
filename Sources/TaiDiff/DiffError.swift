import TaiKube

/// Why a diff could not be computed (the command exits 2: never "no drift").
public enum DiffError: Error, CustomStringConvertible, Sendable {
    case kube(KubeError)
    case settings(file: String, field: String, message: String)
    case input(String)

    public var description: String {
        switch self {
        case .kube(let error): "\(error)"
        case .settings(let file, let field, let message): "\(file): field '\(field)': \(message)"
        case .input(let message): message
        }
    }
}
