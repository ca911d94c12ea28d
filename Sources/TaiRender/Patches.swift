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
                    resources[i].object = try patch.apply(to: before)
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
