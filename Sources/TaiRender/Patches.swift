import TaiCore
import TaiYAML

/// Applies a kustomization's patches: strategic-merge patches (by the patch's own identity or
/// by a target selector) and JSON 6902 patches (by target).
struct Patcher {
    let fileSystem: any RenderFileSystem
    let kustomization: Kustomization
    let context: Kustomizer.BuildContext
    var shared: SharedValues { context.shared }

    /// One loaded patch: its documents and what kind of patch they are.
    enum Loaded {
        case strategicMerge([YAMLDocument])
        case json6902(JSONPatch)
    }

    func load(_ spec: PatchSpec) throws(RenderError) -> (Loaded, source: String) {
        let file = kustomization.file
        let source: String
        let bytes: [UInt8]
        if let path = spec.path {
            (source, bytes) = try fileSystem.read(path, namedBy: kustomization, field: spec.field)
        } else {
            source = file
            bytes = Array((spec.inline ?? "").utf8)
        }
        var documents: [YAMLDocument]
        do {
            documents = try YAML.parseDocuments(bytes, file: source).filter { !$0.value.isNull }
            // kustomize reads JSON 6902 patches through go-yaml v2: YAML 1.1 types (`on` is true).
            if documents.count == 1, documents[0].value.listValue != nil, spec.kind != .strategicMerge {
                documents = try YAML.parseDocuments(bytes, file: source, rules: .yaml11).filter { !$0.value.isNull }
            }
        } catch {
            if spec.path == nil {
                throw RenderError(path: file, field: "\(spec.field).patch", message: "malformed inline patch: \(error.message) (line \(error.line) of the patch)")
            }
            throw RenderError(path: source, line: error.line, column: error.column, message: error.message)
        }
        let isList = documents.count == 1 && documents[0].value.listValue != nil
        if documents.isEmpty || (spec.kind == .json6902 && !isList) {
            throw RenderError(path: source, field: spec.field, message: "unable to parse SM or JSON patch: expected a list of JSON 6902 operations or an object")
        }
        if spec.kind == .json6902 || (spec.kind == .any && isList) {
            guard spec.target != nil else {
                throw RenderError(path: file, field: spec.field, message: "a JSON 6902 patch needs a target")
            }
            do {
                return (.json6902(try JSONPatch(documents[0].value)), source)
            } catch {
                throw RenderError(path: source, field: spec.field, message: "invalid JSON 6902 patch: \(error.message)")
            }
        }
        for document in documents where document.value.mapValue == nil {
            throw RenderError(path: source, line: document.line, message: "a strategic merge patch must be a map")
        }
        return (.strategicMerge(documents), source)
    }

    func apply(_ spec: PatchSpec, to resources: inout [Resource]) throws(RenderError) {
        let (loaded, source) = try load(spec)
        let file = kustomization.file
        let selected: [Int]?
        if let target = spec.target {
            let compiled = try target.compile(file: file, field: "\(spec.field).target")
            selected = resources.indices.filter { compiled.selects(resources[$0]) }
        } else {
            selected = nil
        }
        switch loaded {
        case .json6902(let patch):
            for i in selected ?? [] {
                do {
                    let before = resources[i].object
                    resources[i].object = try Self.applyJSONPatch(patch, to: &resources[i])
                    shared.forget(resource: resources[i].uid)
                    context.restoreOrigin(
                        &resources[i].object, before: before,
                        by: spec.kind == .json6902 ? "PatchJson6902Transformer" : "PatchTransformer", in: file)
                } catch {
                    throw RenderError(path: source, field: spec.field, message: "\(resources[i].identity): \(error.message)")
                }
            }
        case .strategicMerge(let documents):
            let merger = StrategicMerge(schema: .builtin)
            for document in documents {
                let targets: [Int]
                if let selected {
                    targets = selected
                } else {
                    targets = [try findTarget(of: document, in: resources, source: source, field: spec.field)]
                }
                var deleted: [Int] = []
                for i in targets {
                    var patch = spec.kind == .strategicMerge ? Self.legacyMetadata(document.value) : document.value
                    let target = resources[i].object
                    if !spec.allowNameChange {
                        patch.set(path: ["metadata", "name"], to: target[path: ["metadata", "name"]] ?? .null)
                    }
                    if case .string(let ns)? = target[path: ["metadata", "namespace"]] {
                        patch.set(path: ["metadata", "namespace"], to: .string(ns))
                    }
                    if !spec.allowKindChange {
                        patch["apiVersion"] = target["apiVersion"]
                        patch["kind"] = target["kind"]
                    }
                    do {
                        // kyaml tags the untagged scalars it walks; the merge then works on those.
                        var walked = target
                        for (path, text) in resources[i].untaggedScalars where merger.walks(path, in: target) {
                            walked[steps: path] = .string(text)
                        }
                        resources[i].untaggedScalars.removeAll { merger.walks($0.path, in: target) }
                        // It drops the fields written with no value (`replicas:`) that it walks over.
                        let dropped = resources[i].emptyNulls.filter { merger.walks($0, in: target) }
                        for path in dropped.reversed() where walked[steps: path] == .null { walked.removeValue(steps: path) }
                        resources[i].emptyNulls.removeAll { merger.walks($0, in: target) }
                        for (key, text) in document.annotationTexts { resources[i].annotationTexts[key] = text }
                        if let merged = try merger.apply(patch, to: walked) {
                            resources[i].object = merged
                            shared.forgetChanged(resource: resources[i].uid, before: target, after: merged)
                            context.restoreOrigin(
                                &resources[i].object, before: target,
                                by: spec.kind == .strategicMerge ? "PatchStrategicMergeTransformer" : "PatchTransformer", in: file)
                        } else {
                            deleted.append(i)
                        }
                    } catch {
                        throw RenderError(path: source, line: document.line, message: "\(resources[i].identity): \(error.message)")
                    }
                }
                for i in deleted.reversed() { resources.remove(at: i) }
            }
        }
    }

    /// A JSON 6902 patch as kustomize applies one: it records the object's current name as a
    /// previous one, patches the object written as JSON with its bookkeeping annotations in
    /// place (a patch sees `metadata.annotations`, and can copy them), reads the result back
    /// from JSON — every number becomes a 64-bit float on the way — and writes the annotations
    /// back as strings.
    static func applyJSONPatch(_ patch: JSONPatch, to resource: inout Resource) throws(JSONPatch.Failure) -> Value {
        resource.storePreviousID()
        var object = resource.object
        var annotations: ValueMap
        switch object[path: Annotations.path] {
        case .map(let map)?: annotations = map
        default: annotations = [:]
        }
        for (key, value) in resource.bookkeepingAnnotations { annotations[key] = .string(value) }
        if case .map = object["metadata"] ?? .null {
            object.set(path: Annotations.path, to: .map(annotations))
        }
        var patched = JSONRoundTrip.numbers(try patch.apply(to: object))
        if case .map = patched["metadata"] ?? .null {
            Annotations.set(Annotations.stringMap(of: patched, texts: [:], keepOrigin: true), on: &patched)
        }
        // Read back from JSON, nothing is untagged or empty any more.
        resource.untaggedScalars.removeAll()
        resource.emptyNulls.removeAll()
        resource.annotationTexts.removeAll()
        return patched
    }

    /// Legacy `patchesStrategicMerge` patches are read as objects first: their labels and
    /// annotations become string maps (`null` → `"null"`, `5` → `"5"`) and a null map is dropped.
    static func legacyMetadata(_ patch: Value) -> Value {
        var patch = patch
        for key in ["labels", "annotations"] {
            switch patch[path: ["metadata", key]] {
            case .null?:
                if case .map(var metadata)? = patch["metadata"] {
                    metadata[key] = nil
                    patch["metadata"] = .map(metadata)
                }
            case .map(let m)?:
                patch.set(path: ["metadata", key], to: .map(m.mapValues { .string($0.scalarText ?? "") }))
            default:
                break
            }
        }
        return patch
    }

    /// The one object a strategic merge patch without a target names by its own kind,
    /// apiVersion, name and namespace (current or earlier).
    private func findTarget(of document: YAMLDocument, in resources: [Resource], source: String, field: String) throws(RenderError) -> Int {
        let patch = document.value
        guard let gvk = patch.gvk, let name = patch.name else {
            throw RenderError(
                path: source, line: document.line,
                message: "a strategic merge patch without a target needs apiVersion, kind and metadata.name")
        }
        let namespace = ClusterScope.effectiveNamespace(patch.namespace, kind: gvk.kind)
        let matches = resources.indices.filter { i in
            let r = resources[i]
            guard r.gvk.group == gvk.group, r.gvk.version == gvk.version else { return false }
            if r.kind == gvk.kind, r.name == name, r.effectiveNamespace == namespace { return true }
            return r.previousIDs.contains { $0.kind == gvk.kind && $0.name == name && $0.namespace == namespace }
        }
        let id = "\(gvk.kind).\(gvk.version)\(gvk.group.isEmpty ? "" : "." + gvk.group)/\(name).\(patch.namespace.isEmpty ? "[noNs]" : patch.namespace)"
        guard matches.count == 1 else {
            throw RenderError(
                path: source, line: document.line,
                message: matches.isEmpty
                    ? "no resource matches strategic merge patch \"\(id)\": no matches for Id \(id); failed to find unique target for patch \(id)"
                    : "multiple resources match strategic merge patch \"\(id)\"")
        }
        return matches[0]
    }
}

/// What a value becomes when kustomize writes it as JSON and Go's encoding/json reads it back:
/// every number a 64-bit float, printed again as an integer when it is one (`9007199254740993`
/// becomes `9007199254740992`, `1e19` becomes `10000000000000000000`).
enum JSONRoundTrip {
    static func numbers(_ value: Value) -> Value {
        switch value {
        case .int(let i) where i > 1 << 53 || i < -(1 << 53): return number(Double(i))
        case .uint(let u): return number(Double(u))
        case .double(let d): return number(d)
        case .list(var items):
            for i in items.indices { items[i] = numbers(items[i]) }
            return .list(items)
        case .map(var map):
            for (key, child) in map where child.needsRoundTrip { map[key] = numbers(child) }
            return .map(map)
        default:
            return value
        }
    }

    /// Go prints an integral float below 1e21 with the fewest digits that read back as the same
    /// float, then zeros (`12345678901234567000`); read back as YAML that text is an integer.
    private static func number(_ d: Double) -> Value {
        guard d.isFinite, d == d.rounded(), abs(d) < 1e21 else { return .double(d) }
        let text = shortestIntegerText(d)
        if let i = Int(text) { return .int(i) }
        if let u = UInt(text) { return .uint(u) }
        return .double(d)
    }

    /// The integral `d` written out in full from its shortest round-trip digits.
    static func shortestIntegerText(_ d: Double) -> String {
        // Swift's description is the shortest round-trip form: "12345.0" or "1.2345678901234567e+19".
        let description = abs(d).description
        var digits = ""
        var exponent = 0
        var fractionDigits = 0
        var seenPoint = false
        var index = description.startIndex
        while index < description.endIndex {
            let c = description[index]
            if c == "e" || c == "E" {
                exponent = Int(description[description.index(after: index)...]) ?? 0
                break
            }
            if c == "." {
                seenPoint = true
            } else {
                digits.append(c)
                if seenPoint { fractionDigits += 1 }
            }
            index = description.index(after: index)
        }
        let scale = exponent - fractionDigits
        if scale >= 0 {
            digits += String(repeating: "0", count: scale)
        } else {
            digits = String(digits.dropLast(-scale))
        }
        let trimmed = digits.drop { $0 == "0" }
        return (d < 0 ? "-" : "") + (trimmed.isEmpty ? "0" : String(trimmed))
    }
}

extension Value {
    /// Whether ``JSONRoundTrip`` changes anything in this value.
    fileprivate var needsRoundTrip: Bool {
        switch self {
        case .int(let i): return i > 1 << 53 || i < -(1 << 53)
        case .uint, .double: return true
        case .list(let items): return items.contains { $0.needsRoundTrip }
        case .map(let map): return map.values.contains { $0.needsRoundTrip }
        default: return false
        }
    }
}
