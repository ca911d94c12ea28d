import TaiCore
import TaiSSA

/// What kube-apiserver does to custom resources with a CRD's structural schema: fields the
/// schema does not declare are pruned (unless `x-kubernetes-preserve-unknown-fields`), `null`
/// in a non-nullable field is dropped, and `default:` values fill missing properties.
enum StructuralSchema {
    /// Prunes and defaults a whole custom resource; apiVersion, kind and metadata are kept as they are.
    static func apply(_ object: Value, schema: Value) -> Value {
        guard case .map(var map) = object else { return object }
        let properties = schema["properties"]?.mapValue ?? [:]
        let preserve = schema["x-kubernetes-preserve-unknown-fields"]?.boolValue == true
        for key in Array(map.keys) where !["apiVersion", "kind", "metadata"].contains(key) {
            if let child = properties[key] {
                map[key] = walk(map[key] ?? .null, child)
                if map[key] == .null, child["nullable"]?.boolValue != true { map[key] = nil }
            } else if !preserve {
                map[key] = nil
            }
        }
        for (key, child) in properties where map[key] == nil && !["apiVersion", "kind", "metadata"].contains(key) {
            if let d = child["default"] { map[key] = walk(d, child) }
        }
        return .map(map)
    }

    private static func walk(_ value: Value, _ schema: Value) -> Value {
        switch value {
        case .map(var map):
            let preserve = schema["x-kubernetes-preserve-unknown-fields"]?.boolValue == true
            if let properties = schema["properties"]?.mapValue {
                for key in Array(map.keys) {
                    if let child = properties[key] {
                        let v = walk(map[key] ?? .null, child)
                        map[key] = (v == .null && child["nullable"]?.boolValue != true) ? nil : v
                    } else if let additional = schema["additionalProperties"], additional.mapValue != nil {
                        map[key] = walk(map[key] ?? .null, additional)
                    } else if !preserve && schema["additionalProperties"]?.boolValue != true {
                        map[key] = nil
                    }
                }
                for (key, child) in properties where map[key] == nil {
                    if let d = child["default"] { map[key] = walk(d, child) }
                }
            } else if let additional = schema["additionalProperties"], additional.mapValue != nil {
                for key in Array(map.keys) { map[key] = walk(map[key] ?? .null, additional) }
            } else if !preserve && schema["type"]?.stringValue == "object" && schema["x-kubernetes-int-or-string"] == nil
                && schema["additionalProperties"]?.boolValue != true && schema["x-kubernetes-embedded-resource"]?.boolValue != true
            {
                // An object schema with no properties and no additionalProperties keeps nothing.
                map = [:]
            }
            return .map(map)
        case .list(let items):
            guard let itemSchema = schema["items"] else { return value }
            return .list(items.map { walk($0, itemSchema) })
        default:
            return value
        }
    }
}
