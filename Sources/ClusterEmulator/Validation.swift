import Foundation
import TaiCore
import TaiSSA

/// The checks kube-apiserver makes on the mistakes users make most: values of the wrong type,
/// unknown fields (with `fieldValidation=Strict`), bad names, missing required fields.
enum Validation {
    /// Decoding: every value must have the type the built-in schema declares (400 otherwise,
    /// with the message encoding/json gives), and with `strict` every field must be declared.
    static func decode(_ object: Value, type: TypeRef, resource: ResourceType, strict: Bool, apply: Bool) throws(APIError) {
        guard type.type != nil else { return }
        var unknown: [String] = []
        var path: [String] = []
        try check(object, type: type, path: &path, goType: type.type ?? "", resource: resource, unknown: &unknown)
        if strict, !unknown.isEmpty {
            if apply {
                throw .badRequest(unknown.map { ".\($0): field not declared in schema" }.joined(separator: ", "))
            }
            let fields = unknown.map { "unknown field \"\($0)\"" }.joined(separator: ", ")
            throw .badRequest("\(resource.kind) in version \"\(resource.version)\" cannot be handled as a \(resource.kind): strict decoding error: \(fields)")
        }
    }

    private static func goName(_ type: String?) -> String {
        guard let type, let dot = type.lastIndex(of: ".") else { return type ?? "" }
        return String(type[type.index(after: dot)...])
    }

    /// `goType` is the schema name of the Go struct that holds the field (shortened only for a message).
    private static func check(
        _ value: Value, type: TypeRef, path: inout [String], goType: String, resource: ResourceType, unknown: inout [String]
    ) throws(APIError) {
        // `path` names the field being checked, for messages: each level appends its key and takes it off again.
        guard let name = type.type else { return }
        if case .null = value { return }
        func mismatch(_ expected: String) -> APIError {
            let found: String = switch value {
            case .string: "string"
            case .int, .uint, .double: "number"
            case .bool: "bool"
            case .list: "array"
            case .map: "object"
            case .null: "null"
            }
            return .badRequest("\(resource.kind) in version \"\(resource.version)\" cannot be handled as a \(resource.kind): json: cannot unmarshal \(found) into Go struct field \(goName(goType)).\(path.joined(separator: ".")) of type \(expected)")
        }
        if name.hasPrefix("map[string]") {
            guard case .map(let map) = value else { throw mismatch(name) }
            let element = TypeRef(schema: type.schema, type: String(name.dropFirst("map[string]".count)))
            for (key, child) in map {
                path.append(key)
                try check(child, type: element, path: &path, goType: goType, resource: resource, unknown: &unknown)
                path.removeLast()
            }
            return
        }
        if let fields = type.schema.fields(of: name) {
            guard case .map(let map) = value else { throw mismatch("\(goName(name))") }
            for (key, child) in map {
                guard let field = fields[key] else {
                    unknown.append((path + [key]).joined(separator: "."))
                    continue
                }
                let childType = TypeRef(schema: type.schema, type: field.type)
                let childGoType = type.schema.isStruct(field.type) ? field.type : goType
                if field.isList {
                    guard case .list(let items) = child else {
                        if case .null = child { continue }
                        throw mismatch("[]\(goName(field.type))")
                    }
                    path.append(key)
                    for item in items { try check(item, type: childType, path: &path, goType: childGoType, resource: resource, unknown: &unknown) }
                    path.removeLast()
                } else {
                    path.append(key)
                    try check(child, type: childType, path: &path, goType: type.schema.isStruct(field.type) ? goType : name, resource: resource, unknown: &unknown)
                    path.removeLast()
                }
            }
            return
        }
        switch (name, value) {
        case ("string", .string), ("date-time", .string), ("duration", .string), ("bytes", .string): return
        case ("int32", .int), ("int64", .int): return
        case ("float64", .int), ("float64", .double): return
        case ("bool", .bool): return
        case ("int-or-string", .int), ("int-or-string", .string): return
        case ("quantity", .string), ("quantity", .int), ("quantity", .double):
            if case .string(let text) = value, !Quantity.isValid(text) {
                throw .badRequest("\(resource.kind) in version \"\(resource.version)\" cannot be handled as a \(resource.kind): quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
            }
            return
        case ("object", _), ("json", _), ("fieldsV1", _), ("schema-or-array", _), ("schema-or-bool", _), ("schema-or-string-array", _): return
        case ("int32", _), ("int64", _), ("float64", _), ("bool", _), ("string", _), ("date-time", _), ("duration", _), ("bytes", _), ("int-or-string", _):
            throw mismatch(name == "int-or-string" ? "intstr.IntOrString" : name)
        default: return
        }
    }

    static let subdomainMessage = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    static let labelMessage = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    static let dns1035Message = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"

    static func isLabel(_ s: String, firstAlpha: Bool = false) -> Bool { isLabel(s.utf8[...], firstAlpha: firstAlpha) }

    /// RFC 1123 label (or RFC 1035 with `firstAlpha`), checked on the bytes.
    static func isLabel(_ s: Substring.UTF8View, firstAlpha: Bool = false) -> Bool {
        guard !s.isEmpty, s.count <= 63, let first = s.first, let last = s.last else { return false }
        func lowerOrDigit(_ b: UInt8) -> Bool { (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) }
        guard s.allSatisfy({ lowerOrDigit($0) || $0 == UInt8(ascii: "-") }) else { return false }
        let firstOK = firstAlpha ? (first >= 0x61 && first <= 0x7A) : lowerOrDigit(first)
        return firstOK && lowerOrDigit(last)
    }

    static func isSubdomain(_ s: String) -> Bool { isSubdomain(s.utf8[...]) }

    static func isSubdomain(_ s: Substring.UTF8View) -> Bool {
        s.count <= 253 && s.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).allSatisfy { isLabel($0) }
    }

    /// Field-level validation of a new or updated object (422 with every cause).
    static func validate(_ object: Value, _ type: ResourceType) throws(APIError) {
        let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
        var causes: [(reason: String, field: String, message: String)] = []
        func invalid(_ field: String, _ value: String, _ message: String) {
            causes.append(("FieldValueInvalid", field, "Invalid value: \"\(value)\": \(message)"))
        }
        func required(_ field: String) { causes.append(("FieldValueRequired", field, "Required value")) }
        switch (type.group, type.kind) {
        case ("", "Namespace"):
            if !isLabel(name) { invalid("metadata.name", name, labelMessage) }
        case ("", "Service"):
            if !isLabel(name, firstAlpha: true) { invalid("metadata.name", name, dns1035Message) }
        case ("rbac.authorization.k8s.io", _):
            break  // RBAC names are path segments; most characters are allowed
        default:
            if type.strategicMerge, !isSubdomain(name) { invalid("metadata.name", name, subdomainMessage) }
        }
        for (key, _) in object[path: ["metadata", "labels"]]?.mapValue ?? [:] where !isQualifiedName(key) {
            causes.append(("FieldValueInvalid", "metadata.labels", "Invalid value: \"\(key)\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"))
        }
        switch (type.group, type.kind) {
        case ("apps", "Deployment"), ("apps", "StatefulSet"), ("apps", "DaemonSet"), ("apps", "ReplicaSet"):
            if object[path: ["spec", "selector"]] == nil {
                required("spec.selector")
            } else if let selector = object[path: ["spec", "selector", "matchLabels"]]?.mapValue {
                let labels = object[path: ["spec", "template", "metadata", "labels"]]?.mapValue ?? [:]
                if !selector.allSatisfy({ labels[$0.key] == $0.value }) {
                    let text = "map[string]string{" + labels.map { "\"\($0.key)\":\"\($0.value.scalarText ?? "")\"" }.joined(separator: ", ") + "}"
                    causes.append(("FieldValueInvalid", "spec.template.metadata.labels", "Invalid value: \(text): `selector` does not match template `labels`"))
                }
            }
            containers(object, at: ["spec", "template", "spec"], field: "spec.template.spec", &causes)
        case ("batch", "Job"):
            containers(object, at: ["spec", "template", "spec"], field: "spec.template.spec", &causes)
        case ("batch", "CronJob"):
            if object[path: ["spec", "schedule"]] == nil { required("spec.schedule") }
            containers(object, at: ["spec", "jobTemplate", "spec", "template", "spec"], field: "spec.jobTemplate.spec.template.spec", &causes)
        case ("", "Pod"):
            containers(object, at: ["spec"], field: "spec", &causes)
        case ("", "Service"):
            let serviceType = object[path: ["spec", "type"]]?.stringValue ?? "ClusterIP"
            let ports = object[path: ["spec", "ports"]]?.listValue ?? []
            if ports.isEmpty && serviceType != "ExternalName" && object[path: ["spec", "clusterIP"]] != "None" { required("spec.ports") }
            for (i, port) in ports.enumerated() where port["port"] == nil { required("spec.ports[\(i)].port") }
        case ("rbac.authorization.k8s.io", "RoleBinding"), ("rbac.authorization.k8s.io", "ClusterRoleBinding"):
            if object[path: ["roleRef", "name"]] == nil { required("roleRef.name") }
            if object[path: ["roleRef", "kind"]] == nil { required("roleRef.kind") }
        default:
            break
        }
        if !causes.isEmpty { throw .invalid(type, name, causes) }
    }

    private static func containers(_ object: Value, at path: [String], field: String, _ causes: inout [(reason: String, field: String, message: String)]) {
        let list = object[path: path + ["containers"]]?.listValue ?? []
        if list.isEmpty { causes.append(("FieldValueRequired", "\(field).containers", "Required value")) }
        for (i, c) in list.enumerated() {
            if (c["name"]?.stringValue ?? "").isEmpty { causes.append(("FieldValueRequired", "\(field).containers[\(i)].name", "Required value")) }
            if (c["image"]?.stringValue ?? "").isEmpty { causes.append(("FieldValueRequired", "\(field).containers[\(i)].image", "Required value")) }
        }
    }

    /// A label key: optional DNS prefix and `/`, then a name of up to 63 characters.
    static func isQualifiedName(_ key: String) -> Bool {
        let bytes = key.utf8
        let parts = bytes.split(separator: UInt8(ascii: "/"), maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count <= 2, let namePart = parts.last, !namePart.isEmpty, namePart.count <= 63 else { return false }
        if parts.count == 2, !isSubdomain(parts[0]) { return false }
        func alphanumeric(_ b: UInt8) -> Bool { (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39) }
        guard let first = namePart.first, let last = namePart.last, alphanumeric(first), alphanumeric(last) else { return false }
        return namePart.allSatisfy { alphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }
}
