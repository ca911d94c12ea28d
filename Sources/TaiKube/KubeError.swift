import TaiCore
import TaiHTTP

/// A failure talking to a Kubernetes cluster, with what was being done.
public enum KubeError: Error, CustomStringConvertible, Sendable {
    /// The kubeconfig (or in-cluster setup) is missing something or is malformed.
    case configuration(String)
    /// The API server answered with an error `Status`.
    case api(code: Int, reason: String, message: String, request: String)
    /// The server could not be reached (after retries).
    case transport(HTTPError, request: String)
    /// No resource serves this kind (no CRD installed for it).
    case unknownKind(apiVersion: String, kind: String)
    /// A credential plugin failed.
    case credentialPlugin(String)
    /// The answer was not what the API promises.
    case malformedResponse(String, request: String)

    public var description: String {
        switch self {
        case .configuration(let message): "kubeconfig: \(message)"
        case .api(let code, let reason, let message, let request): "\(request): \(reason.isEmpty ? "HTTP \(code)" : reason) (\(code)): \(message)"
        case .transport(let error, let request): "\(request): \(error)"
        case .unknownKind(let apiVersion, let kind): "the cluster does not serve kind \(kind) of \(apiVersion) (is its CustomResourceDefinition installed?)"
        case .credentialPlugin(let message): "credential plugin: \(message)"
        case .malformedResponse(let message, let request): "\(request): malformed response: \(message)"
        }
    }

    /// HTTP status of an API error, if any.
    public var statusCode: Int? {
        if case .api(let code, _, _, _) = self { return code }
        return nil
    }

    public var isNotFound: Bool { statusCode == 404 }
    public var isConflict: Bool { statusCode == 409 }

    static func from(_ response: HTTPResponse, request: String) -> KubeError {
        let status = try? JSON.parse(response.body)
        return .api(
            code: response.status, reason: status?["reason"]?.stringValue ?? "",
            message: status?["message"]?.stringValue ?? String(decoding: response.body.prefix(300), as: UTF8.self), request: request)
    }
}
