import TaiCore
import TaiSSA

/// The non-apply patch types kube-apiserver accepts.
enum Patches {
    /// RFC 7386 JSON merge patch.
    static func merge(_ target: Value?, _ patch: Value) -> Value? {
        guard case .map(let p) = patch else { return patch }
        var result: ValueMap
        if case .map(let t)? = target { result = t } else { result = [:] }
        for (key, value) in p {
            if value.isNull {
                result[key] = nil
            } else if let merged = merge(result[key], value) {
                result[key] = merged
            }
        }
        return .map(result)
    }

    /// Kubernetes strategic merge patch (apimachinery semantics) for built-in types: lists merged
    /// by their patch merge key, `$patch`, `$setElementOrder/`, `$retainKeys`,
    /// `$deleteFromPrimitiveList/`.
    static func strategic(_ target: Value?, _ patch: Value, type: TypeRef) -> Value? {
        guard case .map(var p) = patch else { return patch }
        if let directive = p["$patch"]?.stringValue {
            p["$patch"] = nil
            if directive == "delete" { return nil }
            if directive == "replace" { return .map(stripDirectives(p)) }
        }
        var result: ValueMap
        if case .map(let t)? = target { result = t } else { result = [:] }
        if case .list(let retain)? = p["$retainKeys"] {
            let keep = Set(retain.compactMap(\.stringValue))
            for key in result.keys where !keep.contains(key) { result[key] = nil }
            p["$retainKeys"] = nil
        }
        var orders: [String: [Value]] = [:]
        var deletions: [String: [Value]] = [:]
        for (key, value) in p {
            if key.hasPrefix("$setElementOrder/"), case .list(let order) = value {
                orders[String(key.dropFirst("$setElementOrder/".count))] = order
            } else if key.hasPrefix("$deleteFromPrimitiveList/"), case .list(let items) = value {
                deletions[String(key.dropFirst("$deleteFromPrimitiveList/".count))] = items
            }
        }
        for (key, value) in p where !key.hasPrefix("$") {
            let (childType, field) = type.child(key)
            if value.isNull {
                result[key] = nil
            } else if case .list(let items) = value {
                let original = result[key]?.listValue ?? []
                result[key] = .list(mergeList(original, items, field: field, elementType: childType, order: orders[key]))
            } else if let merged = strategic(result[key], value, type: childType) {
                result[key] = merged
            } else {
                result[key] = nil
            }
        }
        for (key, order) in orders where p[key] == nil {
            if case .list(let items)? = result[key], let field = type.child(key).1 {
                result[key] = .list(reorder(items, by: order, key: field.patchMergeKey))
            }
        }
        for (key, removed) in deletions {
            if case .list(let items)? = result[key] { result[key] = .list(items.filter { !removed.contains($0) }) }
        }
        return .map(result)
    }

    private static func mergeList(_ original: [Value], _ patch: [Value], field: KubeSchema.Field?, elementType: TypeRef, order: [Value]?) -> [Value] {
        guard let field, field.patchStrategy?.contains("merge") == true else { return patch.map(stripDirectivesValue) }
        if patch.contains(where: { $0["$patch"]?.stringValue == "replace" }) {
            return patch.filter { $0["$patch"]?.stringValue != "replace" }.map(stripDirectivesValue)
        }
        guard let key = field.patchMergeKey else {
            var result = original
            for item in patch where !result.contains(item) { result.append(item) }
            return result
        }
        var result = original
        for item in patch {
            let id = item[key]
            let index = result.firstIndex { $0[key] == id }
            if item["$patch"]?.stringValue == "delete" {
                if let index { result.remove(at: index) }
                continue
            }
            if let index {
                if let merged = strategic(result[index], item, type: elementType) { result[index] = merged }
            } else if let merged = strategic(nil, item, type: elementType) {
                result.append(merged)
            }
        }
        if let order { result = reorder(result, by: order, key: key) }
        return result
    }

    private static func reorder(_ items: [Value], by order: [Value], key: String?) -> [Value] {
        func id(_ v: Value) -> Value? { key.map { v[$0] ?? .null } ?? v }
        let ids = order.map(id)
        var ordered: [Value] = []
        for wanted in ids { if let item = items.first(where: { id($0) == wanted }) { ordered.append(item) } }
        for item in items where !ordered.contains(item) { ordered.append(item) }
        return ordered
    }

    private static func stripDirectives(_ map: ValueMap) -> ValueMap {
        var out = ValueMap()
        for (k, v) in map where !k.hasPrefix("$") { out[k] = stripDirectivesValue(v) }
        return out
    }

    private static func stripDirectivesValue(_ value: Value) -> Value {
        switch value {
        case .map(let m): .map(stripDirectives(m))
        case .list(let items): .list(items.map(stripDirectivesValue))
        default: value
        }
    }
}
