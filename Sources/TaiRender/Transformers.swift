import Foundation
import TaiCore

/// The built-in transformers a kustomization's fields ask for, applied in kustomize's order:
/// namespace, name prefix and suffix, labels, annotations, images.
enum Transformers {
    static func apply(
        _ k: Kustomization, to resources: inout [Resource], fileSystem: any RenderFileSystem, context: Kustomizer.BuildContext
    ) throws(RenderError) {
        let shared = context.shared
        let patcher = Patcher(fileSystem: fileSystem, kustomization: k, context: context)
        /// Runs one of kustomize's transformers (each patch, label set, … is one).
        func run(_ transformer: (inout [Resource]) throws(RenderError) -> Void) throws(RenderError) {
            try transformer(&resources)
            context.noteTransformation(&resources)
        }
        for spec in k.patches where spec.kind == .strategicMerge { try run { r throws(RenderError) in try patcher.apply(spec, to: &r) } }
        for spec in k.patches where spec.kind == .any { try run { r throws(RenderError) in try patcher.apply(spec, to: &r) } }
        if let namespace = k.namespace, !namespace.isEmpty {
            try run { r throws(RenderError) in try setNamespace(namespace, in: &r, file: k.file) }
        }
        let prefix = k.namePrefix ?? ""
        let suffix = k.nameSuffix ?? ""
        if !prefix.isEmpty || !suffix.isEmpty {
            try run { r throws(RenderError) in try addNameAffixes(prefix: prefix, suffix: suffix, to: &r, file: k.file) }
        }
        for (i, set) in k.labels.enumerated() where !set.pairs.isEmpty {
            let specs: [FieldSpec]
            do {
                if set.includeSelectors {
                    specs = try set.fields.merging(BuiltinFieldSpecs.commonLabels)
                } else {
                    var merged = try set.fields.merging(FieldSpec("metadata/labels", create: true))
                    if set.includeTemplates { merged = try merged.merging(BuiltinFieldSpecs.templateLabels) }
                    specs = merged
                }
            } catch {
                throw RenderError(path: k.file, field: "labels[\(i)].fields", message: error.message)
            }
            try run { r throws(RenderError) in try setEntries(set.pairs, specs: specs, in: &r, file: k.file, field: "labels[\(i)]", shared: shared) }
        }
        if !k.commonLabels.isEmpty {
            try run { r throws(RenderError) in
                try setEntries(k.commonLabels, specs: BuiltinFieldSpecs.commonLabels, in: &r, file: k.file, field: "commonLabels", shared: shared)
            }
        }
        if !k.commonAnnotations.isEmpty {
            try run { r throws(RenderError) in
                try setEntries(
                    k.commonAnnotations, specs: BuiltinFieldSpecs.commonAnnotations, in: &r, file: k.file, field: "commonAnnotations", shared: shared)
            }
        }
        for spec in k.patches where spec.kind == .json6902 { try run { r throws(RenderError) in try patcher.apply(spec, to: &r) } }
        for (i, replica) in k.replicas.enumerated() {
            try run { r throws(RenderError) in try setReplicas(replica, in: &r, file: k.file, field: "replicas[\(i)]") }
        }
        for (i, image) in k.images.enumerated() {
            try run { r throws(RenderError) in try ImageUpdater(image, file: k.file, field: "images[\(i)]").apply(to: &r) }
        }
        for replacement in try loadReplacements(k, fileSystem: fileSystem) {
            try run { r throws(RenderError) in try Replacer.apply(replacement, to: &r, file: k.file) }
        }
    }

    // MARK: namespace

    static func setNamespace(_ namespace: String, in resources: inout [Resource], file: String) throws(RenderError) {
        for i in resources.indices {
            resources[i].storePreviousID()
            var object = resources[i].object
            let kind = resources[i].kind
            let gvk = resources[i].gvk
            if !ClusterScope.isClusterScoped(kind) {
                object.set(path: ["metadata", "namespace"], to: .string(namespace))
            }
            if kind == "RoleBinding" || kind == "ClusterRoleBinding", case .list(var subjects)? = object["subjects"] {
                for j in subjects.indices where subjects[j]["name"] == .string("default") {
                    subjects[j]["namespace"] = .string(namespace)
                }
                object["subjects"] = .list(subjects)
            }
            for spec in BuiltinFieldSpecs.namespace where spec.selector.matches(gvk) {
                do {
                    try spec.apply(to: &object, createKind: .scalar) { node throws(FieldSpecError) in
                        node = .string(namespace)
                    }
                } catch {
                    throw RenderError(path: resources[i].origin, field: "namespace", message: error.message)
                }
            }
            resources[i].object = object
        }
        try checkUniqueIDs(resources, file: file, after: "namespace")
    }

    // MARK: namePrefix / nameSuffix

    static func addNameAffixes(prefix: String, suffix: String, to resources: inout [Resource], file: String) throws(RenderError) {
        for i in resources.indices {
            let gvk = resources[i].gvk
            // kustomize never renames these kinds.
            if gvk.kind == "CustomResourceDefinition" || gvk.kind == "Namespace"
                || (gvk.kind == "APIService" && gvk.group == "apiregistration.k8s.io")
            {
                continue
            }
            // The prefix and the suffix are two transformers in kustomize: each records the name
            // it changes and its own affix.
            for (affix, isPrefix) in [(prefix, true), (suffix, false)] where !affix.isEmpty {
                resources[i].storePreviousID()
                if isPrefix { resources[i].prefixes.append(affix) } else { resources[i].suffixes.append(affix) }
                guard case .string(let name)? = resources[i].object[path: ["metadata", "name"]] else { continue }
                resources[i].object.set(path: ["metadata", "name"], to: .string(isPrefix ? affix + name : name + affix))
            }
        }
        try checkUniqueIDs(resources, file: file, after: "namePrefix/nameSuffix")
    }

    // MARK: commonLabels / commonAnnotations

    static func setEntries(
        _ entries: [(key: String, value: String)], specs: [FieldSpec], in resources: inout [Resource], file: String,
        field: String, shared: SharedValues
    ) throws(RenderError) {
        var overwritten: [(group: Int, value: String)] = []
        for i in resources.indices {
            // One shared node per key per object, as kustomize's label filter makes it.
            let groups = Dictionary(entries.map { ($0.key, shared.newGroup()) }, uniquingKeysWith: { _, last in last })
            let gvk = resources[i].gvk
            let uid = resources[i].uid
            var object = resources[i].object
            for spec in specs where spec.selector.matches(gvk) {
                do {
                    try spec.apply(to: &object, createKind: .map) { node, location throws(FieldSpecError) in
                        guard case .map(var map) = node else {
                            throw FieldSpecError(message: "expected a map at '\(spec.pathString)', found a \(node.typeName)")
                        }
                        node = .null
                        for (key, value) in entries {
                            let place = SharedValues.Place(resource: uid, path: location + [.key(key)])
                            if map[key] != nil {
                                // Overwriting in place: every place sharing this node changes too.
                                if let group = shared.group(of: place) { overwritten.append((group, value)) }
                            } else if let group = groups[key] {
                                shared.join(place, group)
                            }
                            map[key] = .string(value)
                        }
                        node = .map(map)
                    }
                } catch {
                    throw RenderError(path: resources[i].origin, field: field, message: "\(resources[i].identity): \(error.message)")
                }
            }
            resources[i].object = object
        }
        guard !overwritten.isEmpty else { return }
        let index = Dictionary(resources.indices.map { (resources[$0].uid, $0) }, uniquingKeysWith: { first, _ in first })
        for (group, value) in overwritten {
            for place in shared.places(in: group) {
                guard let i = index[place.resource] else { continue }
                resources[i].object.replaceExisting(at: place.path[...], with: .string(value))
            }
        }
    }

    // MARK: replacements

    /// The kustomization's replacements: inline, or read from `path:` files (one replacement
    /// or a list of them per file).
    static func loadReplacements(_ k: Kustomization, fileSystem: any RenderFileSystem) throws(RenderError) -> [Replacement] {
        var out: [Replacement] = []
        for (field, value) in k.replacementEntries {
            if case .string(let path)? = value["path"] {
                guard value.mapValue?.count == 1 else {
                    throw RenderError(path: k.file, field: field, message: "a replacement takes either 'path' or 'source' and 'targets'")
                }
                let (full, bytes) = try fileSystem.read(path, namedBy: k, field: "\(field).path")
                for document in try parseYAMLFile(bytes, path: full) where !document.value.isNull {
                    let items = document.value.listValue ?? [document.value]
                    for (i, item) in items.enumerated() {
                        out.append(try Replacement(parsing: item, field: "\(field) (\(path) item \(i))", file: full))
                    }
                }
            } else {
                out.append(try Replacement(parsing: value, field: field, file: k.file))
            }
        }
        return out
    }

    // MARK: replicas

    /// Sets `spec.replicas` of the objects named `replica.name` (now or before a rename) whose
    /// kind has replicas; kustomize insists that something matches.
    static func setReplicas(_ replica: ReplicaOverride, in resources: inout [Resource], file: String, field: String) throws(RenderError) {
        var found = false
        for spec in BuiltinFieldSpecs.replicas {
            for i in resources.indices {
                let r = resources[i]
                let names = [r.name] + r.previousIDs.map(\.name)
                let kinds = [r.kind] + r.previousIDs.map(\.kind)
                guard names.contains(replica.name),
                    kinds.contains(where: { spec.selector.matches(GroupVersionKind(group: r.gvk.group, version: r.gvk.version, kind: $0)) })
                else { continue }
                found = true
                do {
                    try spec.apply(to: &resources[i].object, createKind: .scalar) { node throws(FieldSpecError) in
                        node = .int(replica.count)
                    }
                } catch {
                    throw RenderError(path: file, field: field, message: "\(r.identity): \(error.message)")
                }
            }
        }
        if !found {
            throw RenderError(
                path: file, field: field,
                message: "resource with name \(replica.name) does not match a config with the following GVK [~G_~V_Deployment ~G_~V_ReplicationController ~G_~V_ReplicaSet ~G_~V_StatefulSet]")
        }
    }

    // MARK: checks

    static func checkUniqueIDs(_ resources: [Resource], file: String, after step: String) throws(RenderError) {
        var seen: [String: Int] = [:]
        for (i, r) in resources.enumerated() {
            let key = idKey(r)
            if seen[key] != nil {
                throw RenderError(
                    path: file, message: "\(step) produces two objects with the same identity \(r.identity)")
            }
            seen[key] = i
        }
    }

    static func idKey(_ r: Resource) -> String {
        let gvk = r.gvk
        return "\(gvk.group)|\(gvk.version)|\(gvk.kind)|\(r.effectiveNamespace)|\(r.name)"
    }
}

/// Rewrites container images as one `images` entry asks: kustomize's rules for matching the
/// name (a regular expression anchored at both ends, then an optional `:tag` and `@sha256:` digest) and for
/// combining `newName`, `newTag` and `digest`.
struct ImageUpdater {
    let override: ImageOverride
    let pattern: NSRegularExpression?
    /// The kustomization file and its `images[i]` field, for errors.
    let file: String
    let field: String

    init(_ override: ImageOverride, file: String, field: String) throws(RenderError) {
        self.override = override
        self.file = file
        self.field = field
        do {
            pattern = try NSRegularExpression(pattern: "^" + override.name + "(:[a-zA-Z0-9_.{}-]*)?(@sha256:[a-zA-Z0-9_.{}-]*)?$")
        } catch {
            throw RenderError(path: file, field: "\(field).name", message: "'\(override.name)' is not a valid image name pattern")
        }
    }

    func apply(to resources: inout [Resource]) throws(RenderError) {
        for i in resources.indices {
            var object = resources[i].object
            do {
                try updateContainersAnywhere(&object)
            } catch {
                throw RenderError(
                    path: file, field: field,
                    message: "\(resources[i].identity): a container's image is a \(error.found), not a string (kustomize: wrong node kind: expected ScalarNode)")
            }
            resources[i].object = object
        }
    }

    private struct NotAScalar: Error { var found: String }

    /// kustomize's legacy walk: every `containers` and `initContainers` list anywhere in the object.
    private func updateContainersAnywhere(_ node: inout Value) throws(NotAScalar) {
        switch node {
        case .map(var map):
            node = .null
            for index in map.values.indices {
                let key = map.keys[index]
                if key == "containers" || key == "initContainers" {
                    if case .list(var containers) = map.values[index] {
                        for c in containers.indices {
                            switch containers[c]["image"] {
                            case .string(let image)?: containers[c]["image"] = .string(updated(image))
                            case let other? where other.scalarText == nil: throw NotAScalar(found: other.typeName)
                            default: break
                            }
                        }
                        map.values[index] = .list(containers)
                    }
                } else {
                    var child = map.values[index]
                    map.values[index] = .null
                    defer { map.values[index] = child }
                    try updateContainersAnywhere(&child)
                }
            }
            node = .map(map)
        case .list(var items):
            node = .null
            defer { node = .list(items) }
            for i in items.indices { try updateContainersAnywhere(&items[i]) }
        default:
            return
        }
    }

    func matches(_ image: String) -> Bool {
        guard let pattern else { return false }
        let range = NSRange(image.startIndex..., in: image)
        return pattern.firstMatch(in: image, options: [], range: range) != nil
    }

    func updated(_ image: String) -> String {
        guard matches(image) else { return image }
        var (name, tag, digest) = Self.split(image)
        if let newName = override.newName, !newName.isEmpty { name = newName }
        let newTag = override.newTag ?? ""
        let newDigest = override.digest ?? ""
        if !newTag.isEmpty, !newDigest.isEmpty {
            tag = newTag
            digest = newDigest
        } else if !newTag.isEmpty {
            tag = newTag
            digest = ""
        } else if !newDigest.isEmpty {
            tag = ""
            digest = newDigest
        }
        if !tag.isEmpty { name += ":" + tag }
        if !digest.isEmpty { name += "@" + digest }
        return name
    }

    /// Splits `registry:5000/repo/name:tag@digest` into name, tag and digest, ignoring a colon
    /// in the registry part.
    static func split(_ image: String) -> (name: String, tag: String, digest: String) {
        let chars = Array(image)
        var searchStart = 0
        if let slash = chars.firstIndex(of: "/"), slash > 0 { searchStart = slash }
        let at = chars[searchStart...].firstIndex(of: "@")
        let colon = chars[searchStart...].firstIndex(of: ":")
        switch (colon, at) {
        case (nil, nil):
            return (image, "", "")
        case (let c, let a?) where c == nil || a < c!:
            return (String(chars[..<a]), "", String(chars[(a + 1)...]))
        case (let c?, let a?):
            return (String(chars[..<c]), String(chars[(c + 1)..<a]), String(chars[(a + 1)...]))
        case (let c?, nil):
            return (String(chars[..<c]), String(chars[(c + 1)...]), "")
        default:
            return (image, "", "")
        }
    }
}
