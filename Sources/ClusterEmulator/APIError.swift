import TaiCore
import TaiSSA

/// A failed API request: a `Status` object with kube-apiserver's code, reason and message.
public struct APIError: Error, Sendable {
    public var code: Int
    public var reason: String
    public var message: String
    public var details: Value?
    /// Seconds for `Retry-After` (429).
    public var retryAfter: Int?

    public init(code: Int, reason: String, message: String, details: Value? = nil, retryAfter: Int? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.retryAfter = retryAfter
    }

    /// The `Status` body.
    public var status: Value {
        var map: ValueMap = [
            "kind": "Status", "apiVersion": "v1", "metadata": .emptyMap, "status": "Failure",
            "message": .string(message), "reason": .string(reason),
        ]
        if let details { map["details"] = details }
        map["code"] = .int(code)
        return .map(map)
    }

    static func notFound(_ type: ResourceType, _ name: String) -> APIError {
        var details: ValueMap = ["name": .string(name)]
        if !type.group.isEmpty { details["group"] = .string(type.group) }
        details["kind"] = .string(type.plural)
        return APIError(code: 404, reason: "NotFound", message: "\(type.qualifiedPlural) \"\(name)\" not found", details: .map(details))
    }

    static func alreadyExists(_ type: ResourceType, _ name: String) -> APIError {
        var details: ValueMap = ["name": .string(name)]
        if !type.group.isEmpty { details["group"] = .string(type.group) }
        details["kind"] = .string(type.plural)
        return APIError(code: 409, reason: "AlreadyExists", message: "\(type.qualifiedPlural) \"\(name)\" already exists", details: .map(details))
    }

    static func conflict(_ type: ResourceType, _ name: String) -> APIError {
        var details: ValueMap = ["name": .string(name)]
        if !type.group.isEmpty { details["group"] = .string(type.group) }
        details["kind"] = .string(type.plural)
        return APIError(
            code: 409, reason: "Conflict",
            message: "Operation cannot be fulfilled on \(type.qualifiedPlural) \"\(name)\": the object has been modified; please apply your changes to the latest version and try again",
            details: .map(details))
    }

    /// 422 with field causes: `Deployment.apps "web" is invalid: spec.selector: Invalid value: …`.
    static func invalid(_ type: ResourceType, _ name: String, _ causes: [(reason: String, field: String, message: String)]) -> APIError {
        let texts = causes.map { "\($0.field): \($0.message)" }
        let joined = texts.count == 1 ? texts[0] : "[" + texts.joined(separator: ", ") + "]"
        var details: ValueMap = ["name": .string(name)]
        if !type.group.isEmpty { details["group"] = .string(type.group) }
        details["kind"] = .string(type.kind)
        details["causes"] = .list(causes.map { .map(["reason": .string($0.reason), "message": .string($0.message), "field": .string($0.field)]) })
        return APIError(code: 422, reason: "Invalid", message: "\(type.qualifiedKind) \"\(name)\" is invalid: \(joined)", details: .map(details))
    }

    static func badRequest(_ message: String) -> APIError {
        APIError(code: 400, reason: "BadRequest", message: message)
    }

    static let resourceNotFound = APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource")

    static func methodNotAllowed(_ method: String) -> APIError {
        APIError(code: 405, reason: "MethodNotAllowed", message: "the server does not allow this method on the requested resource")
    }

    static func unsupportedMediaType(_ contentType: String) -> APIError {
        APIError(
            code: 415, reason: "UnsupportedMediaType",
            message: "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json")
    }
}
