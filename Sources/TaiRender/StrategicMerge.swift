import TaiCore

/// Strategic merge patches as kustomize applies them (kyaml's merge2): maps merge key by key
/// (`null` deletes), lists merge by their merge keys where the built-in schema says so and are
/// replaced otherwise (always, for kinds the schema does not know), with the `$patch`
/// directives `delete`, `replace` and `merge`.
struct StrategicMerge {
    let schema: KubeSchema

    struct Failure: Error {
        var message: String
    }

    /// Patches `target` with `patch`. Returns `nil` when the patch deletes the whole object.
    func apply(_ patch: Value, to target: Value) throws(Failure) -> Value? {
        try mergeValue(target, patch, type: rootType(of: target))
    }

    private func rootType(of object: Value) -> String? {
        guard let apiVersion = object["apiVersion"]?.stringValue, let kind = object["kind"]?.stringValue else { return nil }
        let groupVersion = apiVersion.contains("/") ? apiVersion : "core/" + apiVersion
        if schema.kustomizeKindsAbsent.contains("\(groupVersion)/\(kind)") { return nil }
        return schema.typeName(apiVersion: apiVersion, kind: kind)
    }

    /// Whether kyaml's merge walk reaches the value at `path` of `object` (whatever the patch
    /// says): through every map, and into list elements only where the list merges by key and
    /// the element has its key (observed with kustomize v5.5.0).
    func walks(_ path: [Resource.PathStep], in object: Value) -> Bool {
        var node = object
        var type = rootType(of: object)
        var list: (field: KubeSchema.Field?, owner: String?, name: String)?
        for step in path {
            switch (step, node) {
            case (.key(let key), .map(let map)):
                guard let child = map[key] else { return false }
                let field = fieldInfo(key, in: type)
                if case .list = child { list = (field, type, key) }
                type = field.map { Self.valueType(of: $0) } ?? mapValueType(type)
                node = child
            case (.index(let i), .list(let items)) where items.indices.contains(i):
                guard let list, case .keyed(let keys) = strategy(list.field, owner: list.owner, name: list.name),
                    let first = keys.first, !Self.keyText(items[i][first]).isEmpty
                else { return false }
                node = items[i]
            default:
                return false
            }
        }
        return true
    }

    private func mergeValue(_ target: Value?, _ patch: Value, type: String?) throws(Failure) -> Value? {
        switch (target, patch) {
        case (.map(let t)?, .map(let p)):
            return try mergeMap(t, p, type: type)
        case (_, .map(let p)):
            // Nothing to merge into: the patch's map, directives resolved.
            if p["$patch"]?.stringValue == "delete" { return nil }
            return try mergeMap([:], p, type: type)
        default:
            return cleaned(patch)
        }
    }

    private func mergeMap(_ target: ValueMap, _ patch: ValueMap, type: String?) throws(Failure) -> Value? {
        var patch = patch
        let directive = patch.removeValue(forKey: "$patch")?.stringValue
        switch directive {
        case "delete"?: return nil
        case "replace"?: return cleaned(.map(patch))
        case nil, "merge"?: break
        case let other?: throw Failure(message: "unknown patch directive '$patch: \(other)'")
        }
        var result = target
        for (key, patchValue) in patch {
            if patchValue.isNull {
                result[key] = nil
                continue
            }
            let field = fieldInfo(key, in: type)
            if case .list(let patchList) = patchValue {
                let targetList = result[key]?.listValue
                let merged = try mergeList(targetList, patchList, field: field, owner: type, name: key)
                result[key] = .list(merged)
                continue
            }
            let childType = field.map { Self.valueType(of: $0) } ?? mapValueType(type)
            if let merged = try mergeValue(result[key], patchValue, type: childType) {
                if let index = result.index(forKey: key) {
                    result.values[index] = merged
                } else {
                    result[key] = merged
                }
            } else {
                result[key] = nil
            }
        }
        return .map(result)
    }

    private enum ListStrategy {
        case replace
        case union
        case keyed([String])
    }

    private func strategy(_ field: KubeSchema.Field?, owner: String?, name: String) -> ListStrategy {
        guard let field, let owner, let patchStrategy = field.patchStrategy, patchStrategy.contains("merge") else { return .replace }
        let qualified = "\(owner).\(name)"
        if schema.kustomizeMergeListsMissing.contains(qualified) || schema.kustomizePatchStrategyRemoved.contains(qualified) {
            return .replace
        }
        if !schema.isStruct(field.type) { return .union }
        if !field.listMapKeys.isEmpty { return .keyed(field.listMapKeys) }
        if let key = field.patchMergeKey { return .keyed([key]) }
        return .replace
    }

    private func mergeList(
        _ target: [Value]?, _ patch: [Value], field: KubeSchema.Field?, owner: String?, name: String
    ) throws(Failure) -> [Value] {
        // `$patch: replace` as a list element replaces the whole list.
        if patch.contains(where: { $0["$patch"]?.stringValue == "replace" }) {
            return patch.filter { $0["$patch"]?.stringValue != "replace" }.compactMap(cleaned)
        }
        let elementType = field.map { Self.valueType(of: $0) }
        switch strategy(field, owner: owner, name: name) {
        case .replace:
            return patch.compactMap(cleaned)
        case .union:
            // kyaml prepends: the patch's values first, then the target's that are not among them.
            var result: [Value] = []
            for item in patch + (target ?? []) where !result.contains(item) { result.append(item) }
            return result
        case .keyed(let keys) where keys.count > 1 && (patch + (target ?? [])).contains(where: { item in keys.dropFirst().contains { !Self.keyText(item[$0]).isEmpty } }):
            // Several merge keys (ports by number and protocol) with a secondary key present on
            // some element: kyaml keeps the target's order, merging a patch element into the
            // target element with the same key tuple; patch elements that match none come first,
            // in patch order; a patch element whose primary key matches a target element whose
            // secondary keys are missing on one side only is dropped (observed with kustomize v5.5.0).
            let dest = target ?? []
            func tuple(_ v: Value) -> [String] { keys.map { Self.keyText(v[$0]) } }
            var merged = dest
            var added: [Value] = []
            for item in patch {
                guard case .map = item else { continue }
                let t = tuple(item)
                if let index = merged.firstIndex(where: { $0.mapValue != nil && tuple($0) == t }) {
                    if let value = try mergeValue(merged[index], item, type: elementType), value != .emptyMap {
                        merged[index] = value
                    } else {
                        merged.remove(at: index)
                    }
                    continue
                }
                let halfMatch = merged.contains { other in
                    guard other.mapValue != nil, tuple(other)[0] == t[0] else { return false }
                    return zip(tuple(other).dropFirst(), t.dropFirst()).contains { $0.isEmpty != $1.isEmpty }
                }
                if halfMatch { continue }
                if let value = try mergeValue(nil, item, type: elementType), value != .emptyMap { added.append(value) }
            }
            return added + merged
        case .keyed(let keys):
            // kyaml's order: one entry per distinct key tuple, the patch's elements first (in
            // patch order), then the target's others; each merged where both sides have it.
            // Elements whose keys are all missing cannot be matched and are dropped.
            let dest = target ?? []
            func tuple(_ v: Value) -> [String] { keys.map { Self.keyText(v[$0]) } }
            var order: [[String]] = []
            for item in patch + dest {
                guard case .map = item else { continue }
                let t = tuple(item)
                if t.allSatisfy(\.isEmpty) || order.contains(t) { continue }
                order.append(t)
            }
            var result: [Value] = []
            for t in order {
                let existing = dest.first { $0.mapValue != nil && tuple($0) == t }
                guard let change = patch.first(where: { $0.mapValue != nil && tuple($0) == t }) else {
                    if let existing { result.append(existing) }
                    continue
                }
                if let merged = try mergeValue(existing, change, type: elementType), merged != .emptyMap {
                    result.append(merged)
                }
            }
            return result
        }
    }

    /// A merge key's value as kyaml compares it: the scalar's text, empty when missing.
    private static func keyText(_ value: Value?) -> String {
        guard let value, !value.isNull else { return "" }
        return value.scalarText ?? ""
    }

    private func fieldInfo(_ key: String, in type: String?) -> KubeSchema.Field? {
        guard let type, schema.isStruct(type) else { return nil }
        return schema.field(key, of: type)
    }

    private func mapValueType(_ type: String?) -> String? {
        guard let type, type.hasPrefix("map[string]") else { return nil }
        return String(type.dropFirst("map[string]".count))
    }

    private static func valueType(of field: KubeSchema.Field) -> String { field.type }

    /// A patch value with its directives resolved, for places where nothing is merged into.
    private func cleaned(_ value: Value) -> Value? {
        switch value {
        case .map(var m):
            if m["$patch"]?.stringValue == "delete" { return nil }
            m["$patch"] = nil
            var out = ValueMap()
            for (k, v) in m {
                if let c = cleaned(v) { out[k] = c }
            }
            return .map(out)
        case .list(let items):
            return .list(items.compactMap(cleaned))
        default:
            return value
        }
    }
}
