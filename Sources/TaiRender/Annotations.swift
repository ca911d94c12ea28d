import TaiCore
import TaiYAML

/// What kustomize does with annotations on the way: it reads and writes them as a map of
/// strings, keeps its own bookkeeping in them while it builds (and removes it from the output),
/// and leaves out objects marked local.
enum Annotations {
    static let path = ["metadata", "annotations"]
    static let localConfig = "config.kubernetes.io/local-config"
    static let origin = "config.kubernetes.io/origin"

    /// Annotations kustomize and kyaml use for their own bookkeeping; never in the output, even
    /// when the input carries them (`transformations` is written only by buildMetadata's
    /// transformerAnnotations, which tai-gitops refuses; `origin` is re-added when requested).
    static func isInternal(_ key: String) -> Bool {
        if key.hasPrefix("internal.config.kubernetes.io/") {
            return internalSuffixes.contains(key.dropFirst("internal.config.kubernetes.io/".count))
        }
        return legacyInternal.contains(key)
    }

    private static let internalSuffixes: Set<Substring> = [
        "path", "index", "id", "seqindent", "annotations-migration-resource-id",
        "previousKinds", "previousNames", "previousNamespaces", "prefixes", "suffixes", "refBy",
        "generatorBehavior", "needsHashSuffix", "allowNameChange", "allowKindChange",
    ]
    private static let legacyInternal: Set<String> = [
        "config.kubernetes.io/path", "config.kubernetes.io/index", "config.k8s.io/id",
        "config.kubernetes.io/origin", "alpha.config.kubernetes.io/transformations",
    ]

    /// An annotation value as kustomize's string map holds it: a string as it is, another scalar
    /// as the text it was written with (`texts`, when it still reads as the same value) or as Go
    /// prints it, a list or map as the empty string.
    static func string(_ value: Value, text: String?) -> String {
        if case .string(let s) = value { return s }
        if let text, YAML.resolvePlainScalar(text) == value { return text }
        switch value {
        case .list, .map: return ""
        case .double(let d): return YAML.formatNumber(d)
        default: return value.scalarText ?? ""
        }
    }

    /// The object's annotations as strings, bookkeeping left out (`nil`: it has none, or only
    /// bookkeeping — kustomize then drops the field).
    static func stringMap(of object: Value, texts: [String: String], keepOrigin: Bool) -> ValueMap? {
        guard case .map(let map)? = object[path: path] else { return nil }
        var out = ValueMap()
        for (key, value) in map where !isInternal(key) || (keepOrigin && key == origin) {
            out[key] = .string(string(value, text: texts[key]))
        }
        return out.isEmpty ? nil : out
    }

    /// Writes annotations back as kustomize's SetAnnotations does: an empty map removes the field.
    static func set(_ annotations: ValueMap?, on object: inout Value) {
        if let annotations {
            object.set(path: path, to: .map(annotations))
        } else if case .map(var metadata)? = object["metadata"], metadata[path[1]] != nil {
            metadata[path[1]] = nil
            object["metadata"] = .map(metadata)
        }
    }

    /// The last step of a build: objects annotated `config.kubernetes.io/local-config` with any
    /// value but `"false"` left out, bookkeeping annotations removed, every annotation a string.
    static func finish(_ resources: inout [Resource], keepOrigin: Bool) throws(RenderError) {
        resources.removeAll { resource in
            guard case .map(let map)? = resource.object[path: path], let value = map[localConfig] else { return false }
            return string(value, text: resource.annotationTexts[localConfig]) != "false"
        }
        for i in resources.indices {
            if let (field, number) = firstNonFinite(in: resources[i].object) {
                throw RenderError(
                    path: resources[i].origin, field: field.joined(separator: "."),
                    message: "\(resources[i].identity): \(YAML.formatNumber(number))"
                        + " cannot be rendered: kustomize writes objects as JSON, which has no infinity or NaN (json: unsupported value)")
            }
            guard resources[i].object[path: path] != nil else { continue }
            set(stringMap(of: resources[i].object, texts: resources[i].annotationTexts, keepOrigin: keepOrigin), on: &resources[i].object)
        }
    }

    /// The path to the first infinite or NaN number (kustomize writes every object as JSON,
    /// which has neither, so such a number fails the build).
    private static func firstNonFinite(in value: Value) -> (path: [String], number: Double)? {
        switch value {
        case .double(let d): return d.isFinite ? nil : ([], d)
        case .map(let map):
            for (key, child) in map { if let found = firstNonFinite(in: child) { return ([key] + found.path, found.number) } }
        case .list(let items):
            for (i, child) in items.enumerated() { if let found = firstNonFinite(in: child) { return (["\(i)"] + found.path, found.number) } }
        default:
            break
        }
        return nil
    }
}
